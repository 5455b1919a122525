// Ring groups (services.ring_groups, gateway/call/call_route.c and
// gateway/svc/svc_plan.c) end to end: six JsSIP agents in one headless
// Chromium, each a registered user with its own number (token claim
// `impu`), agent A2 on two devices; SIPp as the IMS caller through Kamailio
// (the P-CSCF, GIN trunk) and as an IMS user the overflow reaches.
//
//  1. simultaneous: the five members' six devices ring at once, A3 answers;
//     every other device gets CANCEL with Reason "Call completed elsewhere"
//     and the IMS caller sees exactly one 200;
//  2. paused and wrap-up: A1 paused by a row in the store's agents table
//     (sqlite3 CLI), A3 in the group's 5 s wrap-up after call 1: neither is
//     offered the call (logged as skipped), the three others ring;
//  3. sequential: members in config order [A3, A1, A2], member_timeout 2 s:
//     A3, then A1 (A1 resumed: the store is read on every call), then both
//     devices of A2, each about 2 s after the previous; the members that
//     timed out get CANCEL;
//  4. round robin: three calls start at A1, A2, A3; when both of A2's
//     devices decline (486) the next member rings at once;
//  5. longest idle: members never called first (config order), then the
//     one whose last call ended longest ago (members written as people
//     write numbers, "+49 (30) ..." and tel:, count as the same agents);
//  6. busy: A1 on a call (IMS called its number) is skipped by a group
//     without call_waiting (then 480 "No Agent Available" when A2 declines)
//     and rung by a group with call_waiting (then 480 after its 3 s timeout,
//     every device cancelled);
//  7. overflow after the group timeout (3 s, while the second member of a
//     sequential group rings) to an IMS number through the trunk, with
//     History-Info cause=408 as SIPp received it;
//  8. no member available (all paused): overflow at once, here to a number
//     of the tenant (A6 rings, with History-Info);
//  9. once wrap-up and pause are over, all five members ring again;
// 10. a member on an outbound call of its own (JsSIP to an IMS user) is
//     skipped as on a call.
// After every call the gateway's "ended:" line says how many calls are left
// (0 unless a call is knowingly held). rtpengine is the eIMS-AGW (SIPp's
// plain RTP/AVP becomes WebRTC toward the trunk). About 30 s. Runs in a
// network namespace with only lo (CMakeLists.txt); logs, traces and the
// page console stay in calls-out/ring-groups/.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const { Kamailio, startRtpengine, sipp, registerImsUser, header, sleep } = require('./lib/peers');
const { outDir, startWtpf, aorOf, tokenFor } = require('./lib/env');
const browser = require('./lib/browser');

const { T, waitEvent, waitIncoming, eventOf } = browser;

const RANGE = '+4930123400000-+4930123400099';
const A1 = '+4930123400011';
const A2 = '+4930123400012';
const A3 = '+4930123400013';
const A4 = '+4930123400014';
const A5 = '+4930123400015';
const A6 = '+4930123400016';
const NAME = { [A1]: 'A1', [A2]: 'A2', [A3]: 'A3', [A4]: 'A4', [A5]: 'A5', [A6]: 'A6' };
// The JsSIP UAs (page keys) and their numbers: A2 has two devices.
const DEVICES = { a1: A1, a2: A2, a2b: A2, a3: A3, a4: A4, a5: A5, a6: A6 };
const keysOf = (num) => Object.keys(DEVICES).filter((k) => DEVICES[k] === num);
const FIVE = [A1, A2, A3, A4, A5];

const OUTSIDE = '+49305550999';   // the external overflow target: an IMS user behind Kamailio

const G = {
  sales: '+4930123400090', seq: '+4930123400091', rr: '+4930123400092', li: '+4930123400093',
  cw0: '+4930123400094', cw1: '+4930123400095', ovf: '+4930123400096', night: '+4930123400097',
};
const RING_GROUPS = [
  { number: G.sales, name: 'sales', strategy: 'simultaneous', members: FIVE, timeout: 10, wrap_up: 5 },
  { number: G.seq, name: 'seq', strategy: 'sequential', members: [A3, A1, A2], member_timeout: 2, timeout: 15 },
  { number: G.rr, name: 'rr', strategy: 'round_robin', members: FIVE, member_timeout: 2, timeout: 15 },
  // members as people write numbers (spaces, tel:): the same agents
  { number: G.li, name: 'li', strategy: 'longest_idle', member_timeout: 2, timeout: 15,
    members: [A1, '+49 30 1234 00012', `tel:${A3}`, '+49 (30) 1234-00014', A5, A6] },
  { number: G.cw0, name: 'cw0', strategy: 'simultaneous', members: [A1, A2], timeout: 4 },
  { number: G.cw1, name: 'cw1', strategy: 'simultaneous', members: [A1, A2], timeout: 3, call_waiting: true },
  { number: G.ovf, name: 'ovf', strategy: 'sequential', members: [A4, A5], member_timeout: 2, timeout: 3,
    overflow: OUTSIDE },
  { number: G.night, name: 'night', strategy: 'simultaneous', members: [A4, A5], timeout: 10, overflow: A6 },
];

const ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Everything the file started, stopped by PID in after() whatever failed.
const st = { sipps: [], port: 5100, mp: 6100, lastEnd: {} };

// ---- helpers -------------------------------------------------------------

function nextPorts() {
  st.port += 1;
  st.mp += 4;
  return { port: st.port, mp: st.mp };
}

// An IMS caller (SIPp UAC through Kamailio) of `number`.
function imsCaller(number, scenario, args = []) {
  const { port, mp } = nextPorts();
  const s = sipp({ name: `${port}-caller-${scenario.replace('.xml', '')}-${number.slice(-2)}`, dir: st.dir,
    scenario, port, mp, service: number, remote: '127.0.0.1:5070', args: ['-timeout', '30s', ...args] });
  st.sipps.push(s);
  return s;
}

// The INVITE 200s a SIPp caller received, and its final status lines.
const invite200s = (s) => s.received().filter((m) => /^SIP\/2\.0 200 /.test(m.text) &&
  /INVITE/.test(header(m.text, 'CSeq') || ''));
const finalLines = (s) => s.received().map((m) => m.text.split(/\r?\n/)[0])
  .filter((l) => /^SIP\/2\.0 [2-6]/.test(l));

// Pauses (or resumes) agents through the store, as an operator's console
// would: the gateway reads the row on every call.
function setPaused(numbers, paused) {
  const sql = numbers.map((n) => 'INSERT INTO agents(tenant,number,paused,updated) ' +
    `VALUES('acme','${n}',${paused ? 1 : 0},${Math.floor(Date.now() / 1000)}) ` +
    'ON CONFLICT(tenant,number) DO UPDATE SET paused=excluded.paused, updated=excluded.updated;').join('\n');
  execFileSync('sqlite3', ['-cmd', '.timeout 3000', st.gw.storePath, sql]);
}

// Every incoming session of the page numbered above `after`, by time of
// arrival: { sid, key, number, t (ms, page clock) }.
async function offers(after) {
  const list = await st.b.page.evaluate((a) => window.T.sessions
    .filter((s) => s.rec.sid > a && s.rec.dir === 'in')
    .map((s) => ({ sid: s.rec.sid, key: s.rec.ua, t: s.rec.events.find((e) => e.name === 'incoming').t })), after);
  return list.map((o) => ({ ...o, number: DEVICES[o.key] })).sort((x, y) => x.t - y.t);
}

// The members in the order they were first offered the call, with the time
// of each first offer.
function memberOrder(list) {
  const seen = new Map();
  for (const o of list) if (!seen.has(o.number)) seen.set(o.number, o.t);
  return [...seen.entries()].map(([number, t]) => ({ number, t }));
}
const names = (nums) => nums.map((n) => NAME[n] || n);

// Waits until every device of `number` has an incoming session above
// `after`; returns their session numbers by page key.
async function offered(number, after, timeoutMs = 5000) {
  const sids = {};
  for (const k of keysOf(number)) sids[k] = await waitIncoming(st.b, k, after, timeoutMs);
  return sids;
}

// Asserts that session `sid` ended with a CANCEL from the gateway; returns
// the CANCEL's Reason header (undefined when none).
async function cancelled(sid, what) {
  const f = eventOf(await waitEvent(st.b, sid, 'failed'), 'failed');
  assert.equal(f.originator, 'remote', `${what}: ended by the gateway`);
  assert.equal(f.method, 'CANCEL', `${what} got CANCEL: ${JSON.stringify({ ...f, raw: undefined })}`);
  assert.match(f.raw, /^CANCEL sip:/, `${what}: the raw CANCEL`);
  return header(f.raw, 'Reason');
}

// Declines every device of `number` ringing in `sids` with 486.
async function decline(sids) {
  for (const sid of Object.values(sids))
    await T(st.b, 'terminate', sid, { status_code: 486, reason_phrase: 'Busy Here' });
}

// Lines after `mark` matching `re`.
const linesAfter = (mark, re) => st.gw.lines.slice(mark).filter((l) => re.test(l));

// The skip lines of group `name` after `mark`: { number: why }.
function skipped(mark, name) {
  const out = {};
  for (const l of linesAfter(mark, new RegExp(`svc\\s+tenant acme: group ${name}: member (\\S+) skipped: (.+)$`))) {
    const m = /member (\S+) skipped: (.+)$/.exec(l);
    out[m[1]] = m[2];
  }
  return out;
}

// The hunting order the gateway logged after `mark` ("ringing member N").
const rungLogged = (mark, name) => linesAfter(mark, new RegExp(`call=\\d+ group ${name}: ringing member `))
  .map((l) => /ringing member (\S+)$/.exec(l)[1]);

// An answered call to a group whose IMS caller (uac_bye) hangs up: waits
// for the end line, asserts no call is left and notes when the member's
// call ended (for longest idle).
async function hungUpByIms(uac, mark, number) {
  assert.equal(await uac.done(15000), 0, `SIPp caller: 200, ACK, BYE answered:\n${uac.describe()}`);
  assert.equal(invite200s(uac).length, 1, `exactly one 200 to the INVITE:\n${uac.describe()}`);
  await st.gw.waitLog(new RegExp(`call=\\d+ answered by a device of ${esc(number)}$`), 100, mark);
  await assertNoCallLeft(mark, 'IMS hung up');
  st.lastEnd[number] = Date.now();
}

// Waits for the end line of the call after `mark` with reason `why`; it
// must leave `left` calls (0: nothing left behind).
async function assertNoCallLeft(mark, why, left = 0) {
  const line = await st.gw.waitLog(
    new RegExp(`call=\\d+ inbound call \\S+ ended: ${esc(why)} \\(calls left: \\d+\\)$`), 5000, mark);
  assert.match(line, new RegExp(`\\(calls left: ${left}\\)$`), `calls left after this one ended:\n${line}`);
  return line;
}

// No device of `numbers` was offered a call after `after`.
async function assertNotOffered(after, numbers, why) {
  const got = (await offers(after)).filter((o) => numbers.includes(o.number));
  assert.deepEqual(got.map((o) => o.key), [], `${why}: never offered the call`);
}

async function cleanup() {
  if (st.b) {
    await T(st.b, 'stopAll').catch(() => {});
    await browser.close(st.b, st.dir);
    st.b = null;
  }
  for (const s of st.sipps) await s.stop();
  let r = null;
  if (st.gw) {
    r = await st.gw.stop().catch((e) => ({ error: e.message }));
    st.gw.saveLog();
    st.gw = null;
  }
  if (st.kam) await st.kam.stop();
  if (st.rtp) await st.rtp.stop();
  st.kam = st.rtp = null;
  return r;
}

// ---- the tests -----------------------------------------------------------

describe('ring groups: six JsSIP agents, simultaneous and hunting strategies, agent state, overflow',
  { timeout: 150000 }, () => {
    before(async () => {
      st.dir = outDir('ring-groups');
      try {
        st.rtp = await startRtpengine(path.join(st.dir, 'rtpengine'));
        st.kam = await new Kamailio({ dir: path.join(st.dir, 'kamailio'), port: 5070,
          defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'] }).start();
        const web = await browser.reserveOrigin();
        st.gw = await startWtpf(st.dir, {
          origins: [web.origin],
          tenant: { ranges: [RANGE], services: { ring_groups: RING_GROUPS } },
        });
        st.b = await browser.launch(web, st.dir);
        for (const [key, number] of Object.entries(DEVICES)) {
          const reg = await T(st.b, 'startUA', {
            key, ws: st.gw.wsUrl, uri: aorOf(number), jwt: tokenFor(number), instance: crypto.randomUUID(),
          });
          assert.equal(reg.ok, true, `JsSIP ${key} registers ${aorOf(number)}: ${JSON.stringify(reg)}`);
        }
        // The IMS user the group "ovf" overflows to.
        const { port, mp } = nextPorts();
        await registerImsUser({ dir: st.dir, user: OUTSIDE, port, mp, kamailio: st.kam });
        st.outside = { port };
      } catch (e) {
        await cleanup();
        throw e;
      }
    });

    after(async () => {
      const r = await cleanup();
      if (r) assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
    });

    test('1. simultaneous: all six devices ring at once, A3 answers, the others get CANCEL "Call completed elsewhere"',
      async () => {
        const { gw, b } = st;
        const last = await T(b, 'last');
        const mark = gw.mark();
        const uac = imsCaller(G.sales, 'uac_bye.xml', ['-d', '1500']);
        const sids = {};
        for (const n of FIVE) Object.assign(sids, await offered(n, last));
        await gw.waitLog(/call=\d+ group sales: 5 member\(s\) can take the call$/, 1000, mark);
        await gw.waitLog(/call=\d+ group sales: ringing 5 member\(s\) at once$/, 1000, mark);
        const list = await offers(last);
        assert.deepEqual(list.map((o) => o.key).sort(), ['a1', 'a2', 'a2b', 'a3', 'a4', 'a5'], 'the six devices');
        const spread = list[list.length - 1].t - list[0].t;
        assert.ok(spread < 1000, `all at once (${spread} ms between the first and last INVITE)`);
        for (const sid of Object.values(sids)) {
          const rq = (await T(b, 'state', sid)).request;
          assert.match(header(rq, 'From'), /<sip:\+4940999000\d+@127\.0\.0\.1>/, 'from the IMS caller');
        }

        await T(b, 'answer', sids.a3);
        await waitEvent(b, sids.a3, 'confirmed');
        for (const k of ['a1', 'a2', 'a2b', 'a4', 'a5'])
          assert.equal(await cancelled(sids[k], k), ELSEWHERE, `Reason of ${k}'s CANCEL`);

        const ended = eventOf(await waitEvent(b, sids.a3, 'ended', 10000), 'ended');
        assert.equal(ended.method, 'BYE', 'the IMS caller hung up');
        await hungUpByIms(uac, mark, A3);
        assert.deepEqual(finalLines(uac).filter((l) => !/^SIP\/2\.0 200 /.test(l)), [], 'no failure reached IMS');
      });

    test('2. paused (store row) and wrap-up members are skipped; the three others ring', async () => {
      const { gw, b } = st;
      setPaused([A1], true);
      const last = await T(b, 'last');
      const mark = gw.mark();
      const uac = imsCaller(G.sales, 'uac_bye.xml', ['-d', '1000']);
      const sids = {};
      for (const n of [A2, A4, A5]) Object.assign(sids, await offered(n, last));
      await gw.waitLog(/call=\d+ group sales: 3 member\(s\) can take the call$/, 1000, mark);
      assert.deepEqual(skipped(mark, 'sales'), { [A1]: 'paused', [A3]: 'in wrap-up' },
        'logged: A1 paused, A3 (answered call 1 under 5 s ago) in wrap-up');

      await T(b, 'answer', sids.a4);
      await waitEvent(b, sids.a4, 'confirmed');
      for (const k of ['a2', 'a2b', 'a5'])
        assert.equal(await cancelled(sids[k], k), ELSEWHERE, `Reason of ${k}'s CANCEL`);
      await hungUpByIms(uac, mark, A4);
      await assertNotOffered(last, [A1, A3], 'A1 (paused) and A3 (wrap-up)');
      setPaused([A1], false);
    });

    test('3. sequential: A3, A1, A2 in config order, each after member_timeout (2 s); A2 answers on its second device',
      async () => {
        const { gw, b } = st;
        const last = await T(b, 'last');
        const mark = gw.mark();
        const uac = imsCaller(G.seq, 'uac_bye.xml', ['-d', '1000']);
        const s3 = await offered(A3, last);
        const s1 = await offered(A1, last, 4000);
        assert.equal(await cancelled(s3.a3, 'a3 after its member_timeout'), undefined, 'no Reason: nobody answered');
        const s2 = await offered(A2, last, 4000);
        assert.equal(await cancelled(s1.a1, 'a1 after its member_timeout'), undefined);
        await T(b, 'answer', s2.a2b);
        await waitEvent(b, s2.a2b, 'confirmed');
        assert.equal(await cancelled(s2.a2, 'a2 (A2\'s other device)'), ELSEWHERE);
        await hungUpByIms(uac, mark, A2);

        const order = memberOrder(await offers(last));
        assert.deepEqual(names(order.map((o) => o.number)), ['A3', 'A1', 'A2'], 'offered in config order');
        for (let i = 1; i < order.length; i++) {
          const gap = order[i].t - order[i - 1].t;
          assert.ok(gap > 1700 && gap < 3000, `${NAME[order[i].number]} ${gap} ms after ${NAME[order[i - 1].number]}`);
        }
        assert.deepEqual(names(rungLogged(mark, 'seq')), ['A3', 'A1', 'A2'], 'the hunting order logged');
        assert.deepEqual(skipped(mark, 'seq'), {}, 'A1, resumed in the store, is no longer skipped');
        await assertNotOffered(last, [A4, A5, A6], 'non-members');
      });

    test('4. round robin: consecutive calls start at A1, A2, A3; A2 declining on both devices passes at once to A3',
      async () => {
        const { gw, b } = st;
        const first = [];

        // Call 1: starts at A1, who answers.
        let last = await T(b, 'last');
        let mark = gw.mark();
        let uac = imsCaller(G.rr, 'uac_bye.xml', ['-d', '500']);
        const c1 = await offered(A1, last);
        await T(b, 'answer', c1.a1);
        await hungUpByIms(uac, mark, A1);
        first.push(memberOrder(await offers(last)).map((o) => o.number));

        // Call 2: starts one further, at A2; both its devices decline (486):
        // A3 rings at once, not member_timeout later, and answers.
        last = await T(b, 'last');
        mark = gw.mark();
        uac = imsCaller(G.rr, 'uac_bye.xml', ['-d', '500']);
        const c2 = await offered(A2, last);
        await decline(c2);
        const c2b = await offered(A3, last, 1500);
        await T(b, 'answer', c2b.a3);
        await hungUpByIms(uac, mark, A3);
        const o2 = memberOrder(await offers(last));
        first.push(o2.map((o) => o.number));
        assert.ok(o2[1].t - o2[0].t < 1000, `A3 rang ${o2[1].t - o2[0].t} ms after A2, as soon as A2 declined`);

        // Call 3: starts at A3 (one further again, whoever answered before).
        last = await T(b, 'last');
        mark = gw.mark();
        uac = imsCaller(G.rr, 'uac_bye.xml', ['-d', '500']);
        const c3 = await offered(A3, last);
        await T(b, 'answer', c3.a3);
        await hungUpByIms(uac, mark, A3);
        first.push(memberOrder(await offers(last)).map((o) => o.number));

        assert.deepEqual(first.map(names), [['A1'], ['A2', 'A3'], ['A3']], 'offered, call by call');
      });

    test('5. longest idle: never-called members first (config order), then the one idle longest', async () => {
      const { gw, b } = st;
      const members = [A1, A2, A3, A4, A5, A6];   // group li's, normalised
      // What the earlier calls left: A5 and A6 never answered a call, then
      // the members by the end of their last call.
      const expected = [...members.filter((n) => !st.lastEnd[n]),
        ...members.filter((n) => st.lastEnd[n]).sort((x, y) => st.lastEnd[x] - st.lastEnd[y])];
      assert.deepEqual(names(expected), ['A5', 'A6', 'A4', 'A2', 'A1', 'A3'], 'the state earlier tests left');

      const last = await T(b, 'last');
      const mark = gw.mark();
      const uac = imsCaller(G.li, 'uac_bye.xml', ['-d', '500']);
      for (const n of expected.slice(0, 3)) await decline(await offered(n, last, 2000));
      const win = await offered(expected[3], last, 2000);
      await T(b, 'answer', win.a2);
      assert.equal(await cancelled(win.a2b, 'a2b'), ELSEWHERE);
      await hungUpByIms(uac, mark, A2);
      const order = memberOrder(await offers(last)).map((o) => o.number);
      assert.deepEqual(names(order), names(expected.slice(0, 4)), 'offered longest idle first');
      assert.deepEqual(names(rungLogged(mark, 'li')), names(expected.slice(0, 4)), 'the hunting order logged');
    });

    test('6. a member on a call: skipped without call_waiting, rung with it; no agent: 480 "No Agent Available"',
      async () => {
        const { gw, b } = st;
        // IMS calls A1's own number; A1 answers and stays on the call.
        let last = await T(b, 'last');
        const held = gw.mark();
        const direct = imsCaller(A1, 'uac_waitbye.xml');
        const d = await offered(A1, last);
        await T(b, 'answer', d.a1);
        await waitEvent(b, d.a1, 'confirmed');
        await gw.waitLog(new RegExp(`call=\\d+ answered by a device of ${esc(A1)}$`), 2000, held);

        // Group cw0 (no call_waiting): only A2 rings; it declines on both
        // devices: no member left, no overflow: 480 at once.
        last = await T(b, 'last');
        let mark = gw.mark();
        let uac = imsCaller(G.cw0, 'uac_reject.xml');
        await decline(await offered(A2, last));
        assert.equal(await uac.done(10000), 0, uac.describe());
        assert.deepEqual(finalLines(uac), ['SIP/2.0 480 No Agent Available'], uac.describe());
        assert.deepEqual(skipped(mark, 'cw0'), { [A1]: 'on a call' });
        await gw.waitLog(/call=\d+ group cw0: 1 member\(s\) can take the call$/, 100, mark);
        await assertNoCallLeft(mark, 'no member of the group answered', 1);   // A1's call goes on
        await assertNotOffered(last, [A1], 'A1 on a call');

        // Group cw1 (call_waiting): A1 rings too, a second call on its
        // device; nobody answers: after the 3 s timeout every device is
        // cancelled and, without overflow, the caller gets 480.
        last = await T(b, 'last');
        mark = gw.mark();
        uac = imsCaller(G.cw1, 'uac_reject.xml');
        const r1 = await offered(A1, last);
        const r2 = await offered(A2, last);
        await gw.waitLog(/call=\d+ group cw1: 2 member\(s\) can take the call$/, 100, mark);
        assert.deepEqual(skipped(mark, 'cw1'), {}, 'A1 not skipped');
        for (const [k, sid] of Object.entries({ ...r1, ...r2 })) {
          const reason = await cancelled(sid, `${k} at the group timeout`);
          assert.notEqual(reason, ELSEWHERE, `${k}: nobody answered elsewhere`);
          const s = await T(b, 'state', sid);
          const rang = eventOf(s, 'failed').t - eventOf(s, 'incoming').t;
          assert.ok(rang > 2500 && rang < 4000, `${k} rang ${rang} ms (timeout 3 s)`);
        }
        assert.equal(await uac.done(10000), 0, uac.describe());
        assert.deepEqual(finalLines(uac), ['SIP/2.0 480 No Agent Available'], uac.describe());
        await gw.waitLog(/call=\d+ group cw1: timeout$/, 100, mark);
        await assertNoCallLeft(mark, 'no member of the group answered', 1);
        assert.equal((await T(b, 'state', d.a1)).established, true, 'A1\'s first call is untouched');

        // A1 hangs up its call: nothing left.
        mark = gw.mark();
        await T(b, 'terminate', d.a1);
        assert.equal(await direct.done(10000), 0, `the IMS caller got the BYE:\n${direct.describe()}`);
        await assertNoCallLeft(mark, 'the browser hung up');
        st.lastEnd[A1] = Date.now();
      });

    test('7. overflow after the group timeout (3 s): A4, A5 cancelled, the call goes to IMS, History-Info cause=408',
      async () => {
        const { gw, b } = st;
        const uas = sipp({ name: `${st.outside.port}-outside-uas`, dir: st.dir, scenario: 'uas_answer.xml',
          port: st.outside.port, mp: nextPorts().mp, args: ['-timeout', '30s'] });
        st.sipps.push(uas);
        await sleep(300);   // listening
        const last = await T(b, 'last');
        const mark = gw.mark();
        const uac = imsCaller(G.ovf, 'uac_bye.xml', ['-d', '1000']);
        const s4 = await offered(A4, last);
        const s5 = await offered(A5, last, 3000);
        assert.equal(await cancelled(s4.a4, 'a4 after its member_timeout'), undefined);
        assert.equal(await cancelled(s5.a5, 'a5 at the group timeout'), undefined);
        const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 3000, 'INVITE');
        const t5 = await T(b, 'state', s5.a5);
        const rang = eventOf(t5, 'failed').t - (await offers(last))[0].t;
        assert.ok(rang > 2500 && rang < 4000, `the group rang ${rang} ms (timeout 3 s)`);

        assert.match(inv, new RegExp(`^INVITE sip:${esc(OUTSIDE)}@127\\.0\\.0\\.1:${st.outside.port}`),
          'the IMS user behind Kamailio');
        const hi = header(inv, 'History-Info');
        assert.ok(hi, `History-Info in what SIPp received:\n${inv}`);
        const entries = hi.split(/,\s*(?=<)/);
        assert.equal(entries.length, 2, `the group, then the overflow target: ${hi}`);
        assert.match(entries[0], new RegExp(`^<sip:${esc(G.ovf)}@127\\.0\\.0\\.1;user=phone>;index=1$`),
          `the group's number first: ${hi}`);
        assert.match(entries[1],
          new RegExp(`^<sip:${esc(OUTSIDE)}@127\\.0\\.0\\.1;user=phone;cause=408>;index=1\\.1;mp=1$`),
          `the overflow target with cause=408 (no answer): ${hi}`);

        await gw.waitLog(/call=\d+ group ovf: timeout$/, 100, mark);
        await gw.waitLog(/call=\d+ group ovf overflows$/, 100, mark);
        await gw.waitLog(new RegExp(`call=\\d+ diverted call leaves via trunk ims toward ${esc(OUTSIDE)}$`), 100, mark);
        assert.deepEqual(names(rungLogged(mark, 'ovf')), ['A4', 'A5']);
        assert.equal(await uac.done(15000), 0, `answered by the overflow target, then hung up:\n${uac.describe()}`);
        assert.equal(invite200s(uac).length, 1, uac.describe());
        assert.equal(await uas.done(10000), 0, `the overflow target got ACK and BYE:\n${uas.describe()}`);
        await assertNoCallLeft(mark, 'IMS hung up');
      });

    test('8. no member available (both paused): the call overflows at once, here to A6 inside the tenant', async () => {
      const { gw, b } = st;
      setPaused([A4, A5], true);
      const last = await T(b, 'last');
      const mark = gw.mark();
      const t0 = Date.now();
      const uac = imsCaller(G.night, 'uac_bye.xml', ['-d', '500']);
      const s6 = await offered(A6, last);
      const waited = Date.now() - t0;
      assert.ok(waited < 1500, `A6 rang ${waited} ms after the call was placed`);
      assert.deepEqual(skipped(mark, 'night'), { [A4]: 'paused', [A5]: 'paused' });
      await gw.waitLog(/call=\d+ group night: 0 member\(s\) can take the call$/, 100, mark);
      await gw.waitLog(/call=\d+ group night overflows$/, 100, mark);
      const rq = (await T(b, 'state', s6.a6)).request;
      const hi = header(rq, 'History-Info') || '';
      assert.match(hi, new RegExp(`^<sip:${esc(G.night)}@127\\.0\\.0\\.1;user=phone>;index=1, ` +
        `<sip:${esc(A6)}@127\\.0\\.0\\.1;user=phone;cause=\\d{3}>;index=1\\.1;mp=1$`),
      `History-Info A6 received: ${hi}`);
      await T(b, 'answer', s6.a6);
      await hungUpByIms(uac, mark, A6);
      await assertNotOffered(last, [A4, A5], 'the paused members');
      setPaused([A4, A5], false);
    });

    test('9. wrap-up and pauses over: all five members of sales ring again', async () => {
      const { gw, b } = st;
      const last = await T(b, 'last');
      const mark = gw.mark();
      const uac = imsCaller(G.sales, 'uac_bye.xml', ['-d', '500']);
      const sids = {};
      for (const n of FIVE) Object.assign(sids, await offered(n, last));
      await gw.waitLog(/call=\d+ group sales: 5 member\(s\) can take the call$/, 1000, mark);
      assert.deepEqual(skipped(mark, 'sales'), {});
      await T(b, 'answer', sids.a5);
      for (const k of ['a1', 'a2', 'a2b', 'a3', 'a4'])
        assert.equal(await cancelled(sids[k], k), ELSEWHERE, `Reason of ${k}'s CANCEL`);
      await hungUpByIms(uac, mark, A5);
      await assertNotOffered(last, [A6], 'A6 (no member)');
    });

    test('10. a member on an outbound call of its own is skipped too', async () => {
      const { gw, b } = st;
      const uas = sipp({ name: `${st.outside.port}-outside-uas-2`, dir: st.dir, scenario: 'uas_answer.xml',
        port: st.outside.port, mp: nextPorts().mp, args: ['-timeout', '30s'] });
      st.sipps.push(uas);
      await sleep(300);   // listening
      const held = gw.mark();
      const out = await T(b, 'call', 'a2', `sip:${OUTSIDE}@acme.test`);
      await waitEvent(b, out, 'confirmed');
      await gw.waitLog(new RegExp(`call=\\d+ outbound call from ${esc(aorOf(A2))} to ${esc(OUTSIDE)} via trunk ims$`),
        1000, held);

      const last = await T(b, 'last');
      const mark = gw.mark();
      const uac = imsCaller(G.cw0, 'uac_reject.xml');
      await decline(await offered(A1, last));
      assert.equal(await uac.done(10000), 0, uac.describe());
      assert.deepEqual(finalLines(uac), ['SIP/2.0 480 No Agent Available'], uac.describe());
      assert.deepEqual(skipped(mark, 'cw0'), { [A2]: 'on a call' });
      await assertNoCallLeft(mark, 'no member of the group answered', 1);   // A2's call goes on
      await assertNotOffered(last, [A2], 'A2 on its outbound call');

      const bye = gw.mark();
      await T(b, 'terminate', out);
      assert.equal(await uas.done(10000), 0, `the IMS user got the BYE:\n${uas.describe()}`);
      const line = await gw.waitLog(/call=\d+ outbound call \S+ ended: the browser hung up \(calls left: \d+\)$/,
        5000, bye);
      assert.match(line, /\(calls left: 0\)$/, line);
    });
  });

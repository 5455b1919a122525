// Call diversion (gateway/call/call_route.c, call_fwd.c; the plan from
// gateway/svc/svc_plan.c) on real calls from IMS, with the tenant's
// `services.diversion` entries as conf/wtpf.conf documents them:
//   a. unconditional: diverted at once (cause 302) to an IMS user; the
//      INVITE SIPp receives carries History-Info (RFC 7044) with the cause
//      (RFC 4458), the caller's From (not its tag) and asserted identity;
//   b. busy: every device answers 486 -> the busy target (cause 486);
//   c. no answer: nobody answers within no_answer_time -> the ringing
//      device gets CANCEL, the no_answer target the call (cause 408); a
//      device answering 480 counts as no answer too;
//   d. not reachable: no device registered -> cause 503;
//   e. a chain through a number of the tenant: its device gets the INVITE
//      with History-Info, then its busy target the nested entries;
//   f. the hop limit (max_diversions, default 5): five diversions reach the
//      last number's device, a sixth fails with 480 Too Many Diversions;
//      History-Info entries with a cause on the incoming INVITE count;
//   g. loops: back to a number already served in the call (also one named
//      in the incoming History-Info) fails with 482 Diversion Loop;
//   h. a row in the store's diversions table replaces the configuration's
//      entry on the next call, no restart;
//   i. a target outside the tenant goes through the dial plan and barring:
//      a national number becomes +49..., a barred one fails the call (403);
//   j. with the trunk's diversion_header, tel_uri on and trusted off, and
//      announce_diversion: Diversion (RFC 5806) with every reason, 181 Call
//      Is Being Forwarded per diversion, tel: URIs, P-Preferred-Identity of
//      the diverting number.
// Real peers only, as services.test.js: Kamailio as the P-CSCF (WITH_AUTH
// WITH_GIN; the IMS caller's INVITE reaches the trunk by the GIN route, the
// diverted one the IMS user by its registration), SIPp as the IMS caller
// and the diversion targets (their traces show what reached them), raw ws
// clients as the tenant's devices. After every call the gateway's last
// "ended:" line says no call is left. Two stacks (the trunk's options need
// a restart); about 30 s. Runs in a network namespace with only lo.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Kamailio, sipp, registerImsUser, header, headers, sleep } = require('./lib/peers');
const { outDir, startWtpf, stopStack, DOMAIN, TRUNK_PORT } = require('./lib/env');
const { RawWic, webrtcAnswer } = require('./lib/wic');
const { splitList } = require('../integration/lib/sip');

const ORIGIN = 'http://127.0.0.1';
const DEFINES = ['WITH_AUTH', 'WITH_GIN'];
const RANGE = '+4930123400000-+4930123409999';   // the tenant's numbers; others are IMS's
const CALLER = 'sip:+4940555000900@127.0.0.1';    // the IMS caller (From and asserted identity)
const NO_HDR = 'Subject: diversion test';         // a key's line when no header is wanted

const firstLine = (t) => t.split(/\r?\n/)[0];
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Numbers of the tenant (first stack).
const N = {
  uncond: '+4930123400101', busy: '+4930123400102', noAnswer: '+4930123400103',
  rejects480: '+4930123400104', unreachable: '+4930123400105',
  chainA: '+4930123400110', chainB: '+4930123400111',
  hop: [0, 1, 2, 3, 4, 5, 6].map((i) => `+493012340012${i}`),
  hiIn: '+4930123400130', loop1: '+4930123400140', loop2: '+4930123400141',
  store: '+4930123400150', barred: '+4930123400160', national: '+4930123400170',
};
// IMS users, the diversion targets outside the tenant.
const X = (i) => `+493055508${String(i).padStart(2, '0')}`;

const SERVICES = {
  barred: ['^(\\+49|0)?900'],
  dial_plan: [{ match: '^0([1-9][0-9]+)$', replace: '+49$1' }],
  diversion: [
    { identity: N.uncond, unconditional: X(1) },
    { identity: N.busy, busy: X(2), no_answer: X(99) },
    { identity: N.noAnswer, busy: X(99), no_answer: X(3), no_answer_time: 2 },
    { identity: N.rejects480, busy: X(99), no_answer: X(4), no_answer_time: 20 },
    { identity: N.unreachable, busy: X(99), no_answer: X(99), not_reachable: X(5) },
    { identity: N.chainA, unconditional: N.chainB },
    { identity: N.chainB, busy: X(6) },
    ...N.hop.slice(0, 6).map((n, i) => ({ identity: n, unconditional: N.hop[i + 1] })),
    { identity: N.hiIn, unconditional: X(7) },
    { identity: N.loop1, unconditional: N.loop2 },
    { identity: N.loop2, unconditional: N.loop1 },
    { identity: N.store, unconditional: X(8) },
    { identity: N.barred, unconditional: '+49900123456' },
    { identity: N.national, unconditional: '0305550810' },
  ],
  // no_answer_time (20) and max_diversions (5) at their defaults
};

// Numbers of the tenant on the second stack: one unconditional, and a chain
// that takes every reason: D1 unconditional -> D2 (no device) -> D3 (busy)
// -> D4 (no answer in 1 s) -> IMS.
const M = {
  uncond: '+4930123400201',
  d: ['+4930123400211', '+4930123400212', '+4930123400213', '+4930123400214'],
};
const SERVICES_HDR = {
  announce_diversion: true,
  diversion: [
    { identity: M.uncond, unconditional: X(21) },
    { identity: M.d[0], unconditional: M.d[1] },
    { identity: M.d[1], not_reachable: M.d[2] },
    { identity: M.d[2], busy: M.d[3] },
    { identity: M.d[3], no_answer: X(22), no_answer_time: 1 },
  ],
};

// The gateway's last "ended:" line (call core) must say no call is left.
async function noCallLeft(gw, mark) {
  await gw.waitLog(/ ended: .*\(calls left: \d+\)/, 3000, mark);
  await sleep(200);   // any later end of another call would log too
  const ended = gw.log().split('\n').slice(mark).filter((l) => / ended: /.test(l));
  assert.match(ended[ended.length - 1], /\(calls left: 0\)$/, `no call left behind:\n${ended.join('\n')}`);
}

// The History-Info entries of a message as SIPp got it (every header line,
// split at commas outside <...>).
const historyOf = (text) => headers(text, 'History-Info').flatMap(splitList);

// History-Info entries as the gateway writes them: the first number with
// index=1, then each diversion [number, cause] one level deeper, its mp the
// index of the entry it was diverted from. `u` makes a number a URI.
function hiList(u, first, hops) {
  const out = [`<${u(first)}>;index=1`];
  let idx = '1';
  for (const [num, cause] of hops) {
    const next = `${idx}.1`;
    out.push(`<${u(num)};cause=${cause}>;index=${next};mp=${idx}`);
    idx = next;
  }
  return out;
}

// One stack: Kamailio, wtpfd with the tenant's numbers (RANGE), services
// `o.services` and trunk options `o.trunk`, and a raw ws device registered
// for each of `o.devices`. Every process is stopped by PID in stop().
class Bed {
  constructor(name, o) {
    this.name = name;
    this.o = o;
    this.port = o.port;        // SIPp ports: port (SIP), mp (media), apart per bed
    this.mp = o.mp;
    this.dev = {};
  }

  async start() {
    const dir = outDir(this.name);
    this.s = { dir };
    try {
      this.s.kam = await new Kamailio({ dir: path.join(dir, 'kamailio'), defines: DEFINES }).start();
      this.s.gw = await startWtpf(dir, { origins: [ORIGIN],
        tenant: { ranges: [RANGE], services: this.o.services }, trunk: this.o.trunk });
      for (const n of this.o.devices) {
        this.dev[n] = new RawWic(this.s.gw, n);
        await this.dev[n].register(ORIGIN);
      }
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
    return this;
  }

  // Resolves with wtpfd's exit result (null when it never started).
  async stop() {
    for (const d of Object.values(this.dev)) await d.close();
    this.dev = {};
    const r = this.s ? await stopStack(this.s) : null;
    this.s = null;
    return r;
  }

  get gw() { return this.s.gw; }

  get kam() { return this.s.kam; }

  // A number as History-Info and Diversion name it toward this trunk.
  uri(n) {
    return this.o.trunk && this.o.trunk.tel_uri ? `tel:${n}` : `sip:${n}@127.0.0.1;user=phone`;
  }

  log(mark) { return this.gw.log().split('\n').slice(mark); }

  // An IMS user registered at Kamailio, then its UAS on the same port.
  async imsUas(user, scenario, args = []) {
    this.port += 1; this.mp += 10;
    const { port, mp } = this;
    await registerImsUser({ dir: this.s.dir, user, port, mp, kamailio: this.kam });
    const uas = sipp({ name: `${port}-uas-${user}`, dir: this.s.dir, scenario, port, mp: mp + 5,
      args: ['-timeout', '20s', ...args] });
    await sleep(300);
    return uas;
  }

  // The IMS caller: SIPp through Kamailio to `number` of the tenant, with
  // the asserted identity CALLER and o.hi as History-Info (a list of
  // entries) when given.
  caller(number, scenario, o = {}) {
    this.port += 1; this.mp += 10;
    const hi = o.hi ? `History-Info: ${o.hi.join(', ')}` : NO_HDR;
    return sipp({ name: `${this.port}-caller-${number}`, dir: this.s.dir, scenario, port: this.port, mp: this.mp,
      service: number, remote: `127.0.0.1:${this.kam.port}`,
      args: ['-timeout', '20s', '-d', '300', '-key', 'from_uri', CALLER,
        '-key', 'id_hdr', `P-Asserted-Identity: <${CALLER}>`, '-key', 'hi_hdr', hi] });
  }

  // The IMS caller calls `number`, which the gateway diverts to the IMS
  // user `target`; o.devices() plays the tenant's devices meanwhile. The
  // target answers; o.hangup 'caller' (default) or 'target' hangs up.
  // Returns the INVITE the target received, the caller's SIPp, the
  // gateway's log lines of the call and what o.devices() returned.
  async divertedCall(number, target, o = {}) {
    const byTarget = o.hangup === 'target';
    const uas = await this.imsUas(target, byTarget ? 'uas_webrtc_bye.xml' : 'uas_webrtc.xml',
      byTarget ? ['-d', '300'] : []);
    const mark = this.gw.mark();
    const uac = this.caller(number, byTarget ? 'uac_div_waitbye.xml' : 'uac_div_bye.xml', o);
    try {
      const dev = o.devices ? await o.devices() : undefined;
      const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 8000, 'the diverted INVITE');
      assert.equal(await uac.done(10000), 0, `the caller got 200, ${byTarget ? 'got' : 'sent'} BYE: ${uac.describe()}`);
      assert.equal(await uas.done(10000), 0, `the target answered, ${byTarget ? 'sent' : 'got'} BYE: ${uas.describe()}`);
      await noCallLeft(this.gw, mark);
      // The caller's 200 is the target's answer (its SDP), once.
      const oks = uac.received().filter((m) => /^SIP\/2\.0 200 /.test(m.text) && /^CSeq: 1 INVITE/mi.test(m.text));
      assert.equal(oks.length, 1, `one 200 to the INVITE: ${uac.describe()}`);
      assert.match(oks[0].text, /^o=callee /m, 'the 200 carries the diversion target\'s answer');
      // The hang-up went to the other side.
      const byes = (byTarget ? uac : uas).received().filter((m) => /^BYE /.test(m.text));
      assert.equal(byes.length, 1, `the BYE reached the ${byTarget ? 'caller' : 'target'}`);
      assert.equal(header(byes[0].text, 'Call-ID'), header(byTarget ? oks[0].text : inv, 'Call-ID'));
      const log = this.log(mark);
      assert.ok(log.some((l) => l.includes(`diverted call leaves via trunk ims toward ${target}`)),
        `left toward ${target}:\n${log.join('\n')}`);
      return { inv, uac, log, dev };
    } finally {
      await uac.stop();
      await uas.stop();
    }
  }

  // The IMS caller calls `number`, refused. Returns the final answer's
  // start line and the gateway's log lines of the call.
  async refusedCall(number, o = {}) {
    const mark = this.gw.mark();
    const uac = this.caller(number, 'uac_div_refused.xml', o);
    try {
      assert.equal(await uac.done(10000), 0, uac.describe());
      await noCallLeft(this.gw, mark);
      const finals = uac.received().map((m) => firstLine(m.text)).filter((l) => /^SIP\/2\.0 [3-6]/.test(l));
      assert.equal(finals.length, 1, `one final answer: ${finals}`);
      return { final: finals[0], log: this.log(mark), uac };
    } finally {
      await uac.stop();
    }
  }
}

// What every diverted INVITE carries: To the target, the caller's From
// (not its tag) and History-Info `hi`; the log says each diversion.
function checkDiverted(b, c, { target, hi, diversions }) {
  assert.equal(header(c.inv, 'To'), `<${b.uri(target)}>`, 'To: the target');
  const from = header(c.inv, 'From');
  const tag = /;tag=([^;]+)$/.exec(from);
  assert.ok(tag, `From has the diverted leg's own tag: ${from}`);
  assert.equal(from.slice(0, tag.index), `"IMS Caller" <${CALLER}>`, 'From: the original caller');
  const callerTag = /;tag=([^;\s]+)/.exec(header(c.uac.messages().find((m) => m.dir === 'sent').text, 'From'))[1];
  assert.notEqual(tag[1], callerTag, 'the caller\'s tag is not copied');
  assert.deepEqual(historyOf(c.inv), hi, `History-Info the target received:\n${headers(c.inv, 'History-Info')}`);
  for (const [i, [from, to, cause]] of diversions.entries()) {
    const re = new RegExp(`call=\\d+ diverted from ${esc(from)} to ${esc(to)} \\(cause ${cause}, ${i + 1} of at most 5\\)$`);
    assert.ok(c.log.some((l) => re.test(l)), `logged ${re}:\n${c.log.join('\n')}`);
  }
}

// A device that answers the INVITE with `status`; resolves with the INVITE.
async function deviceRefuses(dev, status, reason) {
  const inv = await dev.nextRequest('INVITE', 5000);
  dev.reply(inv, 100, 'Trying');
  dev.reply(inv, 180, 'Ringing');
  dev.reply(inv, status, reason);
  await dev.nextRequest('ACK', 3000);
  return inv;
}

// A device that rings until the gateway cancels it; resolves with the
// INVITE and the ms it rang.
async function deviceRingsOut(dev, timeoutMs) {
  const inv = await dev.nextRequest('INVITE', 5000);
  const t0 = Date.now();
  dev.reply(inv, 180, 'Ringing');
  const cancel = await dev.nextRequest('CANCEL', timeoutMs);
  const rang = Date.now() - t0;
  dev.reply(cancel, 200, 'OK');
  dev.reply(inv, 487, 'Request Terminated');
  await dev.nextRequest('ACK', 3000);
  return { inv, rang };
}

// Nothing reached the device since its last request.
async function deviceIdle(dev) {
  const got = await dev.c.quiet(200);
  assert.deepEqual(got.map((m) => m.startLine), [], `nothing reached ${dev.number}`);
}

const storeSql = (gw, sql) => execFileSync('sqlite3', ['-cmd', '.timeout 3000', gw.storePath, sql],
  { encoding: 'utf8' });

describe('call diversion (trunk with sip: URIs, trusted, no Diversion header, no 181)', { timeout: 60000 }, () => {
  let b;
  const u = (n) => b.uri(n);

  before(async () => {
    b = await new Bed('diversion', { services: SERVICES, port: 5400, mp: 7000,
      devices: [N.busy, N.noAnswer, N.rejects480, N.chainB, N.hop[6]] }).start();
  });

  after(async () => {
    if (!b) return;
    const r = await b.stop();
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('a. unconditional: at once (cause 302), History-Info, the caller\'s From and identity; no 181, no Diversion',
    async () => {
      const c = await b.divertedCall(N.uncond, X(1));
      checkDiverted(b, c, {
        target: X(1),
        hi: hiList(u, N.uncond, [[X(1), 302]]),
        diversions: [[N.uncond, X(1), 302]],
      });
      assert.equal(header(c.inv, 'P-Asserted-Identity'), `<${CALLER}>`, 'trusted trunk: the caller\'s identity');
      assert.equal(header(c.inv, 'Diversion'), undefined, 'diversion_header off: no Diversion');
      assert.ok(!c.uac.received().some((m) => /^SIP\/2\.0 181 /.test(m.text)), 'announce_diversion off: no 181');
      assert.ok(!c.log.some((l) => /inbound call for /.test(l)), 'no device was looked for');
    });

  test('b. busy: the device answers 486 -> the busy target (cause 486); the target hangs up', async () => {
    const c = await b.divertedCall(N.busy, X(2), {
      hangup: 'target',
      devices: () => deviceRefuses(b.dev[N.busy], 486, 'Busy Here'),
    });
    assert.equal(c.dev.get('history-info'), undefined, 'the first ring carries no History-Info');
    checkDiverted(b, c, {
      target: X(2), hi: hiList(u, N.busy, [[X(2), 486]]), diversions: [[N.busy, X(2), 486]],
    });
    assert.ok(c.uac.received().some((m) => /^SIP\/2\.0 180 /.test(m.text)), 'the device\'s 180 reached the caller');
    await deviceIdle(b.dev[N.busy]);
  });

  test('c. no answer: CANCEL to the ringing device after no_answer_time (2 s) -> cause 408', async () => {
    const c = await b.divertedCall(N.noAnswer, X(3), {
      devices: () => deviceRingsOut(b.dev[N.noAnswer], 5000),
    });
    assert.ok(c.dev.rang >= 1800 && c.dev.rang < 3500, `rang ${c.dev.rang} ms, about no_answer_time`);
    checkDiverted(b, c, {
      target: X(3), hi: hiList(u, N.noAnswer, [[X(3), 408]]), diversions: [[N.noAnswer, X(3), 408]],
    });
    assert.ok(c.log.some((l) => l.includes(`${N.noAnswer} did not answer in 2 s`)), 'logged');
    await deviceIdle(b.dev[N.noAnswer]);
  });

  test('c2. no answer: a device answering 480 counts as no answer (cause 408), before the timer', async () => {
    const t0 = Date.now();
    const c = await b.divertedCall(N.rejects480, X(4), {
      devices: () => deviceRefuses(b.dev[N.rejects480], 480, 'Temporarily Unavailable'),
    });
    assert.ok(Date.now() - t0 < 10000, 'not after no_answer_time (20 s)');
    checkDiverted(b, c, {
      target: X(4), hi: hiList(u, N.rejects480, [[X(4), 408]]), diversions: [[N.rejects480, X(4), 408]],
    });
  });

  test('d. not reachable: no device registered -> cause 503; the target hangs up', async () => {
    const c = await b.divertedCall(N.unreachable, X(5), { hangup: 'target' });
    checkDiverted(b, c, {
      target: X(5), hi: hiList(u, N.unreachable, [[X(5), 503]]), diversions: [[N.unreachable, X(5), 503]],
    });
    assert.ok(c.log.some((l) => l.includes(`inbound call for ${N.unreachable}: 0 device(s)`)), 'logged');
  });

  test('e. a chain through a number of the tenant: its device gets History-Info, then nested entries leave',
    async () => {
      const c = await b.divertedCall(N.chainA, X(6), {
        devices: () => deviceRefuses(b.dev[N.chainB], 486, 'Busy Here'),
      });
      // The device of the number diverted to, inside the gateway.
      assert.match(c.dev.uri, /\.invalid;transport=ws$/, 'to the Contact B\'s device registered');
      assert.match(c.dev.get('to'), new RegExp(`^<sip:${esc(N.chainB)}@${esc(DOMAIN)}>`), 'To: B\'s AOR');
      assert.deepEqual(c.dev.all('history-info'), hiList(u, N.chainA, [[N.chainB, 302]]),
        `History-Info on B's device:\n${c.dev.all('history-info', false)}`);
      checkDiverted(b, c, {
        target: X(6),
        hi: hiList(u, N.chainA, [[N.chainB, 302], [X(6), 486]]),
        diversions: [[N.chainA, N.chainB, 302], [N.chainB, X(6), 486]],
      });
    });

  test('f. hop limit: five diversions reach the device, a sixth fails with 480 Too Many Diversions', async () => {
    // H1 -> ... -> H6: five diversions, the limit; H6's device answers.
    const dev = b.dev[N.hop[6]];
    const mark = b.gw.mark();
    const uac = b.caller(N.hop[1], 'uac_div_bye.xml');
    try {
      const inv = await dev.nextRequest('INVITE', 5000);
      assert.deepEqual(inv.all('history-info'),
        hiList(u, N.hop[1], N.hop.slice(2).map((n) => [n, 302])), 'five nested entries');
      dev.reply(inv, 200, 'OK', { sdp: webrtcAnswer(inv.body) });
      await dev.nextRequest('ACK', 3000);
      const bye = await dev.nextRequest('BYE', 5000);
      dev.reply(bye, 200, 'OK');
      assert.equal(await uac.done(10000), 0, uac.describe());
      await noCallLeft(b.gw, mark);
      assert.ok(b.log(mark).some((l) => / diverted from \+4930123400125 to \+4930123400126 \(cause 302, 5 of at most 5\)$/
        .test(l)), 'the fifth diversion logged');
    } finally {
      await uac.stop();
    }

    // H0 -> H1 -> ... -> H6: the sixth diversion is one too many.
    const r = await b.refusedCall(N.hop[0]);
    assert.equal(r.final, 'SIP/2.0 480 Too Many Diversions');
    assert.ok(r.log.some((l) => / diverted from \+4930123400124 to \+4930123400125 \(cause 302, 5 of at most 5\)$/
      .test(l)), `five diversions, then the limit:\n${r.log.join('\n')}`);
    assert.ok(!r.log.some((l) => / diverted from \+4930123400125 /.test(l)), 'no sixth');
    await deviceIdle(dev);
  });

  test('f2. hop limit: History-Info entries with a cause on the incoming INVITE count', async () => {
    const ims = (n) => `sip:${n}@127.0.0.1;user=phone`;
    // Four earlier diversions in IMS: this one is the fifth, allowed; the
    // new entry nests under the incoming INVITE's last index.
    const four = hiList(ims, '+4940555000901',
      [['+4940555000902', 302], ['+4940555000903', 486], ['+4940555000904', 408], [N.hiIn, 302]]);
    const c = await b.divertedCall(N.hiIn, X(7), { hi: four });
    assert.deepEqual(historyOf(c.inv), [...four, `<${u(X(7))};cause=302>;index=1.1.1.1.1.1;mp=1.1.1.1.1`],
      `the incoming entries, then the new one:\n${headers(c.inv, 'History-Info')}`);
    assert.ok(c.log.some((l) => / arrives after 4 diversion\(s\)$/.test(l)), 'logged');
    assert.ok(c.log.some((l) => l.includes(`diverted from ${N.hiIn} to ${X(7)} (cause 302, 5 of at most 5)`)),
      'counted as the fifth');

    // Five earlier diversions: the gateway's would be the sixth.
    const five = hiList(ims, '+4940555000901', [['+4940555000902', 302], ['+4940555000903', 486],
      ['+4940555000904', 408], ['+4940555000905', 302], [N.hiIn, 302]]);
    const r = await b.refusedCall(N.hiIn, { hi: five });
    assert.equal(r.final, 'SIP/2.0 480 Too Many Diversions');
    assert.ok(r.log.some((l) => / arrives after 5 diversion\(s\)$/.test(l)), 'logged');
  });

  test('g. loops: A -> B -> A, and a target named in the incoming History-Info, fail with 482', async () => {
    let r = await b.refusedCall(N.loop1);
    assert.equal(r.final, 'SIP/2.0 482 Diversion Loop');
    assert.ok(r.log.some((l) => l.includes(`diverted from ${N.loop1} to ${N.loop2} (cause 302, 1 of at most 5)`)));
    assert.ok(!r.log.some((l) => l.includes(`diverted from ${N.loop2}`)), 'not back to A');

    // X(7) was already tried in IMS before the call reached the gateway.
    const ims = (n) => `sip:${n}@127.0.0.1;user=phone`;
    r = await b.refusedCall(N.hiIn, { hi: hiList(ims, X(7), [[N.hiIn, 408]]) });
    assert.equal(r.final, 'SIP/2.0 482 Diversion Loop');
  });

  test('h. a row in the store replaces the configuration\'s entry on the next call, without a restart', async () => {
    let c = await b.divertedCall(N.store, X(8));
    checkDiverted(b, c, { target: X(8), hi: hiList(u, N.store, [[X(8), 302]]), diversions: [[N.store, X(8), 302]] });

    storeSql(b.gw, 'INSERT INTO diversions (tenant, identity, unconditional, busy, no_answer, not_reachable,' +
      ` no_answer_time, updated) VALUES ('acme', '${N.store}', '${X(9)}', '', '', '', 0, strftime('%s','now'))`);
    c = await b.divertedCall(N.store, X(9), { hangup: 'target' });
    checkDiverted(b, c, { target: X(9), hi: hiList(u, N.store, [[X(9), 302]]), diversions: [[N.store, X(9), 302]] });
    assert.ok(!b.log(0).some((l) => /configuration reloaded|SIGHUP/.test(l)), 'no reload');
  });

  test('i. a target outside the tenant: the dial plan applies (0305550810 -> +49305550810), barring too (403)',
    async () => {
      const c = await b.divertedCall(N.national, '+49305550810');
      assert.equal(header(c.inv, 'To'), `<${u('+49305550810')}>`, 'the dial plan\'s number');
      assert.deepEqual(historyOf(c.inv), hiList(u, N.national, [['+49305550810', 302]]),
        'History-Info names the target as the INVITE does');
      assert.ok(c.log.some((l) => l.includes(`diverted from ${N.national} to +49305550810 (cause 302, 1 of at most 5)`)),
        `logged:\n${c.log.join('\n')}`);

      const before = b.kam.messages().length;
      const r = await b.refusedCall(N.barred);
      assert.equal(r.final, 'SIP/2.0 403 Destination Barred');
      assert.ok(r.log.some((l) => /svc\s+tenant acme: \+49900123456 is barred/.test(l)), `logged:\n${r.log.join('\n')}`);
      await sleep(200);
      const fromTrunk = b.kam.messages().slice(before)
        .filter((m) => m.dir === 'rcv' && m.srcport === String(TRUNK_PORT) && /^INVITE /.test(m.text));
      assert.deepEqual(fromTrunk.map((m) => firstLine(m.text)), [], 'no INVITE left the trunk');
    });
});

describe('call diversion with Diversion headers, tel: URIs, an untrusted trunk and 181', { timeout: 40000 }, () => {
  let b;
  const u = (n) => b.uri(n);

  before(async () => {
    b = await new Bed('diversion-hdr', { services: SERVICES_HDR, port: 5600, mp: 7600,
      trunk: { diversion_header: true, tel_uri: true, trusted: false },
      devices: [M.d[2], M.d[3]] }).start();
  });

  after(async () => {
    if (!b) return;
    const r = await b.stop();
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('j. unconditional: 181 Call Is Being Forwarded, then the target\'s answer; Diversion, tel: History-Info',
    async () => {
      const c = await b.divertedCall(M.uncond, X(21));
      checkDiverted(b, c, {
        target: X(21), hi: hiList(u, M.uncond, [[X(21), 302]]), diversions: [[M.uncond, X(21), 302]],
      });
      assert.deepEqual(headers(c.inv, 'Diversion').flatMap(splitList),
        [`<tel:${M.uncond}>;reason=unconditional;counter=1`]);
      assert.equal(header(c.inv, 'P-Preferred-Identity'), `<sip:${M.uncond}@${DOMAIN}>`,
        'untrusted trunk: the diverting number is the identity preferred');
      assert.equal(header(c.inv, 'P-Asserted-Identity'), undefined, 'nothing asserted');
      const got = c.uac.received().map((m) => firstLine(m.text));
      const i181 = got.indexOf('SIP/2.0 181 Call Is Being Forwarded');
      assert.ok(i181 >= 0, `181 reached the caller: ${got.join(' | ')}`);
      assert.equal(got.filter((l) => /^SIP\/2\.0 181 /.test(l)).length, 1, 'once');
      assert.ok(i181 < got.findIndex((l) => /^SIP\/2\.0 200 /.test(l)), 'before the 200');
    });

  test('j2. every reason in one call: unconditional, unavailable, user-busy, no-answer; most recent first',
    async () => {
      const [d1, d2, d3, d4] = M.d;
      const c = await b.divertedCall(d1, X(22), {
        hangup: 'target',
        devices: async () => {
          const busy = await deviceRefuses(b.dev[d3], 486, 'Busy Here');
          const rung = await deviceRingsOut(b.dev[d4], 4000);
          return { busy, rung };
        },
      });
      assert.deepEqual(c.dev.busy.all('history-info'), hiList(u, d1, [[d2, 302], [d3, 503]]));
      assert.deepEqual(c.dev.rung.inv.all('history-info'), hiList(u, d1, [[d2, 302], [d3, 503], [d4, 486]]));
      checkDiverted(b, c, {
        target: X(22),
        hi: hiList(u, d1, [[d2, 302], [d3, 503], [d4, 486], [X(22), 408]]),
        diversions: [[d1, d2, 302], [d2, d3, 503], [d3, d4, 486], [d4, X(22), 408]],
      });
      assert.deepEqual(headers(c.inv, 'Diversion').flatMap(splitList), [
        `<tel:${d4}>;reason=no-answer;counter=1`, `<tel:${d3}>;reason=user-busy;counter=1`,
        `<tel:${d2}>;reason=unavailable;counter=1`, `<tel:${d1}>;reason=unconditional;counter=1`]);
      assert.equal(header(c.inv, 'P-Preferred-Identity'), `<sip:${d4}@${DOMAIN}>`, 'the last diverting number');
      const got = c.uac.received().map((m) => firstLine(m.text));
      assert.equal(got.filter((l) => l === 'SIP/2.0 181 Call Is Being Forwarded').length, 4,
        `one 181 per diversion: ${got.join(' | ')}`);
    });
});

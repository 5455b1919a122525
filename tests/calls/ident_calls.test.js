// Identities in calls (seeds 000-004), end to end with real peers:
//
//  1. Two JsSIP devices (headless Chromium) of one subject, with a token
//     that claims no number: the gateway allocates one IMPU from the
//     tenant's range for the subject, tells both devices in the REGISTER
//     200's P-Associated-URI, gives each device its own IMPI (log "device
//     impu=N impi=..."), and a call from IMS to that number rings both; one
//     answers, the other gets CANCEL with Reason "Call completed elsewhere";
//     the IMS caller hangs up with BYE.
//  2. Identity sets on two trunks: the tenant's own set "main" on trunk
//     "ims" (GIN registration to Kamailio :5070) and the set "partner" on
//     trunk "partner" (GIN registration to a second Kamailio :5071). Both
//     work (calls out through their own trunk, in from the partner IMS);
//     then the partner set is disabled and the configuration reloaded with
//     SIGHUP: trunk partner is withdrawn (un-REGISTER with expires 0 as its
//     Kamailio saw it), a registered partner user's INVITE and a new
//     partner user's REGISTER get 403 "Identity Set Withdrawn", IMS can no
//     longer reach partner numbers (its P-CSCF has no route: 404; straight
//     at the trunk: 503 "Trunk Withdrawn"), while the main set's calls
//     through "ims" still go end to end. Re-enabled, the trunk registers
//     again and partner calls pass again.
//
// One stack for both: rtpengine (the eIMS-AGW: SIPp's plain RTP/AVP becomes
// WebRTC toward the trunks, as the gateway and the browser require), two
// Kamailio P-CSCFs (WITH_AUTH WITH_GIN WITH_RTPENGINE, sipdump), wtpfd,
// Chromium, SIPp as the IMS users. Runs in a network namespace with only
// lo (see CMakeLists.txt); logs and traces stay in calls-out/ident-calls/.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { Kamailio, startRtpengine, sipp, registerImsUser, header, sleep } = require('./lib/peers');
const { outDir, startWtpf, DOMAIN, aorOf } = require('./lib/env');
const browser = require('./lib/browser');
const { RawWic } = require('./lib/wic');
const { assertEndedClean } = require('./lib/gwlog');
const { toLibconfig } = require('../integration/lib/gateway');
const tok = require('../integration/lib/tokens');

const { T, waitEvent, waitIncoming, eventOf } = browser;

const ORIGIN = 'http://127.0.0.1';          // the raw WICs' Origin
const MAIN_RANGE = '+4930123400000-+4930123400099';
const PARTNER_RANGE = '+4940555000000-+4940555000099';
const MAIN_USER = '+4930123400050';         // claims a main number (token impu)
const PARTNER_USER = '+4940555000001';      // claims a partner number
const PARTNER_NEW = '+4940555000002';       // registers only once withdrawn / back
const SUBJECT = 'dana';                     // the two browser devices' subject
const PARTNER_PORT = 5091;                  // trunk partner's own SIP port
const DEFINES = ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const firstLine = (m) => m.text.split('\r\n')[0];

// Everything the file started, stopped by PID in after() whatever failed.
const st = { sipps: [], wics: [], port: 5100, mp: 6100 };

// ---- helpers -------------------------------------------------------------

function nextPorts() {
  st.port += 1;
  st.mp += 4;
  return { port: st.port, mp: st.mp };
}

// An IMS user registered at `kam` once; answer(tag) starts a SIPp UAS on
// its port for one call (uas_answer.xml: 180, 200, waits for the BYE).
async function imsUser(user, kam) {
  const { port, mp } = nextPorts();
  await registerImsUser({ dir: st.dir, user, port, mp, kamailio: kam });
  return {
    user,
    target: `sip:${user}@${DOMAIN}`,
    async answer(tag) {
      const s = sipp({ name: `${port}-${user}-${tag}`, dir: st.dir, scenario: 'uas_answer.xml', port,
        mp: nextPorts().mp, args: ['-timeout', '30s'] });
      st.sipps.push(s);
      await sleep(300);   // listening
      return s;
    },
  };
}

// An IMS caller (SIPp UAC) of `number` through `remote`.
function imsCaller(number, scenario, remote, args = []) {
  const { port, mp } = nextPorts();
  const s = sipp({ name: `${port}-caller-${scenario.replace('.xml', '')}`, dir: st.dir, scenario, port, mp,
    service: number, remote, args: ['-timeout', '30s', ...args] });
  st.sipps.push(s);
  return s;
}

// The final statuses a SIPp received, e.g. ['486'].
const finals = (s) => s.received().map((m) => m.text.split('\n')[0])
  .filter((l) => /^SIP\/2\.0 [2-6]/.test(l)).map((l) => l.slice(8, 11));

// A raw WIC registered with a token claiming `number`.
async function rawWic(number) {
  const w = new RawWic(st.gw, number);
  st.wics.push(w);
  await w.register(ORIGIN);
  return w;
}

// The REGISTER of a raw WIC claiming `number`: its final response line.
async function registerLine(number) {
  const w = new RawWic(st.gw, number);
  st.wics.push(w);
  try {
    await w.register(ORIGIN);
    return 'SIP/2.0 200 OK';
  } catch (e) {
    const m = /: (SIP\/2\.0 .*)$/.exec(e.message);
    if (!m) throw e;
    return m[1];
  }
}

// A call from `wic` to IMS user `callee` answered, ACKed and hung up by the
// WIC; returns the INVITE as the callee received it.
async function outboundCall(wic, callee, tag) {
  const uas = await callee.answer(tag);
  const d = await wic.invite(callee.target);
  assert.equal(d.response.status, 200, `${wic.number} -> ${callee.user}: ${d.response.startLine}\n${uas.describe()}`);
  wic.ack(d);
  const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
  await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
  const bye = await wic.bye(d);
  assert.equal(bye.status, 200, `BYE of ${wic.number}'s call: ${bye.startLine}`);
  assert.equal(await uas.done(10000), 0, uas.describe());
  return inv;
}

// Lines after `mark` matching `re`, once there are n of them.
async function logLines(re, n, mark, timeoutMs = 3000) {
  const t0 = Date.now();
  for (;;) {
    const hits = st.gw.lines.slice(mark).filter((l) => re.test(l));
    if (hits.length >= n) return hits;
    if (Date.now() - t0 > timeoutMs)
      assert.fail(`fewer than ${n} gateway log lines matching ${re} (got ${hits.length}):\n${hits.join('\n')}`);
    await sleep(50);
  }
}

// Rewrites the configuration file with `change` applied, sends SIGHUP and
// waits until it is in force; returns the log mark from before the signal.
async function reload(change) {
  change(st.gw.config);
  fs.writeFileSync(st.gw.confPath, toLibconfig(st.gw.config));
  const mark = st.gw.mark();
  process.kill(st.gw.pid, 'SIGHUP');
  await st.gw.waitLog(/configuration reloaded/, 5000, mark);
  assert.ok(!st.gw.lines.slice(mark).some((l) => /reload refused|reload failed/.test(l)),
    `reload accepted:\n${st.gw.lines.slice(mark).join('\n')}`);
  return mark;
}
const partnerSet = (conf) => conf.tenants[0].identity_sets.find((x) => x.name === 'partner');

// The trunk partner's REGISTERs that Kamailio :5071 received after message
// `from` and answered; `un`: only those removing the binding (expires 0).
function trunkRegisters(ms, from, un) {
  const answerOf = (m) => ms.find((x) => x.dir === 'snd' && /^SIP\/2\.0 [2-6]/.test(x.text) &&
    header(x.text, 'Call-ID') === header(m.text, 'Call-ID') && header(x.text, 'CSeq') === header(m.text, 'CSeq'));
  return ms.slice(from).filter((m) => m.dir === 'rcv' && m.srcport === String(PARTNER_PORT) &&
    /^REGISTER /.test(m.text))
    .filter((m) => {
      const zero = header(m.text, 'Expires') === '0' || /;expires=0\b/.test(header(m.text, 'Contact') || '');
      return un ? zero : !zero;
    })
    .map((m) => ({ req: m, answer: answerOf(m) }))
    .filter((r) => r.answer);
}

async function cleanup() {
  if (st.b) {
    await T(st.b, 'stopAll').catch(() => {});
    await browser.close(st.b, st.dir);
    st.b = null;
  }
  for (const w of st.wics) await w.close().catch(() => {});
  for (const s of st.sipps) await s.stop();
  let r = null;
  if (st.gw) {
    r = await st.gw.stop().catch((e) => ({ error: e.message }));
    st.gw.saveLog();
    st.gw = null;
  }
  for (const k of [st.kam, st.kam2]) if (k) await k.stop();
  if (st.rtp) await st.rtp.stop();
  st.kam = st.kam2 = st.rtp = null;
  return r;
}

// ---- the tests -----------------------------------------------------------

describe('identities in calls: allocated IMPU on two devices, identity sets withdrawn by trunk',
  { timeout: 120000 }, () => {
    before(async () => {
      st.dir = outDir('ident-calls');
      try {
        st.rtp = await startRtpengine(path.join(st.dir, 'rtpengine'));
        st.kam = await new Kamailio({ dir: path.join(st.dir, 'kamailio-ims'), port: 5070, defines: DEFINES }).start();
        st.kam2 = await new Kamailio({ dir: path.join(st.dir, 'kamailio-partner'), port: 5071, defines: DEFINES })
          .start();
        const web = await browser.reserveOrigin();
        st.gw = await startWtpf(st.dir, {
          origins: [web.origin, ORIGIN],
          tenant: {
            ranges: [MAIN_RANGE], allocation: 'sequential', hold_time: 60,
            identity_sets: [{ name: 'partner', trunk: 'partner', ranges: [PARTNER_RANGE], enabled: true }],
          },
          trunks: [{
            name: 'partner', mode: 'registration', bind: `sip:127.0.0.1:${PARTNER_PORT}`,
            pcscf: ['sip:127.0.0.1:5071'], domain: '127.0.0.1', impu: 'sip:pbx@127.0.0.1',
            impi: 'pbx', password: 'secret', options_interval: 5, failover_time: 10,
          }],
        });
        await st.gw.waitLog(/trunk partner: registered via sip:127\.0\.0\.1:5071/, 10000);
        st.b = await browser.launch(web, st.dir);
        st.carol = await imsUser('carol', st.kam);     // an IMS user behind trunk ims
        st.erin = await imsUser('erin', st.kam2);      // an IMS user behind trunk partner
      } catch (e) {
        await cleanup();
        throw e;
      }
    });

    after(async () => {
      const r = await cleanup();
      if (r) assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
    });

    test('two devices of one subject: one allocated IMPU, two IMPIs; IMS calls it, both ring, one answers',
      async () => {
        const { gw, b } = st;
        const mark = gw.mark();
        const jwt = tok.hs256({ sub: SUBJECT });   // no impu claim: the gateway picks the number
        assert.ok(!('impu' in JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'))));
        const inst = [crypto.randomUUID(), crypto.randomUUID()];
        const reg = [];
        for (const [i, key] of ['d1', 'd2'].entries()) {
          reg.push(await T(b, 'startUA', {
            key, ws: gw.wsUrl, uri: `sip:${SUBJECT}@${DOMAIN}`, jwt, instance: inst[i],
          }));
          assert.equal(reg[i].ok, true, `device ${key} registers: ${JSON.stringify(reg[i])}`);
        }

        // One number for the subject, from the main range (sequential: its
        // first), under which both bindings live.
        const regs = await logLines(/REGISTER aor=\S+ contacts=1 -> 200 bindings=\d as=/, 2, mark);
        const number = /REGISTER aor=sip:(\+\d+)@/.exec(regs[0])[1];
        assert.equal(number, '+4930123400000', `allocated from the main range: ${regs[0]}`);
        const aor = aorOf(number);
        const alias = `sip:${SUBJECT}@${DOMAIN}`;   // what the devices still call themselves
        for (const [i, l] of regs.entries())
          assert.match(l, new RegExp(`aor=${esc(aor)} contacts=1 -> 200 bindings=${i + 1} as=${esc(alias)}$`));
        for (const r of reg)
          assert.equal(r.pau, `<${aor}>, <tel:${number}>`, 'P-Associated-URI: the allocated IMPU and its number');

        // Each device its own IMPI (impi_template {user}.{device}@{domain}).
        const devs = (await logLines(/device impu=\S+ impi=\S+ instance=\S+/, 2, mark))
          .map((l) => /device impu=(\S+) impi=(\S+) instance=(\S+)/.exec(l).slice(1));
        assert.deepEqual(devs.map((d) => d[0]), [number, number], 'both devices: the one IMPU');
        assert.notEqual(devs[0][1], devs[1][1], `two different IMPIs: ${devs.map((d) => d[1])}`);
        for (const [i, [, impi, instance]] of devs.entries()) {
          assert.match(impi, new RegExp(`^${esc(number)}\\.[^@.]+@${esc(DOMAIN)}$`), `IMPI from the template: ${impi}`);
          assert.ok(instance.includes(inst[i]), `device ${i + 1}'s +sip.instance ${inst[i]} in: ${instance}`);
        }

        // IMS calls the number: both devices ring, d1 answers.
        const last = await T(b, 'last');
        const callMark = gw.mark();
        const uac = imsCaller(number, 'uac_bye.xml', '127.0.0.1:5070', ['-d', '1500']);
        const s1 = await waitIncoming(b, 'd1', last);
        const s2 = await waitIncoming(b, 'd2', last);
        await gw.waitLog(new RegExp(`inbound call for ${esc(number)}: 2 device`), 1000, callMark);
        for (const sid of [s1, s2]) {
          const rq = await T(b, 'state', sid);
          assert.match(header(rq.request, 'To'), new RegExp(`<${esc(aor)}>`), 'To: the allocated IMPU');
        }
        await T(b, 'answer', s1);
        await waitEvent(b, s1, 'confirmed');

        const lost = eventOf(await waitEvent(b, s2, 'failed'), 'failed');
        assert.equal(lost.originator, 'remote');
        assert.equal(lost.method, 'CANCEL', `d2 got CANCEL: ${JSON.stringify({ ...lost, raw: undefined })}`);
        assert.equal(header(lost.raw, 'Reason'), 'SIP;cause=200;text="Call completed elsewhere"',
          `Reason of d2's CANCEL:\n${lost.raw}`);

        const ended = eventOf(await waitEvent(b, s1, 'ended', 10000), 'ended');
        assert.equal(ended.originator, 'remote');
        assert.equal(ended.method, 'BYE', 'the IMS caller hung up');
        assert.equal(await uac.done(10000), 0, `SIPp: 200, ACK, BYE answered: ${uac.describe()}`);
        assert.ok(finals(uac).every((f) => f === '200'), `IMS got no failure: ${uac.describe()}`);
        await assertEndedClean(gw, callMark, 'IMS hung up');
      });

    test('both identity sets serve: main through trunk ims, partner through trunk partner (out and in)', async () => {
      const { gw } = st;
      st.main = await rawWic(MAIN_USER);
      st.partner = await rawWic(PARTNER_USER);

      let mark = gw.mark();
      let inv = await outboundCall(st.main, st.carol, 'main-1');
      await gw.waitLog(new RegExp(`outbound call from ${esc(aorOf(MAIN_USER))} to \\S+ via trunk ims$`), 1000, mark);
      assert.match(inv, /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5070;/m, 'relayed by the ims P-CSCF');
      assert.equal(header(inv, 'P-Asserted-Identity'), `<${aorOf(MAIN_USER)}>`);

      mark = gw.mark();
      inv = await outboundCall(st.partner, st.erin, 'partner-1');
      await gw.waitLog(new RegExp(`outbound call from ${esc(aorOf(PARTNER_USER))} to \\S+ via trunk partner$`), 1000,
        mark);
      assert.match(inv, /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5071;/m, 'relayed by the partner P-CSCF');
      assert.equal(header(inv, 'P-Asserted-Identity'), `<${aorOf(PARTNER_USER)}>`);
      assert.ok(st.kam2.messages().some((m) => m.dir === 'rcv' && m.srcport === String(PARTNER_PORT) &&
        /^INVITE sip:erin@/.test(m.text)), 'the partner P-CSCF got the INVITE from trunk partner\'s port');

      // In: the partner IMS routes the number to trunk partner (GIN), the
      // gateway to the registered partner user, who is busy.
      mark = gw.mark();
      const uac = imsCaller(PARTNER_USER, 'uac_reject.xml', '127.0.0.1:5071');
      const req = await st.partner.nextRequest('INVITE');
      assert.match(req.get('to'), new RegExp(`<${esc(aorOf(PARTNER_USER))}>`));
      st.partner.reply(req, 486, 'Busy Here');
      assert.equal(await uac.done(10000), 0, uac.describe());
      assert.deepEqual(finals(uac), ['486'], `the partner IMS caller got the user's 486: ${uac.describe()}`);
      await gw.waitLog(new RegExp(`inbound call for ${esc(PARTNER_USER)}: 1 device`), 1000, mark);
    });

    test('SIGHUP with the partner set disabled: trunk partner un-registers, the set is refused, ims goes on',
      async () => {
        const { gw } = st;
        const k2 = st.kam2.messages().length;
        const mark = await reload((c) => { partnerSet(c).enabled = false; });

        await gw.waitLog(/trunk partner: withdrawn/, 1000, mark);
        await gw.waitLog(/trunk partner: un-registering/, 1000, mark);
        const unreg = await st.kam2.waitDump((ms) => {
          const r = trunkRegisters(ms, k2, true);
          return r.length ? r : null;
        }, 5000, 'an answered un-REGISTER (expires 0) from trunk partner');
        const fin = unreg[unreg.length - 1];
        assert.match(firstLine(fin.answer), /^SIP\/2\.0 200 /, `un-REGISTER accepted: ${firstLine(fin.answer)}`);
        assert.match(header(fin.req.text, 'Contact'), /<sip:127\.0\.0\.1:5091;transport=udp;bnc>/i,
          'the bnc Contact of trunk partner is removed');
        await gw.waitLog(/trunk partner: un-registered \(200 /, 5000, mark);
        assert.ok(!gw.lines.slice(mark).some((l) => /trunk ims: (withdrawn|un-regist)/.test(l)),
          'trunk ims stays in service');

        // The registered partner user may no longer call; nothing leaves.
        const k2inv = st.kam2.messages().length;
        const d = await st.partner.invite(st.erin.target);
        assert.equal(d.response.startLine, 'SIP/2.0 403 Identity Set Withdrawn');
        st.partner.ackFailure(d);
        // A new partner user may not register.
        assert.equal(await registerLine(PARTNER_NEW), 'SIP/2.0 403 Identity Set Withdrawn');

        // IMS cannot reach partner numbers: its P-CSCF lost the route, and
        // the trunk itself refuses what still comes.
        const viaPcscf = imsCaller(PARTNER_USER, 'uac_reject.xml', '127.0.0.1:5071');
        assert.equal(await viaPcscf.done(10000), 0, viaPcscf.describe());
        assert.deepEqual(finals(viaPcscf), ['404'], `no route to the withdrawn trunk: ${viaPcscf.describe()}`);
        const direct = imsCaller(PARTNER_USER, 'uac_reject.xml', `127.0.0.1:${PARTNER_PORT}`);
        assert.equal(await direct.done(10000), 0, direct.describe());
        const r503 = direct.received().find((m) => /^SIP\/2\.0 503 /.test(m.text));
        assert.ok(r503, `503 from the withdrawn trunk: ${direct.describe()}`);
        assert.match(r503.text, /^SIP\/2\.0 503 Trunk Withdrawn\r?\n/);
        assert.ok(!st.kam2.messages().slice(k2inv).some((m) => m.dir === 'rcv' &&
          m.srcport === String(PARTNER_PORT) && /^INVITE /.test(m.text)), 'trunk partner sent no INVITE');
        assert.ok(!gw.lines.slice(mark).some((l) => new RegExp(`inbound call for ${esc(PARTNER_USER)}`).test(l)),
          'no inbound call for a partner number started');

        // The main set goes on through trunk ims, end to end.
        const m2 = gw.mark();
        const inv = await outboundCall(st.main, st.carol, 'main-2');
        await gw.waitLog(new RegExp(`outbound call from ${esc(aorOf(MAIN_USER))} to \\S+ via trunk ims$`), 1000, m2);
        assert.equal(header(inv, 'P-Asserted-Identity'), `<${aorOf(MAIN_USER)}>`);

        // All the while, trunk partner stayed un-registered.
        assert.equal(trunkRegisters(st.kam2.messages(), k2, false).length, 0, 'trunk partner registers no more');
        assert.ok(!gw.lines.slice(mark).some((l) => /trunk partner: (REGISTER|registered|back)/.test(l)),
          'trunk partner stays withdrawn');
      });

    test('SIGHUP with the partner set enabled again: trunk partner registers, partner calls pass again', async () => {
      const { gw } = st;
      const k2 = st.kam2.messages().length;
      const mark = await reload((c) => { partnerSet(c).enabled = true; });
      await gw.waitLog(/trunk partner: back in service/, 1000, mark);
      await gw.waitLog(/trunk partner: registered via sip:127\.0\.0\.1:5071/, 10000, mark);
      const regs = await st.kam2.waitDump((ms) => {
        const r = trunkRegisters(ms, k2, false).filter((x) => /^SIP\/2\.0 200 /.test(firstLine(x.answer)));
        return r.length ? r : null;
      }, 3000, 'an accepted REGISTER from trunk partner');
      assert.match(header(regs[0].req.text, 'Require') || '', /gin/);

      const m2 = gw.mark();
      const inv = await outboundCall(st.partner, st.erin, 'partner-2');
      await gw.waitLog(new RegExp(`outbound call from ${esc(aorOf(PARTNER_USER))} to \\S+ via trunk partner$`), 1000,
        m2);
      assert.equal(header(inv, 'P-Asserted-Identity'), `<${aorOf(PARTNER_USER)}>`);
      assert.equal(await registerLine(PARTNER_NEW), 'SIP/2.0 200 OK', 'a new partner user registers again');
    });
  });

// The registration-mode trunk (DESIGN.md §4 flow 2) past the first 200, and
// what the registration means for calls:
//   §4.2g the registration refreshed before it expires, each refresh
//         challenged afresh (a registrar taking each nonce once);
//   §4.2h 420 (no gin) and 403 from the registrar: a clear reason in the
//         log, and a later attempt after retry_min (back-off);
//   §4.2i the Service-Route of the 200 pre-loaded in a call's INVITE after
//         the P-CSCF's own route (RFC 3608);
//   §4.3t an untrusted trunk: P-Preferred-Identity, not P-Asserted-Identity,
//         and a browser's Privacy: id kept with an anonymous From;
//   §4.4k two browsers of one identity answer an inbound call at once: the
//         first 200 wins, the second is ACKed and then BYE'd.
// Real peers: Kamailio (the P-CSCF stand-in, its sipdump shows what it
// received) where it can give the answer; SIPp as the P-CSCF/registrar where
// it cannot (420, 403, Service-Route); rtpengine as the eIMS-AGW for the
// inbound call; raw ws clients as the browsers. Runs in a network namespace
// with only lo (see CMakeLists.txt).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');

const { sipp, header, headers, sleep } = require('./lib/peers');
const { outDir, startStack, stopStack, startWtpf, DOMAIN, TRUNK_PORT } = require('./lib/env');
const { RawWic, WEBRTC_OFFER, webrtcAnswer } = require('./lib/wic');
const { assertEndedClean } = require('./lib/gwlog');
const { rand } = require('../integration/lib/sip');

const ORIGIN = 'http://127.0.0.1';
const ALICE = '+4930123400001';
const fromTrunk = (m) => m.dir === 'rcv' && m.srcport === String(TRUNK_PORT);
const firstLine = (t) => t.split(/\r?\n/)[0];
const callIdOf = (t) => header(t, 'Call-ID');
const cseqOf = (t) => header(t, 'CSeq');
// The final response Kamailio sent to request `req`.
const answerTo = (msgs, req) => msgs.find((m) => m.dir === 'snd' && /^SIP\/2\.0 [2-6]/.test(m.text) &&
  callIdOf(m.text) === callIdOf(req.text) && cseqOf(m.text) === cseqOf(req.text));
const linesSince = (gw, mark) => gw.log().split('\n').slice(mark);

test('§4.2g refresh before expiry: each REGISTER challenged afresh, 401 -> authenticated REGISTER -> 200, ' +
  'the trunk never down', { timeout: 70000 }, async () => {
  const dir = outDir('trunk-reg-refresh');
  const EXPIRES = 60;
  // one_time_nonce: the refresh cannot replay the last credentials, so
  // Kamailio challenges it (as a strict S-CSCF does every REGISTER).
  const s = await startStack(dir, {
    defines: ['WITH_AUTH', 'WITH_GIN'], oneTimeNonce: true,
    trunk: { register_expires: EXPIRES, options_interval: 300 },
  });
  try {
    const t0 = Date.now();
    const mark = s.gw.mark();
    // The refresh: a REGISTER after the first 200, challenged, then
    // answered with fresh credentials and accepted.
    const regs = await s.kam.waitDump((ms) => {
      const r = ms.filter((m) => fromTrunk(m) && /^REGISTER /.test(m.text));
      return r.length >= 4 && answerTo(ms, r[3]) ? r : null;
    }, (EXPIRES - 5) * 1000, 'a refresh REGISTER (third) and its authenticated retry (fourth), answered');
    const took = Date.now() - t0;
    const all = s.kam.messages();
    const codes = regs.slice(0, 4).map((r) => firstLine(answerTo(all, r).text).split(' ')[1]);
    assert.deepEqual(codes, ['401', '200', '401', '200'],
      'initial 401 -> 200, then the refresh 401 -> 200');
    assert.ok(took < (EXPIRES - 10) * 1000, `refreshed well before the ${EXPIRES} s expire: ${took} ms after registered`);
    assert.ok(took > 15000, `not at once either (nua refreshes at about half): ${took} ms`);
    assert.equal(header(regs[1].text, 'Expires'), String(EXPIRES), 'the configured register_expires');
    // The refresh's retry answers the new challenge: a new nonce.
    const nonce = (t) => (/nonce="([^"]+)"/.exec(t) || [])[1];
    const ch1 = header(answerTo(all, regs[0]).text, 'WWW-Authenticate');
    const ch2 = header(answerTo(all, regs[2]).text, 'WWW-Authenticate');
    assert.notEqual(nonce(ch1), nonce(ch2), 'a fresh nonce for the refresh');
    assert.equal(nonce(header(regs[3].text, 'Authorization')), nonce(ch2), 'answered with the fresh nonce');
    assert.match(header(regs[3].text, 'Authorization'), /username="pbx"/);
    for (const r of regs.slice(0, 4)) {
      assert.equal(header(r.text, 'Require'), 'gin');
      assert.match(header(r.text, 'Contact'), /^<sip:127\.0\.0\.1:5090;transport=udp;bnc>/i);
    }
    // The gateway logged a second "registered" and never showed the trunk down.
    await s.gw.waitLog(/trunk ims: registered via sip:127\.0\.0\.1:5070/, 2000, mark);
    const since = linesSince(s.gw, 0);
    assert.ok(!since.some((l) => /REGISTER (failed|refused)|P-CSCF \S+ (failed|is down)|next REGISTER in/.test(l)),
      `the trunk never went down:\n${since.filter((l) => /trunk ims/.test(l)).join('\n')}`);
  } finally {
    const r = await stopStack(s);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  }
});

// A SIPp registrar on 5070 refusing each REGISTER with `status` (scenario
// reg_<status>.xml); the trunk must log `why` and try again after retry_min.
async function refused(name, status, reason, why) {
  const dir = outDir(`trunk-reg-${name}`);
  const RETRY_MIN = 2;
  const reg = sipp({ name: 'registrar', dir, scenario: `reg_${status}.xml`, port: 5070, mp: 6700, m: 20,
    args: ['-timeout', '40s'] });
  let gw;
  try {
    await sleep(300);
    gw = await startWtpf(dir, { origins: [ORIGIN], waitRegistered: false,
      trunk: { retry_min: RETRY_MIN, retry_max: 30, options_interval: 300 } });
    const first = await gw.waitLog(why, 5000);
    const t0 = Date.now();
    await gw.waitLog(new RegExp(`trunk ims: next REGISTER in ${RETRY_MIN} s`), 1000);
    const mark = gw.mark();
    await gw.waitLog(/trunk ims: REGISTER sip:pbx@127\.0\.0\.1 via /, (RETRY_MIN + 3) * 1000, mark);
    const took = Date.now() - t0;
    assert.ok(took >= RETRY_MIN * 1000 - 300 && took < RETRY_MIN * 1000 + 1500,
      `the second attempt after retry_min (${RETRY_MIN} s): ${took} ms`);
    // The registrar saw both attempts, each answered as it was told.
    await reg.waitMsg(() => reg.received().filter((m) => /^REGISTER /.test(m.text)).length >= 2,
      3000, 'two REGISTERs at the registrar');
    const sent = reg.messages().filter((m) => m.dir === 'sent').map((m) => firstLine(m.text));
    assert.ok(sent.length >= 1 && sent.every((l) => l === `SIP/2.0 ${status} ${reason}`), `answers: ${sent}`);
    // And the second refusal is logged the same way (and backs off again).
    await gw.waitLog(why, 3000, mark);
    await gw.waitLog(/trunk ims: next REGISTER in \d+ s/, 1000, mark);
    assert.ok(!gw.log().includes('trunk ims: registered via'), 'never registered');
    return first;
  } finally {
    if (gw) { await gw.stop().catch(() => gw.kill()); gw.saveLog(); }
    await reg.stop();
  }
}

test('§4.2h a 420 (Unsupported: gin) is logged as the P-CSCF not supporting gin; retried after retry_min',
  { timeout: 30000 }, async () => {
    const line = await refused('420', 420, 'Bad Extension',
      /trunk ims: REGISTER refused 420 Bad Extension: the P-CSCF does not support gin/);
    assert.match(line, /does not support gin/);
  });

test('§4.2h a 403 is logged as "check impu, impi and password"; retried after retry_min',
  { timeout: 30000 }, async () => {
    const line = await refused('403', 403, 'Forbidden',
      /trunk ims: REGISTER refused 403 Forbidden: check impu, impi and password/);
    assert.match(line, /check impu, impi and password/);
  });

// A SIPp P-CSCF on 5070 that registers the trunk with a Service-Route and
// answers INVITEs 486; the gateway started against it with `trunk` options.
async function routeStack(name, trunk = {}) {
  const dir = outDir(`trunk-reg-${name}`);
  const pcscf = sipp({ name: 'pcscf', dir, scenario: 'pcscf_route.xml', port: 5070, mp: 6720, m: 30,
    args: ['-timeout', '50s'] });
  await sleep(300);
  let gw;
  try {
    gw = await startWtpf(dir, { origins: [ORIGIN], trunk: { options_interval: 300, ...trunk } });
  } catch (e) {
    await pcscf.stop();
    throw e;
  }
  return { dir, pcscf, gw };
}

async function stopRoute(st) {
  if (st.gw) { await st.gw.stop().catch(() => st.gw.kill()); st.gw.saveLog(); }
  await st.pcscf.stop();
}

// A call from the browser with extra headers; resolves with the INVITE the
// P-CSCF (SIPp) received for it and the browser's final response.
async function callThrough(st, wic, num, extra = {}) {
  const target = `sip:${num}@${DOMAIN}`;
  const n = st.pcscf.received().filter((m) => /^INVITE /.test(m.text)).length;
  const rsp = await wic.c.transact({ method: 'INVITE', uri: target, from: wic.aor, to: target,
    callId: rand(10), fromTag: rand(4), cseq: 1,
    headers: { Contact: wic.contact, 'Content-Type': 'application/sdp', ...extra }, body: WEBRTC_OFFER }, 8000);
  const inv = await st.pcscf.waitMsg(() => st.pcscf.received().filter((m) => /^INVITE /.test(m.text)).length > n,
    2000, 'the INVITE');
  assert.ok(inv);
  const invs = st.pcscf.received().filter((m) => /^INVITE /.test(m.text));
  return { inv: invs[invs.length - 1].text, rsp };
}

test('§4.2i Service-Route of the REGISTER 200 pre-loaded in an outbound INVITE after the P-CSCF (RFC 3608)',
  { timeout: 40000 }, async () => {
    const st = await routeStack('service-route');
    const wic = new RawWic(st.gw, ALICE);
    try {
      await st.gw.waitLog(/trunk ims: registered via sip:127\.0\.0\.1:5070 \(expires \d+, Service-Route <sip:orig@scscf\.ims\.test;lr>\)/,
        1000);
      await wic.register(ORIGIN);
      const mark = st.gw.mark();
      const num = '+4940555000701';
      const { inv, rsp } = await callThrough(st, wic, num);
      assert.match(firstLine(inv), new RegExp(`^INVITE sip:${num.replace('+', '\\+')}@`), firstLine(inv));
      const route = headers(inv, 'Route').join(', ');
      assert.match(route, /^<sip:127\.0\.0\.1:5070;lr>, <sip:orig@scscf\.ims\.test;lr>$/,
        `the P-CSCF first, then the Service-Route: Route: ${route}`);
      assert.equal(rsp.status, 486, `the browser gets IMS's 486: ${rsp.startLine}`);
      await assertEndedClean(st.gw, mark, /IMS answered 486 .*/);
    } finally {
      await wic.close();
      await stopRoute(st);
    }
  });

test('§4.3t an untrusted trunk: P-Preferred-Identity and no P-Asserted-Identity; Privacy: id keeps the ' +
  'identity header with an anonymous From', { timeout: 40000 }, async () => {
  const st = await routeStack('untrusted', { trusted: false });
  const wic = new RawWic(st.gw, ALICE);
  const impu = `sip:${ALICE}@${DOMAIN}`;
  try {
    await wic.register(ORIGIN);
    const a = await callThrough(st, wic, '+4940555000711');
    assert.equal(a.rsp.status, 486, a.rsp.startLine);
    assert.deepEqual(headers(a.inv, 'P-Preferred-Identity'), [`<${impu}>`], 'the user\'s IMPU, preferred');
    assert.deepEqual(headers(a.inv, 'P-Asserted-Identity'), [], 'nothing asserted by an untrusted trunk');
    assert.match(header(a.inv, 'From'), new RegExp(`<${impu.replace('+', '\\+')}>;tag=`), 'From: the user');
    assert.deepEqual(headers(a.inv, 'Privacy'), [], 'no Privacy unless asked');

    const b = await callThrough(st, wic, '+4940555000712', { Privacy: 'id' });
    assert.equal(b.rsp.status, 486, b.rsp.startLine);
    assert.deepEqual(headers(b.inv, 'Privacy'), ['id'], 'Privacy: id reaches IMS');
    assert.match(header(b.inv, 'From'), /<sip:anonymous@anonymous\.invalid>;tag=/, `anonymous From: ${header(b.inv, 'From')}`);
    assert.deepEqual(headers(b.inv, 'P-Preferred-Identity'), [`<${impu}>`], 'the identity header still there');
    assert.deepEqual(headers(b.inv, 'P-Asserted-Identity'), []);
  } finally {
    await wic.close();
    await stopRoute(st);
  }
});

test('§4.4k two browsers answer an inbound call at once: the first 200 wins, the second gets ACK then BYE',
  { timeout: 60000 }, async () => {
    const s = await startStack(outDir('trunk-reg-race'), {
      media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'], origins: [ORIGIN],
      trunk: { options_interval: 300 },
    });
    const w1 = new RawWic(s.gw, ALICE);
    const w2 = new RawWic(s.gw, ALICE);
    let caller;
    try {
      await w1.register(ORIGIN);
      await w2.register(ORIGIN);
      const mark = s.gw.mark();
      caller = sipp({ name: 'caller', dir: s.dir, scenario: 'uac_bye.xml', port: 5401, mp: 6740, service: ALICE,
        remote: '127.0.0.1:5070', args: ['-timeout', '30s', '-d', '1500', '-rtp_echo'] });
      const [i1, i2] = await Promise.all([w1.nextRequest('INVITE'), w2.nextRequest('INVITE')]);
      assert.notEqual(i1.get('call-id'), i2.get('call-id'), 'one branch per browser');
      w1.reply(i1, 180, 'Ringing');
      await caller.waitMsg((t) => /^SIP\/2\.0 180 /.test(t), 3000, '180');
      // Both answer: the second 5 ms after the first.
      w1.reply(i1, 200, 'OK', { sdp: webrtcAnswer(i1.body) });
      await sleep(5);
      w2.reply(i2, 200, 'OK', { sdp: webrtcAnswer(i2.body) });

      const ack1 = await w1.nextRequest('ACK', 5000);
      assert.equal(ack1.get('call-id'), i1.get('call-id'));
      // The loser: its 200 is ACKed (the dialog is set up), then BYE'd.
      const ack2 = await w2.nextRequest('ACK', 5000);
      assert.equal(ack2.get('call-id'), i2.get('call-id'), 'the second 200 is ACKed');
      const bye2 = await w2.nextRequest('BYE', 5000);
      assert.equal(bye2.get('call-id'), i2.get('call-id'), 'then BYE to the second');
      w2.reply(bye2, 200, 'OK');
      // (A CANCEL the gateway sent the second before its 200 arrived crossed
      // that 200: RFC 3261 9.1, harmless; the ACK and BYE end the branch.)
      const cancel = w2.c.messages.find((m) => m.method === 'CANCEL');
      if (cancel) w2.reply(cancel, 200, 'OK');

      // IMS got exactly one 200 to its INVITE; the caller hangs up, the
      // winner gets that BYE.
      const bye1 = await w1.nextRequest('BYE', 8000);
      assert.equal(bye1.get('call-id'), i1.get('call-id'), 'the winner keeps the call until IMS hangs up');
      w1.reply(bye1, 200, 'OK');
      assert.equal(await caller.done(10000), 0, caller.describe());
      const oks = caller.received().filter((m) => /^SIP\/2\.0 200 /.test(m.text) && / INVITE$/.test(header(m.text, 'CSeq')));
      assert.equal(new Set(oks.map((m) => header(m.text, 'To'))).size, 1,
        `IMS got one 200 (one To tag; retransmissions aside): ${oks.map((m) => header(m.text, 'To'))}`);
      const kamOks = s.kam.messages().filter((m) => m.dir === 'rcv' && m.srcport === String(TRUNK_PORT) &&
        /^SIP\/2\.0 200 /.test(m.text) && / INVITE$/.test(header(m.text, 'CSeq')));
      assert.equal(new Set(kamOks.map((m) => header(m.text, 'To'))).size, 1,
        `the trunk sent one 200 to the INVITE: ${kamOks.map((m) => header(m.text, 'To'))}`);
      await assertEndedClean(s.gw, mark, /.*/, { timeoutMs: 5000 });
      await sleep(300);
      const ended = linesSince(s.gw, mark).filter((l) => / ended: /.test(l));
      assert.match(ended[ended.length - 1], /\(calls left: 0\)$/, ended.join('\n'));
    } finally {
      await w1.close();
      await w2.close();
      if (caller) await caller.stop();
      const r = await stopStack(s);
      assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
    }
  });

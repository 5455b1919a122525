// Calls whose WebSocket flow is lost (DESIGN.md §2: "a dead flow removes its
// bindings and ends its calls"), for outbound (§4 flow 3) and inbound (§4
// flow 4) calls: the gateway must end the IMS side itself. Signalling only:
// a raw ws client as the WIC, Kamailio (WITH_AUTH WITH_GIN WITH_RTPENGINE)
// as the P-CSCF with rtpengine as the eIMS-AGW (it turns SIPp's plain RTP/AVP
// into WebRTC toward the trunk and back, so that the gateway's SDP checks
// pass), SIPp as the IMS users. Runs in a network namespace with only lo.
// Also, on the same peers, what a real browser cannot be made to send
// (§4.3p: an ICE restart with a new DTLS fingerprint), UPDATE both ways
// (§4.3q), and the IMS side's transport dying mid-call (§4.3s, TCP trunk).
// Each group has a stack of its own, started after the last one stopped
// (the peers' ports are fixed).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { sipp, registerImsUser, sleep, header, rawBody } = require('./lib/peers');
const { outDir, startStack, stopStack, DOMAIN } = require('./lib/env');
const { RawWic, WEBRTC_OFFER, webrtcAnswer } = require('./lib/wic');
const { assertEndedClean, outboundCallId, sdpLines } = require('./lib/gwlog');
const {
  RESTART, ICE_RESTART_OFFER, UPDATE_OFFER, reinvite, update, answer, bundleLine, attr,
} = require('./lib/indialog');

const ORIGIN = 'http://127.0.0.1';
const ALICE = '+4930123400001';
let s;
let port = 5180;
let mp = 6600;

// The requests `method` of dialog `callId` that Kamailio received from the
// trunk (top Via: the trunk's address), in order, retransmissions left out;
// waits until there are n (its sipdump is written a little after the fact).
const fromTrunk = (kam, callId, method, n) => kam.waitDump((ms) => {
  const r = ms.filter((m) => m.dir === 'rcv' && m.text.startsWith(`${method} `) &&
    /^Via: SIP\/2\.0\/(UDP|TCP) 127\.0\.0\.1:5090;/m.test(m.text) && header(m.text, 'Call-ID') === callId)
    .filter((m, i, all) => all.findIndex((x) => header(x.text, 'CSeq') === header(m.text, 'CSeq')) === i);
  return r.length >= n ? r : null;
}, 3000, `${n} ${method}(s) of ${callId} from the trunk`);

// SDP bodies compared whatever the line ends of a trace (SIPp's is trimmed).
const lines = (sdp) => sdp.split(/\r?\n/).filter(Boolean);

// An IMS user registered at Kamailio, then its UAS on the same port.
async function imsUas(st, num, scenario, args = []) {
  port += 1; mp += 4;
  await registerImsUser({ dir: st.dir, user: num, port, mp, kamailio: st.kam });
  const uas = sipp({ name: `${port}-uas-${scenario.replace('.xml', '')}`, dir: st.dir, scenario, port, mp: mp + 2,
    args: ['-timeout', '30s', ...args] });
  await sleep(300);
  return uas;
}

// A raw WIC registered as ALICE that called `num` and got its 200 (ACKed).
async function answeredCall(st, num, uas) {
  const wic = new RawWic(st.gw, ALICE);
  await wic.register(ORIGIN);
  const d = await wic.invite(`sip:${num}@${DOMAIN}`);
  assert.equal(d.response.status, 200, `${d.response.startLine}\n${uas.describe()}`);
  wic.ack(d);
  await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
  return { wic, d };
}

function uac(scenario, args = []) {
  port += 1; mp += 4;
  return sipp({ name: `${port}-caller-${scenario.replace('.xml', '')}`, dir: s.dir, scenario, port, mp,
    service: ALICE, remote: '127.0.0.1:5070', args: ['-timeout', '30s', ...args] });
}

describe('calls whose browser flow is lost', { timeout: 90000 }, () => {
  before(async () => {
    s = await startStack(outDir('calls-flow'), {
      media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'], origins: [ORIGIN],
    });
  });
  after(async () => {
    if (!s) return;
    const r = await stopStack(s);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.3g outbound call answered, then the flow is lost: the gateway sends BYE to IMS', async () => {
    const num = '+4940555000301';
    port += 1; mp += 4;
    await registerImsUser({ dir: s.dir, user: num, port, mp, kamailio: s.kam });
    const uas = sipp({ name: `${port}-uas`, dir: s.dir, scenario: 'uas_answer.xml', port, mp: mp + 2,
      args: ['-timeout', '30s'] });
    await sleep(300);
    const wic = new RawWic(s.gw, ALICE);
    await wic.register(ORIGIN);
    const mark = s.gw.mark();
    const d = await wic.invite(`sip:${num}@${DOMAIN}`);
    assert.equal(d.response.status, 200, d.response.startLine);
    wic.ack(d);
    await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
    await wic.drop();
    await uas.waitMsg((t) => /^BYE /.test(t), 5000, 'BYE after the flow was lost');
    assert.equal(await uas.done(10000), 0, uas.describe());
    await assertEndedClean(s.gw, mark, 'the browser\'s connection closed');
  });

  test('§4.3h outbound call ringing, then the flow is lost: the gateway CANCELs toward IMS', async () => {
    const num = '+4940555000302';
    port += 1; mp += 4;
    await registerImsUser({ dir: s.dir, user: num, port, mp, kamailio: s.kam });
    const uas = sipp({ name: `${port}-uas`, dir: s.dir, scenario: 'uas_noanswer.xml', port, mp: mp + 2,
      args: ['-timeout', '30s'] });
    await sleep(300);
    const wic = new RawWic(s.gw, ALICE);
    await wic.register(ORIGIN);
    const mark = s.gw.mark();
    const inviting = wic.invite(`sip:${num}@${DOMAIN}`, 1500).catch((e) => e);   // no final: the flow goes
    await wic.c.next((m) => m.status === 180, 5000);
    await wic.drop();
    await uas.waitMsg((t) => /^CANCEL /.test(t), 5000, 'CANCEL after the flow was lost');
    assert.equal(await uas.done(10000), 0, `487 sent and ACKed: ${uas.describe()}`);
    await assertEndedClean(s.gw, mark, 'the browser\'s connection closed');
    await inviting;
  });

  test('§4.4f inbound call ringing, then the flow is lost: IMS gets a final error answer', async () => {
    const wic = new RawWic(s.gw, ALICE);
    await wic.register(ORIGIN);
    const mark = s.gw.mark();
    const caller = uac('uac_reject.xml');
    const inv = await wic.nextRequest('INVITE');
    wic.reply(inv, 180, 'Ringing');
    await caller.waitMsg((t) => /^SIP\/2\.0 180 /.test(t), 3000, '180');
    const t0 = Date.now();
    await wic.drop();
    assert.equal(await caller.done(10000), 0, caller.describe());
    const finals = caller.received().map((m) => m.text.split('\n')[0]).filter((l) => /^SIP\/2\.0 [3-6]/.test(l));
    assert.equal(finals.length, 1, `one final answer: ${finals}`);
    assert.match(finals[0], /^SIP\/2\.0 (480|408|503) /, `IMS is told the callee is unavailable: ${finals[0]}`);
    assert.ok(Date.now() - t0 < 3000, `at once, not after a timeout (${Date.now() - t0} ms)`);
    await assertEndedClean(s.gw, mark, 'no device answered');
  });

  test('§4.4g inbound call answered, then the flow is lost: the gateway sends BYE to IMS', async () => {
    const wic = new RawWic(s.gw, ALICE);
    await wic.register(ORIGIN);
    const mark = s.gw.mark();
    const caller = uac('uac_waitbye.xml');
    const inv = await wic.nextRequest('INVITE');
    wic.reply(inv, 180, 'Ringing');
    // The 200 only once the 180 is through: back to back, Kamailio's workers
    // may swap them, and SIPp takes a 180 after the 200 for an error.
    await caller.waitMsg((t) => /^SIP\/2\.0 180 /.test(t), 3000, '180');
    wic.reply(inv, 200, 'OK', { sdp: webrtcAnswer(inv.body) });
    await wic.nextRequest('ACK', 5000);
    await caller.waitMsg((t) => /^SIP\/2\.0 200 /.test(t), 3000, '200');
    await wic.drop();
    await caller.waitMsg((t) => /^BYE /.test(t), 5000, 'BYE after the flow was lost');
    assert.equal(await caller.done(10000), 0, caller.describe());
    await assertEndedClean(s.gw, mark, 'the browser\'s connection closed');
  });
});

// §4.3 in-dialog requests, signalling only, with what a browser cannot be
// made to send (Chrome keeps its DTLS certificate over an ICE restart).
describe('§4.3 in-dialog requests of a raw browser', { timeout: 60000 }, () => {
  let st;
  before(async () => {
    st = await startStack(outDir('calls-flow-dialog'), {
      media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'], origins: [ORIGIN],
    });
  });
  after(async () => {
    if (!st) return;
    const r = await stopStack(st);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.3p ICE restart with a new DTLS fingerprint: the re-INVITE reaches IMS as sent, its 200 comes back, ' +
    'BYE still works', async () => {
    const num = '+4940555000311';
    const uas = await imsUas(st, num, 'uas_answer.xml');
    const mark = st.gw.mark();
    const { wic, d } = await answeredCall(st, num, uas);
    const id = await outboundCallId(st.gw, mark, num);

    assert.notEqual(attr(ICE_RESTART_OFFER, 'ice-ufrag'), attr(WEBRTC_OFFER, 'ice-ufrag'));
    assert.notEqual(attr(ICE_RESTART_OFFER, 'fingerprint'), attr(WEBRTC_OFFER, 'fingerprint'));
    const rsp = await reinvite(wic, d, ICE_RESTART_OFFER);
    assert.equal(rsp.status, 200, `the re-INVITE's 200 reaches the browser: ${rsp.startLine}\n${uas.describe()}`);
    assert.match(rsp.body, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m, `a WebRTC answer:\n${rsp.body}`);
    assert.match(rsp.body, /^a=setup:(active|passive)\r?$/m, 'an answer\'s DTLS role');

    // At the P-CSCF: the re-offer as the browser sent it, new ICE
    // credentials and fingerprint included, only the BUNDLE group gone.
    const ims = uas.received().find((m) => /^INVITE /.test(m.text)).text;
    const invs = await fromTrunk(st.kam, header(ims, 'Call-ID'), 'INVITE', 2);
    const sent = rawBody(invs[1].raw);
    assert.match(header(invs[1].text, 'To'), /;tag=/, 'in-dialog');
    assert.equal(attr(sent, 'ice-ufrag'), RESTART.ufrag);
    assert.equal(attr(sent, 'ice-pwd'), RESTART.pwd);
    assert.equal(attr(sent, 'fingerprint'), RESTART.fingerprint);
    assert.equal(sent, ICE_RESTART_OFFER.replace(bundleLine(ICE_RESTART_OFFER), ''),
      'the re-offer reaches IMS byte for byte, without a=group:BUNDLE');
    assert.equal(uas.received().filter((m) => /^INVITE /.test(m.text)).length, 2, `SIPp got the re-INVITE: ${uas.describe()}`);
    // IMS's answer, as the P-CSCF sent it to the trunk, is what the browser got.
    const ok = await st.kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' && m.dstport === '5090' &&
      /^SIP\/2\.0 200 /.test(m.text) && header(m.text, 'Call-ID') === header(ims, 'Call-ID') &&
      header(m.text, 'CSeq') === header(invs[1].text, 'CSeq')), 2000, 'the 200 to the re-INVITE toward the trunk');
    assert.equal(rsp.body, rawBody(ok.raw), 'IMS\'s answer to the restart reaches the browser byte for byte');

    const offers = sdpLines(st.gw, mark, id);
    assert.equal(offers.length, 2, `two offers toward IMS:\n${offers.join('\n')}`);
    assert.match(offers[0], /ice-restart=no fp-changed=no$/, offers[0]);
    assert.match(offers[1], /ice-restart=yes fp-changed=yes$/, `the gateway saw the restart and the new fingerprint: ${offers[1]}`);

    // The call goes on: a BYE later is relayed and answered (once SIPp has
    // the re-INVITE's ACK: Kamailio's UDP workers may swap ACK and BYE).
    await uas.waitMsg(() => uas.received().filter((m) => /^ACK /.test(m.text)).length >= 2, 3000,
      'the ACK of the re-INVITE');
    const bye = await wic.bye(d);
    assert.equal(bye.status, 200, bye.startLine);
    assert.equal(await uas.done(10000), 0, `SIPp answered both INVITEs and got the BYE: ${uas.describe()}`);
    await assertEndedClean(st.gw, mark, 'the browser hung up', { id });
    await wic.close();
  });

  test('§4.3q UPDATE both ways: the browser\'s reaches IMS and its 200 comes back; IMS\'s reaches the browser ' +
    'and the browser\'s 200 reaches IMS', async () => {
    const num = '+4940555000312';
    const uas = await imsUas(st, num, 'uas_update.xml', ['-d', '300']);
    const mark = st.gw.mark();
    const { wic, d } = await answeredCall(st, num, uas);
    const id = await outboundCallId(st.gw, mark, num);
    const callId = header(uas.received().find((m) => /^INVITE /.test(m.text)).text, 'Call-ID');

    // From the browser.
    const rsp = await update(wic, d, UPDATE_OFFER);
    assert.equal(rsp.status, 200, `the UPDATE's 200 reaches the browser: ${rsp.startLine}\n${uas.describe()}`);
    const [upd] = await fromTrunk(st.kam, callId, 'UPDATE', 1);
    assert.match(header(upd.text, 'To'), /;tag=/, 'in-dialog');
    assert.equal(rawBody(upd.raw), UPDATE_OFFER.replace(bundleLine(UPDATE_OFFER), ''),
      'the UPDATE\'s offer reaches IMS byte for byte, without a=group:BUNDLE');
    const imsAnswer = uas.messages().find((m) => m.dir === 'sent' && /^SIP\/2\.0 200 /.test(m.text) &&
      / UPDATE$/.test(header(m.text, 'CSeq'))).text;
    assert.deepEqual(lines(rsp.body), lines(imsAnswer.slice(imsAnswer.indexOf('\nv=0') + 1)),
      'IMS\'s answer reaches the browser as IMS sent it');
    await st.gw.waitLog(new RegExp(`call=${id} UPDATE from the browser relayed`), 100, mark);

    // From IMS: SIPp's UPDATE along its route set.
    const req = await wic.nextRequest('UPDATE', 5000);
    assert.match(req.uri, /\.invalid;transport=ws/, `to the browser's Contact: ${req.startLine}`);
    assert.equal(req.get('call-id'), d.callId, 'in the browser\'s dialog');
    const imsOffer = uas.messages().find((m) => m.dir === 'sent' && /^UPDATE /.test(m.text)).text;
    assert.deepEqual(lines(req.body), lines(imsOffer.slice(imsOffer.indexOf('\nv=0') + 1)),
      'IMS\'s offer reaches the browser as IMS sent it');
    const mine = webrtcAnswer(req.body);
    answer(wic, req, 200, 'OK', mine);
    const ok = await uas.waitMsg((t) => /^SIP\/2\.0 200 /.test(t) && / UPDATE$/.test(header(t, 'CSeq')), 5000,
      '200 to its UPDATE');
    assert.deepEqual(lines(ok.slice(ok.indexOf('\nv=0') + 1)), lines(mine), 'the browser\'s answer reaches IMS as sent');
    await st.gw.waitLog(new RegExp(`call=${id} UPDATE from IMS relayed`), 100, mark);

    const bye = await wic.bye(d);
    assert.equal(bye.status, 200, bye.startLine);
    assert.equal(await uas.done(10000), 0, uas.describe());
    await assertEndedClean(st.gw, mark, 'the browser hung up', { id });
    await wic.close();
  });
});

// §4.3 "when either side's transport dies mid-call, both legs are ended":
// the trunk reaches the P-CSCF over TCP, and the P-CSCF dies (every
// Kamailio process SIGKILLed by PID: the TCP connection goes, nothing of
// Kamailio answers any more). A stack of its own (the trunk's transport is
// configuration), after the one above has stopped.
describe('§4.3 the IMS side\'s transport dies during a call', { timeout: 60000 }, () => {
  let st;
  let uas;   // waits for a BYE that cannot come: stopped by PID after the test
  before(async () => {
    st = await startStack(outDir('calls-flow-tcp'), {
      media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'], origins: [ORIGIN],
      trunk: { pcscf: ['sip:127.0.0.1:5070;transport=tcp'] },
    });
  });
  after(async () => {
    if (uas) await uas.stop();
    if (!st) return;
    const r = await stopStack(st);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.3s the P-CSCF dies (TCP) during an answered call; the browser hangs up: 200, no call left', async (t) => {
    const num = '+4940555000321';
    uas = await imsUas(st, num, 'uas_answer.xml');
    const mark = st.gw.mark();
    const { wic, d } = await answeredCall(st, num, uas);
    const id = await outboundCallId(st.gw, mark, num);
    const callId = header(uas.received().find((m) => /^INVITE /.test(m.text)).text, 'Call-ID');
    const [inv] = await fromTrunk(st.kam, callId, 'INVITE', 1);
    assert.match(header(inv.text, 'Via'), /^SIP\/2\.0\/TCP 127\.0\.0\.1:5090;/, 'the call went over TCP');

    const killedAt = st.gw.mark();
    const pids = st.kam.pids();
    assert.ok(pids.length > 1, `Kamailio's processes: ${pids}`);
    for (const p of pids) process.kill(p, 'SIGKILL');
    await st.kam.proc.wait(3000);

    // What the gateway does on its own while the browser stays: observed
    // and reported, not asserted (nothing is promised about when). The
    // trunk's registration sees the TCP connection go at once; set
    // WTPF_OBSERVE_MS to watch the call longer (40 s: still nothing).
    const noticed = await st.gw.waitLog(/trunk ims: (REGISTER failed|un-registered)/, 3000, killedAt)
      .catch(() => 'nothing within 3 s');
    const OBSERVE = Number(process.env.WTPF_OBSERVE_MS || 1000);
    const seen = await wic.c.quiet(OBSERVE);
    t.diagnostic(`the trunk noticed: ${noticed}`);
    t.diagnostic(`within ${OBSERVE} ms after that, the browser got: ${
      seen.map((m) => m.startLine).join(' | ') || 'nothing'}`);
    t.diagnostic(`calls the gateway ended meanwhile: ${
      st.gw.lines.slice(killedAt).filter((l) => / ended: /.test(l)).join(' | ') || 'none'}`);

    const bye = await wic.bye(d);
    assert.equal(bye.status, 200, `the gateway ends the browser's side cleanly: ${bye.startLine}`);
    await assertEndedClean(st.gw, mark, 'the browser hung up', { id });
    await wic.close();
  });
});

// Overload protection of the trunk's inbound side (trunks[].overload_pending_acks):
// while as many answered calls from IMS as the limit wait for their ACK, a
// new INVITE from IMS gets 503 and reaches no browser; once the ACK comes,
// calls are taken again. Limit 1 here, so one caller slow to ACK (SIPp,
// 3 s) is enough. A stack of its own (the limit is trunk configuration).
describe('§4.4 the trunk refuses INVITEs from IMS while answered calls await their ACK', { timeout: 60000 }, () => {
  let st;
  const caller = (scenario, args = []) => {
    port += 1; mp += 4;
    return sipp({ name: `${port}-caller-${scenario.replace('.xml', '')}`, dir: st.dir, scenario, port, mp,
      service: ALICE, remote: '127.0.0.1:5070', args: ['-timeout', '30s', ...args] });
  };
  // The raw WIC answers the next INVITE: 180, then 200 once the caller has
  // the 180 (back to back, Kamailio's workers may swap them).
  const answer = async (wic, c) => {
    const inv = await wic.nextRequest('INVITE');
    wic.reply(inv, 180, 'Ringing');
    await c.waitMsg((t) => /^SIP\/2\.0 180 /.test(t), 3000, '180');
    wic.reply(inv, 200, 'OK', { sdp: webrtcAnswer(inv.body) });
    await c.waitMsg((t) => /^SIP\/2\.0 200 /.test(t), 3000, '200');
    return inv;
  };
  const hangUp = async (wic, c) => {
    wic.reply(await wic.nextRequest('BYE', 10000), 200, 'OK');
    assert.equal(await c.done(10000), 0, c.describe());
  };
  before(async () => {
    st = await startStack(outDir('calls-flow-overload'), {
      media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'], origins: [ORIGIN],
      trunk: { overload_pending_acks: 1 },
    });
  });
  after(async () => {
    if (!st) return;
    const r = await stopStack(st);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.4h 503 while the limit of answered calls awaits its ACK, calls taken again after it', async () => {
    const wic = new RawWic(st.gw, ALICE);
    await wic.register(ORIGIN);
    const mark = st.gw.mark();
    assert.equal(await st.gw.metric('wtpf_trunk_overload_refused_total{trunk="ims"}'), 0, 'nothing refused yet');

    const slow = caller('uac_lateack.xml', ['-d', '500']);
    await answer(wic, slow);
    assert.equal(await st.gw.metric('wtpf_trunk_acks_pending{trunk="ims"}'), 1, 'one answered call awaits its ACK');

    const refused = caller('uac_reject.xml');
    assert.equal(await refused.done(10000), 0, refused.describe());
    const finals = refused.received().map((m) => m.text.split('\n')[0]).filter((l) => /^SIP\/2\.0 [3-6]/.test(l));
    // Kamailio passes a 503 upstream as 500 (RFC 3261 16.7 step 6)
    assert.match(finals.join(), /^SIP\/2\.0 50[03] /, `the caller is refused: ${finals}`);
    await st.kam.waitDump((ms) => ms.some((m) => m.dir === 'rcv' && /^SIP\/2\.0 503 Overloaded\r?\n/.test(m.text) &&
      /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5070;/m.test(m.text)), 3000, 'the trunk\'s 503 Overloaded at Kamailio');
    const seen = await wic.c.quiet(300);
    assert.deepEqual(seen.filter((m) => m.method === 'INVITE'), [], 'the refused call reaches no browser');
    assert.equal(await st.gw.metric('wtpf_trunk_overload_refused_total{trunk="ims"}'), 1, 'one INVITE refused');
    await st.gw.waitLog(/trunk ims: overloaded: answered calls from IMS awaiting their ACK reached overload_pending_acks \(1; 1 now\)/,
      3000, mark);

    // The ACK comes (3 s after the 200): the trunk takes calls again.
    await st.gw.waitLog(/trunk ims: no longer overloaded: 0 answered calls await their ACK; 1 INVITEs from IMS were refused/,
      6000, mark);
    const next = caller('uac_caller.xml', ['-d', '300', '-key', 'from_uri', 'sip:+4940999000777@127.0.0.1',
      '-key', 'id_hdr', 'Subject: no PAI']);
    await answer(wic, next);
    await hangUp(wic, next);
    await hangUp(wic, slow);
    assert.equal(await st.gw.metric('wtpf_trunk_acks_pending{trunk="ims"}'), 0, 'no call awaits an ACK');
    assert.equal(await st.gw.metric('wtpf_trunk_overload_refused_total{trunk="ims"}'), 1, 'still one refused');
    await wic.close();
  });
});

// DESIGN.md §4 flow 3: outbound calls WIC -> IMS with real media. JsSIP in
// headless Chromium -> wtpfd -> W8 GIN trunk -> Kamailio (P-CSCF stand-in,
// media anchored at rtpengine like an eP-CSCF + eIMS-AGW) -> SIPp IMS users
// echoing RTP. Runs in a network namespace with only lo (CMakeLists.txt).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { T, waitEvent, eventOf } = require('./lib/browser');
const {
  ALICE, startBed, stopBed, imsUas, assertNoWicLeak, assertMedia, header, body,
} = require('./lib/bed');
const { DOMAIN } = require('./lib/env');
const { rawBody } = require('./lib/peers');
const { outboundCallId, assertEndedClean, sdpLines } = require('./lib/gwlog');
const { attr } = require('./lib/indialog');

const PAI = `<sip:${ALICE}@${DOMAIN}>`;
let bed;
let first;   // §4.3a's call: { sid, callId } (Call-ID on the IMS side)

// An INVITE as Kamailio received it from the trunk (top Via: the trunk).
const fromTrunk = (m) => m.dir === 'rcv' && /^INVITE /.test(m.text) &&
  /^Via: SIP\/2\.0\/(UDP|TCP) 127\.0\.0\.1:5090;/m.test(m.text);

// The INVITEs of dialog `callId` that Kamailio received from the trunk, in
// order, retransmissions left out; waits until there are n (its sipdump is
// written a little after the fact).
const trunkInvites = (kam, callId, n) => kam.waitDump((ms) => {
  const r = ms.filter((m) => fromTrunk(m) && header(m.text, 'Call-ID') === callId)
    .filter((m, i, all) => all.findIndex((x) => header(x.text, 'CSeq') === header(m.text, 'CSeq')) === i);
  return r.length >= n ? r : null;
}, 2000, `${n} INVITE(s) of ${callId} from the trunk`);

// JsSIP's session.renegotiate(options) in the page (a re-INVITE with a new
// offer): resolves when its 200 is applied, with the offer as sent and the
// answer as received, or with the failure.
function renegotiate(b, sid, options) {
  return b.page.evaluate(([s, o]) => new Promise((resolve) => {
    const { session, rec } = window.T.sessions[s];
    const timer = setTimeout(() => resolve({ ok: false, cause: 'timeout' }), 10000);
    const onEnd = (e) => { clearTimeout(timer); resolve({ ok: false, cause: e.cause }); };
    session.once('ended', onEnd);
    const sent = session.renegotiate(o, () => {
      clearTimeout(timer);
      session.removeListener('ended', onEnd);
      resolve({ ok: true, offer: rec.last_local_offer, answer: rec.last_remote_answer });
    });
    if (!sent) { clearTimeout(timer); resolve({ ok: false, cause: 'renegotiate() refused' }); }
  }), [sid, options]);
}

// The ICE/DTLS transport of session `sid` as getStats() reports it.
function transportStats(b, sid) {
  return b.page.evaluate(async (s) => {
    const stats = await window.T.sessions[s].session.connection.getStats();
    let t = null;
    stats.forEach((x) => { if (x.type === 'transport') t = x; });
    return t && { iceLocalUsernameFragment: t.iceLocalUsernameFragment, iceState: t.iceState,
      dtlsState: t.dtlsState, selectedCandidatePairChanges: t.selectedCandidatePairChanges };
  }, sid);
}

// The one a=group:BUNDLE line of a browser's SDP (with its line end).
function bundleLine(sdp) {
  const g = sdp.match(/^a=group:BUNDLE [^\r\n]*\r?\n/gm) || [];
  assert.equal(g.length, 1, `the browser's SDP has one a=group:BUNDLE line:\n${sdp}`);
  return g[0];
}

describe('§4.3 outbound calls from the browser to IMS', { timeout: 150000 }, () => {
  before(async () => { bed = await startBed('calls-out'); });
  after(async () => {
    if (!bed) return;
    const r = await stopBed(bed);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.3a call with ICE, DTLS-SRTP and RTP both ways; P-Asserted-Identity; BYE from the browser', async () => {
    const num = '+4940555000201';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_answer.xml', args: ['-rtp_echo'] });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    const st = await waitEvent(bed.b, sid, 'confirmed');
    assert.equal(eventOf(st, 'progress').status, 180, 'the browser sees 180 Ringing');
    assert.equal(eventOf(st, 'accepted').status, 200);
    assert.match(st.answer, /UDP\/TLS\/RTP\/SAVPF/, 'a WebRTC answer (anchored by the P-CSCF)');
    assertMedia(await T(bed.b, 'media', sid), 'outbound call');

    assert.equal(await T(bed.b, 'terminate', sid), true);
    const end = await waitEvent(bed.b, sid, 'ended');
    assert.equal(eventOf(end, 'ended').originator, 'local');
    assert.equal(await uas.done(10000), 0, `SIPp saw INVITE, ACK, BYE: ${uas.describe()}`);
    await assertEndedClean(bed.gw, mark, 'the browser hung up');

    const inv = uas.received().find((m) => /^INVITE /.test(m.text)).text;
    first = { sid, callId: header(inv, 'Call-ID') };
    assert.match(inv, new RegExp(`^INVITE sip:${num.replace('+', '\\+')}@127\\.0\\.0\\.1`),
      'Request-URI: the dialled number at the IMS home domain');
    assert.equal(header(inv, 'P-Asserted-Identity'), PAI, 'P-Asserted-Identity: the user\'s IMPU');
    assert.match(header(inv, 'From'), new RegExp(`<sip:${ALICE.replace('+', '\\+')}@${DOMAIN}>`));
    assert.ok(uas.received().some((m) => /^BYE /.test(m.text)), 'BYE reached IMS');
    assertNoWicLeak(uas);

    // The INVITE as the P-CSCF received it from the trunk.
    const atPcscf = await bed.kam.waitDump((ms) => ms.find((m) => m.dir === 'rcv' && /^INVITE /.test(m.text) &&
      header(m.text, 'Call-ID') === header(inv, 'Call-ID')), 2000, 'the INVITE from the trunk');
    const t = atPcscf.text;
    const e164 = num.replace('+', '\\+');
    assert.match(t, new RegExp(`^INVITE sip:${e164}@127\\.0\\.0\\.1;user=phone SIP/2\\.0\r\n`),
      'Request-URI: the dialled number at the home domain, user=phone');
    assert.equal(header(t, 'To'), `<sip:${num}@127.0.0.1;user=phone>`, 'To: the same URI, user=phone inside it');
    assert.equal(header(t, 'Route'), '<sip:127.0.0.1:5070;lr>', 'routed to the serving P-CSCF');
    assert.equal(header(t, 'P-Asserted-Identity'), PAI);
    assert.match(header(t, 'Via'), /^SIP\/2\.0\/(UDP|TCP) 127\.0\.0\.1:5090;/, 'Via: the trunk address');
    const allow = header(t, 'Allow').split(/\s*,\s*/).sort();
    assert.deepEqual(allow, ['ACK', 'BYE', 'CANCEL', 'INFO', 'INVITE', 'OPTIONS', 'PRACK', 'UPDATE'],
      'Allow: the methods the trunk serves, no more');
  });

  // strip_bundle (the trunk default): the browser's BUNDLE group goes, and
  // only it; the sipdump shows what the trunk sent, before rtpengine
  // rewrites the SDP toward SIPp.
  test('§4.3a\' SDP toward IMS: no a=group:BUNDLE, the rest byte for byte the browser\'s offer (strip_bundle, TS 23.228 U.1.1)',
    async () => {
      assert.ok(first, '§4.3a placed the call');
      const offer = (await T(bed.b, 'state', first.sid)).offer;
      const group = bundleLine(offer);
      const invs = await trunkInvites(bed.kam, first.callId, 1);
      assert.equal(invs.length, 1, 'one INVITE of §4.3a\'s call from the trunk at the P-CSCF');
      const sent = rawBody(invs[0].raw);
      assert.doesNotMatch(sent, /^a=group:/m, `no grouping toward IMS:\n${sent}`);
      assert.equal(sent, offer.replace(group, ''),
        'the INVITE\'s body is the browser\'s offer without its a=group:BUNDLE line, byte for byte');
    });

  test('§4.3b BYE from IMS ends the browser\'s call', async () => {
    const num = '+4940555000202';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_bye.xml', args: ['-rtp_echo', '-d', '2500'] });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    await waitEvent(bed.b, sid, 'confirmed');
    assertMedia(await T(bed.b, 'media', sid, 1000), 'second call');
    const st = await waitEvent(bed.b, sid, 'ended', 10000);
    const ended = eventOf(st, 'ended');
    assert.equal(ended.originator, 'remote');
    assert.equal(ended.method, 'BYE');
    assert.equal(await uas.done(10000), 0, `SIPp's BYE got 200: ${uas.describe()}`);
    await assertEndedClean(bed.gw, mark, 'IMS hung up');
    assert.equal(header(uas.received()[0].text, 'P-Asserted-Identity'), PAI);
    assertNoWicLeak(uas);
  });

  test('§4.3c hold and resume: re-INVITEs reach IMS sendonly then sendrecv; the call continues', async () => {
    const num = '+4940555000203';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_answer.xml', args: ['-rtp_echo'] });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    await waitEvent(bed.b, sid, 'confirmed');
    assertMedia(await T(bed.b, 'media', sid, 800), 'before hold');

    const h = await T(bed.b, 'hold', sid);
    assert.equal(h.ok, true, `hold: ${JSON.stringify(h)}`);
    assert.match(h.offer, /a=sendonly/);
    assert.match(h.answer, /a=(recvonly|inactive)/, 'the answer to hold, as the browser got it');
    const reinv = uas.received().filter((m) => /^INVITE /.test(m.text));
    assert.equal(reinv.length, 2, `SIPp got the re-INVITE: ${uas.describe()}`);
    assert.match(body(reinv[1].text), /^a=sendonly$/m, 'hold reaches IMS as sendonly');
    assert.match(header(reinv[1].text, 'To'), /;tag=/, 'in-dialog');
    // The re-offer as the trunk sent it: the browser's, BUNDLE group removed.
    const atPcscf = await trunkInvites(bed.kam, header(reinv[1].text, 'Call-ID'), 2);
    assert.match(body(atPcscf[1].text), /^a=sendonly\r?$/m, 'the second one is the hold re-INVITE');
    assert.equal(rawBody(atPcscf[1].raw), h.offer.replace(bundleLine(h.offer), ''),
      'the hold re-offer reaches IMS as the browser sent it, without a=group:BUNDLE');

    const u = await T(bed.b, 'unhold', sid);
    assert.equal(u.ok, true, `unhold: ${JSON.stringify(u)}`);
    const reinv2 = await uas.waitMsg((t) => /^INVITE /.test(t) && /^a=sendrecv$/m.test(body(t)) &&
      /;tag=/.test(header(t, 'To')), 2000, 'the resume re-INVITE (sendrecv)');
    assert.ok(reinv2);
    // Each INVITE was ACKed (the ACK of a re-INVITE's 200 comes from W8 itself).
    await uas.waitMsg(() => uas.received().filter((m) => /^ACK /.test(m.text)).length >= 3, 2000,
      'three ACKs');

    // Still up, and media flows again after the resume.
    const before = await T(bed.b, 'media', sid, 0);
    const afterResume = await T(bed.b, 'media', sid, 1000);
    assert.equal(afterResume.connectionState, 'connected');
    assert.ok(afterResume.packetsReceived > before.packetsReceived,
      `RTP still comes back after the resume: ${before.packetsReceived} -> ${afterResume.packetsReceived}`);
    const st = await T(bed.b, 'state', sid);
    assert.equal(st.ended, false, 'the call continues');

    await T(bed.b, 'terminate', sid);
    await waitEvent(bed.b, sid, 'ended');
    assert.equal(await uas.done(10000), 0, uas.describe());
    await assertEndedClean(bed.gw, mark, 'the browser hung up');
    assertNoWicLeak(uas);
  });

  test('§4.3d hold and resume from IMS: re-INVITEs reach the browser, its answers reach IMS', async () => {
    const num = '+4940555000206';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_hold.xml', args: ['-rtp_echo', '-d', '1200'] });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    await waitEvent(bed.b, sid, 'confirmed');
    const held = await waitEvent(bed.b, sid, 'hold', 8000);
    assert.equal(eventOf(held, 'hold').originator, 'remote', 'the browser sees the remote hold');
    assert.match(eventOf(held, 'reinvite').sdp, /a=sendonly/, 'the re-INVITE reached the browser sendonly');
    const unheld = await waitEvent(bed.b, sid, 'unhold', 8000);
    assert.equal(eventOf(unheld, 'unhold').originator, 'remote');
    const oks = await uas.waitMsg(() => uas.received().filter((m) =>
      /^SIP\/2\.0 200 /.test(m.text) && / INVITE$/.test(header(m.text, 'CSeq'))).length >= 2, 3000,
    'two 200s to the re-INVITEs');
    assert.ok(oks);
    const answers = uas.received().filter((m) => /^SIP\/2\.0 200 /.test(m.text) &&
      / INVITE$/.test(header(m.text, 'CSeq'))).map((m) => body(m.text));
    assert.match(answers[0], /^a=(recvonly|inactive)$/m, `hold answered recvonly: ${answers[0]}`);
    assert.match(answers[1], /^a=sendrecv$/m, 'resume answered sendrecv');
    await bed.gw.waitLog(/INVITE from IMS relayed/, 100, mark);
    const m = await T(bed.b, 'media', sid, 800);
    assertMedia(m, 'after the remote resume');
    await T(bed.b, 'terminate', sid);
    await waitEvent(bed.b, sid, 'ended');
    assert.equal(await uas.done(10000), 0, uas.describe());
    await assertEndedClean(bed.gw, mark, 'the browser hung up');
    assertNoWicLeak(uas);
  });

  test('§4.3e CANCEL before answer: the browser gives up while IMS rings; IMS answers 487', async () => {
    const num = '+4940555000204';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_noanswer.xml' });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    const ringing = await waitEvent(bed.b, sid, 'progress');
    assert.equal(eventOf(ringing, 'progress').status, 180);
    await T(bed.b, 'terminate', sid);
    const st = await waitEvent(bed.b, sid, 'failed');
    assert.equal(eventOf(st, 'failed').cause, 'Canceled');
    assert.equal(await uas.done(10000), 0, `SIPp got CANCEL, answered 487, got the ACK: ${uas.describe()}`);
    assert.ok(uas.received().some((m) => /^CANCEL /.test(m.text)), 'CANCEL reached IMS');
    await assertEndedClean(bed.gw, mark, 'cancelled by the caller');
    assertNoWicLeak(uas);
  });

  test('§4.3f busy: IMS answers 486, the browser sees 486', async () => {
    const num = '+4940555000205';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_busy.xml' });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    const st = await waitEvent(bed.b, sid, 'failed');
    const f = eventOf(st, 'failed');
    assert.equal(f.status, 486, `failed: ${JSON.stringify({ ...f, raw: undefined })}`);
    assert.equal(f.cause, 'Busy');
    assert.equal(await uas.done(10000), 0, `SIPp got its ACK: ${uas.describe()}`);
    await assertEndedClean(bed.gw, mark, 'IMS answered 486 Busy Here');
    assertNoWicLeak(uas);
  });

  // Chrome restarts ICE (new ice-ufrag/ice-pwd) but keeps its DTLS
  // certificate, so the fingerprint stays; a new one is covered by the raw
  // client's §4.3p in calls_flow.test.js.
  test('§4.3o ICE restart from the browser (JsSIP renegotiate, iceRestart): the re-INVITE reaches IMS as sent, ' +
    'its 200 comes back, media flows on', async () => {
    const num = '+4940555000208';
    const uas = await imsUas(bed, { user: num, scenario: 'uas_answer.xml', args: ['-rtp_echo'] });
    const mark = bed.gw.mark();
    const sid = await T(bed.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    const st = await waitEvent(bed.b, sid, 'confirmed');
    const id = await outboundCallId(bed.gw, mark, num);
    assertMedia(await T(bed.b, 'media', sid, 800), 'before the ICE restart');
    const before = await T(bed.b, 'media', sid, 0);

    const r = await renegotiate(bed.b, sid, { rtcOfferConstraints: { iceRestart: true } });
    assert.equal(r.ok, true, `renegotiate: ${JSON.stringify(r)}`);
    assert.notEqual(attr(r.offer, 'ice-ufrag'), attr(st.offer, 'ice-ufrag'), 'the re-offer has a new ice-ufrag');
    assert.notEqual(attr(r.offer, 'ice-pwd'), attr(st.offer, 'ice-pwd'), 'the re-offer has a new ice-pwd');
    assert.equal(attr(r.offer, 'fingerprint'), attr(st.offer, 'fingerprint'), 'Chrome keeps its certificate');
    assert.match(r.answer, /UDP\/TLS\/RTP\/SAVPF/, `the 200 to the re-INVITE reached the browser with a WebRTC answer:\n${r.answer}`);

    // The re-INVITE as the P-CSCF received it from the trunk: the browser's
    // re-offer (new ICE credentials included) without its BUNDLE group.
    const inv = uas.received().find((m) => /^INVITE /.test(m.text)).text;
    const invs = await trunkInvites(bed.kam, header(inv, 'Call-ID'), 2);
    assert.match(header(invs[1].text, 'To'), /;tag=/, 'in-dialog');
    assert.equal(rawBody(invs[1].raw), r.offer.replace(bundleLine(r.offer), ''),
      'the ICE-restart re-offer reaches IMS byte for byte, without a=group:BUNDLE');
    await uas.waitMsg(() => uas.received().filter((m) => /^INVITE /.test(m.text)).length >= 2, 2000,
      'the re-INVITE at SIPp');
    const offers = sdpLines(bed.gw, mark, id);
    assert.equal(offers.length, 2, `two offers toward IMS:\n${offers.join('\n')}`);
    assert.match(offers[0], /ice-restart=no fp-changed=no$/, offers[0]);
    assert.match(offers[1], /ice-restart=yes fp-changed=no$/, `the gateway saw the ICE restart: ${offers[1]}`);

    // ICE and DTLS up again on the new credentials, RTP still both ways.
    const afterRestart = await T(bed.b, 'media', sid, 1500);
    assertMedia(afterRestart, 'after the ICE restart');
    const ice = await transportStats(bed.b, sid);
    assert.equal(ice.iceLocalUsernameFragment, attr(r.offer, 'ice-ufrag'),
      `the ICE transport runs on the restarted credentials: ${JSON.stringify(ice)}`);
    assert.equal(ice.iceState, 'connected', JSON.stringify(ice));
    assert.ok(afterRestart.packetsReceived > before.packetsReceived &&
      afterRestart.packetsSent > before.packetsSent,
    `RTP still flows after the restart: ${JSON.stringify({ before, afterRestart })}`);
    assert.equal((await T(bed.b, 'state', sid)).ended, false, 'the call continues');

    await T(bed.b, 'terminate', sid);
    await waitEvent(bed.b, sid, 'ended');
    assert.equal(await uas.done(10000), 0, `SIPp answered both INVITEs and got the BYE: ${uas.describe()}`);
    await assertEndedClean(bed.gw, mark, 'the browser hung up', { id });
    assertNoWicLeak(uas);
  });
});

// The trunk's codec allow-list (`codecs` in its config): toward IMS, each
// payload type of another encoding goes from the m= line with its rtpmap,
// fmtp and rtcp-fb lines; every other byte stays the browser's. A gateway of
// its own (the list is per trunk), after the one above has stopped.
const ALLOWED = ['PCMU', 'telephone-event'];
const STATIC_PT = { 0: 'PCMU', 3: 'GSM', 8: 'PCMA', 9: 'G722', 13: 'CN', 18: 'G729' };

// The browser's offer with the allow-list applied by hand, as media.h
// specifies it, and the payload types it keeps and drops.
function allowListed(offer) {
  const lines = offer.split(/(?<=\n)/);
  const mi = lines.findIndex((l) => /^m=audio /.test(l));
  const m = /^(m=audio \d+ \S+)((?: \d+)+)(\r?\n)$/.exec(lines[mi]);
  assert.ok(m, `an audio m= line with payload types: ${lines[mi]}`);
  const pts = m[2].trim().split(' ');
  const name = (pt) => {
    const r = lines.find((l) => l.startsWith(`a=rtpmap:${pt} `));
    const n = r ? /^a=rtpmap:\d+ ([^/\s]+)/.exec(r)[1] : STATIC_PT[pt];
    assert.ok(n, `the encoding of payload type ${pt}`);
    return n;
  };
  const keep = pts.filter((pt) => ALLOWED.some((a) => a.toLowerCase() === name(pt).toLowerCase()));
  const drop = pts.filter((pt) => !keep.includes(pt));
  const out = lines.map((l, i) => {
    if (i === mi) return `${m[1]} ${keep.join(' ')}${m[3]}`;
    if (i < mi) return /^a=group:BUNDLE /.test(l) ? '' : l;
    const a = /^a=(rtpmap|fmtp|rtcp-fb):(\d+) /.exec(l);
    return a && drop.includes(a[2]) ? '' : l;
  }).join('');
  return { out, keep, drop, names: Object.fromEntries(pts.map((pt) => [pt, name(pt)])) };
}

describe('§4.3k outbound call through a trunk with a codec allow-list', { timeout: 60000 }, () => {
  let cb;
  before(async () => { cb = await startBed('calls-out-codecs', { trunk: { codecs: ALLOWED } }); });
  after(async () => {
    if (!cb) return;
    const r = await stopBed(cb);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.3k codecs = ["PCMU", "telephone-event"]: IMS is offered only those; the call runs on PCMU', async () => {
    const num = '+4940555000207';
    const uas = await imsUas(cb, { user: num, scenario: 'uas_answer.xml', args: ['-rtp_echo'] });
    const mark = cb.gw.mark();
    const sid = await T(cb.b, 'call', 'alice', `sip:${num}@${DOMAIN}`);
    const st = await waitEvent(cb.b, sid, 'confirmed');
    const m = await T(cb.b, 'media', sid);
    assertMedia(m, 'call on the allowed codec');
    assert.deepEqual(m.codecs, ['audio/PCMU'], `RTP both ways on PCMU: ${JSON.stringify(m)}`);
    await T(cb.b, 'terminate', sid);
    await waitEvent(cb.b, sid, 'ended');
    assert.equal(await uas.done(10000), 0, uas.describe());
    await assertEndedClean(cb.gw, mark, 'the browser hung up');

    const exp = allowListed(st.offer);
    const names = Object.values(exp.names).map((n) => n.toLowerCase());
    assert.ok(names.includes('opus') && names.includes('pcma'),
      `the browser offered more than the list (opus, PCMA...): ${JSON.stringify(exp.names)}`);
    assert.ok(exp.keep.length >= 2 && exp.drop.length >= 3, JSON.stringify(exp));
    const inv = uas.received().find((x) => /^INVITE /.test(x.text)).text;
    const [atPcscf] = await trunkInvites(cb.kam, header(inv, 'Call-ID'), 1);
    const sent = rawBody(atPcscf.raw);
    assert.match(sent, new RegExp(`^m=audio \\d+ UDP/TLS/RTP/SAVPF ${exp.keep.join(' ')}\\r\\n`, 'm'),
      `the m= line keeps ${exp.keep} (PCMU, telephone-event) in the browser's order:\n${sent}`);
    for (const pt of exp.drop)
      assert.doesNotMatch(sent, new RegExp(`^a=(rtpmap|fmtp|rtcp-fb):${pt} `, 'm'), `nothing left of ${pt} ${exp.names[pt]}`);
    assert.equal(sent, exp.out,
      'the offer toward IMS is the browser\'s minus BUNDLE and the payload types of other encodings, byte for byte');
  });
});

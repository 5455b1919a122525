// SDP between WebRTC and IMS (issue 3): what the gateway refuses. Offers and
// answers pass unchanged except where the trunk's policy says (see
// calls_out.test.js §4.3a' and §4.3k for what passes); SDP a browser could
// not use, or that is not WebRTC, fails the call with 488 and a reason, on
// both sides. Signalling only: a raw ws client as the WIC, Kamailio
// (WITH_AUTH WITH_GIN, and on purpose no rtpengine: nothing turns SIPp's
// plain RTP/AVP into WebRTC) as the P-CSCF, SIPp as the IMS users. Runs in a
// network namespace with only lo.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { sipp, registerImsUser, header, body, sleep } = require('./lib/peers');
const { outDir, startStack, stopStack, DOMAIN } = require('./lib/env');
const { RawWic, WEBRTC_OFFER } = require('./lib/wic');

const ORIGIN = 'http://127.0.0.1';
const ALICE = '+4930123400001';
let s;
let port = 5280;
let mp = 6700;

const firstLine = (t) => t.split(/\r?\n/)[0];

// An IMS user registered at Kamailio, then its UAS on the same port.
async function imsUas(user, scenario) {
  port += 1; mp += 4;
  await registerImsUser({ dir: s.dir, user, port, mp, kamailio: s.kam });
  const uas = sipp({ name: `${port}-uas-${scenario.replace('.xml', '')}`, dir: s.dir, scenario, port,
    mp: mp + 2, args: ['-timeout', '30s'] });
  await sleep(300);
  return uas;
}

describe('SDP the gateway refuses (issue 3)', { timeout: 60000 }, () => {
  const wics = [];
  const wicOf = async () => {
    const w = new RawWic(s.gw, ALICE);
    await w.register(ORIGIN);
    wics.push(w);
    return w;
  };

  before(async () => {
    s = await startStack(outDir('calls-sdp'), { defines: ['WITH_AUTH', 'WITH_GIN'], origins: [ORIGIN] });
  });
  after(async () => {
    for (const w of wics) await w.close();
    if (!s) return;
    const r = await stopStack(s);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.3i IMS answers with plain RTP/AVP: 488 "Not WebRTC" to the browser, BYE with Reason cause=488 to IMS',
    async () => {
      const num = '+4940555000401';
      // It answers plain RTP/AVP whatever it is offered.
      const uas = await imsUas(num, 'uas_answer_refused.xml');
      const wic = await wicOf();
      const mark = s.gw.mark();
      const d = await wic.invite(`sip:${num}@${DOMAIN}`);
      wic.ackFailure(d);
      assert.equal(d.response.status, 488, `the browser's call fails: ${d.response.startLine}`);
      assert.match(d.response.reason, /Not WebRTC/, `the reason names it: ${d.response.startLine}`);
      assert.equal(d.response.body, '', 'no SDP for the browser');

      // What IMS saw: the WebRTC offer (nothing anchored it), its own plain
      // answer, then the gateway's ACK and a BYE telling why.
      const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
      assert.match(body(inv), /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m, 'the offer reached IMS as WebRTC');
      const ok = uas.messages().find((m) => m.dir === 'sent' && /^SIP\/2\.0 200 /.test(m.text));
      assert.match(body(ok.text), /^m=audio \d+ RTP\/AVP /m, 'IMS answered plain RTP/AVP');
      assert.doesNotMatch(body(ok.text), /^a=(ice-ufrag|fingerprint):/m);
      const bye = await uas.waitMsg((t) => /^BYE /.test(t), 5000, 'BYE');
      assert.match(header(bye, 'Reason'), /^SIP;cause=488;text="[^"]*Not WebRTC[^"]*"$/,
        `the BYE carries the reason: ${header(bye, 'Reason')}`);
      assert.equal(await uas.done(10000), 0, `SIPp got its ACK and the BYE: ${uas.describe()}`);
      assert.ok(uas.received().some((m) => /^ACK /.test(m.text)), 'the 200 was ACKed');
      assert.ok(uas.messages().some((m) => m.dir === 'sent' && /^SIP\/2\.0 200 /.test(m.text) &&
        / BYE$/.test(header(m.text, 'CSeq'))), 'the BYE was answered 200');
      await s.gw.waitLog(/answer from IMS refused: Answer Is Not WebRTC/, 1000, mark);
      await s.gw.waitLog(/outbound call \S+ ended: Answer Is Not WebRTC/, 1000, mark);
    });

  test('§4.3j an offer from the browser without a DTLS fingerprint: 488, nothing reaches IMS', async () => {
    const num = '+4940555000402';
    const offer = WEBRTC_OFFER.replace(/^a=fingerprint:[^\r\n]*\r\n/m, '');
    assert.notEqual(offer, WEBRTC_OFFER);
    const wic = await wicOf();
    const mark = s.gw.mark();
    const d = await wic.invite(`sip:${num}@${DOMAIN}`, 10000, offer);
    wic.ackFailure(d);
    assert.equal(d.response.startLine, 'SIP/2.0 488 No DTLS Fingerprint In Audio Media');
    await s.gw.waitLog(/offer from the browser refused: No DTLS Fingerprint In Audio Media/, 1000, mark);
    // Nothing went out on the trunk: Kamailio saw no INVITE for the number.
    await sleep(500);
    const invs = s.kam.messages().filter((m) => /^INVITE /.test(m.text) && m.text.includes(num));
    assert.deepEqual(invs.map((m) => firstLine(m.text)), [], 'no INVITE reached the P-CSCF');
    // (the trunk's Sofia logs each message it sends, line by line: TPORT_LOG)
    assert.ok(!s.gw.log().split('\n').slice(mark).some((l) => / sofia\s+INVITE sip:/.test(l)),
      'the trunk sent no INVITE');
  });

  test('§4.4h a plain RTP/AVP offer from IMS: 488 "Offer Is Not WebRTC" to IMS, the browser never rings', async () => {
    const wic = await wicOf();
    const mark = s.gw.mark();
    port += 1; mp += 4;
    const caller = sipp({ name: `${port}-caller-plain`, dir: s.dir, scenario: 'uac_reject.xml', port, mp,
      service: ALICE, remote: '127.0.0.1:5070', args: ['-timeout', '30s'] });
    assert.equal(await caller.done(10000), 0, caller.describe());
    const inv = caller.messages().find((m) => m.dir === 'sent' && /^INVITE /.test(m.text));
    assert.match(body(inv.text), /^m=audio \d+ RTP\/AVP /m, 'the caller offered plain RTP/AVP');
    const finals = caller.received().map((m) => firstLine(m.text)).filter((l) => /^SIP\/2\.0 [3-6]/.test(l));
    assert.equal(finals.length, 1, `one final answer: ${finals}`);
    assert.match(finals[0], /^SIP\/2\.0 488 Offer Is Not WebRTC\b/, `IMS is told why: ${finals[0]}`);
    await s.gw.waitLog(/offer from IMS refused: Offer Is Not WebRTC/, 1000, mark);
    // The browser, registered all along, got nothing.
    const got = await wic.c.quiet(500);
    assert.deepEqual(got.map((m) => m.startLine), [], 'no INVITE reached the browser');
    assert.ok(!s.gw.log().split('\n').slice(mark).some((l) => /inbound call for \S+: \d+ device/.test(l)),
      'the call was refused before any device was looked up');
  });
});

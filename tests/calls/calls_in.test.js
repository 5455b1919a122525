// DESIGN.md §4 flow 4: inbound calls IMS -> WIC with real media. SIPp IMS
// caller -> Kamailio (P-CSCF stand-in: RFC 6140 routing of the number to the
// GIN-registered trunk, media anchored at rtpengine) -> wtpfd -> JsSIP in
// headless Chromium, forked to every device of the called user. Runs in a
// network namespace with only lo (see CMakeLists.txt).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { T, waitEvent, waitIncoming, eventOf } = require('./lib/browser');
const {
  ALICE, startBed, stopBed, registerWic, imsUac, assertNoWicLeak, assertMedia, header,
} = require('./lib/bed');
const { DOMAIN } = require('./lib/env');
const { assertEndedClean } = require('./lib/gwlog');

let bed;

// The INVITE as the browser received it.
function checkIncoming(st) {
  assert.match(st.request, /^INVITE sip:\S+\.invalid;transport=ws SIP\/2\.0\r\n/,
    'the INVITE goes to the Contact the browser registered');
  assert.match(header(st.request, 'To'), new RegExp(`<sip:${ALICE.replace('+', '\\+')}@${DOMAIN}>`),
    'To: the user\'s AOR');
  assert.match(header(st.request, 'From'), /sip:\+49409990001@127\.0\.0\.1/, 'From: the IMS caller');
  assert.match(st.offer, /UDP\/TLS\/RTP\/SAVPF/, 'a WebRTC offer (anchored by the P-CSCF)');
  assert.doesNotMatch(st.request, /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5070/m, 'no IMS Via reaches the browser');
}

describe('§4.4 inbound calls from IMS to the browser', { timeout: 150000 }, () => {
  // a ringing call's 180 is repeated every 5 s (§4.4f), not every 60
  before(async () => { bed = await startBed('calls-in', { trunk: { ringing_refresh: 5 } }); });
  after(async () => {
    if (!bed) return;
    const r = await stopBed(bed);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('§4.4a the browser answers: ICE, DTLS-SRTP, RTP both ways; BYE from the browser', async () => {
    const uac = imsUac(bed, { number: ALICE, scenario: 'uac_waitbye.xml', args: ['-rtp_echo'] });
    const mark = bed.gw.mark();
    const sid = await waitIncoming(bed.b, 'alice');
    checkIncoming(await T(bed.b, 'state', sid));
    await T(bed.b, 'answer', sid);
    await waitEvent(bed.b, sid, 'confirmed');
    assertMedia(await T(bed.b, 'media', sid), 'inbound call');
    await T(bed.b, 'terminate', sid);
    const st = await waitEvent(bed.b, sid, 'ended');
    assert.equal(eventOf(st, 'ended').originator, 'local');
    assert.equal(await uac.done(10000), 0, `SIPp got 200, sent ACK, got BYE: ${uac.describe()}`);
    await bed.gw.waitLog(/inbound call for \+4930123400001: 1 device/, 100, mark);
    await assertEndedClean(bed.gw, mark, 'the browser hung up');
    assertNoWicLeak(uac);
  });

  test('§4.4b BYE from the IMS caller ends the browser\'s call', async () => {
    const last = await T(bed.b, 'last');   // before the INVITE can reach the page
    const uac = imsUac(bed, { number: ALICE, scenario: 'uac_bye.xml', args: ['-rtp_echo', '-d', '2500'] });
    const mark = bed.gw.mark();
    const sid = await waitIncoming(bed.b, 'alice', last);
    await T(bed.b, 'answer', sid);
    await waitEvent(bed.b, sid, 'confirmed');
    assertMedia(await T(bed.b, 'media', sid, 1000), 'inbound call');
    const st = await waitEvent(bed.b, sid, 'ended', 10000);
    assert.equal(eventOf(st, 'ended').originator, 'remote');
    assert.equal(eventOf(st, 'ended').method, 'BYE');
    assert.equal(await uac.done(10000), 0, `SIPp's BYE got 200: ${uac.describe()}`);
    await assertEndedClean(bed.gw, mark, 'IMS hung up');
    assertNoWicLeak(uac);
  });

  test('§4.4c the IMS caller gives up while the browser rings: CANCEL reaches the browser', async () => {
    const last = await T(bed.b, 'last');
    const uac = imsUac(bed, { number: ALICE, scenario: 'uac_cancel.xml', args: ['-d', '1000'] });
    const mark = bed.gw.mark();
    const sid = await waitIncoming(bed.b, 'alice', last);
    const st = await waitEvent(bed.b, sid, 'failed', 10000);
    const f = eventOf(st, 'failed');
    assert.equal(f.originator, 'remote');
    assert.equal(f.method, 'CANCEL', `the browser got CANCEL: ${JSON.stringify({ ...f, raw: undefined })}`);
    assert.equal(f.cause, 'Canceled');
    // The CANCEL's 200 and the INVITE's 487 may come in either order (see
    // uac_cancel.xml): both must come.
    assert.equal(await uac.done(10000), 0, `SIPp got 180, 200 to its CANCEL, 487: ${uac.describe()}`);
    const got = uac.received().map((m) => `${m.text.split('\n')[0].slice(0, 11)} ${header(m.text, 'CSeq')}`);
    assert.ok(got.includes('SIP/2.0 200 1 CANCEL') && got.includes('SIP/2.0 487 1 INVITE'), `${got}`);
    await assertEndedClean(bed.gw, mark, 'cancelled by the IMS caller');
    assertNoWicLeak(uac);
  });

  test('§4.4d the browser rejects with 486: IMS gets 486', async () => {
    const last = await T(bed.b, 'last');
    const mark = bed.gw.mark();
    const uac = imsUac(bed, { number: ALICE, scenario: 'uac_reject.xml' });
    const sid = await waitIncoming(bed.b, 'alice', last);
    await T(bed.b, 'terminate', sid, { status_code: 486, reason_phrase: 'Busy Here' });
    assert.equal(await uac.done(10000), 0, uac.describe());
    const finals = uac.received().map((m) => m.text.split('\n')[0]).filter((l) => /^SIP\/2\.0 [3-6]/.test(l));
    assert.deepEqual(finals.map((l) => l.slice(8, 11)), ['486'], `IMS saw 486: ${finals}`);
    await assertEndedClean(bed.gw, mark, 'no device answered');
    assertNoWicLeak(uac);
  });

  test('§4.4e two devices ring; one answers; the other gets CANCEL "Call completed elsewhere"', async () => {
    await registerWic(bed, 'alice2', ALICE);
    const last = await T(bed.b, 'last');
    const uac = imsUac(bed, { number: ALICE, scenario: 'uac_bye.xml', args: ['-rtp_echo', '-d', '2000'] });
    const mark = bed.gw.mark();
    const a = await waitIncoming(bed.b, 'alice', last);
    const b = await waitIncoming(bed.b, 'alice2', last);
    await bed.gw.waitLog(/inbound call for \+4930123400001: 2 device/, 100, mark);
    await T(bed.b, 'answer', a);
    await waitEvent(bed.b, a, 'confirmed');

    const lost = await waitEvent(bed.b, b, 'failed');
    const f = eventOf(lost, 'failed');
    assert.equal(f.originator, 'remote');
    assert.equal(f.method, 'CANCEL', `the other device got CANCEL: ${JSON.stringify({ ...f, raw: undefined })}`);
    assert.equal(header(f.raw, 'Reason'), 'SIP;cause=200;text="Call completed elsewhere"',
      `Reason of the CANCEL:\n${f.raw}`);

    assertMedia(await T(bed.b, 'media', a, 1000), 'the answering device');
    const st = await waitEvent(bed.b, a, 'ended', 10000);
    assert.equal(eventOf(st, 'ended').originator, 'remote');
    assert.equal(await uac.done(10000), 0, uac.describe());
    await assertEndedClean(bed.gw, mark, 'IMS hung up');
    assertNoWicLeak(uac);
    // IMS saw one answer only.
    const oks = uac.received().filter((m) => /^SIP\/2\.0 200 /.test(m.text) && /INVITE/.test(header(m.text, 'CSeq')));
    assert.ok(oks.length >= 1);
    assert.equal(new Set(oks.map((m) => header(m.text, 'To'))).size, 1, 'one dialog toward IMS');
  });
  test('§4.4f a call that keeps ringing: its 180 is repeated toward IMS (trunk.ringing_refresh)', async () => {
    const last = await T(bed.b, 'last');
    // CANCEL after 13 s of ringing: two repeats at 5 s apart fit
    const uac = imsUac(bed, { number: ALICE, scenario: 'uac_cancel.xml', args: ['-d', '13000'] });
    const mark = bed.gw.mark();
    const sid = await waitIncoming(bed.b, 'alice', last);
    const st = await waitEvent(bed.b, sid, 'failed', 25000);
    assert.equal(eventOf(st, 'failed').method, 'CANCEL', 'the browser rang until IMS cancelled');
    assert.equal(await uac.done(10000), 0, `SIPp: 180, CANCEL after 13 s, 487: ${uac.describe()}`);
    const devices = Number((await bed.gw.waitLog(/inbound call for \+4930123400001: (\d+) device/, 100, mark))
      .match(/: (\d+) device/)[1]);
    const ringing = uac.received().filter((m) => /^SIP\/2\.0 180 /.test(m.text));
    // each device's 180 is relayed once; the repeats come every 5 s
    // (Sofia's own would come after 60 s)
    const repeats = ringing.length - devices;
    assert.ok(repeats >= 2 && repeats <= 3, `180s: ${ringing.length} for ${devices} device(s)`);
    assert.ok(ringing.every((m) => header(m.text, 'To') === header(ringing[0].text, 'To')), 'all in one dialog');
    await assertEndedClean(bed.gw, mark, 'cancelled by the IMS caller');
    assertNoWicLeak(uac);
  });
});

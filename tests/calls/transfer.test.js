// Call transfer by the browser (gateway/call/call_xfer.c: RFC 3515 REFER,
// RFC 3891 Replaces), end to end with real peers: JsSIP in headless
// Chromium transfers an answered call with an IMS party (SIPp) and hangs up
// its own dialog once a NOTIFY says the transfer succeeded.
//
//   Two parties a transfer joins never negotiated with each other, so the
//   gateway has them exchange fresh SDP (RFC 3725 third-party call
//   control): one is asked for an offer with a re-INVITE without SDP, the
//   other gets it in a re-INVITE, and its answer goes back in the first
//   one's ACK.
//   a. blind to an external number: the gateway answers the REFER 202,
//      NOTIFYs "100 Trying", places a new call through the trunk to another
//      IMS user (SIPp) and once that one answers NOTIFYs "200 OK"
//      (subscription terminated); the target offers afresh, the IMS party
//      answers; the target's BYE then reaches the transferred party;
//   b. blind to another JsSIP user of the gateway (a second UA in the
//      page): its device rings with the IMS party's SDP and answers; then
//      the browser offers afresh and the IMS party answers; media flows
//      between them; the new browser's BYE reaches the IMS party;
//   b2. the same for a call the browser placed: the IMS party, dialled as a
//      plain number, reaches the new browser as a SIP URI (JsSIP drops an
//      INVITE whose From is a tel: URI). Signalling only: here rtpengine
//      had answered the first browser as the DTLS client, and it does not
//      start a new DTLS association toward the new browser's fingerprint
//      (RFC 8842 section 5 asks it to), so no media reaches the new browser
//      in this test bed;
//   c. blind to a busy target (SIPp 486): NOTIFY "486 Busy Here", the
//      original call stays (no re-INVITE, media goes on, the browser's BYE
//      ends it);
//   d. attended between two IMS parties: two outbound calls, REFER in the
//      first with Replaces naming the second; the second call's party
//      offers afresh, the first's answers; the gateway NOTIFYs 200 and BYEs
//      the second call's dialog; afterwards one party's BYE reaches the
//      other;
//   e. attended with a Replaces naming no call of this browser: 403
//      "Unknown Replaces Dialog", the call stays (a made-up dialog, and a
//      dialog of another browser);
//   f. the transferor hangs up right after the 202 (RFC 5589 section 6):
//      the target browser does not answer, its no-answer diversion to an
//      external number takes the call, long after the transferor's call
//      is gone; no NOTIFY goes to the vanished transferor.
//
// What a party got is read from SIPp's traces; what crossed the trunk from
// Kamailio's sipdump (Kamailio anchors media at rtpengine, so the SDP an
// IMS party gets is rtpengine's rewrite of what the trunk sent: there the
// o= line of the other party's SDP still names it, see uas_xfer.xml); what
// JsSIP saw from the page's REFER events (T.refer in calls.html). After
// each case the gateway's last call ends with "(calls left: 0)". The
// tenant has ranges (identity management), so that a number outside them
// is external. Runs in a network namespace with only lo (CMakeLists.txt);
// logs and traces stay in calls-out/transfer/.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const browser = require('./lib/browser');
const { startStack, stopStack, outDir, aorOf, tokenFor, DOMAIN, TRUNK_PORT } = require('./lib/env');
const { sipp, registerImsUser, header, body, rawBody, sleep } = require('./lib/peers');
const { assertMedia, assertNoWicLeak } = require('./lib/bed');
const { assertEndedClean } = require('./lib/gwlog');

const { T, waitEvent, waitIncoming, eventOf } = browser;

const RANGE = '+4930123400000-+4930123400099';   // the tenant's numbers
const ALICE = '+4930123400001';                   // the transferor
const BOB = '+4930123400002';                     // a second browser user (cases b, b2)
const CAROL = '+4930123400003';                   // a third, who never answers (case f)
const CAROL_NO_ANSWER = '+4940555000312';         // her no-answer diversion (external)
const DEFINES = ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const target = (num) => `sip:${num}@${DOMAIN}`;

const st = { port: 5100, mp: 6100, sipps: [] };

function nextPorts() {
  st.port += 1;
  st.mp += 4;
  return { port: st.port, mp: st.mp };
}

// An IMS user registered at Kamailio, then its UAS (o_user: the name its
// SDP's o= line carries).
async function imsUas(user, scenario, oUser, args = []) {
  const { port, mp } = nextPorts();
  await registerImsUser({ dir: st.dir, user, port, mp, kamailio: st.kam });
  const s = sipp({ name: `${port}-${user}-${scenario.replace('.xml', '')}`, dir: st.dir, scenario, port,
    mp: nextPorts().mp, args: ['-timeout', '30s', '-key', 'o_user', oUser, ...args] });
  st.sipps.push(s);
  await sleep(300);   // listening
  return s;
}

// An IMS caller of `number` through Kamailio.
function imsUac(number, scenario, oUser, args = []) {
  const { port, mp } = nextPorts();
  const s = sipp({ name: `${port}-caller-${scenario.replace('.xml', '')}`, dir: st.dir, scenario, port, mp,
    service: number, remote: '127.0.0.1:5070', args: ['-timeout', '30s', '-key', 'o_user', oUser, ...args] });
  st.sipps.push(s);
  return s;
}

// The INVITEs a SIPp received, retransmissions left out.
const invitesAt = (s) => s.received().filter((m) => /^INVITE /.test(m.text))
  .filter((m, i, all) => all.findIndex((x) => header(x.text, 'CSeq') === header(m.text, 'CSeq') &&
    header(x.text, 'From') === header(m.text, 'From')) === i).map((m) => m.text);

// The re-INVITE a SIPp got (the first INVITE in its dialog: To tagged).
async function reinviteAt(s, what) {
  const re = () => invitesAt(s).filter((t) => /;tag=/.test(header(t, 'To')));
  await s.waitMsg(() => re().length >= 1, 5000, `${what}: a re-INVITE`);
  return re()[0];
}

// In Kamailio's sipdump: what the trunk sent (top Via the trunk's address).
const viaTrunk = (t) => new RegExp(`^Via: SIP/2\\.0/(UDP|TCP) 127\\.0\\.0\\.1:${TRUNK_PORT};`, 'm').test(t);

// The in-dialog INVITE(s) of `callId` that Kamailio got from the trunk.
const trunkReinvites = (callId, n = 1) => st.kam.waitDump((ms) => {
  const r = ms.filter((m) => m.dir === 'rcv' && /^INVITE /.test(m.text) && viaTrunk(m.text) &&
    header(m.text, 'Call-ID') === callId && /;tag=/.test(header(m.text, 'To')))
    .filter((m, i, all) => all.findIndex((x) => header(x.text, 'CSeq') === header(m.text, 'CSeq')) === i);
  return r.length >= n ? r : null;
}, 3000, `${n} re-INVITE(s) of ${callId} from the trunk`);

// The 200 to the INVITE of `callId` that Kamailio passed to the trunk
// (with `cseq`, "N INVITE": the one of that transaction).
const trunkAnswer = (callId, cseq) => st.kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' &&
  /^SIP\/2\.0 200 /.test(m.text) && / INVITE$/.test(header(m.text, 'CSeq')) && viaTrunk(m.text) &&
  header(m.text, 'Call-ID') === callId && (!cseq || header(m.text, 'CSeq') === cseq)), 3000,
`the 200 of ${callId} ${cseq || ''} toward the trunk`);

// The ACK of `callId` with CSeq number `n` that Kamailio got from the trunk.
const trunkAck = (callId, n) => st.kam.waitDump((ms) => ms.find((m) => m.dir === 'rcv' &&
  /^ACK /.test(m.text) && viaTrunk(m.text) && header(m.text, 'Call-ID') === callId &&
  header(m.text, 'CSeq') === `${n} ACK`), 3000, `the ACK ${n} of ${callId} from the trunk`);

// A browser joined to an IMS party by a transfer: the browser is asked
// for a fresh offer (a re-INVITE without SDP), the party gets it (as the
// trunk sent it: the offer without its BUNDLE group) and answers, and the
// answer reaches the browser in the ACK.
async function assertBrowserJoined(sid, party, partyName) {
  let rec;
  for (let i = 0; i < 60 && !((rec = await T(st.b, 'state', sid)).last_remote_answer); i++) await sleep(50);
  assert.ok(rec.last_local_offer, 'the browser made an offer');
  assert.ok(rec.last_remote_answer, 'an answer reached the browser');
  assert.match(origin(rec.last_remote_answer), new RegExp(`^${partyName} 4711 `),
    `the party's answer:\n${rec.last_remote_answer}`);
  const reinv = await reinviteAt(party, 'the transferee');
  assert.deepEqual(origin(body(reinv)).split(' ').slice(0, 2), origin(rec.last_local_offer).split(' ').slice(0, 2),
    `the party's re-INVITE carries the browser's offer:\n${reinv}`);
  const [atTrunk] = await trunkReinvites(header(reinv, 'Call-ID'));
  assert.equal(rawBody(atTrunk.raw), rec.last_local_offer.replace(/^a=group:BUNDLE [^\r\n]*\r?\n/m, ''),
    'the re-INVITE from the trunk: the browser\'s offer, BUNDLE group removed');
}

// Two IMS parties joined by a transfer exchange fresh SDP (RFC 3725):
// `off` gets a re-INVITE without SDP and offers in its 200; `ans` gets
// that offer in a re-INVITE; its answer goes back in off's ACK. Checked at
// the parties (o= lines name them: the offer's version is the re-INVITE's
// CSeq, not the first call's 1) and as the trunk sent it: byte for byte
// what the trunk got.
async function assertJoined(off, offName, ans, ansName) {
  const offRe = await reinviteAt(off, offName);
  assert.equal(body(offRe), '', `${offName} is asked for an offer:\n${offRe}`);
  const ansRe = await reinviteAt(ans, ansName);
  assert.match(origin(body(ansRe)), new RegExp(`^${offName} 4711 ([2-9]|\\d\\d)`),
    `${ansName} gets ${offName}'s fresh offer:\n${ansRe}`);
  const offId = header(offRe, 'Call-ID');
  const ansId = header(ansRe, 'Call-ID');
  const [toOff] = await trunkReinvites(offId);
  const [toAns] = await trunkReinvites(ansId);
  const offer = await trunkAnswer(offId, header(toOff.text, 'CSeq'));
  assert.equal(rawBody(toAns.raw), rawBody(offer.raw), `toward ${ansName}: ${offName}'s offer, byte for byte`);
  const answer = await trunkAnswer(ansId, header(toAns.text, 'CSeq'));
  const ack = await trunkAck(offId, parseInt(header(toOff.text, 'CSeq'), 10));
  assert.equal(rawBody(ack.raw), rawBody(answer.raw), `${offName}'s ACK: ${ansName}'s answer, byte for byte`);
  await off.waitMsg((t) => /^ACK /.test(t) && new RegExp(`^${ansName} 4711 `).test(origin(body(t)) || ''), 3000,
    `${offName} gets ${ansName}'s answer in the ACK`);
}

// The o= line of an SDP (its user name names a SIPp party here).
const origin = (sdp) => (/^o=([^\r\n]*)/m.exec(sdp) || [])[1];

// The NOTIFYs of a transfer as the browser got them, checked against
// RFC 3515 section 2.4.4/2.4.5 and the gateway's contract: Event refer with
// the REFER's CSeq as id, message/sipfrag, the status line as body;
// active until the last one, which terminates the subscription.
function checkNotifies(rec, statusLines) {
  const sent = eventOf(rec, 'refer-sent');
  assert.equal(rec.notifies.length, statusLines.length,
    `NOTIFYs: ${rec.notifies.map((n) => body(n)).join(' | ')}`);
  rec.notifies.forEach((n, i) => {
    assert.match(n, /^NOTIFY sip:\S+ SIP\/2\.0\r\n/, 'a NOTIFY in the dialog');
    assert.equal(header(n, 'Event'), `refer;id=${sent.id}`, `Event of NOTIFY ${i + 1}:\n${n}`);
    assert.equal(header(n, 'Content-Type'), 'message/sipfrag;version=2.0', `Content-Type:\n${n}`);
    assert.equal(body(n), statusLines[i], `body of NOTIFY ${i + 1}`);
    const last = i === statusLines.length - 1;
    assert.match(header(n, 'Subscription-State'), last ? /^terminated\b/ : /^active\b/,
      `Subscription-State of NOTIFY ${i + 1}:\n${n}`);
  });
}

// The log line of a blind transfer; returns [transferor's call, new call].
async function blindLine(mark, num) {
  const l = await st.gw.waitLog(new RegExp(`call=(\\d+) blind transfer of the IMS party to ${esc(num)}: call (\\d+)$`),
    3000, mark);
  const m = /call=(\d+) .*: call (\d+)$/.exec(l);
  return [Number(m[1]), Number(m[2])];
}

// The gateway's "ended:" lines after `mark`, once there are n.
async function endedLines(mark, n, timeoutMs = 3000) {
  const t0 = Date.now();
  for (;;) {
    const l = st.gw.lines.slice(mark).filter((x) => /call=\d+ (in|out)bound call \S+ ended: /.test(x));
    if (l.length >= n) return l;
    if (Date.now() - t0 > timeoutMs) assert.fail(`fewer than ${n} calls ended:\n${l.join('\n')}`);
    await sleep(50);
  }
}

async function cleanup() {
  if (st.b) {
    await T(st.b, 'stopAll').catch(() => {});
    await browser.close(st.b, st.dir);
    st.b = null;
  }
  for (const s of st.sipps) await s.stop();
  const r = st.stack ? await stopStack(st.stack) : null;
  st.stack = null;
  return r;
}

describe('transfer by the browser: blind and attended, with SIPp parties on IMS', { timeout: 85000 }, () => {
  before(async () => {
    st.dir = outDir('transfer');
    const web = await browser.reserveOrigin();
    try {
      st.stack = await startStack(st.dir, { media: true, defines: DEFINES, origins: [web.origin],
        tenant: { ranges: [RANGE], services: { diversion: [
          { identity: CAROL, no_answer: CAROL_NO_ANSWER, no_answer_time: 1 }] } } });
      st.gw = st.stack.gw;
      st.kam = st.stack.kam;
      st.b = await browser.launch(web, st.dir);
      for (const [key, num] of [['alice', ALICE], ['bob', BOB], ['carol', CAROL]]) {
        const reg = await T(st.b, 'startUA', { key, ws: st.gw.wsUrl, uri: aorOf(num), jwt: tokenFor(num),
          instance: crypto.randomUUID() });
        assert.equal(reg.ok, true, `JsSIP ${key} registers ${aorOf(num)}: ${JSON.stringify(reg)}`);
      }
    } catch (e) {
      await cleanup();
      throw e;
    }
  });

  after(async () => {
    const r = await cleanup();
    if (r) assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('a. blind transfer to an external number: 202, NOTIFY 100 then 200; the target and the IMS party ' +
    'exchange fresh SDP (RFC 3725); the target\'s BYE reaches the party', async () => {
    const X = '+4940555000301';
    const Z = '+4940555000302';
    const x = await imsUas(X, 'uas_xfer.xml', 'xfer-x-a', ['-rtp_echo']);
    const z = await imsUas(Z, 'uas_xfer_target.xml', 'xfer-z-a', ['-rtp_echo', '-d', '1000']);
    const mark = st.gw.mark();
    const sid = await T(st.b, 'call', 'alice', target(X));
    await waitEvent(st.b, sid, 'confirmed');
    assertMedia(await T(st.b, 'media', sid, 500), 'the call before the transfer');

    assert.equal(await T(st.b, 'refer', sid, target(Z), { hangup: true }), true);
    let rec = await waitEvent(st.b, sid, 'refer-accepted');
    assert.equal(eventOf(rec, 'refer-requestSucceeded').status, 202, 'REFER answered 202 Accepted');
    assert.equal(eventOf(rec, 'refer-trying').status, 100);
    assert.equal(eventOf(rec, 'refer-accepted').status, 200);
    rec = await waitEvent(st.b, sid, 'ended');
    assert.equal(eventOf(rec, 'ended').originator, 'local', 'the transferor hung up its own dialog');
    checkNotifies(rec, ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);

    const [old, nc] = await blindLine(mark, Z);
    await st.gw.waitLog(new RegExp(`call=${nc} transfer completed$`), 1000, mark);
    await st.gw.waitLog(new RegExp(`call=${old} outbound call \\S+ ended: the browser hung up`), 3000, mark);

    // The target got a new call from the trunk: the transferee as the
    // caller, its SDP (rtpengine's rewrite keeps its o= line).
    const zInv = invitesAt(z)[0];
    assert.ok(zInv, `the target got an INVITE: ${z.describe()}`);
    assert.match(header(zInv, 'From'), new RegExp(`${esc(X)}[@>]`), `From: the transferee:\n${zInv}`);
    assert.match(origin(body(zInv)), /^xfer-x-a 4711 /, `the transferee's SDP:\n${zInv}`);
    // Then the target offered afresh, the transferee answered.
    const xInv = invitesAt(x)[0];
    await assertJoined(z, 'xfer-z-a', x, 'xfer-x-a');
    assert.match(body(await reinviteAt(x, 'the transferee')), /^m=audio \d+ RTP\/AVP /m);
    const toZ = await st.kam.waitDump((ms) => ms.find((m) => m.dir === 'rcv' && viaTrunk(m.text) &&
      /^INVITE /.test(m.text) && header(m.text, 'Call-ID') === header(zInv, 'Call-ID')), 3000, 'the INVITE to Z');
    assert.equal(rawBody(toZ.raw), rawBody((await trunkAnswer(header(xInv, 'Call-ID'))).raw),
      'the new INVITE carries the transferee\'s SDP as the trunk got it, byte for byte');

    // The target hangs up: its BYE reaches the transferred party.
    assert.equal(await z.done(10000), 0, `target: INVITE, ACK, re-INVITE, BYE answered: ${z.describe()}`);
    assert.equal(await x.done(10000), 0, `party: INVITE, re-INVITE, BYE: ${x.describe()}`);
    assert.ok(x.received().some((m) => /^BYE /.test(m.text)), 'the target\'s BYE reached the party');
    await assertEndedClean(st.gw, mark, 'the diversion target hung up', { id: nc });
    assertNoWicLeak(x);
    assertNoWicLeak(z);
  });

  test('b. blind transfer to another browser user of the gateway: its device rings with the IMS party\'s SDP ' +
    'and answers; then it offers afresh, the party answers (RFC 3725); media flows; its BYE reaches the party',
  async () => {
    const last = await T(st.b, 'last');
    const mark = st.gw.mark();
    const x = imsUac(ALICE, 'uac_xfer.xml', 'xfer-x-b', ['-rtp_echo']);
    const sid = await waitIncoming(st.b, 'alice', last);
    const first = await T(st.b, 'state', sid);
    await T(st.b, 'answer', sid);
    await waitEvent(st.b, sid, 'confirmed');
    assertMedia(await T(st.b, 'media', sid, 500), 'the call before the transfer');

    assert.equal(await T(st.b, 'refer', sid, target(BOB), { hangup: true }), true);
    const bsid = await waitIncoming(st.b, 'bob', sid);
    const ring = await T(st.b, 'state', bsid);
    const noTag = (v) => v.replace(/;tag=[^;]*/, '');
    assert.equal(noTag(header(ring.request, 'From')), noTag(header(first.request, 'From')),
      'From: the transferee, as the transferor saw it');
    assert.match(header(ring.request, 'To'), new RegExp(`<${esc(aorOf(BOB))}>`), 'To: the target\'s AOR');
    assert.match(ring.offer, /UDP\/TLS\/RTP\/SAVPF/, 'a WebRTC offer');
    assert.match(origin(ring.offer), /^xfer-x-b 4711 /, `the transferee's SDP:\n${ring.offer}`);
    const [old, nc] = await blindLine(mark, BOB);
    await T(st.b, 'answer', bsid);
    await waitEvent(st.b, bsid, 'confirmed');

    let rec = await waitEvent(st.b, sid, 'refer-accepted');
    assert.equal(eventOf(rec, 'refer-requestSucceeded').status, 202);
    rec = await waitEvent(st.b, sid, 'ended');
    assert.equal(eventOf(rec, 'ended').originator, 'local', 'the transferor hung up its own dialog');
    checkNotifies(rec, ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK']);
    await st.gw.waitLog(new RegExp(`call=${nc} answered by a device of ${esc(BOB)}$`), 1000, mark);
    await st.gw.waitLog(new RegExp(`call=${nc} transfer completed$`), 1000, mark);
    await st.gw.waitLog(new RegExp(`call=${old} inbound call \\S+ ended: the browser hung up`), 3000, mark);

    await assertBrowserJoined(bsid, x, 'xfer-x-b');

    // The transferee and the new browser talk: ICE, DTLS, RTP both ways.
    assertMedia(await T(st.b, 'media', bsid, 1500), 'the transferred call');

    await T(st.b, 'terminate', bsid);
    assert.equal(eventOf(await waitEvent(st.b, bsid, 'ended'), 'ended').originator, 'local');
    assert.equal(await x.done(10000), 0, `transferee: 200, re-INVITE, BYE: ${x.describe()}`);
    assert.ok(x.received().some((m) => /^BYE /.test(m.text)), 'the BYE reached the transferee');
    await assertEndedClean(st.gw, mark, 'the browser hung up', { id: nc });
    assertNoWicLeak(x);
  });

  test('b2. blind transfer of a call the browser placed, to another browser user: the IMS party reaches it ' +
    'as a SIP URI (JsSIP parses no tel: URI in From), the browser answers, fresh SDP both ways',
  async () => {
    const X = '+4940555000309';
    const x = await imsUas(X, 'uas_xfer.xml', 'xfer-x-b2', ['-rtp_echo']);
    const mark = st.gw.mark();
    const sid = await T(st.b, 'call', 'alice', target(X));
    await waitEvent(st.b, sid, 'confirmed');

    assert.equal(await T(st.b, 'refer', sid, target(BOB), { hangup: true }), true);
    const [, nc] = await blindLine(mark, BOB);
    await st.gw.waitLog(new RegExp(`call=${nc} inbound call for ${esc(BOB)}: 1 device`), 1000, mark);
    const bsid = await waitIncoming(st.b, 'bob', sid, 5000);
    const ring = await T(st.b, 'state', bsid);
    assert.match(header(ring.request, 'From'), new RegExp(`^<sip:${esc(X)}@[^>]+>;tag=`),
      `From: the transferee as a SIP URI:\n${ring.request}`);
    await T(st.b, 'answer', bsid);
    await waitEvent(st.b, bsid, 'confirmed');
    await waitEvent(st.b, sid, 'refer-accepted');
    await waitEvent(st.b, sid, 'ended');
    await st.gw.waitLog(new RegExp(`call=${nc} transfer completed$`), 1000, mark);

    await assertBrowserJoined(bsid, x, 'xfer-x-b2');

    await T(st.b, 'terminate', bsid);
    await waitEvent(st.b, bsid, 'ended');
    assert.equal(await x.done(10000), 0, `transferee: INVITE, re-INVITE, BYE: ${x.describe()}`);
    await assertEndedClean(st.gw, mark, 'the browser hung up', { id: nc });
  });

  test('c. blind transfer to a busy target: NOTIFY 486, the original call stays; the browser\'s BYE ends it',
    async () => {
      const X = '+4940555000303';
      const Z = '+4940555000304';
      const x = await imsUas(X, 'uas_xfer.xml', 'xfer-x-c', ['-rtp_echo']);
      const z = await imsUas(Z, 'uas_busy.xml', 'xfer-z-c');
      const mark = st.gw.mark();
      const sid = await T(st.b, 'call', 'alice', target(X));
      await waitEvent(st.b, sid, 'confirmed');
      assertMedia(await T(st.b, 'media', sid, 500), 'the call before the transfer');

      assert.equal(await T(st.b, 'refer', sid, target(Z), { hangup: true }), true);
      const rec = await waitEvent(st.b, sid, 'refer-failed');
      assert.equal(eventOf(rec, 'refer-requestSucceeded').status, 202);
      assert.equal(eventOf(rec, 'refer-trying').status, 100);
      assert.deepEqual(
        (({ status, reason }) => ({ status, reason }))(eventOf(rec, 'refer-failed')),
        { status: 486, reason: 'Busy Here' }, 'the browser learns the transfer failed, and why');
      assert.ok(!eventOf(rec, 'refer-accepted'));
      checkNotifies(rec, ['SIP/2.0 100 Trying', 'SIP/2.0 486 Busy Here']);
      const [old, nc] = await blindLine(mark, Z);
      await st.gw.waitLog(new RegExp(`call=${old} transfer failed \\(486\\): the call stays$`), 1000, mark);
      await st.gw.waitLog(new RegExp(`call=${nc} inbound call \\S+ ended: transfer failed \\(calls left: \\d+\\)$`),
        1000, mark);
      assert.equal(await z.done(10000), 0, `target: INVITE, 486, ACK: ${z.describe()}`);

      // The call is still the browser's: up, media on, no re-INVITE.
      const before = await T(st.b, 'media', sid, 0);
      const still = await T(st.b, 'media', sid, 1000);
      assertMedia(still, 'the call after the failed transfer');
      assert.ok(still.packetsReceived > before.packetsReceived,
        `RTP still comes back: ${before.packetsReceived} -> ${still.packetsReceived}`);
      assert.equal((await T(st.b, 'state', sid)).ended, false, 'the call stays');
      assert.equal(invitesAt(x).length, 1, `the party got no re-INVITE: ${x.describe()}`);

      await T(st.b, 'terminate', sid);
      await waitEvent(st.b, sid, 'ended');
      assert.equal(await x.done(10000), 0, `party: INVITE, BYE: ${x.describe()}`);
      await assertEndedClean(st.gw, mark, 'the browser hung up', { id: old });
      assertNoWicLeak(x);
      assertNoWicLeak(z);
    });

  test('d. attended transfer between two IMS parties (Replaces): they exchange fresh SDP (RFC 3725), ' +
    'NOTIFY 200, the second call\'s dialog gets BYE; one party\'s BYE reaches the other', async () => {
    const X = '+4940555000305';
    const Y = '+4940555000306';
    const x = await imsUas(X, 'uas_xfer_bye.xml', 'xfer-x-d', ['-rtp_echo', '-d', '1000']);
    const y = await imsUas(Y, 'uas_xfer.xml', 'xfer-y-d', ['-rtp_echo']);
    const mark = st.gw.mark();
    const s1 = await T(st.b, 'call', 'alice', target(X));
    await waitEvent(st.b, s1, 'confirmed');
    const s2 = await T(st.b, 'call', 'alice', target(Y));
    await waitEvent(st.b, s2, 'confirmed');
    assertMedia(await T(st.b, 'media', s2, 500), 'the second call');

    assert.equal(await T(st.b, 'refer', s1, await T(st.b, 'remoteUri', s2), { replaces: s2, hangup: true }), true);
    let rec1 = await waitEvent(st.b, s1, 'refer-accepted');
    assert.equal(eventOf(rec1, 'refer-requestSucceeded').status, 202);
    const rec2 = await waitEvent(st.b, s2, 'ended');
    assert.deepEqual((({ originator, method }) => ({ originator, method }))(eventOf(rec2, 'ended')),
      { originator: 'remote', method: 'BYE' }, 'the gateway hung up the replaced call');
    rec1 = await waitEvent(st.b, s1, 'ended');
    assert.equal(eventOf(rec1, 'ended').originator, 'local', 'the transferor hung up its own dialog');
    checkNotifies(rec1, ['SIP/2.0 200 OK']);

    const line = await st.gw.waitLog(
      /call=(\d+) attended transfer: the IMS parties of calls (\d+) and (\d+) joined in call (\d+)$/, 1000, mark);
    const [, c1, a, b, nc] = /call=(\d+) .* calls (\d+) and (\d+) joined in call (\d+)$/.exec(line);
    assert.equal(a, c1, line);
    await st.gw.waitLog(new RegExp(`call=${b} outbound call \\S+ ended: replaced by an attended transfer`), 1000,
      mark);
    await st.gw.waitLog(new RegExp(`call=${c1} outbound call \\S+ ended: the browser hung up`), 3000, mark);

    // Y (the replaced call's party) offered afresh, X answered.
    await assertJoined(y, 'xfer-y-d', x, 'xfer-x-d');
    const yid = header(invitesAt(y)[0], 'Call-ID');

    // X hangs up: its BYE reaches Y; no call left.
    assert.equal(await x.done(10000), 0, `X: INVITE, re-INVITE, its BYE answered: ${x.describe()}`);
    assert.equal(await y.done(10000), 0, `Y: INVITE, re-INVITE, BYE: ${y.describe()}`);
    assert.ok(y.received().some((m) => /^BYE /.test(m.text) && header(m.text, 'Call-ID') === yid),
      'X\'s BYE reached Y');
    await assertEndedClean(st.gw, mark, 'IMS hung up', { id: nc });
    assertNoWicLeak(x);
    assertNoWicLeak(y);
  });

  test('e. attended transfer with a Replaces naming no call of this browser: 403 "Unknown Replaces Dialog", ' +
    'the call stays', async () => {
    const X = '+4940555000307';
    const Y = '+4940555000308';
    const x = await imsUas(X, 'uas_xfer.xml', 'xfer-x-e', ['-rtp_echo']);
    const y = await imsUas(Y, 'uas_xfer.xml', 'xfer-y-e', ['-rtp_echo']);
    const mark = st.gw.mark();
    const sid = await T(st.b, 'call', 'alice', target(X));
    await waitEvent(st.b, sid, 'confirmed');
    // A call of another browser (bob's UA, its own WebSocket).
    const other = await T(st.b, 'call', 'bob', target(Y));
    await waitEvent(st.b, other, 'confirmed');

    const bogus = { callId: 'no-such-call@xfer.test', toTag: 'nope1', fromTag: 'nope2' };
    const cases = [
      [bogus, `${bogus.callId};to-tag=${bogus.toTag};from-tag=${bogus.fromTag}`],
      [other, null],   // Replaces names bob's dialog
    ];
    for (const [replaces, text] of cases) {
      const n = (await T(st.b, 'state', sid)).events.filter((e) => e.name === 'refer-requestFailed').length;
      const m = st.gw.mark();
      assert.equal(await T(st.b, 'refer', sid, target(Y), { replaces, hangup: true }), true);
      await st.b.page.waitForFunction(([s, k]) => window.T.state(s).events
        .filter((e) => e.name === 'refer-requestFailed').length > k, [sid, n], { timeout: 5000, polling: 50 });
      const rec = await T(st.b, 'state', sid);
      const f = rec.events.filter((e) => e.name === 'refer-requestFailed')[n];
      assert.deepEqual({ status: f.status, reason: f.reason }, { status: 403, reason: 'Unknown Replaces Dialog' },
        `REFER with Replaces ${JSON.stringify(replaces)}`);
      const l = await st.gw.waitLog(/call=\d+ attended transfer refused: no call of this browser matches Replaces '/,
        1000, m);
      if (text) assert.ok(l.endsWith(`'${text}'`), l);
    }
    await sleep(300);
    const rec = await T(st.b, 'state', sid);
    assert.equal((rec.notifies || []).length, 0, 'no NOTIFY for a refused REFER');
    assert.equal(rec.ended, false, 'the call stays');
    assert.equal((await T(st.b, 'state', other)).ended, false, 'the other browser\'s call stays');
    assert.ok(!st.gw.lines.slice(mark).some((l) => /blind transfer|joined in call/.test(l)), 'nothing transferred');
    assertMedia(await T(st.b, 'media', sid, 500), 'the call after the refused transfer');
    assert.equal(invitesAt(x).length, 1, 'no re-INVITE reached X');
    assert.equal(invitesAt(y).length, 1, 'no re-INVITE reached Y');

    for (const s of [other, sid]) {
      await T(st.b, 'terminate', s);
      await waitEvent(st.b, s, 'ended');
    }
    assert.equal(await x.done(10000), 0, x.describe());
    assert.equal(await y.done(10000), 0, y.describe());
    const ended = await endedLines(mark, 2);
    assert.ok(ended.every((l) => / ended: the browser hung up \(calls left: \d+\)$/.test(l)), ended.join('\n'));
    assert.match(ended[1], /\(calls left: 0\)$/, `no call left behind:\n${ended.join('\n')}`);
  });
  // RFC 5589 section 6: the transferor may hang up once the REFER is
  // accepted. The transfer's call then lives on alone through the target's
  // own routing (here: no answer -> diversion), long after the transferor's
  // call is gone.
  test('f. the transferor hangs up right after the 202: the transfer goes on; the target does not answer ' +
    'and its no-answer diversion (an external number) takes the call; the two exchange fresh SDP', async () => {
    const z = await imsUas(CAROL_NO_ANSWER, 'uas_xfer_target.xml', 'xfer-z-f', ['-rtp_echo', '-d', '1000']);
    const last = await T(st.b, 'last');
    const mark = st.gw.mark();
    const x = imsUac(ALICE, 'uac_xfer.xml', 'xfer-x-f', ['-rtp_echo']);
    const sid = await waitIncoming(st.b, 'alice', last);
    await T(st.b, 'answer', sid);
    await waitEvent(st.b, sid, 'confirmed');

    assert.equal(await T(st.b, 'refer', sid, target(CAROL)), true);
    await waitEvent(st.b, sid, 'refer-trying');
    await T(st.b, 'terminate', sid);
    await waitEvent(st.b, sid, 'ended');
    const [old, nc] = await blindLine(mark, CAROL);
    await st.gw.waitLog(new RegExp(`call=${old} inbound call \\S+ ended: the browser hung up`), 2000, mark);

    // Carol rings, does not answer: CANCEL after 1 s, then the diversion.
    const csid = await waitIncoming(st.b, 'carol', sid, 3000);
    const lost = eventOf(await waitEvent(st.b, csid, 'failed', 5000), 'failed');
    assert.equal(lost.method, 'CANCEL', `carol's ringing ends with CANCEL: ${JSON.stringify({ ...lost, raw: undefined })}`);
    await st.gw.waitLog(new RegExp(`call=${nc} diverted from ${esc(CAROL)} to ${esc(CAROL_NO_ANSWER)} `), 3000, mark);
    await st.gw.waitLog(new RegExp(`call=${nc} transfer completed$`), 3000, mark);

    const zInv = await z.waitMsg((t) => /^INVITE /.test(t), 3000, 'the diverted INVITE');
    assert.match(header(zInv, 'From'), /^"IMS Caller" <sip:\+49409990001@/,
      `From: the transferee, after the transferor's call is gone:\n${zInv}`);
    assert.match(origin(body(zInv)), /^xfer-x-f 4711 /, 'the transferee\'s SDP');
    await assertJoined(z, 'xfer-z-f', x, 'xfer-x-f');
    const rec = await T(st.b, 'state', sid);
    assert.deepEqual(rec.notifies.map((n) => body(n)), ['SIP/2.0 100 Trying'],
      'no NOTIFY after the transferor left');

    assert.equal(await z.done(10000), 0, `target: INVITE, ACK, BYE answered: ${z.describe()}`);
    assert.equal(await x.done(10000), 0, `transferee: re-INVITE, BYE: ${x.describe()}`);
    await assertEndedClean(st.gw, mark, 'the diversion target hung up', { id: nc });
  });
});

// Calls whose WebSocket flow is lost (DESIGN.md §2: "a dead flow removes its
// bindings and ends its calls"), for outbound (§4 flow 3) and inbound (§4
// flow 4) calls: the gateway must end the IMS side itself. Signalling only:
// a raw ws client as the WIC, Kamailio (WITH_AUTH WITH_GIN WITH_RTPENGINE)
// as the P-CSCF with rtpengine as the eIMS-AGW (it turns SIPp's plain RTP/AVP
// into WebRTC toward the trunk and back, so that the gateway's SDP checks
// pass), SIPp as the IMS users. Runs in a network namespace with only lo.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { sipp, registerImsUser, sleep } = require('./lib/peers');
const { outDir, startStack, stopStack, DOMAIN } = require('./lib/env');
const { RawWic, webrtcAnswer } = require('./lib/wic');

const ORIGIN = 'http://127.0.0.1';
const ALICE = '+4930123400001';
let s;
let port = 5180;
let mp = 6600;

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
    await s.gw.waitLog(/outbound call \S+ ended: the browser's connection closed/, 2000, mark);
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
    await s.gw.waitLog(/outbound call \S+ ended: the browser's connection closed/, 2000, mark);
    await inviting;
  });

  test('§4.4f inbound call ringing, then the flow is lost: IMS gets a final error answer', async () => {
    const wic = new RawWic(s.gw, ALICE);
    await wic.register(ORIGIN);
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
    await s.gw.waitLog(/inbound call \S+ ended: the browser's connection closed/, 2000, mark);
  });
});

// SIP over WebSocket at the protocol level (RFC 7118, RFC 6455, RFC 3261
// section 17): malformed messages, frame limits, INVITE handling on and off
// authenticated flows, CANCEL/ACK matching, keepalive and idle timeout. Raw
// `ws` clients, one real wtpfd that must survive all of it.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');

const { startGateway, freePort, ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, request, branch, rand } = require('./lib/sip');
const { udpPcscf } = require('./lib/pcscf');

const ALICE = `sip:alice@${DOMAIN}`;
const BOB = `sip:bob@${DOMAIN}`;

describe('SIP over WebSocket protocol handling', { timeout: 50000 }, () => {
  let gw;
  const clients = [];

  before(async () => {
    gw = await startGateway({
      websocket: { idle_timeout: 5, ping_interval: 2, max_frame_size: 2048, max_message_size: 4096 },
    });
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    const r = await gw.stop();
    assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
    assert.doesNotMatch(gw.log(), / error /, 'no error lines in the log');
    gw.cleanup();
  });

  async function client() {
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    clients.push(c);
    return c;
  }

  // A client whose flow authenticated as alice (REGISTER with a token).
  async function aliceFlow() {
    const c = await client();
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: 'alice' })}`,
        Contact: `<sip:alice@${rand(4)}.invalid;transport=ws>` } });
    assert.equal(r.status, 200);
    return c;
  }

  const isOpen = (c) => c.ws.readyState === WebSocket.OPEN;
  const closedWithin = (c, ms) => Promise.race([c.closed,
    new Promise((r) => setTimeout(() => r(null), ms))]);

  test('OPTIONS to the gateway: 200 with Allow and Supported, no authentication needed', async () => {
    const c = await client();
    const r = await c.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: `sip:anon@${DOMAIN}` });
    assert.equal(r.status, 200);
    const allow = r.all('allow');
    for (const m of ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER'])
      assert.ok(allow.includes(m), `Allow lists ${m}: ${allow}`);
    assert.ok(r.all('supported').includes('outbound'), 'Supported: outbound (RFC 5626)');
    assert.match(r.get('to'), /;tag=/, 'the response has a To tag');
  });

  test('malformed but addressable requests: 400 naming the problem; the flow stays', async () => {
    const c = await client();
    const cases = [
      ['broken Contact', { method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE,
        headers: { Contact: '<sip:alice@x.invalid;transport=ws' } }, 400, /^Bad Contact Header$/],
      ['CSeq method mismatch', { method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE, cseqMethod: 'INVITE' },
        400, /^CSeq Method Does Not Match Request$/],
      ['bad Expires', { method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE, headers: { Expires: 'soon' } },
        400, /^Bad Expires Header$/],
      ['bad Max-Forwards', { method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE, headers: { 'Max-Forwards': 'many' } },
        400, /^Bad Max-Forwards Header$/],
      ['To without a user', { method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE, to: `sip:${DOMAIN}` },
        400, /^Invalid AOR in To$/],
      ['Contact that is not a SIP URI', { method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE,
        headers: { Authorization: `Bearer ${tok.hs256({ sub: 'alice' })}`, Contact: '<tel:+15551234>' } },
        400, /^Contact Must Be a SIP URI$/],
      ['Request-URI of another scheme', { method: 'OPTIONS', uri: 'http://acme.test/', from: ALICE },
        416, /^Unsupported URI Scheme$/],
      ['REGISTER to a tel URI', { method: 'REGISTER', uri: 'tel:+15551234', from: ALICE,
        headers: { Authorization: `Bearer ${tok.hs256({ sub: 'alice' })}`, Contact: '<sip:a@x.invalid;transport=ws>' } },
        416, /SIP Domain URI/],
      ['Max-Forwards 0', { method: 'INVITE', uri: BOB, from: ALICE, headers: { 'Max-Forwards': '0' } },
        483, /^Too Many Hops$/],
    ];
    for (const [name, req, status, reason] of cases) {
      const mark = gw.mark();
      const r = await c.transact(req);
      assert.equal(r.status, status, `${name}: ${r.startLine}`);
      assert.match(r.reason, reason, name);
      assert.ok(isOpen(c), `${name}: the flow stays open`);
      if (status === 400 && !/AOR|Contact Must/.test(r.reason))
        await gw.waitLog(new RegExp(`refused message: ${r.reason}`), 2000, mark);
    }
    const ok = await c.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE });
    assert.equal(ok.status, 200, 'the same flow still works');
  });

  test('not SIP, or not answerable: close 1002 with the reason', async () => {
    for (const [name, data, reason] of [
      ['text that is not SIP', 'hello, gateway', /not a SIP message/],
      ['an empty message', '', /not a SIP message/],
      ['a request without Via', request({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE,
        headers: { Via: null } }), /Missing Via Header/],
      ['a request with a broken From', request({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE,
        headers: { From: 'garbage<<' } }), /Missing From Header/],
    ]) {
      const c = await client();
      const mark = gw.mark();
      c.send(data);
      const cl = await closedWithin(c, 3000);
      assert.ok(cl, `${name}: closed`);
      assert.equal(cl.code, 1002, name);
      assert.match(cl.reason, reason, name);
      await gw.waitLog(new RegExp(`garbage on the flow \\(${reason.source}\\): closing`), 2000, mark);
      assert.deepEqual(c.messages, [], `${name}: no answer`);
    }
  });

  test('invalid UTF-8 in a text frame: close 1007', async () => {
    const c = await client();
    c.ws.send(Buffer.from([0x4f, 0x50, 0x54, 0xc3, 0x28, 0xff]), { binary: false });
    const cl = await closedWithin(c, 3000);
    assert.ok(cl, 'closed');
    assert.equal(cl.code, 1007);
  });

  test('binary frames and fragmented messages are SIP too', async () => {
    const c = await client();
    const b1 = branch();
    c.ws.send(Buffer.from(request({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE, branch: b1 })), { binary: true });
    assert.equal((await c.next((m) => m.get('via').includes(b1))).status, 200, 'binary frame');
    const b2 = branch();
    const text = request({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE, branch: b2,
      headers: { 'X-Padding': 'p'.repeat(2500) } });
    assert.ok(text.length > 2048 && text.length < 4096, 'over one frame, under one message');
    c.ws.send(text.slice(0, 1000), { fin: false });
    c.ws.send(text.slice(1000, 2000), { fin: false });
    c.ws.send(text.slice(2000), { fin: true });
    assert.equal((await c.next((m) => m.get('via').includes(b2))).status, 200, 'fragments joined');
  });

  test('over max_frame_size or max_message_size: close 1009', async () => {
    const big = await client();
    let mark = gw.mark();
    big.send(request({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE, headers: { 'X-Big': 'x'.repeat(3000) } }));
    let cl = await closedWithin(big, 3000);
    assert.ok(cl, 'one big frame: closed');
    assert.equal(cl.code, 1009);
    await gw.waitLog(/message larger than 4096 bytes: closing/, 2000, mark);

    const frag = await client();
    mark = gw.mark();
    for (let i = 0; i < 3; i++) frag.ws.send('x'.repeat(1500), { fin: i === 2 });
    cl = await closedWithin(frag, 3000);
    assert.ok(cl, 'fragments over max_message_size: closed');
    assert.equal(cl.code, 1009);
    await gw.waitLog(/message larger than/, 2000, mark);
  });

  test('INVITE on an unauthenticated flow: 100 Trying then 403; the ACK is absorbed', async () => {
    const c = await client();
    const mark = gw.mark();
    const inv = { method: 'INVITE', uri: BOB, from: ALICE, callId: rand(8), cseq: 1,
      headers: { Contact: '<sip:alice@x.invalid;transport=ws>', 'Content-Type': 'application/sdp' },
      body: 'v=0\r\n' };
    const r = await c.transact(inv);
    assert.deepEqual(r.provisional.map((m) => m.status), [100]);
    assert.equal(r.status, 403);
    assert.equal(r.reason, 'Not Registered On This Flow');
    await gw.waitLog(/INVITE from 127\.0\.0\.1 refused: Not Registered On This Flow/, 2000, mark);
    const toTag = /;tag=([^;\s]+)/.exec(r.get('to'))[1];
    c.send(request({ method: 'ACK', uri: BOB, from: ALICE, fromTag: /;tag=([^;\s]+)/.exec(r.get('from'))[1],
      toTag, callId: inv.callId, cseq: 1, branch: r.branch }));
    assert.deepEqual(await c.quiet(500), [], 'nothing answers an ACK');
    assert.ok(isOpen(c));
  });

  test('requests from a flow whose From is not its identity: 403', async () => {
    const c = await aliceFlow();
    const r = await c.transact({ method: 'INVITE', uri: BOB, from: `sip:mallory@${DOMAIN}`,
      headers: { Contact: '<sip:m@x.invalid;transport=ws>' } });
    assert.deepEqual(r.provisional.map((m) => m.status), [100]);
    assert.equal(r.status, 403);
    assert.equal(r.reason, 'From Does Not Match Authenticated Identity');
    const ppi = await c.transact({ method: 'MESSAGE', uri: BOB, from: ALICE,
      headers: { 'P-Preferred-Identity': `<sip:boss@${DOMAIN}>` } });
    assert.equal(ppi.status, 403);
    assert.equal(ppi.reason, 'P-Preferred-Identity Not Allowed');
  });

  test('INVITE on an authenticated flow: 100 then a final answer; retransmission, CANCEL and ACK matching', async () => {
    const c = await aliceFlow();
    const callId = rand(8);
    const fromTag = rand(4);
    const b = branch();
    const inv = { method: 'INVITE', uri: BOB, from: ALICE, fromTag, callId, cseq: 7, branch: b,
      headers: { Contact: '<sip:alice@x.invalid;transport=ws>', 'Content-Type': 'application/sdp' },
      body: 'v=0\r\n' };
    c.send(request(inv));
    const trying = await c.next((m) => m.get('via').includes(b));
    assert.equal(trying.status, 100, '100 Trying first');
    assert.doesNotMatch(trying.get('to'), /;tag=/, 'no To tag on 100');
    const final = await c.next((m) => m.get('via').includes(b));
    // No IMS is configured here, so the call cannot be placed: a final
    // non-2xx answer (501 before the call core exists, 5xx from it).
    assert.ok(final.status >= 300 && final.status < 700, `a final non-2xx: ${final.startLine}`);
    assert.match(final.get('to'), /;tag=/, 'the final answer has a To tag');
    const toTag = /;tag=([^;\s]+)/.exec(final.get('to'))[1];

    // A retransmitted INVITE gets the same final answer again.
    c.send(request(inv));
    const again = await c.next((m) => m.get('via').includes(b));
    assert.equal(again.status, final.status);
    assert.equal(/;tag=([^;\s]+)/.exec(again.get('to'))[1], toTag, 'same To tag');

    // CANCEL of the answered INVITE (its transaction waits for the ACK):
    // matched, so 200 (RFC 3261 9.2), and no other response.
    const cancel = (br) => request({ method: 'CANCEL', uri: BOB, from: ALICE, fromTag, callId, cseq: 7, branch: br });
    c.send(cancel(b));
    const cr = await c.next((m) => m.get('via').includes(b) && m.cseqMethod === 'CANCEL');
    assert.equal(cr.status, 200, `CANCEL matching the INVITE transaction: ${cr.startLine}`);
    // The ACK of the non-2xx is absorbed by the transaction.
    c.send(request({ method: 'ACK', uri: BOB, from: ALICE, fromTag, toTag, callId, cseq: 7, branch: b }));
    assert.deepEqual((await c.quiet(500)).map((m) => m.startLine), [], 'no answer to the ACK, nothing more for the INVITE');
    // After the ACK the transaction is gone: a CANCEL matches nothing.
    c.send(cancel(b));
    const late = await c.next((m) => m.get('via').includes(b) && m.cseqMethod === 'CANCEL');
    assert.equal(late.status, 481);
    // A CANCEL for an INVITE never seen.
    const nb = branch();
    c.send(cancel(nb));
    const unknown = await c.next((m) => m.get('via').includes(nb));
    assert.equal(unknown.status, 481);
    assert.ok(isOpen(c));
  });

  test('a flow\'s credentials end with its token: later requests get 403, REGISTER is challenged', async () => {
    const c = await client();
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: 'alice', exp: tok.now() + 1 })}`,
        Contact: '<sip:alice@short.invalid;transport=ws>' } });
    assert.equal(r.status, 200);
    const msg = () => c.transact({ method: 'MESSAGE', uri: BOB, from: ALICE,
      headers: { 'Content-Type': 'text/plain' }, body: 'hi' });
    assert.notEqual((await msg()).reason, 'Credentials Expired', 'valid at first');
    await new Promise((res) => setTimeout(res, 2100));
    const late = await msg();
    assert.equal(late.status, 403);
    assert.equal(late.reason, 'Credentials Expired');
    const again = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE });
    assert.equal(again.status, 401, 'an expired flow identity does not authenticate REGISTER');
  });

  test('a response that matches no transaction is ignored', async () => {
    const c = await client();
    c.send(['SIP/2.0 200 OK', `Via: SIP/2.0/WSS wtpf.invalid;branch=${branch()}`, `From: <${BOB}>;tag=1`,
      `To: <${ALICE}>;tag=2`, 'Call-ID: nothing', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n'));
    assert.deepEqual(await c.quiet(300), []);
    assert.equal((await c.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE })).status, 200);
  });

  test('keepalive: pings are sent every ping_interval and their pongs keep the flow; a silent flow is closed at idle_timeout', async () => {
    const t0 = Date.now();
    const mark = gw.mark();
    const live = await client();                      // answers pings (ws does by default)
    const pingAt = [];
    live.ws.on('ping', () => pingAt.push(Date.now() - t0));
    const mute = new WebSocket(gw.wsUrl, ['sip'], { origin: ORIGIN, autoPong: false });
    const muteClosed = new Promise((resolve) => mute.on('close', (code, reason) =>
      resolve({ code, reason: reason.toString(), at: Date.now() - t0 })));
    await new Promise((resolve, reject) => { mute.on('open', resolve); mute.on('error', reject); });

    const cl = await muteClosed;
    assert.equal(cl.code, 1001, 'idle flow closed as going away');
    assert.equal(cl.reason, 'idle timeout');
    assert.ok(cl.at >= 4500 && cl.at < 7000, `closed after ${cl.at} ms (idle_timeout=5)`);
    await gw.waitLog(/idle for 5 s: closing/, 2000, mark);

    await new Promise((r) => setTimeout(r, Math.max(0, 7000 - (Date.now() - t0))));
    assert.ok(pingAt.length >= 2, `pings received: ${pingAt}`);
    assert.ok(pingAt[0] >= 1500 && pingAt[0] < 3500, `first ping after ~2 s: ${pingAt}`);
    assert.ok(isOpen(live), 'a client that only answers pings outlives idle_timeout');
    assert.equal((await live.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: ALICE })).status, 200);
  });

  test('after all of this the gateway still registers clients', async () => {
    const c = await aliceFlow();
    assert.ok(isOpen(c));
    assert.equal(gw.exitResult, undefined, 'wtpfd still running');
  });
});

// A pending INVITE needs something that keeps it pending: a trunk toward a
// P-CSCF stand-in (UDP on loopback) that answers OPTIONS and never answers
// an INVITE.
describe('CANCEL of a pending INVITE', { timeout: 30000 }, () => {
  let gw;
  let pcscf;
  let seen = [];

  before(async () => {
    const stand = await udpPcscf();
    pcscf = stand.sock;
    seen = stand.seen;
    const firstProbe = stand.firstProbe;
    gw = await startGateway({ extra: { trunks: [{
      name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${await freePort()}`,
      pcscf: [`sip:127.0.0.1:${pcscf.address().port};transport=udp`], domain: 'ims.test',
      options_interval: 1,
    }] } });
    await firstProbe;
  });

  after(async () => {
    const r = await gw.stop();
    pcscf.close();
    assert.deepEqual(r, { code: 0, signal: null });
    gw.cleanup();
  });

  test('200 to the CANCEL, 487 to the INVITE, the ACK absorbed', async () => {
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    const reg = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: ALICE,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: 'alice' })}`,
        Contact: '<sip:alice@x.invalid;transport=ws>' } });
    assert.equal(reg.status, 200);
    const callId = rand(8);
    const fromTag = rand(4);
    const b = branch();
    const target = 'sip:+15551234@acme.test';
    c.send(request({ method: 'INVITE', uri: target, from: ALICE, fromTag, callId, cseq: 1, branch: b,
      headers: { Contact: '<sip:alice@x.invalid;transport=ws>', 'Content-Type': 'application/sdp' },
      body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
            'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n' +
            'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n' +
            'a=fingerprint:sha-256 ' + Array(32).fill('AB').join(':') + '\r\n' +
            'a=setup:actpass\r\na=rtcp-mux\r\n' }));
    assert.equal((await c.next((m) => m.get('via').includes(b))).status, 100);
    const t0 = Date.now();
    while (!seen.some((l) => l.startsWith('INVITE ')) && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.some((l) => l.startsWith('INVITE ')), 'the INVITE went to the trunk');
    assert.deepEqual(await c.quiet(300), [], 'the INVITE is pending');

    const mark = gw.mark();
    c.send(request({ method: 'CANCEL', uri: target, from: ALICE, fromTag, callId, cseq: 1, branch: b }));
    const cr = await c.next((m) => m.get('via').includes(b) && m.cseqMethod === 'CANCEL');
    assert.equal(cr.status, 200, 'CANCEL matched');
    const fin = await c.next((m) => m.get('via').includes(b) && m.cseqMethod === 'INVITE');
    assert.equal(fin.status, 487);
    await gw.waitLog(/CANCEL matched INVITE/, 2000, mark);
    const toTag = /;tag=([^;\s]+)/.exec(fin.get('to'))[1];
    c.send(request({ method: 'ACK', uri: target, from: ALICE, fromTag, toTag, callId, cseq: 1, branch: b }));
    assert.deepEqual(await c.quiet(500), [], 'the ACK of the 487 is absorbed');
    await c.close();
  });
});

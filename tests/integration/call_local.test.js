// Internal calls (§4.3, issue 3): between two users of one tenant, a call
// goes through IMS by default; with the tenant's `local_calls` it stays
// inside the gateway. Two raw SIP-over-WebSocket clients play the browsers;
// a UDP socket plays a P-CSCF that answers OPTIONS and records the rest.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startGateway, freePort, defaultTenants, ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, request, branch, rand } = require('./lib/sip');
const { udpPcscf } = require('./lib/pcscf');

const ALICE = `sip:+4930123400001@${DOMAIN}`;
const BOB = `sip:+4930123400002@${DOMAIN}`;
const FP = Array(32).fill('AB').join(':');
const offer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=fingerprint:sha-256 ${FP}`,
  'a=setup:actpass', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'a=sendrecv', ''].join('\r\n');
const answer = offer.replace('a=setup:actpass', 'a=setup:active').replace('a=group:BUNDLE 0\r\n', '');

async function bed(localCalls) {
  const { sock: pcscf, seen } = await udpPcscf();
  const tenants = defaultTenants();
  tenants[0].trunk = 'ims';
  tenants[0].local_calls = localCalls;
  tenants[0].ranges = ['+4930123400000-+4930123409999'];
  tenants[1].ranges = ['tel:+4970!1[0-9]{3}!'];   // the other tenant, same trunk
  const trunkPort = await freePort();
  const gw = await startGateway({ tenants, extra: { trunks: [{
    name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
    pcscf: [`sip:127.0.0.1:${pcscf.address().port};transport=udp`], domain: 'ims.test',
    options_interval: 1, failover_time: 2,
  }] } });
  return { gw, pcscf, seen, trunkPort };
}

// Starts a test bed before the tests of a describe block and stops it
// (checking wtpfd exits 0) after them; its fields are filled in before().
function withBed(localCalls) {
  const b = {};
  before(async () => { Object.assign(b, await bed(localCalls)); });
  after(async () => {
    const r = await b.gw.stop();
    b.pcscf.close();
    assert.deepEqual(r, { code: 0, signal: null });
    b.gw.cleanup();
  });
  return b;
}

// Sends an INVITE from the P-CSCF stand-in to the trunk and resolves with
// the first final response. Over UDP the INVITE is sent again until a
// response comes (RFC 3261 timer A: 0.5 s, 1 s, 2 s), as a P-CSCF would.
function imsInvite(b, port, number) {
  const callId = rand(8);
  const text = [`INVITE sip:${number}@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${b.pcscf.address().port};branch=${branch()};rport`,
    'Max-Forwards: 70', `From: <sip:+4940555000999@ims.test>;tag=${rand(4)}`,
    `To: <sip:${number}@ims.test>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:caller@127.0.0.1:${b.pcscf.address().port}>`, 'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(offer)}`, '', offer].join('\r\n');
  return new Promise((resolve, reject) => {
    const resend = [];
    const timer = setTimeout(() => reject(new Error(`no final answer for ${number}`)), 5000);
    const on = (m) => {
      const t = m.toString();
      if (!t.startsWith('SIP/2.0 ') || !t.includes(callId)) return;
      resend.forEach(clearTimeout);
      const status = Number(t.slice(8, 11));
      if (status < 200) return;
      clearTimeout(timer);
      b.pcscf.off('message', on);
      resolve({ status, line: t.split('\r\n')[0] });
    };
    b.pcscf.on('message', on);
    b.pcscf.send(text, port, '127.0.0.1');
    for (const ms of [500, 1500, 3500])
      resend.push(setTimeout(() => b.pcscf.send(text, port, '127.0.0.1'), ms));
  });
}

async function registered(gw, impu, name) {
  const c = await connect(gw.wsUrl, { origin: ORIGIN });
  const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: impu,
    headers: { Authorization: `Bearer ${tok.hs256({ sub: name, impu })}`,
      Contact: `<sip:${name}@${name}.invalid;transport=ws>` } });
  assert.equal(r.status, 200);
  return c;
}

function invite(c, from, to) {
  const o = { callId: rand(8), fromTag: rand(4), branch: branch(), to };
  c.send(request({ method: 'INVITE', uri: to, from, fromTag: o.fromTag, callId: o.callId, cseq: 1,
    branch: o.branch, headers: { Contact: '<sip:a@alice.invalid;transport=ws>',
      'Content-Type': 'application/sdp' }, body: offer }));
  return o;
}

describe('internal calls kept local (tenant local_calls = true)', { timeout: 30000 }, () => {
  const b = withBed(true);

  test('§4.3l alice calls bob: bob rings and answers inside the gateway, nothing reaches IMS', async () => {
    const alice = await registered(b.gw, ALICE, 'alice');
    const bob = await registered(b.gw, BOB, 'bob');
    const o = invite(alice, ALICE, 'sip:+4930123400002@acme.test');
    const inv = await bob.next((m) => m.method === 'INVITE');
    assert.match(inv.get('from'), /\+4930123400001@acme\.test/, 'bob sees alice as the caller');
    assert.match(inv.get('to'), /\+4930123400002/);
    assert.ok(inv.body.includes('a=fingerprint:sha-256'), 'bob gets the WebRTC offer');
    const base = { Via: inv.all('via', false).join(', '), From: inv.get('from'), 'Call-ID': inv.get('call-id'),
      CSeq: inv.get('cseq') };
    const hdrs = (o2) => Object.entries(o2).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    bob.send(`SIP/2.0 180 Ringing\r\n${hdrs(base)}\r\nTo: ${inv.get('to')};tag=bob1\r\nContent-Length: 0\r\n\r\n`);
    const ringing = await alice.next((m) => m.status === 180);
    assert.equal(ringing.get('call-id'), o.callId);
    bob.send(`SIP/2.0 200 OK\r\n${hdrs(base)}\r\nTo: ${inv.get('to')};tag=bob1\r\n` +
      `Contact: <sip:bob@bob.invalid;transport=ws>\r\nContent-Type: application/sdp\r\n` +
      `Content-Length: ${Buffer.byteLength(answer)}\r\n\r\n${answer}`);
    const ok = await alice.next((m) => m.status === 200 && m.cseqMethod === 'INVITE');
    assert.ok(ok.body.includes('a=setup:active'), 'alice gets bob\'s answer');
    await bob.next((m) => m.method === 'ACK');
    // alice hangs up: bob gets the BYE, and IMS saw no INVITE at all.
    const totag = /tag=([^;>\s]+)/.exec(ok.get('to'))[1];
    const bye = await alice.transact({ method: 'BYE', uri: 'sip:wtpf@wtpf.invalid;transport=ws', from: ALICE,
      fromTag: o.fromTag, to: 'sip:+4930123400002@acme.test', toTag: totag, callId: o.callId, cseq: 2 });
    assert.equal(bye.status, 200);
    const bbye = await bob.next((m) => m.method === 'BYE');
    assert.ok(bbye);
    assert.equal(b.seen.filter((l) => l.startsWith('INVITE ')).length, 0, 'no INVITE left the gateway');
    await b.gw.waitLog(/local call to \+4930123400002 kept inside the gateway/, 2000);
    await b.gw.waitLog(/\(calls left: 0\)/, 3000);
    await alice.close();
    await bob.close();
  });
});

describe('inbound numbers with no device (tenant ranges)', { timeout: 30000 }, () => {
  const b = withBed(false);

  test('§4.4i a number of the range with no binding gets 480, a number outside every range 404', async () => {
    const inRange = await imsInvite(b, b.trunkPort, '+4930123405555');
    assert.equal(inRange.status, 480, inRange.line);
    const outside = await imsInvite(b, b.trunkPort, '+4940000000000');
    assert.equal(outside.status, 404, outside.line);
    await b.gw.waitLog(/number outside every tenant's ranges/, 2000);
  });
});

describe('internal calls through IMS (the default)', { timeout: 30000 }, () => {
  const b = withBed(false);

  test('§4.3m alice calls bob: the INVITE goes to the P-CSCF, bob does not ring from the gateway', async () => {
    const alice = await registered(b.gw, ALICE, 'alice');
    const bob = await registered(b.gw, BOB, 'bob');
    invite(alice, ALICE, 'sip:+4930123400002@acme.test');
    const t0 = Date.now();
    while (!b.seen.some((l) => l.startsWith('INVITE ')) && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(b.seen.some((l) => l.startsWith('INVITE sip:+4930123400002@')), `INVITE sent to IMS: ${b.seen}`);
    const early = await bob.quiet(500);
    assert.equal(early.filter((m) => m.method === 'INVITE').length, 0, 'bob was not rung directly');
    await alice.close();
    await bob.close();
  });
});

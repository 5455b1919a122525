// Faults on the browser side and of the gateway itself: a browser that
// vanishes mid-call (its TCP connection gone, no close frame, no BYE), a
// SIGTERM with a call in progress, and kill -9 followed by a restart on
// the same store. What must hold: the other party is told (BYE), every
// call gets its record with an end time and a reason, WebSockets close
// with 1001 on SIGTERM, and after kill -9 nothing committed is lost:
// finished calls' records, users, allocations.
'use strict';
const { describe, test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startGateway, freePort, defaultTenants, addUser, ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, request, branch, rand } = require('./lib/sip');
const { udpPcscf } = require('./lib/pcscf');
const { localCall } = require('./lib/localcall');
const { db } = require('./lib/store');

const TOKEN = 'it-faults-admin-token-42';
const N = (i) => `+49301234${String(i).padStart(5, '0')}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function bed(dir) {
  const { sock, firstProbe } = await udpPcscf();
  const tenants = defaultTenants();
  Object.assign(tenants[0], { trunk: 'ims', local_calls: true, ranges: [`${N(0)}-${N(999)}`] });
  const gw = await startGateway({ dir, tenants, adminToken: TOKEN, extra: { trunks: [{
    name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${await freePort()}`,
    pcscf: [`sip:127.0.0.1:${sock.address().port};transport=udp`], domain: 'ims.test',
  }] } });
  await firstProbe;
  return { gw, pcscf: sock, clients: [] };
}

async function registered(b, i, sub) {
  const c = await connect(b.gw.wsUrl, { origin: ORIGIN });
  b.clients.push(c);
  c.contactUri = `sip:${sub}@${sub}.invalid;transport=ws`;
  c.aor = `sip:${N(i)}@${DOMAIN}`;
  const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: c.aor,
    headers: { Authorization: `Bearer ${tok.hs256({ sub, impu: c.aor })}`,
      Contact: `<${c.contactUri}>;+sip.instance="<urn:uuid:${crypto.randomUUID()}>";reg-id=1` } });
  assert.equal(r.status, 200, r.startLine);
  return c;
}

const cdrs = async (gw) => (await gw.api('/api/cdrs')).json;

describe('faults', { timeout: 60000 }, () => {
  const beds = [];
  after(async () => {
    for (const b of beds) {
      for (const c of b.clients) c.ws.terminate();
      await b.gw.kill();
      b.pcscf.close();
      b.gw.cleanup();
    }
  });

  test('a browser vanishes mid-call: the other party gets BYE, both halves end with a record', async () => {
    const b = await bed();
    beds.push(b);
    const a = await registered(b, 1, 'alice');
    const c = await registered(b, 2, 'bob');
    const call = await localCall(a, c, { from: a.aor, to: c.aor });
    assert.equal(call.ok.status, 200);
    a.ws._socket.destroy();                // no close frame, no BYE
    const bye = await c.next((m) => m.method === 'BYE', 10000);
    assert.ok(bye, 'bob is told');
    c.send(`SIP/2.0 200 OK\r\n${['via', 'from', 'to', 'call-id', 'cseq'].map((h) =>
      `${h}: ${bye.all(h, false).join(', ')}`).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
    await sleep(500);
    const recs = (await cdrs(b.gw)).filter((r) => r.legs.some((l) =>
      l.call_id === call.callId || l.call_id === call.inv.get('call-id')));
    assert.equal(recs.length, 2, JSON.stringify(await cdrs(b.gw)));
    for (const r of recs) {
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.ok(r.answered > 0 && r.ended >= r.answered, JSON.stringify(r));
      assert.ok(r.reason && r.reason.length > 0, `a reason: ${JSON.stringify(r)}`);
    }
    assert.deepEqual((await b.gw.api('/api/calls')).json, [], 'no call left behind');
  });

  test('SIGTERM with a call in progress: BYE to both browsers, WebSockets closed 1001, the records finished', async () => {
    const b = await bed();
    beds.push(b);
    const a = await registered(b, 11, 'carol');
    const c = await registered(b, 12, 'dave');
    const call = await localCall(a, c, { from: a.aor, to: c.aor });
    assert.equal(call.ok.status, 200);
    const byes = [a, c].map((x) => x.next((m) => m.method === 'BYE', 10000).catch(() => null));
    const r = await b.gw.stop();
    assert.deepEqual(r, { code: 0, signal: null }, `exit 0; log:\n${b.gw.log()}`);
    const got = await Promise.all(byes);
    assert.ok(got.every(Boolean), 'both browsers got BYE before the close');
    for (const x of [a, c]) assert.equal((await x.closed).code, 1001);
    // the store outlives the process: the two halves of the call are there, ended
    const recs = db(b.gw, 'SELECT status, ended, reason FROM cdrs');
    assert.equal(recs.length, 2, JSON.stringify(recs));
    for (const { status, ended, reason } of recs) {
      assert.ok(ended > 0, `ended: ${JSON.stringify(recs)}`);
      assert.ok(reason, `a reason: ${JSON.stringify(recs)}`);
      assert.equal(status, 200);
    }
  });

  test('kill -9 and restart on the same store: finished calls\' records, users and numbers are all there', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-faults-'));
    let b = await bed(dir);
    addUser(b.gw.confPath, 'acme', 'erin', 'erin-pass');
    const a = await registered(b, 21, 'frank');
    const c = await registered(b, 22, 'grace');
    const call = await localCall(a, c, { from: a.aor, to: c.aor });
    a.send(request({ method: 'BYE', uri: /<([^>]+)>/.exec(call.ok.get('contact'))[1], from: a.aor,
      fromTag: call.fromTag, to: c.aor, toTag: /tag=([^;>\s]+)/.exec(call.ok.get('to'))[1],
      callId: call.callId, cseq: 2 }));
    const bye = await c.next((m) => m.method === 'BYE');
    c.send(`SIP/2.0 200 OK\r\n${['via', 'from', 'to', 'call-id', 'cseq'].map((h) =>
      `${h}: ${bye.all(h, false).join(', ')}`).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
    await a.next((m) => m.status === 200 && m.cseqMethod === 'BYE');
    await sleep(300);
    const before = await cdrs(b.gw);
    assert.equal(before.length, 2);
    const idsBefore = (await b.gw.api('/api/identities')).json;
    await b.gw.kill();                       // SIGKILL: no shutdown at all
    for (const x of b.clients) x.ws.terminate();
    b.clients = [];
    b.pcscf.close();
    b = await bed(dir);
    beds.push(b);
    assert.deepEqual((await cdrs(b.gw)).map((r) => [r.id, r.corr, r.status, r.ended]),
      before.map((r) => [r.id, r.corr, r.status, r.ended]), 'the records, as they were');
    const idsAfter = (await b.gw.api('/api/identities')).json;
    const key = (l) => l.map((x) => `${x.tenant}/${x.number}/${x.subject}`).sort();
    assert.deepEqual(key(idsAfter), key(idsBefore), 'the numbers, each with its subject');
    // erin's digest credentials survived: she still registers
    const e = await connect(b.gw.wsUrl, { origin: ORIGIN });
    b.clients.push(e);
    const r1 = await e.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:erin@${DOMAIN}`,
      headers: { Contact: '<sip:erin@e.invalid;transport=ws>' } });
    assert.equal(r1.status, 401);
    // and the numbers are not given to anybody else: frank gets his own back
    const f = await registered(b, 21, 'frank');
    assert.ok(f);
  });
});

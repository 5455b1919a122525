// Overload protection of the WebSocket edge (configuration group `limits`,
// tenant `max_calls`): connections in all and per source address, REGISTER
// and INVITE rates per address, pending transactions, the lockout after
// repeated failed authentication, and calls per tenant. Each refusal is
// checked as the client sees it (503 with Retry-After, a refused or dropped
// handshake, 403 while locked out), in the metrics, and the gateway must
// serve again once the load is gone.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');

const { udpPcscf } = require('./lib/pcscf');
const { startGateway, addUser, freePort, defaultTenants, ORIGIN, DOMAIN, CLOSED_ORIGIN, CLOSED_DOMAIN,
  ISS } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, request, branch, rand } = require('./lib/sip');
const { OFFER, reply } = require('./lib/localcall');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The value of a metric line (labels as written), or undefined.
async function metric(gw, name) {
  const text = (await gw.admin('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('limits: connections, rates, transactions, lockout, calls per tenant', { timeout: 60000 }, () => {
  let gw;
  const clients = [];

  let pcscf;

  before(async () => {
    // calls between users, even local ones, need their tenant's trunk: a
    // static one toward a UDP stand-in that answers OPTIONS
    ({ sock: pcscf } = await udpPcscf());
    const trunkPort = await freePort();
    const tenants = defaultTenants();
    tenants[0].trunk = 'ims';
    tenants[1].trunk = 'ims';
    tenants[0].local_calls = true;
    tenants[0].max_calls = 1;
    tenants[1].local_calls = true;
    gw = await startGateway({
      tenants,
      extra: { trunks: [{ name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
        pcscf: [`sip:127.0.0.1:${pcscf.address().port};transport=udp`], domain: 'ims.test' }],
      limits: {
        max_connections: 12, max_connections_per_address: 8,
        register_rate: 5, invite_rate: 50, max_transactions: 100,
        auth_failures: 3, auth_window: 60, lockout_time: 2, retry_after: 7,
      } },
    });
    addUser(gw.confPath, 'acme', 'carol', 'carol-pass');
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    const r = await gw.stop();
    pcscf.close();
    assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
    gw.cleanup();
  });

  async function client(o = {}) {
    const c = await connect(gw.wsUrl, { origin: ORIGIN, ...o });
    clients.push(c);
    return c;
  }

  function closeAll() {
    for (const c of clients.splice(0)) c.ws.terminate();
    return sleep(300);
  }

  async function register(c, user, extra = {}) {
    return c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:${user}@${DOMAIN}`,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: user })}`,
        Contact: `<sip:${user}@${rand(4)}.invalid;transport=ws>`, ...extra } });
  }

  test('the descriptor limit is sized to max_connections (12) plus the reserve (512), within the hard limit', async () => {
    const row = fs.readFileSync(`/proc/${gw.pid}/limits`, 'utf8').split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = row.replace('Max open files', '').trim().split(/\s+/);
    const want = hard === 'unlimited' ? 524 : Math.min(524, Number(hard));
    assert.equal(Number(soft), want, row);
    await gw.waitLog(new RegExp(`descriptor limit ${want} `), 1000);

    // A reload cannot give libwebsockets more: it says a restart is needed.
    const mark = gw.mark();
    gw.config.limits.max_connections = 2000;
    gw.writeConfig();
    assert.match(await gw.reload(), /configuration reloaded/);
    await gw.waitLog(new RegExp(`max_connections 2000 needs a descriptor limit of 2512, set at start to ${want}`),
      1000, mark);
    gw.config.limits.max_connections = 12;
    gw.writeConfig();
    assert.match(await gw.reload(), /configuration reloaded/);
  });

  test('connections from one address: past max_connections_per_address the handshake gets 503', async () => {
    for (let i = 0; i < 8; i++) await client();
    await assert.rejects(client(), (e) => e.statusCode === 503, 'the 9th from 127.0.0.1 is refused');
    assert.equal(await metric(gw, 'wtpf_overload_refusals_total{reason="address_connections"}'), 1);
    // another source address is not this one's problem
    const other = await client({ localAddress: '127.0.0.2' });
    assert.ok(other);
    clients.pop().ws.terminate();
    clients.pop().ws.terminate();
    await sleep(300);
    assert.ok(await client(), 'a place freed: accepted again');
    await closeAll();
  });

  test('connections in all: past max_connections a connection is dropped at accept', async () => {
    for (let i = 0; i < 12; i++)
      await client({ localAddress: `127.0.0.${10 + (i % 3)}` });
    await assert.rejects(client({ localAddress: '127.0.0.20' }), 'the 13th is not served');
    assert.equal(await metric(gw, 'wtpf_overload_refusals_total{reason="connections"}'), 1);
    await gw.waitLog(/connection closed at accept: 12 connections/, 2000);
    await closeAll();
    assert.ok(await client({ localAddress: '127.0.0.20' }), 'served again once they left');
    await closeAll();
  });

  test('REGISTER rate of an address: a burst past twice register_rate gets 503 with Retry-After, then it recovers', async () => {
    const c = await client({ localAddress: '127.0.0.30' });
    const statuses = [];
    let refused;
    for (let i = 0; i < 14; i++) {
      const r = await register(c, 'burst');
      statuses.push(r.status);
      if (r.status === 503) refused = r;
    }
    assert.equal(statuses.filter((s) => s === 200).length, 10, `burst of 10 (2 x 5) then 503: ${statuses}`);
    assert.equal(statuses.slice(10).every((s) => s === 503), true, `${statuses}`);
    assert.equal(refused.get('retry-after'), '7');
    assert.equal(await metric(gw, 'wtpf_overload_refusals_total{reason="register_rate"}'), 4);
    await sleep(1100);                      // 5 tokens back
    assert.equal((await register(c, 'burst')).status, 200, 'the address recovers');
    await closeAll();
  });

  test('pending transactions: past max_transactions new requests get 503 "Overloaded"', async () => {
    // users of the other tenant (no max_calls, local calls): INVITEs to a
    // callee that never answers each hold a transaction on both flows
    const closed = { origin: CLOSED_ORIGIN };
    const caller = await client({ localAddress: '127.0.0.40', ...closed });
    const callee = await client({ localAddress: '127.0.0.41', ...closed });
    for (const [c, u] of [[caller, 'pa'], [callee, 'pb']]) {
      const r = await c.transact({ method: 'REGISTER', uri: `sip:${CLOSED_DOMAIN}`,
        from: `sip:${u}@${CLOSED_DOMAIN}`,
        headers: { Authorization: `Bearer ${tok.hs256({ sub: u, iss: ISS.closed })}`,
          Contact: `<sip:${u}@${u}.invalid;transport=ws>` } });
      assert.equal(r.status, 200, r.startLine);
    }
    for (let i = 0; i < 70; i++)
      caller.send(request({ method: 'INVITE', uri: `sip:pb@${CLOSED_DOMAIN}`,
        from: `sip:pa@${CLOSED_DOMAIN}`, branch: branch(),
        headers: { Contact: '<sip:pa@pa.invalid;transport=ws>', 'Content-Type': 'application/sdp' },
        body: OFFER }));
    const overloaded = await caller.next((m) => m.status === 503 && m.reason === 'Overloaded', 5000);
    assert.equal(overloaded.get('retry-after'), '7');
    // the INVITEs relayed before the 503 may still be on their way to the
    // callee's socket when the 503 reaches the caller's: let them land
    const invites = () => callee.messages.filter((m) => m.method === 'INVITE').length;
    for (let i = 0; i < 40 && invites() < 45; i++) await sleep(50);
    await sleep(200);
    const rang = invites();
    assert.ok(rang >= 45 && rang <= 50, `about max_transactions / 2 calls reached the callee: ${rang}`);
    assert.ok(await metric(gw, 'wtpf_overload_refusals_total{reason="transactions"}') >= 1);
    await closeAll();
    await sleep(500);
  });

  test('failed authentication: the address and the user are locked out for lockout_time, then served again', async () => {
    const c = await client({ localAddress: '127.0.0.50' });
    const uri = `sip:${DOMAIN}`;
    const H = (s) => crypto.createHash('md5').update(s).digest('hex');
    const digestRegister = async (pass, cseq) => {
      const callId = rand(8);
      const from = `sip:carol@${DOMAIN}`;
      const contact = '<sip:carol@lock.invalid;transport=ws>';
      const r1 = await c.transact({ method: 'REGISTER', uri, from, callId, cseq, headers: { Contact: contact } });
      if (r1.status !== 401) return r1;
      const ch = r1.all('www-authenticate', false).find((x) => /Digest/.test(x) && /MD5/.test(x));
      const nonce = /nonce="([^"]+)"/.exec(ch)[1];
      const realm = /realm="([^"]+)"/.exec(ch)[1];
      const cnonce = rand(4);
      const resp = H(`${H(`carol:${realm}:${pass}`)}:${nonce}:00000001:${cnonce}:auth:${H(`REGISTER:${uri}`)}`);
      return c.transact({ method: 'REGISTER', uri, from, callId, cseq: cseq + 1, headers: { Contact: contact,
        Authorization: `Digest username="carol", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
          `response="${resp}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"` } });
    };
    await sleep(1100);                       // register_rate: a fresh bucket
    for (let i = 0; i < 3; i++)
      assert.equal((await digestRegister('wrong', 10 * i + 1)).status, 403, 'bad password');
    const locked = await digestRegister('carol-pass', 100);
    assert.equal(locked.status, 403, 'the right password is refused while locked');
    assert.equal(locked.reason, 'Locked Out After Failed Authentications');
    assert.equal(locked.get('retry-after'), '2');
    assert.equal(await metric(gw, 'wtpf_auth_lockouts_total{kind="address"}'), 1);
    assert.equal(await metric(gw, 'wtpf_auth_lockouts_total{kind="user"}'), 1);
    await gw.waitLog(/address 127\.0\.0\.50 locked out for 2 s/, 2000);
    await sleep(2200);
    assert.equal((await digestRegister('carol-pass', 200)).status, 200, 'served again after lockout_time');
    await closeAll();
  });

  test('calls of a tenant: past max_calls a new call gets 503 with Retry-After; after it ends, calls go again', async () => {
    const a = await client({ localAddress: '127.0.0.60' });
    const b = await client({ localAddress: '127.0.0.61' });
    const d = await client({ localAddress: '127.0.0.62' });
    a.contactUri = 'sip:ma@a.invalid;transport=ws';
    for (const [c, u] of [[a, 'ma'], [b, 'mb'], [d, 'md']]) {
      const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:${u}@${DOMAIN}`,
        headers: { Authorization: `Bearer ${tok.hs256({ sub: u })}`,
          Contact: `<sip:${u}@${u}.invalid;transport=ws>` } });
      assert.equal(r.status, 200);
    }
    // a calls b: b rings and does not answer yet (one call in progress)
    const inv1 = { callId: rand(8), fromTag: rand(4) };
    a.send(request({ method: 'INVITE', uri: `sip:mb@${DOMAIN}`, from: `sip:ma@${DOMAIN}`, ...inv1,
      branch: branch(), headers: { Contact: '<sip:ma@a.invalid;transport=ws>',
        'Content-Type': 'application/sdp' }, body: OFFER }));
    const ringing = await b.next((m) => m.method === 'INVITE');
    reply(b, ringing, 180, 'Ringing', { toTag: 'b1' });
    // d calls too: refused
    const r2 = await d.transact({ method: 'INVITE', uri: `sip:ma@${DOMAIN}`, from: `sip:md@${DOMAIN}`,
      headers: { Contact: '<sip:md@d.invalid;transport=ws>', 'Content-Type': 'application/sdp' },
      body: OFFER });
    assert.equal(r2.status, 503);
    assert.equal(r2.reason, 'Too Many Calls For The Tenant');
    assert.equal(r2.get('retry-after'), '7');
    // b declines: the first call ends, and a new one is placed again
    reply(b, ringing, 486, 'Busy Here', { toTag: 'b1' });
    await a.next((m) => m.status === 486);
    const r3 = d.transact({ method: 'INVITE', uri: `sip:ma@${DOMAIN}`, from: `sip:md@${DOMAIN}`,
      headers: { Contact: '<sip:md@d.invalid;transport=ws>', 'Content-Type': 'application/sdp' },
      body: OFFER });
    const toA = await a.next((m) => m.method === 'INVITE');
    reply(a, toA, 603, 'Decline', { toTag: 'a1' });
    assert.equal((await r3).status, 603, 'the call reached its callee');
    await closeAll();
  });
});

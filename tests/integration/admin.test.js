// The operations listener: GET /health and GET /metrics (Prometheus text
// format), served on their own loopback port next to the WebSocket edge;
// anything else is refused with a clear status. The gauges follow what
// happens on the edge: a connection opened, a device registered, both gone.
//
// The JSON API under /api/ (gateway/admin/api*.c), against a real wtpfd
// with an admin token: closed (403) without a token configured, 401 with a
// missing or wrong one; every GET route's shape with real registrations,
// allocations and a local call; users made through the API registering
// with digest; agents paused and resumed; diversion settings in the store
// (read back with the sqlite3 CLI) and their validation; reload, good and
// refused; a call hung up through the API.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');

const { startGateway, freePort, defaultTenants } = require('./lib/gateway');
const J = require(path.join(__dirname, '../web/lib/jssip-node.js'));
const tok = require('./lib/tokens');
const { connect, rand } = require('./lib/sip');
const { reply, localCall } = require('./lib/localcall');
const { udpPcscf } = require('./lib/pcscf');
const { ORIGIN, DOMAIN, CLOSED_ORIGIN, CLOSED_DOMAIN, ISS } = require('./lib/gateway');

describe('admin listener', { timeout: 30000 }, () => {
  let gw;

  before(async () => { gw = await startGateway(); });
  after(async () => {
    const r = await gw.stop();
    assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
    gw.cleanup();
  });

  test('GET /health answers JSON; an unknown path 404; a POST 405', async () => {
    const h = await gw.admin('/health');
    assert.equal(h.status, 200);
    assert.match(h.type, /application\/json/);
    assert.deepEqual(JSON.parse(h.body), { status: 'ok' });
    const nf = await gw.admin('/nope');
    assert.equal(nf.status, 404);
    assert.match(nf.body, /no such path: \/nope/);
    const r = await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(r.status, 405);
  });

  test('no admin token configured: every /api/ route answers 403, token or not; /health and /metrics stay open', async () => {
    for (const [method, p] of [['GET', '/api/health'], ['GET', '/api/calls'], ['POST', '/api/reload'],
      ['DELETE', '/api/users/acme/x'], ['PUT', '/api/diversions/acme/+4930123400001']]) {
      for (const token of [null, 'whatever-token-0123456789']) {
        const r = await gw.api(p, { method, token, body: method === 'PUT' ? {} : undefined });
        assert.equal(r.status, 403, `${method} ${p} token=${token}: ${r.body}`);
        assert.match(r.json.error, /no admin token is configured/);
      }
    }
    assert.equal((await gw.admin('/health')).status, 200);
    assert.equal((await gw.admin('/metrics')).status, 200);
  });

  test('GET /metrics: Prometheus text with HELP and TYPE; the gauges follow a registration', async () => {
    const m = await gw.admin('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    for (const name of ['wtpf_ws_connections', 'wtpf_registrations', 'wtpf_calls_active']) {
      assert.match(m.body, new RegExp(`^# TYPE ${name} gauge$`, 'm'), name);
      assert.match(m.body, new RegExp(`^# HELP ${name} .+$`, 'm'), name);
    }
    assert.equal(await gw.metric('wtpf_ws_connections'), 0);
    assert.equal(await gw.metric('wtpf_registrations'), 0);

    const r = await J.register({ ws: gw.wsUrl, origin: ORIGIN, uri: `sip:alice@${DOMAIN}`,
      authorization_jwt: `Bearer ${tok.hs256({ sub: 'alice' })}` });
    assert.ok(r.ok, `registered: ${r.status} ${r.reason || ''}`);
    assert.equal(await gw.metric('wtpf_ws_connections'), 1);
    assert.equal(await gw.metric('wtpf_registrations'), 1);
    await J.stop(r.ua);
    await gw.waitLog(/flow closed|binding removed/, 3000);
    for (let i = 0; i < 20 && await gw.metric('wtpf_ws_connections'); i++)
      await new Promise((res) => setTimeout(res, 100));
    assert.equal(await gw.metric('wtpf_ws_connections'), 0);
    assert.equal(await gw.metric('wtpf_registrations'), 0);
  });
});

// ---- the JSON API ----------------------------------------------------

const TOKEN = 'it-admin-token-7f3a9c1e5b2d';
const N = (i) => `+49301234${String(i).padStart(5, '0')}`;
const ALICE = N(1), BOB = N(2), CAROL = N(3), GROUP = N(9000), CONF_DIV = N(9);
const { db } = require('./lib/store');

// An MD5 qop=auth digest answer to a 401's challenge.
function digest(res, user, pass, uri) {
  const ch = res.all('www-authenticate', false)
    .find((v) => /^Digest\b/.test(v) && /algorithm="?MD5\b/.test(v));
  assert.ok(ch, `an MD5 digest challenge: ${res.all('www-authenticate', false)}`);
  const p = (k) => (new RegExp(`${k}="([^"]*)"`).exec(ch) || [])[1];
  const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
  const [realm, nonce, opaque] = [p('realm'), p('nonce'), p('opaque')];
  const cnonce = rand(8), nc = '00000001';
  const response = md5(`${md5(`${user}:${realm}:${pass}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=MD5, cnonce="${cnonce}", nc=${nc}, qop=auth` +
    (opaque !== undefined ? `, opaque="${opaque}"` : '');
}

// The status of a digest REGISTER of user/pass on a new connection
// (challenge, then the answer); 401 when the first one was not challenged.
async function digestRegister(gw, clients, user, pass) {
  const c = await connect(gw.wsUrl, { origin: ORIGIN });
  clients.push(c);
  const o = { method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:${user}@${DOMAIN}`, callId: rand(8),
    headers: { Contact: `<sip:${user}@${rand(3)}.invalid;transport=ws>` } };
  const ch = await c.transact({ ...o, cseq: 1 });
  assert.equal(ch.status, 401, ch.startLine);
  const r = await c.transact({ ...o, cseq: 2,
    headers: { ...o.headers, Authorization: digest(ch, user, pass, `sip:${DOMAIN}`) } });
  return r;
}

describe('admin JSON API (bearer token)', { timeout: 30000 }, () => {
  const b = { clients: [] };
  let gw, alice, bob;

  before(async () => {
    const { sock, seen, firstProbe } = await udpPcscf();
    Object.assign(b, { pcscf: sock, seen });
    const tenants = defaultTenants();
    tenants[0].trunk = 'ims';
    tenants[0].local_calls = true;
    tenants[0].ranges = [`${N(0)}-${N(9999)}`];
    tenants[0].services = {
      diversion: [{ identity: CONF_DIV, busy: GROUP, no_answer: GROUP }],
      ring_groups: [{ number: GROUP, name: 'support', strategy: 'sequential',
        members: [ALICE, BOB, CAROL], wrap_up: 60 }],
    };
    const trunkPort = await freePort();
    gw = b.gw = await startGateway({ tenants, adminToken: TOKEN, extra: { log_format: 'kv', trunks: [{
      name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
      pcscf: [`sip:127.0.0.1:${sock.address().port};transport=udp`], domain: 'ims.test',
      options_interval: 1, failover_time: 2,
    }] } });
    await firstProbe;
  });
  after(async () => {
    for (const c of b.clients) c.ws.terminate();
    try {
      if (gw) {
        const r = await gw.stop();
        assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
      }
    } finally {
      if (gw) { await gw.kill(); gw.cleanup(); }
      if (b.pcscf) b.pcscf.close();
    }
  });

  async function registered(number, sub) {
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    b.clients.push(c);
    c.contactUri = `sip:${sub}@${sub}.invalid;transport=ws`;
    c.instance = `<urn:uuid:${crypto.randomUUID()}>`;
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:${number}@${DOMAIN}`,
      headers: { Authorization: `Bearer ${tok.hs256({ sub, impu: `sip:${number}@${DOMAIN}` })}`,
        Contact: `<${c.contactUri}>;+sip.instance="${c.instance}";reg-id=1` } });
    assert.equal(r.status, 200, r.startLine);
    return c;
  }

  test('token: missing, wrong, longer, shorter or not Bearer → 401; the right one (any case of "Bearer") → 200', async () => {
    for (const token of [null, 'x'.repeat(TOKEN.length), TOKEN.slice(0, -1), `${TOKEN}x`, ` ${TOKEN}`]) {
      const r = await gw.api('/api/health', { token });
      assert.equal(r.status, 401, `token ${token}: ${r.body}`);
      assert.match(r.type, /application\/json/);
      assert.match(r.json.error, /missing or wrong admin token/);
    }
    const basic = await fetch(`http://127.0.0.1:${gw.adminPort}/api/tenants`,
      { headers: { Authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` } });
    assert.equal(basic.status, 401);
    const lower = await fetch(`http://127.0.0.1:${gw.adminPort}/api/health`,
      { headers: { Authorization: `bearer ${TOKEN}` } });
    assert.equal(lower.status, 200);
    // a 401 changes nothing: a POST without the token does not reload
    const mark = gw.mark();
    assert.equal((await gw.api('/api/reload', { method: 'POST', token: null })).status, 401);
    assert.equal((await gw.api('/api/users', { method: 'POST', token: 'nope',
      body: { tenant: 'acme', username: 'mallory', password: 'mallory-pass' } })).status, 401);
    assert.equal(db(gw, "SELECT * FROM users WHERE username = 'mallory'").length, 0);
    assert.ok(!gw.log().split('\n').slice(mark).some((l) => /configuration reloaded/.test(l)));
    // the open routes stay open
    assert.equal((await gw.admin('/metrics')).status, 200);
    assert.deepEqual(JSON.parse((await gw.admin('/health')).body), { status: 'ok' });
    // unknown path 404, wrong method 405, too large a body 413: JSON errors
    const nf = await gw.api('/api/nope');
    assert.equal(nf.status, 404);
    assert.match(nf.json.error, /no such path: \/api\/nope/);
    const na = await gw.api('/api/reload');
    assert.equal(na.status, 405);
    assert.match(na.json.error, /GET is not allowed on \/api\/reload/);
    assert.equal((await gw.api('/api/calls', { method: 'PUT', body: {} })).status, 405);
    const big = await gw.api('/api/users', { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(70000) }) });
    assert.equal(big.status, 413);
    assert.match(big.json.error, /larger than 65536 bytes/);
  });

  test('GET /api/health and /api/trunks', async () => {
    const h = await gw.api('/api/health');
    assert.equal(h.status, 200);
    assert.match(h.type, /application\/json/);
    assert.equal(h.json.status, 'ok');
    assert.ok(Number.isInteger(h.json.uptime) && h.json.uptime >= 0 && h.json.uptime < 60, `uptime ${h.json.uptime}`);
    assert.deepEqual({ ...h.json, uptime: 0 },
      { status: 'ok', uptime: 0, connections: 0, registrations: 0, calls: 0 });
    let t;
    for (let i = 0; i < 30; i++) {
      t = await gw.api('/api/trunks');
      if (t.json[0] && t.json[0].up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(t.status, 200);
    assert.equal(t.json.length, 1);
    const [ims] = t.json;
    assert.equal(ims.name, 'ims');
    assert.equal(ims.mode, 'static');
    assert.equal(ims.up, true, JSON.stringify(ims));
    assert.equal(typeof ims.state, 'string');
    assert.match(ims.pcscf, new RegExp(`127\\.0\\.0\\.1:${b.pcscf.address().port}`));
    assert.equal(ims.last_error, '');
  });

  test('registered clients in /api/registrations, /api/identities, /api/tenants and /api/health', async () => {
    alice = await registered(ALICE, 'alice');
    bob = await registered(BOB, 'bob');
    const regs = await gw.api('/api/registrations');
    assert.equal(regs.status, 200);
    assert.equal(regs.json.length, 2, regs.body);
    const a = regs.json.find((r) => r.number === ALICE);
    assert.ok(a, regs.body);
    assert.equal(a.aor, `sip:${ALICE}@${DOMAIN}`);
    assert.equal(a.tenant, 'acme');
    assert.match(a.contact, /sip:alice@alice\.invalid/);
    assert.equal(a.instance, alice.instance);
    assert.match(a.impi, /\S/);
    assert.match(a.peer, /127\.0\.0\.1/);
    assert.equal(a.tls, false);
    assert.ok(Number.isInteger(a.connection) && a.connection > 0);
    assert.ok(a.expires_in > 500 && a.expires_in <= 600, `expires_in ${a.expires_in}`);
    const conns = new Set(regs.json.map((r) => r.connection));
    assert.equal(conns.size, 2, 'one connection each');

    assert.equal((await gw.api('/api/registrations?tenant=acme')).json.length, 2);
    // the filter is found among other arguments, and decoded once
    assert.equal((await gw.api('/api/registrations?x=1&tenant=acme&y')).json.length, 2);
    assert.deepEqual((await gw.api('/api/registrations?x=1&tenant=closed')).json, []);
    assert.equal((await gw.api('/api/registrations?tenant=%61cme')).json.length, 2);
    assert.match((await gw.api('/api/registrations?tenant=a%2526b&x=1')).json.error, /no tenant 'a%26b'/);
    assert.deepEqual((await gw.api('/api/registrations?tenant=closed')).json, []);
    const nt = await gw.api('/api/registrations?tenant=nope');
    assert.equal(nt.status, 404);
    assert.match(nt.json.error, /no tenant 'nope'/);

    const ids = await gw.api('/api/identities?tenant=acme');
    assert.equal(ids.status, 200);
    const mine = ids.json.filter((i) => i.number === ALICE || i.number === BOB)
      .sort((x, y) => x.number.localeCompare(y.number));
    assert.deepEqual(mine.map((i) => [i.tenant, i.set, i.number, i.subject, i.state, i.hold_until]),
      [['acme', 'main', ALICE, 'alice', 'in use', 0], ['acme', 'main', BOB, 'bob', 'in use', 0]]);
    assert.ok(mine.every((i) => Math.abs(i.created - Date.now() / 1000) < 30));
    assert.deepEqual((await gw.api('/api/identities?tenant=closed')).json, []);
    assert.equal((await gw.api('/api/identities')).json.length, ids.json.length);
    assert.equal((await gw.api('/api/identities?tenant=nope')).status, 404);

    const tenants = await gw.api('/api/tenants');
    assert.equal(tenants.status, 200);
    assert.deepEqual(tenants.json.map((t) => t.name), ['acme', 'closed']);
    const acme = tenants.json[0];
    assert.deepEqual(acme, { name: 'acme', domain: DOMAIN, trunk: 'ims', ranges: [`${N(0)}-${N(9999)}`],
      max_identities: 0, identities_in_use: ids.json.length, identities_held: 0,
      identities_refused: 0, ring_groups: 1 });
    assert.equal(tenants.json[1].ring_groups, 0);

    const h = (await gw.api('/api/health')).json;
    assert.equal(h.connections, 2);
    assert.equal(h.registrations, 2);
  });

  test('users: POST makes a digest user (HA1 only) that registers; DELETE ends it; bad input 400/404', async () => {
    const add = await gw.api('/api/users', { method: 'POST',
      body: { tenant: 'acme', username: 'zoe', password: 'z0e-secret!' } });
    assert.equal(add.status, 201, add.body);
    assert.deepEqual(add.json, { tenant: 'acme', username: 'zoe', realm: DOMAIN });
    const [row] = db(gw, "SELECT * FROM users WHERE tenant = 'acme' AND username = 'zoe'");
    const md5 = crypto.createHash('md5').update(`zoe:${DOMAIN}:z0e-secret!`).digest('hex');
    const sha = crypto.createHash('sha256').update(`zoe:${DOMAIN}:z0e-secret!`).digest('hex');
    assert.equal(row.ha1_md5, md5);
    assert.equal(row.ha1_sha256, sha);
    assert.ok(!JSON.stringify(row).includes('z0e-secret'), 'no password in the store');

    const ok = await digestRegister(gw, b.clients, 'zoe', 'z0e-secret!');
    assert.equal(ok.status, 200, ok.startLine);
    const wrong = await digestRegister(gw, b.clients, 'zoe', 'not-her-pass');
    assert.equal(wrong.status, 403, wrong.startLine);

    const del = await gw.api('/api/users/acme/zoe', { method: 'DELETE' });
    assert.equal(del.status, 200, del.body);
    assert.deepEqual(del.json, { tenant: 'acme', username: 'zoe', state: 'deleted' });
    assert.equal(db(gw, "SELECT * FROM users WHERE username = 'zoe'").length, 0);
    const gone = await digestRegister(gw, b.clients, 'zoe', 'z0e-secret!');
    assert.equal(gone.status, 403, `a deleted user cannot register: ${gone.startLine}`);
    const again = await gw.api('/api/users/acme/zoe', { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.match(again.json.error, /no user 'zoe' in tenant acme/);
    assert.equal((await gw.api('/api/users/nope/zoe', { method: 'DELETE' })).status, 404);
    // a name that needs escaping in the path is decoded once
    const odd = 'a%41+b\'c';
    assert.equal((await gw.api('/api/users', { method: 'POST',
      body: { tenant: 'acme', username: odd, password: 'long-enough' } })).status, 201);
    const od = await gw.api(`/api/users/acme/${encodeURIComponent(odd)}`, { method: 'DELETE' });
    assert.equal(od.status, 200, od.body);
    assert.equal(od.json.username, odd);

    const bad = async (body, status, re) => {
      const r = await gw.api('/api/users', { method: 'POST', body });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.json.error, re);
    };
    await bad({ tenant: 'acme', username: 'yan', password: 'short' }, 400, /at least 8 characters/);
    await bad({ tenant: 'acme', password: 'long-enough' }, 400, /'username' is required/);
    await bad({ tenant: 'acme', username: 7, password: 'long-enough' }, 400, /'username' must be a string/);
    await bad({ tenant: 'acme', username: 'a b', password: 'long-enough' }, 400, /'username' must be/);
    await bad({ tenant: 'acme', username: 'x@y', password: 'long-enough' }, 400, /'username' must be/);
    await bad({ tenant: 'acme', username: 'x/y', password: 'long-enough' }, 400, /'username' must be .*'\/'/);
    await bad({ tenant: 'acme', username: '..', password: 'long-enough' }, 400, /'username' must be/);
    await bad({ tenant: 'nope', username: 'yan', password: 'long-enough' }, 404, /no tenant 'nope'/);
    await bad('{"tenant": "acme",', 400, /body is not JSON: .*\(line 1, column \d+\)/);
    await bad('["acme"]', 400, /body must be a JSON object/);
    assert.equal(db(gw, "SELECT * FROM users WHERE username = 'yan'").length, 0);
  });

  test('ring groups: members with state and devices; pause and resume reflected in /api/groups and the store', async () => {
    const groups = async () => {
      const r = await gw.api('/api/groups');
      assert.equal(r.status, 200);
      assert.equal(r.json.length, 1);
      return r.json[0];
    };
    const g = await groups();
    assert.deepEqual({ ...g, members: undefined }, { tenant: 'acme', number: GROUP, name: 'support',
      strategy: 'sequential', member_timeout: 15, timeout: 60, overflow: '', call_waiting: false,
      wrap_up: 60, members: undefined });
    assert.deepEqual(g.members.map((m) => [m.number, m.state, m.paused, m.calls, m.devices]),
      [[ALICE, 'available', false, 0, 1], [BOB, 'available', false, 0, 1], [CAROL, 'available', false, 0, 0]]);

    const p = await gw.api(`/api/agents/acme/${encodeURIComponent(BOB)}/pause`, { method: 'POST' });
    assert.equal(p.status, 200, p.body);
    assert.deepEqual(p.json, { tenant: 'acme', number: BOB, paused: true });
    assert.deepEqual((await groups()).members.map((m) => [m.number, m.state, m.paused]),
      [[ALICE, 'available', false], [BOB, 'paused', true], [CAROL, 'available', false]]);
    assert.deepEqual(db(gw, `SELECT paused FROM agents WHERE tenant = 'acme' AND number = '${BOB}'`), [{ paused: 1 }]);
    // a number written with separators is the same agent
    const r = await gw.api('/api/agents/acme/+49-30-12340-0002/resume', { method: 'POST' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { tenant: 'acme', number: BOB, paused: false });
    assert.equal((await groups()).members[1].state, 'available');
    assert.deepEqual(db(gw, `SELECT paused FROM agents WHERE number = '${BOB}'`), [{ paused: 0 }]);

    const nt = await gw.api(`/api/agents/nope/${BOB}/pause`, { method: 'POST' });
    assert.equal(nt.status, 404);
    const nn = await gw.api('/api/agents/acme/bob/pause', { method: 'POST' });
    assert.equal(nn.status, 400);
    assert.match(nn.json.error, /'bob' is not a number/);
    const out = await gw.api('/api/agents/acme/+4940999/pause', { method: 'POST' });
    assert.equal(out.status, 422, out.body);
    assert.match(out.json.error, /not within tenant acme's numbers/);
    assert.equal((await gw.api(`/api/agents/acme/${BOB}/pause`)).status, 405);
  });

  test('diversions: config entries, PUT/GET/DELETE round trip with the store row, validation', async () => {
    const url = (n) => `/api/diversions/acme/${encodeURIComponent(n)}`;
    const list0 = await gw.api('/api/diversions?tenant=acme');
    assert.equal(list0.status, 200);
    assert.deepEqual(list0.json, [{ tenant: 'acme', identity: CONF_DIV, unconditional: '', busy: GROUP,
      no_answer: GROUP, not_reachable: '', no_answer_time: 0, source: 'config' }]);
    assert.deepEqual((await gw.api(url(CONF_DIV))).json.source, 'config');
    const none = await gw.api(url(ALICE));
    assert.equal(none.status, 404);
    assert.match(none.json.error, /no diversion for \+4930123400001 in tenant acme/);

    const set = { unconditional: '', busy: BOB, no_answer: 'sip:voicemail@acme.test',
      not_reachable: 'tel:+4940123456', no_answer_time: 25 };
    const put = await gw.api(url(ALICE), { method: 'PUT', body: set });
    assert.equal(put.status, 200, put.body);
    const want = { tenant: 'acme', identity: ALICE, ...set, source: 'store' };
    assert.deepEqual(put.json, want);
    assert.deepEqual((await gw.api(url(ALICE))).json, want);
    const rows = db(gw, `SELECT tenant, identity, unconditional, busy, no_answer, not_reachable, no_answer_time
      FROM diversions WHERE identity = '${ALICE}'`);
    assert.deepEqual(rows, [{ tenant: 'acme', identity: ALICE, ...set }]);
    // PUT replaces the whole setting; absent members are cleared
    const put2 = await gw.api(url(ALICE), { method: 'PUT', body: { unconditional: CAROL } });
    assert.equal(put2.status, 200, put2.body);
    assert.deepEqual(db(gw, `SELECT unconditional, busy, no_answer_time FROM diversions WHERE identity = '${ALICE}'`),
      [{ unconditional: CAROL, busy: '', no_answer_time: 0 }]);
    // a stored setting replaces the configuration's for that number
    assert.equal((await gw.api(url(CONF_DIV), { method: 'PUT', body: { busy: ALICE } })).status, 200);
    let list = (await gw.api('/api/diversions')).json;
    assert.deepEqual(list.map((d) => [d.identity, d.source]).sort(),
      [[ALICE, 'store'], [CONF_DIV, 'store']]);
    assert.equal((await gw.api('/api/diversions?tenant=closed')).json.length, 0);
    assert.equal((await gw.api('/api/diversions?tenant=nope')).status, 404);

    // validation: nothing is stored
    const bad = async (n, body, status, re) => {
      const r = await gw.api(url(n), { method: 'PUT', body });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.json.error, re);
    };
    await bad(BOB, '{\n  "busy": "+4930123400001",\n  "no_answer": oops\n}', 400,
      /body is not JSON: .*\(line 3, column \d+\)/);
    await bad(BOB, '', 400, /body is not JSON/);
    await bad(BOB, '[]', 400, /must be a JSON object/);
    await bad(BOB, { busy: 'voicemail' }, 400, /'busy' must be a number or a sip:\/tel: URI/);
    await bad(BOB, { no_answer: 'http://x' }, 400, /'no_answer' must be a number/);
    await bad(BOB, { busy: 4930 }, 400, /'busy' must be a string/);
    await bad(BOB, { no_answer_time: 3601 }, 400, /'no_answer_time' must be an integer 0\.\.3600/);
    await bad(BOB, { no_answer_time: -1 }, 400, /'no_answer_time' must be an integer/);
    await bad(BOB, { no_answer_time: '20' }, 400, /'no_answer_time' must be an integer/);
    await bad(BOB, { no_answer_time: 2.5 }, 400, /'no_answer_time' must be an integer/);
    await bad('alice', { busy: BOB }, 400, /'alice' is not a number/);
    await bad('+4940999', { busy: BOB }, 422, /not within tenant acme's numbers/);
    assert.equal((await gw.api(`/api/diversions/nope/${ALICE}`, { method: 'PUT', body: {} })).status, 404);
    assert.equal(db(gw, `SELECT * FROM diversions WHERE identity IN ('${BOB}', '+4940999')`).length, 0);
    assert.equal((await gw.api('/api/diversions/acme', { method: 'PUT', body: {} })).status, 404);

    // DELETE: the row goes; the configuration's setting shows again
    const del = await gw.api(url(ALICE), { method: 'DELETE' });
    assert.equal(del.status, 200, del.body);
    assert.deepEqual(del.json, { tenant: 'acme', identity: ALICE, state: 'deleted' });
    assert.equal(db(gw, `SELECT * FROM diversions WHERE identity = '${ALICE}'`).length, 0);
    assert.equal((await gw.api(url(ALICE))).status, 404);
    const again = await gw.api(url(ALICE), { method: 'DELETE' });
    assert.equal(again.status, 404);
    assert.match(again.json.error, /no stored diversion/);
    assert.equal((await gw.api(url(CONF_DIV), { method: 'DELETE' })).status, 200);
    list = (await gw.api('/api/diversions?tenant=acme')).json;
    assert.deepEqual(list.map((d) => [d.identity, d.source, d.busy]), [[CONF_DIV, 'config', GROUP]]);
  });

  test('calls: a local call in /api/calls and /api/groups; DELETE /api/calls/{id} sends BYE to both sides', async () => {
    let ringing;
    const o = await localCall(alice, bob, { from: `sip:${ALICE}@${DOMAIN}`, to: `sip:${BOB}@${DOMAIN}`,
      onRinging: async () => { ringing = await gw.api('/api/calls'); } });
    const inv = o.inv;
    assert.equal(ringing.status, 200);
    assert.ok(ringing.json.length >= 1 && ringing.json.every((c) => c.state !== 'answered' && c.answered === 0),
      `ringing: ${ringing.body}`);

    let calls;
    for (let i = 0; i < 20; i++) {
      calls = (await gw.api('/api/calls')).json;
      if (calls.length && calls.every((c) => c.state === 'answered')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(calls.length >= 1, JSON.stringify(calls));
    for (const c of calls) {
      assert.ok(Number.isInteger(c.id) && c.id > 0);
      assert.equal(c.tenant, 'acme');
      assert.equal(c.state, 'answered');
      assert.match(c.direction, /^(inbound|outbound)$/);
      assert.ok(c.answered >= c.started && c.started > 0);
    }
    const out = calls.find((c) => c.direction === 'outbound');
    assert.ok(out, JSON.stringify(calls));
    assert.match(out.user, new RegExp(`\\${ALICE}`));
    assert.match(out.remote, new RegExp(`\\${BOB}`));
    assert.equal((await gw.api('/api/health')).json.calls, calls.length);
    // both members are on a call for their ring group
    const members = (await gw.api('/api/groups')).json[0].members;
    assert.deepEqual(members.slice(0, 2).map((m) => [m.state, m.calls]), [['on a call', 1], ['on a call', 1]]);

    const mark = gw.mark();
    const h = await gw.api(`/api/calls/${out.id}`, { method: 'DELETE' });
    assert.equal(h.status, 200, h.body);
    assert.deepEqual(h.json, { id: out.id, state: 'ended' });
    const [abye, bbye] = await Promise.all([alice.next((m) => m.method === 'BYE'),
      bob.next((m) => m.method === 'BYE')]);
    assert.equal(abye.get('call-id'), o.callId);
    assert.equal(bbye.get('call-id'), inv.get('call-id'));
    b.callIds = { alice: o.callId, bob: inv.get('call-id') };
    reply(alice, abye, 200, 'OK');
    reply(bob, bbye, 200, 'OK');
    await gw.waitLog(/hung up through the admin API/, 2000, mark);
    await gw.waitLog(/\(calls left: 0\)/, 3000, mark);
    assert.deepEqual((await gw.api('/api/calls')).json, []);
    // after the call both rest for the group's wrap-up
    const after = (await gw.api('/api/groups')).json[0].members;
    assert.deepEqual(after.slice(0, 2).map((m) => m.state), ['wrap-up', 'wrap-up']);
    assert.ok(after[0].idle_seconds >= 0 && after[0].idle_seconds < 10);

    const nf = await gw.api(`/api/calls/${out.id}`, { method: 'DELETE' });
    assert.equal(nf.status, 404);
    assert.match(nf.json.error, new RegExp(`no call ${out.id}`));
    assert.equal((await gw.api('/api/calls/999999', { method: 'DELETE' })).status, 404);
    const nan = await gw.api('/api/calls/abc', { method: 'DELETE' });
    assert.equal(nan.status, 400);
    assert.match(nan.json.error, /not a number/);
  });

  test('call records: the local call\'s two calls in /api/cdrs (JSON and CSV), with legs, times, status and ' +
    'correlation ids found in the kv log lines; filters and bad arguments', async () => {
    const r = await gw.api('/api/cdrs');
    assert.equal(r.status, 200, r.body);
    const out = r.json.find((c) => c.direction === 'outbound' && c.legs.some((l) => l.call_id === b.callIds.alice));
    const inb = r.json.find((c) => c.direction === 'inbound' && c.legs.some((l) => l.call_id === b.callIds.bob));
    assert.ok(out && inb, `both calls recorded:\n${JSON.stringify(r.json, null, 1)}`);
    for (const c of [out, inb]) {
      assert.match(c.corr, /^[0-9a-f]{16}$/);
      assert.equal(c.tenant, 'acme');
      assert.equal(c.status, 200, JSON.stringify(c));
      assert.ok(c.started > 0 && c.started <= c.answered && c.answered <= c.ended, JSON.stringify(c));
      assert.ok(Date.now() - c.ended < 60000, 'ended just now');
      assert.deepEqual(c.legs[0], { side: 'wic', role: 'browser', call_id: c === out ? b.callIds.alice : b.callIds.bob });
      assert.ok(Array.isArray(c.services));
      // the call's log lines carry its correlation id as a field
      const lines = gw.log().split('\n').filter((l) => l.includes(`corr=${c.corr} `));
      assert.ok(lines.length >= 2, `log lines of ${c.corr}`);
      for (const l of lines) {
        assert.match(l, /^ts=\S+Z level=(info|warn|error|debug) mod=call corr=[0-9a-f]{16} call=\d+ msg="(?:[^"\\]|\\.)*"$/, l);
      }
    }
    assert.match(out.reason, /hung up through the admin API/);
    assert.ok(out.id < inb.id || inb.id < out.id);

    const csv = await gw.api('/api/cdrs?format=csv');
    assert.equal(csv.status, 200);
    const rows = csv.body.split('\r\n').filter(Boolean);
    assert.equal(rows[0], 'id,corr,tenant,direction,user,remote,started,answered,ended,status,reason,legs,services');
    assert.equal(rows.length, r.json.length + 1);
    const row = rows.find((x) => x.startsWith(`${out.id},`));
    assert.ok(row.includes(`"${out.corr}","acme","outbound"`), row);
    assert.ok(row.includes(`""call_id"":""${b.callIds.alice}""`), `JSON quotes doubled in CSV: ${row}`);

    const last = Math.max(...r.json.map((c) => c.id));
    assert.deepEqual((await gw.api(`/api/cdrs?after=${last}`)).json, []);
    assert.equal((await gw.api(`/api/cdrs?after=${last - 1}&limit=1`)).json.length, 1);
    assert.equal((await gw.api('/api/cdrs?tenant=acme')).json.length, r.json.length);
    assert.deepEqual((await gw.api(`/api/cdrs?since=${Date.now() + 60000}`)).json, []);
    assert.equal((await gw.api('/api/cdrs?tenant=nope')).status, 404);
    for (const q of ['limit=0', 'limit=10001', 'since=-1', 'after=x', 'format=xml']) {
      const bad = await gw.api(`/api/cdrs?${q}`);
      assert.equal(bad.status, 400, q);
      assert.ok(bad.json.error, q);
    }
  });

  test('metrics: calls started and answered by direction, auth failures by reason, the SIP processing ' +
    'histogram', async () => {
    const get = async () => (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text();
    const val = (text, series) => {
      const l = text.split('\n').find((x) => x.startsWith(`${series} `));
      return l ? Number(l.slice(series.length + 1)) : NaN;
    };
    let m = await get();
    assert.ok(val(m, 'wtpf_calls_started_total{direction="outbound"}') >= 1, m);
    assert.ok(val(m, 'wtpf_calls_answered_total{direction="inbound"}') >= 1, m);
    assert.match(m, /^# TYPE wtpf_sip_processing_seconds histogram$/m);
    const regs = val(m, 'wtpf_sip_processing_seconds_count{side="wic",message="REGISTER"}');
    assert.ok(regs >= 2, 'REGISTERs timed');
    assert.equal(val(m, 'wtpf_sip_processing_seconds_bucket{side="wic",message="REGISTER",le="+Inf"}'), regs);
    assert.ok(val(m, 'wtpf_sip_processing_seconds_bucket{side="wic",message="REGISTER",le="1"}') <= regs);
    const bad0 = val(m, 'wtpf_auth_failures_total{reason="invalid_token"}');
    assert.ok(bad0 >= 0, m);

    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    b.clients.push(c);
    const rr = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:mallory@${DOMAIN}`,
      headers: { Authorization: 'Bearer not.a.token', Contact: '<sip:m@m.invalid;transport=ws>' } });
    assert.equal(rr.status, 401);
    m = await get();
    assert.equal(val(m, 'wtpf_auth_failures_total{reason="invalid_token"}'), bad0 + 1);
  });

  test('reload: a good change shows in /api/tenants; a broken file → 422 with FILE:LINE errors, the old one served', async () => {
    gw.config.tenants[0].max_identities = 50;
    gw.writeConfig();
    const ok = await gw.api('/api/reload', { method: 'POST' });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(ok.json, { status: 'reloaded' });
    await gw.waitLog(/configuration reloaded/, 2000);
    assert.equal((await gw.api('/api/tenants')).json[0].max_identities, 50);

    const good = require('node:fs').readFileSync(gw.confPath, 'utf8');
    gw.writeConfig(good.replace('max_identities = 50;', 'max_identities = -3;')
      .replace('min_expires = 60;', 'min_expires = "soon";'));
    const mark = gw.mark();
    const bad = await gw.api('/api/reload', { method: 'POST' });
    assert.equal(bad.status, 422, bad.body);
    assert.match(bad.json.error, /configuration refused; the running one stays/);
    assert.ok(bad.json.errors.length >= 2, bad.body);
    for (const e of bad.json.errors)
      assert.match(e, new RegExp(`^${gw.confPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `), e);
    assert.ok(bad.json.errors.some((e) => /min_expires/.test(e)), bad.body);
    assert.ok(bad.json.errors.some((e) => /max_identities/.test(e)), bad.body);
    await gw.waitLog(/reload refused/, 2000, mark);
    const t = (await gw.api('/api/tenants')).json;
    assert.equal(t[0].max_identities, 50, 'the running configuration stays');
    assert.equal(t[0].ring_groups, 1);
    // a syntax error, too
    gw.writeConfig(`${good}\noops = ;\n`);
    const syn = await gw.api('/api/reload', { method: 'POST' });
    assert.equal(syn.status, 422);
    assert.match(syn.json.errors[0], /wtpf\.conf:\d+/);

    // a new token in the token file takes effect with the reload
    gw.writeConfig(good);
    const NEW = 'it-admin-token-second-0000';
    require('node:fs').writeFileSync(path.join(gw.dir, 'admin.token'), `${NEW}\n`);
    assert.equal((await gw.api('/api/reload', { method: 'POST' })).status, 200);
    assert.equal((await gw.api('/api/health')).status, 401, 'the old token is refused');
    assert.equal((await gw.api('/api/health', { token: NEW })).status, 200);
    gw.adminToken = NEW;
  });
});

// ---- reload, all or nothing; options read only at start; retention ----

describe('reload: all or nothing, restart-only options, call record retention', { timeout: 30000 }, () => {
  const RTOKEN = 'it-reload-token-4c2e9a71d0b3';
  const b = { clients: [] };
  let gw;
  const fs = require('node:fs');
  const DAY = 86400000;

  before(async () => {
    gw = await startGateway({ adminToken: RTOKEN, extra: { store: { path: 'wtpf.db', cdr_days: 0 } } });
    await gw.waitLog(/wtpfd running/);     // SIGHUP is handled from then on
    gw.config.tenants[0].max_identities = 7;
    gw.writeConfig();
    assert.match(await gw.reload(), /configuration reloaded/);
    b.good = fs.readFileSync(gw.confPath, 'utf8');
    // alice, registered, to place calls that the services see first
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    b.clients.push(c);
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:alice@${DOMAIN}`,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: 'alice' })}`, Contact: '<sip:alice@a1.invalid;transport=ws>' } });
    assert.equal(r.status, 200, r.startLine);
    b.alice = c;
  });
  after(async () => {
    for (const c of b.clients) c.ws.terminate();
    try {
      if (gw) {
        const r = await gw.stop();
        assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
      }
    } finally {
      if (gw) { await gw.kill(); gw.cleanup(); }
    }
  });

  // alice dials 0900123: 403 Destination Barred when the services bar it
  async function dial() {
    const r = await b.alice.transact({ method: 'INVITE', uri: `sip:0900123@${DOMAIN}`, from: `sip:alice@${DOMAIN}`,
      to: `sip:0900123@${DOMAIN}`, headers: { Contact: '<sip:alice@a1.invalid;transport=ws>' } });
    if (r.status >= 300) return r;
    throw new Error(`unexpected ${r.startLine}`);
  }
  const limit = async () => (await gw.api('/api/tenants')).json[0].max_identities;
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  test('a key file that exists but does not load: SIGHUP and POST refused at its FILE:LINE; no part takes the file', async () => {
    const before = await dial();
    assert.notEqual(before.reason, 'Destination Barred', before.startLine);
    fs.writeFileSync(path.join(gw.dir, 'empty.key'), '');
    gw.config.tenants[0].max_identities = 8;
    gw.config.tenants[0].services = { barred: ['^0900'] };
    gw.config.tenants[1].issuers[0].keys = 'empty.key';
    gw.writeConfig();
    const keyErr = new RegExp(`^${esc(gw.confPath)}:\\d+: tenants\\[1\\]\\.issuers\\[0\\]\\.keys: '${esc(gw.dir)}/empty\\.key' does not load: `);

    let mark = gw.mark();
    assert.match(await gw.reload(), /reload refused/);
    const inLog = new RegExp(`reload refused.*${keyErr.source.slice(1)}`);
    assert.ok(gw.log().split('\n').slice(mark).some((l) => inLog.test(l)), gw.log());
    // the services did not take it (they did when a reload could half-apply)
    assert.equal((await dial()).status, before.status);
    assert.equal(await limit(), 7);
    assert.equal(await gw.metric('wtpf_identities_limit{tenant="acme"}'), 7);

    mark = gw.mark();
    const r = await gw.api('/api/reload', { method: 'POST' });
    assert.equal(r.status, 422, r.body);
    assert.equal(r.json.error, 'configuration refused; the running one stays');
    assert.equal(r.json.errors.length, 1, r.body);
    assert.match(r.json.errors[0], keyErr);
    assert.ok(!gw.log().split('\n').slice(mark).some((l) => /configuration reloaded/.test(l)));
    assert.equal((await dial()).status, before.status);
    assert.equal(await limit(), 7);
    // the closed tenant's token still verifies with the key it had
    const c = await connect(gw.wsUrl, { origin: CLOSED_ORIGIN });
    b.clients.push(c);
    const reg = await c.transact({ method: 'REGISTER', uri: `sip:${CLOSED_DOMAIN}`, from: `sip:zed@${CLOSED_DOMAIN}`,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: 'zed', iss: ISS.closed })}`, Contact: '<sip:zed@z1.invalid;transport=ws>' } });
    assert.equal(reg.status, 200, reg.startLine);

    // the key fixed: all of the file applies
    gw.config.tenants[1].issuers[0].keys = 'hs256.key';
    gw.writeConfig();
    assert.deepEqual((await gw.api('/api/reload', { method: 'POST' })).json, { status: 'reloaded' });
    assert.equal((await dial()).reason, 'Destination Barred');
    assert.equal(await limit(), 8);
  });

  test('a broken admin token file: the reload is refused at its FILE:LINE and the running token stays', async () => {
    const tokFile = path.join(gw.dir, 'admin.token');
    for (const [text, why] of [['short-token\n', 'the token has 11 characters; it must have 16 to 512'],
      ['', 'the token is empty']]) {
      fs.writeFileSync(tokFile, text);
      const r = await gw.api('/api/reload', { method: 'POST' });
      assert.equal(r.status, 422, r.body);
      assert.equal(r.json.errors.length, 1, r.body);
      assert.match(r.json.errors[0], new RegExp(`^${esc(gw.confPath)}:\\d+: admin\\.token_file: '${esc(tokFile)}': ${esc(why)}$`));
      assert.equal((await gw.api('/api/health')).status, 200, 'the running token still opens the API');
      assert.match(await gw.reload(), /reload refused/);
      assert.equal((await gw.api('/api/health')).status, 200);
    }
    fs.unlinkSync(tokFile);
    assert.equal((await gw.api('/api/reload', { method: 'POST' })).status, 422);
    assert.equal((await gw.api('/api/health')).status, 200);
    fs.writeFileSync(tokFile, `${RTOKEN}\n`);
    assert.equal((await gw.api('/api/reload', { method: 'POST' })).status, 200);
  });

  test('options read only at start: named in the answer and the log, the running values kept', async () => {
    const port = await freePort();
    gw.config.websocket.ws_port = port;
    gw.config.auth.max_nonces = 2000;
    gw.config.store.path = 'other.db';
    gw.config.registrar.default_expires = 900;         // reloadable: not named
    gw.writeConfig();
    const mark = gw.mark();
    const r = await gw.api('/api/reload', { method: 'POST' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { status: 'reloaded',
      restart_needed: ['websocket.ws_port', 'auth.max_nonces', 'store.path'] });
    for (const k of ['websocket.ws_port', 'auth.max_nonces', 'store.path'])
      await gw.waitLog(new RegExp(`${esc(k)} changed: needs a restart; the running value stays`), 2000, mark);
    assert.ok(!gw.log().split('\n').slice(mark).some((l) => /default_expires changed/.test(l)));
    // the edge still listens where it started, and the store is the same
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    c.ws.terminate();
    assert.ok(!fs.existsSync(path.join(gw.dir, 'other.db')));
    // SIGHUP says the same in the log
    const m2 = gw.mark();
    assert.match(await gw.reload(), /configuration reloaded/);
    await gw.waitLog(/websocket\.ws_port changed: needs a restart/, 2000, m2);
    // back to what runs: nothing to name
    fs.writeFileSync(gw.confPath, b.good);
    const back = await gw.api('/api/reload', { method: 'POST' });
    assert.equal(back.status, 200, back.body);
    assert.equal(back.json.restart_needed, undefined, back.body);
  });

  test('GET /api/cdrs newest first (order=desc) and paged down with before=', async () => {
    const now = Date.now();
    db(gw, `INSERT INTO cdrs (corr, tenant, direction, user, remote, started, answered, ended, status, reason, legs, services)
      VALUES ${[1, 2, 3].map((i) => `('p${i}', 'acme', 'outbound', 'sip:a@acme.test', '', ${now}, 0, ${now}, 486, 'busy', '[]', '[]')`).join(',')}`);
    const asc = (await gw.api('/api/cdrs')).json.map((c) => c.id);
    assert.ok(asc.length >= 3);
    const desc = await gw.api('/api/cdrs?order=desc&limit=2');
    assert.equal(desc.status, 200, desc.body);
    assert.deepEqual(desc.json.map((c) => c.id), asc.slice(-2).reverse());
    const next = await gw.api(`/api/cdrs?order=desc&limit=2&before=${desc.json[1].id}`);
    assert.deepEqual(next.json.map((c) => c.id), asc.slice(-4, -2).reverse());
    assert.deepEqual((await gw.api(`/api/cdrs?order=asc&before=${asc[1]}`)).json.map((c) => c.id), [asc[0]]);
    const csv = await gw.api('/api/cdrs?order=desc&limit=1&format=csv');
    assert.ok(csv.body.split('\r\n')[1].startsWith(`${asc[asc.length - 1]},`), csv.body);
    for (const q of ['order=newest', 'before=-1', 'before=x']) {
      const bad = await gw.api(`/api/cdrs?${q}`);
      assert.equal(bad.status, 400, q);
      assert.ok(bad.json.error, q);
    }
  });

  test('store.cdr_days: records older go on reload, at start, in batches; 0 keeps them', async () => {
    const now = Date.now();
    const ins = (n, ended, corr) => db(gw, `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n})
      INSERT INTO cdrs (corr, tenant, direction, user, remote, started, answered, ended, status, reason, legs, services)
      SELECT '${corr}' || i, 'acme', 'inbound', '+4930123400001', '', ${ended}, 0, ${ended}, 480, 'old', '[]', '[]' FROM k`);
    ins(1200, now - 40 * DAY, 'd40-');
    ins(1, now - 10 * DAY, 'd10-');
    const count = () => db(gw, 'SELECT count(*) AS n FROM cdrs')[0].n;
    const all = count();
    assert.ok(all >= 1201);
    // cdr_days = 0 kept them through the start and every reload so far
    assert.match(gw.log(), /wtpfd running/);
    assert.ok(!/call records: \d+ older/.test(gw.log()));

    fs.writeFileSync(gw.confPath, fs.readFileSync(gw.confPath, 'utf8').replace('cdr_days = 0;', 'cdr_days = 30;'));
    const mark = gw.mark();
    const r = await gw.api('/api/reload', { method: 'POST' });
    assert.deepEqual(r.json, { status: 'reloaded' });
    await gw.waitLog(/call records: 1200 older than 30 days deleted/, 5000, mark);
    assert.equal(count(), all - 1200);
    assert.equal(db(gw, "SELECT count(*) AS n FROM cdrs WHERE corr LIKE 'd40-%'")[0].n, 0);
    assert.equal(db(gw, "SELECT count(*) AS n FROM cdrs WHERE corr LIKE 'd10-%'")[0].n, 1);

    // at start: a gateway started on the same store with cdr_days = 5
    ins(3, now - 6 * DAY, 'd6-');
    const left = count();
    const stopped = await gw.stop();
    assert.deepEqual(stopped, { code: 0, signal: null });
    gw = await startGateway({ dir: gw.dir, adminToken: RTOKEN, extra: { store: { path: 'wtpf.db', cdr_days: 5 } } });
    await gw.waitLog(/call records: 4 older than 5 days deleted/, 5000);
    assert.equal(count(), left - 4);
    assert.equal((await gw.api('/api/cdrs?limit=10000')).json.length, left - 4);
  });
});

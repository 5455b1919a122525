// Tenants and identities (gateway/ident/, seed 000), end to end: raw
// SIP-over-WebSocket clients against a real wtpfd, the SQLite store read
// with the sqlite3 CLI (python3's sqlite3 module when the CLI is missing).
//
// One describe per gateway configuration:
//   A. allocation: the lowest free number per subject in both URI forms,
//      sticky, reachable as sip:NUMBER@DOMAIN, digest users alike; the hold
//      after the last device (un-REGISTER, expiry, WebSocket closed) and
//      reuse once it ended; claims inside, outside and in a wildcard range;
//      two devices of one user (one IMPU, two IMPIs); two subjects racing
//      for the last free number.
//   B. limits and live reload: tenant max_identities (held numbers count),
//      503 with Retry-After and reason phrase, SIGHUP raising the limit,
//      SIGHUP with an invalid configuration refused.
//   C. anonymous pool: sip:anonymous@DOMAIN without credentials gets a
//      number from the anonymous set, within that set's own limit;
//      authenticated users never get one of its numbers.
//   D. durability: kill -9 while REGISTERs are in flight, restart on the same
//      store: nothing lost, nothing twice, in-use numbers held, each subject
//      gets its own number back and a new one gets a number nobody had.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { startGateway, freePort, toLibconfig, ORIGIN, DOMAIN, ISS } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, rand } = require('./lib/sip');
const { udpPcscf } = require('./lib/pcscf');

const RACE_ORIGIN = 'https://app.race.test';
const RACE_DOMAIN = 'race.test';
const RND_ORIGIN = 'https://app.rnd.test';
const RND_DOMAIN = 'rnd.test';
const HS = { issuer: ISS.hs, audience: 'wtpf', keys: 'hs256.key', algorithms: ['HS256'] };

// N(7) = +4930123400007, the numbers of the acme ranges below.
const N = (i) => `+49301234${String(i).padStart(5, '0')}`;
const GUEST = (i) => `+49301234100${String(i).padStart(2, '0')}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function tenant(o = {}) {
  return { name: 'acme', domain: DOMAIN, origins: [ORIGIN], allow_digest: true, issuers: [HS], ...o };
}

const { db } = require('./lib/store');

const allocations = (gw, tenantName = 'acme') => db(gw,
  `SELECT idset, impu, subject, hold_until FROM allocations WHERE tenant = '${tenantName}' ORDER BY impu`);
const allocOf = (gw, impu) => db(gw, `SELECT * FROM allocations WHERE impu = '${impu}'`);

// A gateway for the tests of one describe block: started before them,
// stopped by PID after them (killed if it does not stop), checking it exits
// 0 unless a test ended it on purpose. bed.gws may get more (restarts).
function withGateway(opts) {
  const bed = { clients: [], gws: [] };
  before(async () => {
    bed.gw = await startGateway(typeof opts === 'function' ? await opts(bed) : opts);
    bed.gws.push(bed.gw);
  });
  after(async () => {
    for (const c of bed.clients) c.ws.terminate();
    const errors = [];
    for (const gw of bed.gws) {
      try {
        if (gw.exitResult) continue;   // killed on purpose
        const r = await gw.stop();
        assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
      } catch (e) {
        errors.push(e);
      } finally {
        await gw.kill();
      }
    }
    for (const gw of bed.gws) gw.cleanup();   // restarts share one folder
    if (bed.cleanup) await bed.cleanup();
    if (errors.length) throw errors[0];
  });
  return bed;
}

// A device: one WebSocket flow with its own Contact and +sip.instance.
async function device(bed, o = {}) {
  const c = await connect(bed.gw.wsUrl, { origin: o.origin || ORIGIN });
  bed.clients.push(c);
  c.instance = o.instance || `<urn:uuid:${crypto.randomUUID()}>`;
  c.contactUri = `sip:${rand(4)}@${rand(4)}.invalid;transport=ws`;
  c.callId = rand(10);
  c.cseq = 0;
  return c;
}

// A REGISTER from device c. o: sub and impu (the token's claims), token
// (false: no Authorization), authorization (a ready header), to (default:
// the claim's AOR, else sip:SUB@DOMAIN), expires, domain, contact (false:
// none), timeoutMs.
function register(c, o = {}) {
  const domain = o.domain || DOMAIN;
  const headers = {};
  const token = o.token !== undefined ? o.token : tok.hs256({ sub: o.sub, impu: o.impu });
  if (o.authorization) headers.Authorization = o.authorization;
  else if (token) headers.Authorization = `Bearer ${token}`;
  if (o.contact !== false)
    headers.Contact = o.contact || `<${c.contactUri}>;+sip.instance="${c.instance}";reg-id=1`;
  if (o.expires !== undefined) headers.Expires = String(o.expires);
  let to = o.to;
  if (!to && o.impu) to = o.impu.startsWith('tel:') ? `sip:${o.impu.slice(4)}@${domain}` : o.impu;
  if (!to) to = `sip:${o.sub}@${domain}`;
  return c.transact({ method: 'REGISTER', uri: `sip:${domain}`, from: to,
    callId: c.callId, cseq: ++c.cseq, headers }, o.timeoutMs);
}

// A new device of subject sub registers; resolves with its number.
async function registerNew(bed, sub, o = {}) {
  const c = await device(bed, o);
  const r = await register(c, { sub, ...o });
  return { c, r, number: numberOf(r, o.domain) };
}

// The number a 200 OK grants: P-Associated-URI <sip:N@DOMAIN>, <tel:N>.
function numberOf(res, domain = DOMAIN) {
  assert.equal(res.status, 200, `REGISTER answered ${res.startLine}`);
  const pau = res.all('p-associated-uri');
  assert.equal(pau.length, 2, `P-Associated-URI: ${pau.join(', ')}`);
  const m = /^<sip:(\+\d+)@([^>;]+)>$/.exec(pau[0]);
  assert.ok(m, `first P-Associated-URI is <sip:NUMBER@DOMAIN>: ${pau[0]}`);
  assert.equal(m[2], domain);
  assert.equal(pau[1], `<tel:${m[1]}>`, 'second P-Associated-URI is the tel: form');
  return m[1];
}

// A refusal: status, reason phrase, and Retry-After for a 503.
function refused(res, status, reason) {
  assert.equal(res.status, status, `expected ${status} ${reason}, got ${res.startLine}`);
  assert.equal(res.reason, reason);
  if (status === 503)
    assert.match(res.get('retry-after') || '', /^[1-9]\d*\b/, '503 carries Retry-After');
  assert.equal(res.all('p-associated-uri').length, 0, 'no identity granted');
}

const hasContact = (res, c) => res.all('contact').some((m) => m.startsWith(`<${c.contactUri}>`));

// An RFC 8760/2617 digest answer (MD5, qop=auth) to the 401's challenge.
function digest(res, user, pass, uri, method = 'REGISTER') {
  const ch = res.all('www-authenticate', false)
    .find((v) => /^Digest\b/.test(v) && /algorithm="?MD5\b/.test(v));
  assert.ok(ch, `an MD5 digest challenge: ${res.all('www-authenticate', false)}`);
  const p = (k) => (new RegExp(`${k}="([^"]*)"`).exec(ch) || [])[1];
  const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
  const [realm, nonce, opaque] = [p('realm'), p('nonce'), p('opaque')];
  const cnonce = rand(8), nc = '00000001';
  const response = md5(`${md5(`${user}:${realm}:${pass}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=MD5, cnonce="${cnonce}", nc=${nc}, qop=auth` +
    (opaque !== undefined ? `, opaque="${opaque}"` : '');
}

describe('A. allocation, hold, claims, devices, races', { timeout: 40000 }, () => {
  const bed = withGateway({
    users: [['acme', 'dora', 'd0ra-Pass!']],
    tenants: [
      tenant({ ranges: [`${N(1)}-${N(20)}`, 'tel:+3314529!.*!'], hold_time: 2 }),
      { name: 'race', domain: RACE_DOMAIN, origins: [RACE_ORIGIN], issuers: [HS],
        ranges: ['+4940000000001-+4940000000002'], hold_time: 60 },
    ],
  });
  let s1b;   // s1's second device, kept for test 2

  test('1. a token without impu gets the lowest free number, in both URI forms; sticky per subject; the number is its AOR', async () => {
    const { gw } = bed;
    let mark = gw.mark();
    const s1 = await registerNew(bed, 's1');
    assert.equal(s1.number, N(1), 'the lowest number of the range');
    assert.ok(hasContact(s1.r, s1.c), 'its Contact is bound');
    await gw.waitLog(new RegExp(`tenant acme: ${esc(N(1))} allocated to s1 \\(set main\\)`), 2000, mark);
    // the bindings live under the number, the subject's AOR is an alias
    await gw.waitLog(new RegExp(`REGISTER aor=sip:${esc(N(1))}@acme\\.test contacts=1 -> 200 bindings=1 as=sip:s1@acme\\.test`), 2000, mark);

    assert.equal((await registerNew(bed, 's2')).number, N(2), 'the next subject gets the next one');

    // sticky: s1 on another connection gets its number, and both devices
    mark = gw.mark();
    const again = await registerNew(bed, 's1');
    s1b = again.c;
    assert.equal(again.number, N(1), 's1 gets the same number again');
    assert.ok(hasContact(again.r, s1.c) && hasContact(again.r, s1b), 'both devices of s1 are listed');
    assert.doesNotMatch(gw.log().split('\n').slice(mark).join('\n'), /allocated to s1/, 'no second allocation');

    // a later REGISTER may name the number's AOR itself
    const byNumber = await register(s1.c, { sub: 's1', to: `sip:${N(1)}@${DOMAIN}` });
    assert.equal(numberOf(byNumber), N(1));
    assert.ok(hasContact(byNumber, s1.c) && hasContact(byNumber, s1b), 'the same bindings under sip:NUMBER@DOMAIN');
    // ...but not another user's number
    refused(await register(s1.c, { sub: 's1', to: `sip:${N(2)}@${DOMAIN}` }), 403,
      'Identity Not Covered By Credentials');
    // a new subject refused so leaves no number behind (not even held)
    mark = gw.mark();
    refused(await register(await device(bed), { sub: 's9', to: `sip:${N(2)}@${DOMAIN}` }), 403,
      'Identity Not Covered By Credentials');
    await gw.waitLog(/freed \(its registration failed\)/, 2000, mark);

    assert.deepEqual(allocations(gw), [
      { idset: 'main', impu: N(1), subject: 's1', hold_until: 0 },
      { idset: 'main', impu: N(2), subject: 's2', hold_until: 0 },
    ]);

    // closing one of s1's two flows leaves the number in use
    mark = gw.mark();
    await s1.c.close();
    await gw.waitLog(new RegExp(`binding removed aor=sip:${esc(N(1))}@acme\\.test .*flow closed`), 2000, mark);
    await sleep(100);
    assert.doesNotMatch(gw.log().split('\n').slice(mark).join('\n'), /held for/, 'another device remains');
    assert.equal(allocOf(gw, N(1))[0].hold_until, 0);
  });

  test('1b. a digest user (wtpfd user add) is a subject like a token\'s', async () => {
    const c = await device(bed);
    const ch = await register(c, { sub: 'dora', token: false });
    assert.equal(ch.status, 401, ch.startLine);
    const r = await register(c, { sub: 'dora', authorization: digest(ch, 'dora', 'd0ra-Pass!', `sip:${DOMAIN}`) });
    assert.equal(numberOf(r), N(3));
    assert.deepEqual(allocOf(bed.gw, N(3)).map((a) => a.subject), ['dora']);
    // sticky for her too, on a new flow
    const c2 = await device(bed);
    const ch2 = await register(c2, { sub: 'dora', token: false });
    const r2 = await register(c2, { sub: 'dora', authorization: digest(ch2, 'dora', 'd0ra-Pass!', `sip:${DOMAIN}`) });
    assert.equal(numberOf(r2), N(3));
  });

  test('2. the last device un-registers: held for its subject for hold_time, then free for anybody', async () => {
    const { gw } = bed;
    let mark = gw.mark();
    const t0 = Math.floor(Date.now() / 1000);
    const un = await register(s1b, { sub: 's1', expires: 0 });
    assert.equal(un.status, 200, un.startLine);
    assert.ok(!hasContact(un, s1b), 'the binding is gone');
    await gw.waitLog(new RegExp(`tenant acme: ${esc(N(1))} held for s1 for 2s`), 2000, mark);
    const [held] = allocOf(gw, N(1));
    assert.equal(held.subject, 's1');
    // whole seconds on two clocks: the gateway's time() is the kernel's coarse
    // clock, which may still show the second before Date.now()'s at a boundary
    assert.ok(held.hold_until >= t0 + 1 && held.hold_until <= t0 + 4, `hold_until ${held.hold_until} is now + 2 s (start ${t0})`);

    // within the hold nobody else gets it (held numbers stay taken)...
    assert.equal((await registerNew(bed, 's3')).number, N(4));
    // ...and s1 gets it back, in use again
    const back = await registerNew(bed, 's1');
    assert.equal(back.number, N(1));
    assert.equal(allocOf(gw, N(1))[0].hold_until, 0, 'in use again');

    // un-register again (Contact: *, every binding) and let the hold end
    mark = gw.mark();
    assert.equal((await register(back.c, { sub: 's1', expires: 0, contact: '*' })).status, 200);
    await gw.waitLog(new RegExp(`${esc(N(1))} held for s1`), 2000, mark);
    await gw.waitLog(new RegExp(`tenant acme: ${esc(N(1))} free again \\(hold ended\\)`), 5000, mark);
    assert.deepEqual(allocOf(gw, N(1)), [], 'the allocation is gone from the store');
    // the lowest free number goes to a new subject; s1 starts afresh
    assert.equal((await registerNew(bed, 's4')).number, N(1));
    assert.equal((await registerNew(bed, 's1')).number, N(5));
  });

  test('2b. an expired binding and a closed WebSocket start the hold as well', async () => {
    const { gw } = bed;
    const mark = gw.mark();
    // a binding never outlives its token: this one expires in ~2 s
    const ex = await registerNew(bed, 'ex', { token: tok.hs256({ sub: 'ex', exp: tok.now() + 2 }) });
    const ws = await registerNew(bed, 'ws');
    ws.c.ws.terminate();
    await gw.waitLog(new RegExp(`${esc(ws.number)} held for ws for 2s`), 3000, mark);
    await gw.waitLog(new RegExp(`binding removed aor=sip:${esc(ex.number)}@acme\\.test .*expired`), 5000, mark);
    await gw.waitLog(new RegExp(`${esc(ex.number)} held for ex for 2s`), 2000, mark);
    assert.ok(allocOf(gw, ex.number)[0].hold_until > 0);
  });

  test('3. claims: outside the ranges 403; inside 200; another user\'s number in use 403; wildcard ranges admit claims', async () => {
    const { gw } = bed;
    const c = await device(bed);
    const mark = gw.mark();
    refused(await register(c, { sub: 'c0', impu: 'tel:+4930999999999' }), 403,
      "Identity Outside The Tenant's Ranges");
    await gw.waitLog(/subject c0\) refused: identity outside the tenant's ranges/, 2000, mark);
    refused(await register(c, { sub: 'c0', impu: `sip:${N(21)}@${DOMAIN}` }), 403,
      "Identity Outside The Tenant's Ranges");
    assert.equal(db(gw, "SELECT count(*) AS n FROM allocations WHERE subject = 'c0'")[0].n, 0);

    const inRange = await registerNew(bed, 'c1', { impu: `sip:${N(15)}@${DOMAIN}` });
    assert.equal(inRange.number, N(15), 'the claimed number, not the lowest free');
    assert.deepEqual(allocOf(gw, N(15)).map((a) => [a.subject, a.hold_until]), [['c1', 0]]);

    refused(await register(await device(bed), { sub: 'c2', impu: `tel:${N(2)}` }), 403,
      'Identity In Use By Another User');

    const w1 = await registerNew(bed, 'w1', { impu: 'tel:+33145291234' });
    assert.equal(w1.number, '+33145291234');
    const w2 = await registerNew(bed, 'w2', { impu: 'sip:+33145291235@acme.test' });
    assert.equal(w2.number, '+33145291235');
    refused(await register(await device(bed), { sub: 'w3', impu: 'tel:+3314528000' }), 403,
      "Identity Outside The Tenant's Ranges");
  });

  test('6. two devices of one subject: one IMPU, two IMPIs (logged and in the devices table), both Contacts listed', async () => {
    const { gw } = bed;
    const mark = gw.mark();
    const d1 = await registerNew(bed, 'duo');
    const d2 = await registerNew(bed, 'duo');
    assert.equal(d2.number, d1.number, 'the same public identity');
    assert.ok(hasContact(d2.r, d1.c) && hasContact(d2.r, d2.c), 'the second 200 lists both Contacts');
    const impiRe = new RegExp(`device impu=${esc(d1.number)} impi=(\\S+) instance=(\\S+)`);
    // the log comes through a pipe, the 200 through the WebSocket: the
    // second line may land after the answer
    const found = () => gw.lines.slice(mark).map((l) => impiRe.exec(l)).filter(Boolean);
    for (let i = 0; i < 40 && found().length < 2; i++) await sleep(50);
    const lines = found();
    assert.equal(lines.length, 2, `two device lines:\n${gw.lines.slice(mark).join('\n')}`);
    const impis = lines.map((m) => m[1]);
    assert.notEqual(impis[0], impis[1], 'each device its own IMPI');
    for (const impi of impis)
      assert.match(impi, new RegExp(`^${esc(d1.number)}\\.[0-9a-f]{8}@acme\\.test$`), 'impi_template {user}.{device}@{domain}');
    assert.deepEqual(lines.map((m) => m[2]), [`"${d1.c.instance}"`, `"${d2.c.instance}"`]);

    const rows = db(gw, `SELECT impi, impu, instance FROM devices WHERE tenant = 'acme' AND impu = '${d1.number}' ORDER BY impi`);
    assert.deepEqual(rows.map((r) => r.impi), [...impis].sort());
    assert.deepEqual(new Set(rows.map((r) => r.instance.replace(/"/g, ''))), new Set([d1.c.instance, d2.c.instance]));

    // a device that goes away leaves the table
    d1.c.ws.terminate();
    await gw.waitLog(new RegExp(`binding removed aor=sip:${esc(d1.number)}@acme\\.test .*flow closed`), 2000, mark);
    assert.deepEqual(db(gw, `SELECT impi FROM devices WHERE impu = '${d1.number}'`).map((r) => r.impi),
      [impis[1]]);
  });

  test('7. two subjects race for the last free number: one 200, one 503, one allocation', async () => {
    const { gw } = bed;
    const o = { origin: RACE_ORIGIN, domain: RACE_DOMAIN };
    assert.equal((await registerNew(bed, 'r0', o)).number, '+4940000000001');
    const [a, b] = [await device(bed, o), await device(bed, o)];
    const mark = gw.mark();
    const [ra, rb] = await Promise.all([register(a, { sub: 'r1', ...o }), register(b, { sub: 'r2', ...o })]);
    const ok = [ra, rb].filter((r) => r.status === 200);
    const no = [ra, rb].filter((r) => r.status !== 200);
    assert.equal(ok.length, 1, `one winner: ${ra.startLine} | ${rb.startLine}`);
    assert.equal(numberOf(ok[0], RACE_DOMAIN), '+4940000000002');
    refused(no[0], 503, 'No Free Identity Left In The Range');
    await gw.waitLog(/refused: no free identity left in the range/, 2000, mark);
    const winner = ok[0] === ra ? 'r1' : 'r2';
    assert.deepEqual(allocations(gw, 'race').map((r) => [r.impu, r.subject]),
      [['+4940000000001', 'r0'], ['+4940000000002', winner]]);
  });
});

describe('B. limits and live reload (SIGHUP)', { timeout: 30000 }, () => {
  const bed = withGateway({
    tenants: [
      tenant({ ranges: [`${N(1)}-${N(9)}`], max_identities: 2, hold_time: 60 }),
      { name: 'rnd', domain: RND_DOMAIN, origins: [RND_ORIGIN], issuers: [HS],
        ranges: ['+4950000000000-+4950000000009'], allocation: 'random', hold_time: 60 },
    ],
  });

  test('3. tenant max_identities counts held numbers: 503 with Retry-After; SIGHUP raising it lets the refused subject in', async () => {
    const { gw } = bed;
    assert.equal((await registerNew(bed, 'b1')).number, N(1));
    const b2 = await registerNew(bed, 'b2');
    assert.equal(b2.number, N(2));
    assert.equal((await register(b2.c, { sub: 'b2', expires: 0 })).status, 200);
    await gw.waitLog(/held for b2 for 60s/);

    let mark = gw.mark();
    const c3 = await device(bed);
    const M = (name) => gw.metric(`${name}{tenant="acme"}`);
    assert.equal(await M('wtpf_identities_refused_total'), 0);
    refused(await register(c3, { sub: 'b3' }), 503, 'Tenant Identity Limit Reached');
    await gw.waitLog(/REGISTER of sip:b3@acme\.test \(tenant acme, subject b3\) refused: tenant identity limit reached/, 2000, mark);
    // the metric counts the refusal, next to the numbers in use and the limit
    assert.equal(await M('wtpf_identities_refused_total'), 1);
    assert.equal(await M('wtpf_identities_in_use'), 2);
    assert.equal(await M('wtpf_identities_held'), 1);
    assert.equal(await M('wtpf_identities_limit'), 2);
    // the held number's owner is not refused: it is still hers
    assert.equal((await registerNew(bed, 'b2')).number, N(2));

    gw.config.tenants[0].max_identities = 3;
    gw.writeConfig();
    mark = gw.mark();
    assert.match(await gw.reload(), /configuration reloaded/);
    assert.equal(numberOf(await register(c3, { sub: 'b3' })), N(3), 'no restart needed');
    assert.equal(await M('wtpf_identities_limit'), 3, 'the metric follows the reload');
    refused(await register(await device(bed), { sub: 'b4' }), 503, 'Tenant Identity Limit Reached');
    assert.equal(allocations(gw).length, 3);
  });

  test('3b. SIGHUP with an invalid configuration is refused with its errors; the running one stays', async () => {
    const { gw } = bed;
    const text = toLibconfig({ ...gw.config,
      tenants: gw.config.tenants.map((t, i) => (i ? t : { ...t, max_identities: -1 })) });
    const line = text.split('\n').findIndex((l) => /max_identities = -1;/.test(l)) + 1;
    assert.ok(line > 0);
    gw.writeConfig(text);
    const mark = gw.mark();
    assert.match(await gw.reload(), /reload refused/);
    await gw.waitLog(new RegExp(`${esc(gw.confPath)}:${line}: tenants\\[0\\]\\.max_identities: -1 is out of range`), 2000, mark);
    assert.doesNotMatch(gw.log().split('\n').slice(mark).join('\n'), /configuration reloaded/);
    // the running configuration (limit 3) still serves
    assert.equal((await registerNew(bed, 'b1')).number, N(1));
    refused(await register(await device(bed), { sub: 'b5' }), 503, 'Tenant Identity Limit Reached');
    // a broken file is refused too, and a valid one then taken again
    gw.writeConfig('tenants = ( { name = "acme" \n');
    assert.match(await gw.reload(), /reload refused/);
    gw.config.tenants[0].max_identities = 4;
    gw.writeConfig();
    assert.match(await gw.reload(), /configuration reloaded/);
    assert.equal((await registerNew(bed, 'b5')).number, N(4));
  });

  test('3c. random allocation: distinct numbers of the range, sticky, until the range is full', async () => {
    const o = { origin: RND_ORIGIN, domain: RND_DOMAIN };
    const got = [];
    for (let i = 0; i < 10; i++) got.push((await registerNew(bed, `x${i}`, o)).number);
    assert.deepEqual([...got].sort(), Array.from({ length: 10 }, (_, i) => `+495000000000${i}`),
      `every number once: ${got}`);
    assert.equal((await registerNew(bed, 'x3', o)).number, got[3], 'sticky');
    refused(await register(await device(bed, o), { sub: 'x10', ...o }), 503,
      'No Free Identity Left In The Range');
  });
});

describe('C. anonymous pool', { timeout: 30000 }, () => {
  const bed = withGateway(async (b) => {
    const { sock } = await udpPcscf();
    b.cleanup = () => sock.close();
    const trunkPort = await freePort();
    return {
      tenants: [tenant({
        trunk: 'ims', ranges: [`${N(1)}-${N(2)}`], hold_time: 60,
        identity_sets: [{ name: 'guests', trunk: 'ims', ranges: [`${GUEST(0)}-${GUEST(9)}`],
          anonymous: true, max_identities: 1 }],
      })],
      extra: { trunks: [{ name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
        pcscf: [`sip:127.0.0.1:${sock.address().port};transport=udp`], domain: 'ims.test',
        options_interval: 1, failover_time: 2 }] },
    };
  });
  const ANON = `sip:anonymous@${DOMAIN}`;

  test('5a. authenticated subjects get numbers of the main set only, even when it is full', async () => {
    assert.equal((await registerNew(bed, 'u1')).number, N(1));
    assert.equal((await registerNew(bed, 'u2')).number, N(2));
    const mark = bed.gw.mark();
    refused(await register(await device(bed), { sub: 'u3' }), 503, 'No Free Identity Left In The Range');
    await bed.gw.waitLog(/subject u3\) refused: no free identity left in the range/, 2000, mark);
    assert.deepEqual(allocations(bed.gw).map((a) => a.idset), ['main', 'main']);
  });

  test('5b. REGISTER for sip:anonymous@DOMAIN without credentials: a number of the anonymous set, within its own limit', async () => {
    const { gw } = bed;
    const g1 = await device(bed);
    const mark = gw.mark();
    const r = await register(g1, { to: ANON, token: false });
    assert.equal(numberOf(r), GUEST(0));
    assert.ok(hasContact(r, g1));
    await gw.waitLog(new RegExp(`${esc(GUEST(0))} allocated to anon-\\S*${esc(g1.instance)}\\S* \\(set guests\\)`), 2000, mark);
    const [row] = allocOf(gw, GUEST(0));
    assert.equal(row.idset, 'guests');
    assert.match(row.subject, new RegExp(`^anon-.*${esc(g1.instance)}`), 'subject from +sip.instance');

    // a second anonymous device: the set's limit (1) is reached
    refused(await register(await device(bed), { to: ANON, token: false }), 503,
      'Identity Set Limit Reached');
    await gw.waitLog(/refused: identity set limit reached/, 2000, mark);

    // the same device (same instance) on a new connection keeps its number
    const again = await device(bed, { instance: g1.instance });
    assert.equal(numberOf(await register(again, { to: ANON, token: false })), GUEST(0));
    // anonymity needs the anonymous AOR: no credentials for another one
    assert.equal((await register(await device(bed), { to: `sip:u9@${DOMAIN}`, token: false })).status, 401);
    assert.equal(allocations(gw).length, 3);
  });
});

describe('D. durability: kill -9 during registrations, restart on the same store', { timeout: 30000 }, () => {
  const tenants = [tenant({ ranges: [`${N(1)}-${N(99)}`], hold_time: 30 })];
  const bed = withGateway({ tenants });

  test('8. nothing lost, nothing twice; in-use numbers held; old subjects get theirs back, new ones fresh numbers', async () => {
    const first = bed.gw;
    // k1..k3 registered; k3 un-registered (held)
    const ks = [];
    for (const [i, k] of ['k1', 'k2', 'k3'].entries()) {
      ks.push(await registerNew(bed, k));
      assert.equal(ks[i].number, N(i + 1));
    }
    assert.equal((await register(ks[2].c, { sub: 'k3', expires: 0 })).status, 200);
    await first.waitLog(/held for k3 for 30s/);
    const before = allocations(first);
    const held3 = before.find((a) => a.subject === 'k3').hold_until;
    assert.ok(held3 > 0);

    // six subjects register at once, on six flows: three first and, once
    // one of those is answered, three more, and kill -9 while they travel
    const burst = ['k4', 'k5', 'k6', 'k7', 'k8', 'k9'];
    const devs = await Promise.all(burst.map(() => device(bed)));
    const answered = new Map();   // subject -> number granted before the kill
    let firstAnswer;
    const answeredOnce = new Promise((r) => { firstAnswer = r; });
    const send = (k, i) => register(devs[i], { sub: k, timeoutMs: 1500 }).then((r) => {
      if (r.status === 200) answered.set(k, numberOf(r));
      firstAnswer();
    }, () => firstAnswer());
    const inFlight = burst.slice(0, 3).map((k, i) => send(k, i));
    await answeredOnce;
    inFlight.push(...burst.slice(3).map((k, i) => send(k, i + 3)));
    process.kill(first.pid, 'SIGKILL');   // the frames are written, not all read
    await first.kill();
    assert.equal(first.exitResult.signal, 'SIGKILL');
    await Promise.all(inFlight);
    assert.ok(answered.size >= 1, 'at least the first was answered');
    const atDeath = allocations(first);

    // restart on the same folder and store
    const t0 = Math.floor(Date.now() / 1000);
    const gw = await startGateway({ dir: first.dir, tenants });
    bed.gws.push(gw);
    bed.gw = gw;
    const loaded = Number(/(\d+) allocated identities loaded/.exec(await gw.waitLog(/allocated identities loaded/))[1]);
    const rows = allocations(gw);
    assert.equal(loaded, rows.length);

    const key = (a) => `${a.idset} ${a.impu} ${a.subject}`;
    assert.deepEqual(rows.map(key), atDeath.map(key), 'the allocations at the kill, all of them, nothing more');
    for (const a of before)
      assert.ok(rows.some((r) => key(r) === key(a)), `allocation ${key(a)} survived`);
    for (const [k, n] of answered)
      assert.ok(rows.some((r) => r.subject === k && r.impu === n), `${k}'s granted ${n} survived`);
    assert.equal(new Set(rows.map((r) => r.impu)).size, rows.length, 'no number twice');
    assert.equal(new Set(rows.map((r) => r.subject)).size, rows.length, 'no subject twice');
    for (const r of rows) {
      if (r.subject === 'k3') {
        assert.equal(r.hold_until, held3, 'a held number keeps its hold');
      } else {
        assert.ok(r.hold_until >= t0 + 29 && r.hold_until <= t0 + 32,
          `${r.impu} of ${r.subject} was in use: held from the restart (hold_until ${r.hold_until}, start ${t0})`);
      }
    }
    assert.deepEqual(db(gw, 'SELECT * FROM devices'), [], 'no device survives a restart');

    // everybody registers again: the old subjects get their numbers back
    const owned = new Map(rows.map((r) => [r.subject, r.impu]));
    const subjects = ['k1', 'k2', 'k3', ...burst, 'fresh'];
    const got = new Map();
    for (const k of subjects) got.set(k, (await registerNew(bed, k)).number);
    for (const [k, n] of owned)
      assert.equal(got.get(k), n, `${k} gets its number back`);
    const taken = new Set(rows.map((r) => r.impu));
    for (const k of subjects.filter((s) => !owned.has(s)))
      assert.ok(!taken.has(got.get(k)), `${k} gets a number nobody had: ${got.get(k)}`);
    assert.equal(new Set(got.values()).size, subjects.length, 'all numbers distinct');
    const now = allocations(gw);
    assert.equal(now.length, subjects.length);
    assert.ok(now.every((r) => r.hold_until === 0), 'all in use again');
  });
});

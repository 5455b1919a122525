// The operations console (www/console/), served by the admin listener at
// /console/, driven in headless Chromium against a real wtpfd: two raw
// SIP-over-WebSocket clients registered, a call kept inside the gateway
// between them (tenant local_calls), a ring group whose third member is
// paused, a static trunk whose P-CSCF stand-in answers OPTIONS. The tests
// read the tables the page shows, use its buttons (pause, resume, hang
// up), and check the banner a wrong token gets. Screenshots console-*.png
// go to the test output folder.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { startGateway, freePort, defaultTenants, ORIGIN, DOMAIN } = require('../integration/lib/gateway');
const tok = require('../integration/lib/tokens');
const { connect } = require('../integration/lib/sip');
const { reply, localCall } = require('../integration/lib/localcall');
const { udpPcscf } = require('../integration/lib/pcscf');
const { launch, close, screenshot, rawRequest, WWW } = require('./lib/pages');

const TOKEN = 'console-admin-token-4c1d8e2f9a';
const N = (i) => `+49301234${String(i).padStart(5, '0')}`;
const ALICE = N(1), BOB = N(2), CAROL = N(3), GROUP = N(9000);
const LIMIT = 50;

const bed = { clients: [] };
let gw, b, consoleUrl;

// A raw client registered for `number` with a token (claimed identity).
async function registered(number, sub) {
  const c = await connect(gw.wsUrl, { origin: ORIGIN });
  bed.clients.push(c);
  c.contactUri = `sip:${sub}@${sub}.invalid;transport=ws`;
  const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:${number}@${DOMAIN}`,
    headers: { Authorization: `Bearer ${tok.hs256({ sub, impu: `sip:${number}@${DOMAIN}` })}`,
      Contact: `<${c.contactUri}>;+sip.instance="<urn:uuid:${crypto.randomUUID()}>";reg-id=1` } });
  assert.equal(r.status, 200, r.startLine);
  return c;
}

// ---- what the page shows --------------------------------------------------

// The text of each cell of the rows of table #id, keyed by a data
// attribute of the row.
const rows = (page, id, key) => page.$$eval(`#${id} tbody tr:not(.empty)`, (trs, k) =>
  Object.fromEntries(trs.map((tr) => [tr.dataset[k], [...tr.cells].map((td) => td.textContent.trim())])), key);
const members = (page, group) => page.$$eval(`.group[data-number="${group}"] tbody tr`, (trs) =>
  Object.fromEntries(trs.map((tr) => [tr.dataset.number, tr.dataset.state])));

// Waits until fn(page) satisfies pred; returns its last value.
async function until(page, fn, pred, what, timeoutMs = 6000) {
  const t0 = Date.now();
  let v;
  for (;;) {
    v = await fn(page);
    if (pred(v)) return v;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${what}: not shown within ${timeoutMs} ms; the page shows ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('operations console served by the admin listener', { timeout: 90000 }, () => {
  before(async () => {
    const { sock, firstProbe } = await udpPcscf();
    bed.pcscf = sock;
    const tenants = defaultTenants();
    Object.assign(tenants[0], {
      trunk: 'ims', local_calls: true, ranges: [`${N(0)}-${N(9999)}`], max_identities: LIMIT,
      services: { ring_groups: [{ number: GROUP, name: 'support', strategy: 'simultaneous',
        members: [ALICE, BOB, CAROL] }] },
    });
    const trunkPort = await freePort();
    gw = await startGateway({ tenants, adminToken: TOKEN, extra: {
      web: { root: WWW },
      trunks: [{ name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
        pcscf: [`sip:127.0.0.1:${sock.address().port};transport=udp`], domain: 'ims.test',
        options_interval: 1, failover_time: 2 }],
    } });
    await firstProbe;
    bed.alice = await registered(ALICE, 'alice');
    bed.bob = await registered(BOB, 'bob');
    bed.call = await localCall(bed.alice, bed.bob, { from: `sip:${ALICE}@${DOMAIN}`, to: `sip:${BOB}@${DOMAIN}` });
    assert.equal((await gw.api(`/api/agents/acme/${encodeURIComponent(CAROL)}/pause`, { method: 'POST' })).status, 200);
    consoleUrl = `http://127.0.0.1:${gw.adminPort}/console/`;
    b = await launch();
  });

  after(async () => {
    if (b) await close(b);
    for (const c of bed.clients) c.ws.terminate();
    try {
      if (gw) {
        const r = await gw.stop();
        assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
      }
    } finally {
      if (gw) { await gw.kill(); gw.cleanup(); }
      if (bed.pcscf) bed.pcscf.close();
    }
  });

  test('the page and its files come from the admin listener, without a token; nothing else', async () => {
    for (const [p, type] of [['/console/', 'text/html; charset=utf-8'], ['/console', 'text/html; charset=utf-8'],
      ['/console/console.js', 'text/javascript; charset=utf-8'], ['/console/console.css', 'text/css; charset=utf-8']]) {
      const r = await rawRequest(gw.adminPort, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.type, type, p);
    }
    for (const p of ['/console/nope.js', '/console/../phone/phone.js', '/console/%2e%2e/%2e%2e/etc/passwd',
      '/console/..%2f..%2fconf%2fwtpf.conf', '/console/.hidden', '/phone/', '/vendor/jssip.min.js']) {
      const r = await rawRequest(gw.adminPort, p);
      assert.equal(r.status, 404, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, /root:|use strict|tenants/, p);
    }
  });

  test('with the token: trunks, identities against the limit, registrations, the call, group members', async () => {
    const { page } = b;
    await page.goto(`${consoleUrl}#token=${TOKEN}`);
    await page.waitForSelector('#views:not([hidden])', { timeout: 5000 });
    assert.equal(await page.evaluate(() => location.hash), '', 'the token leaves the address');
    assert.equal(await page.isHidden('#banner'), true);

    const trunks = await until(page, (p) => rows(p, 'trunks', 'name'), (t) => t.ims && t.ims[2] === 'up', 'trunk ims up');
    assert.equal(trunks.ims[1], 'static');
    assert.match(trunks.ims[3], new RegExp(`127\\.0\\.0\\.1:${bed.pcscf.address().port}`));

    const regs = await rows(page, 'registrations', 'number');
    assert.deepEqual(Object.keys(regs).sort(), [ALICE, BOB], 'both devices registered');
    assert.equal(regs[ALICE][1], `sip:${ALICE}@${DOMAIN}`);
    assert.equal(regs[ALICE][2], 'acme');
    assert.equal(regs[ALICE][5], 'ws');

    // A call kept inside the gateway is listed as its two halves.
    const calls = Object.values(await rows(page, 'calls', 'id'));
    assert.deepEqual(calls.map((c) => [c[1], c[2], c[3]]).sort(), [
      ['inbound', 'answered', `sip:${BOB}@${DOMAIN}`], ['outbound', 'answered', `sip:${ALICE}@${DOMAIN}`]],
    `the call: ${JSON.stringify(calls)}`);

    const tenants = await rows(page, 'tenants', 'tenant');
    const api = (await gw.api('/api/tenants')).json.find((t) => t.name === 'acme');
    assert.equal(tenants.acme[2], String(api.identities_in_use), 'in use, as the API says');
    assert.equal(tenants.acme[2], '2');
    assert.equal(tenants.acme[4], String(LIMIT), 'against the tenant\'s limit');
    assert.match(tenants.acme[5], /^4 %$/);

    assert.deepEqual(await members(page, GROUP),
      { [ALICE]: 'on a call', [BOB]: 'on a call', [CAROL]: 'paused' });
    assert.equal(await page.textContent('#sum-calls'), '2');
    await screenshot(page, 'console-live.png');

    // Resumed through the API: the next poll shows it.
    assert.equal((await gw.api(`/api/agents/acme/${encodeURIComponent(CAROL)}/resume`, { method: 'POST' })).status, 200);
    await until(page, (p) => members(p, GROUP), (m) => m[CAROL] === 'available', `${CAROL} available`);
  });

  test('the console\'s buttons: pause and resume an agent, hang up the call', async () => {
    const { page } = b;
    const row = `.group[data-number="${GROUP}"] tr[data-number="${BOB}"]`;
    await page.click(`${row} button:has-text("Pause")`);
    await until(page, (p) => members(p, GROUP), (m) => m[BOB] === 'paused', `${BOB} paused`);
    const agent = (await gw.api('/api/groups')).json[0].members.find((m) => m.number === BOB);
    assert.equal(agent.paused, true, 'paused in the gateway');
    await screenshot(page, 'console-paused.png');
    await page.click(`${row} button:has-text("Resume")`);
    await until(page, (p) => members(p, GROUP), (m) => m[BOB] === 'on a call', `${BOB} on a call again`);

    // Hang up: both clients get BYE (and answer it).
    const byes = [bed.alice, bed.bob].map((c) => c.next((m) => m.method === 'BYE', 8000)
      .then((m) => reply(c, m, 200, 'OK')));
    await page.click('#calls tbody tr:first-child button:has-text("Hang up")');
    await Promise.all(byes);
    await until(page, (p) => rows(p, 'calls', 'id'), (c) => Object.keys(c).length === 0, 'no call left');
    assert.equal((await gw.api('/api/calls')).json.length, 0);
    await until(page, (p) => members(p, GROUP), (m) => m[ALICE] === 'available' && m[BOB] === 'available',
      'both members available after the call');
  });

  test('a wrong token: the error banner, no tables', async () => {
    const page = await b.ctx.newPage();
    page.on('pageerror', (e) => b.pageErrors.push(e.message));
    try {
      await page.goto(`${consoleUrl}#token=not-the-admin-token-0000`);
      await page.waitForSelector('#banner:not([hidden])', { timeout: 5000 });
      assert.match(await page.textContent('#banner'), /admin token was refused \(401 Unauthorized\)/);
      assert.equal(await page.isHidden('#views'), true, 'no tables');
      assert.equal(await page.isVisible('#token-input'), true, 'asks for the token again');
      await screenshot(page, 'console-token-refused.png');
      // The right one, typed in: the console opens.
      await page.fill('#token-input', TOKEN);
      await page.click('#token-form button[type="submit"]');
      await page.waitForSelector('#views:not([hidden])', { timeout: 5000 });
      assert.equal(await page.isHidden('#banner'), true);
    } finally {
      await page.close();
    }
    assert.deepEqual(b.pageErrors, [], 'no JavaScript errors in the page');
  });
});

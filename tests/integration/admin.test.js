// The operations listener: GET /health and GET /metrics (Prometheus text
// format), served on their own loopback port next to the WebSocket edge;
// anything else is refused with a clear status. The gauges follow what
// happens on the edge: a connection opened, a device registered, both gone.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { startGateway } = require('./lib/gateway');
const J = require(path.join(__dirname, '../web/lib/jssip-node.js'));
const tok = require('./lib/tokens');
const { ORIGIN, DOMAIN } = require('./lib/gateway');

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

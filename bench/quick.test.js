// bench.quick: wtpf-bench in quick mode against a real wtpfd on loopback,
// so the load generator keeps working. Each case starts the gateway (lib
// of the integration tests: temporary config, test keys, self-signed
// certificate), runs 50 clients that connect, register, refresh and call
// each other (the tenant keeps calls between its users local), and checks
// the tool's exit status and its JSON: everybody registered, no error,
// every call answered and ended, latencies measured, the gateway sampled.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const LIB = path.resolve(__dirname, '../tests/integration/lib');
const { bench } = require('./lib/bench');
const { startGateway, freePort, defaultTenants, ORIGIN, DOMAIN, ISS } =
  require(path.join(LIB, 'gateway'));
const { udpPcscf } = require(path.join(LIB, 'pcscf'));

const BENCH = process.env.WTPF_BENCH;
const CLIENTS = 50;

// A gateway whose tenant acme keeps calls between its users inside it; a
// UDP stand-in answers the static trunk's OPTIONS.
async function bed() {
  const { sock } = await udpPcscf();
  const tenants = defaultTenants();
  Object.assign(tenants[0], {
    trunk: 'ims', local_calls: true, ranges: ['+4930123400000-+4930123409999'],
  });
  tenants[1].ranges = ['+4970100000000-+4970100000999'];
  const gw = await startGateway({
    tls: true, tenants, users: [['acme', 'dig0', 'pw'],
      ['acme', 'dig1', 'pw'], ['acme', 'dig2', 'pw'], ['acme', 'dig3', 'pw']],
    extra: { trunks: [{
      name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${await freePort()}`,
      pcscf: [`sip:127.0.0.1:${sock.address().port};transport=udp`], domain: 'ims.test',
    }] },
  }).catch((e) => { sock.close(); throw e; });
  return { gw, sock };
}


// Arguments shared by the cases: register, refresh, call each other.
function common(gw, n) {
  return ['--origin', ORIGIN, '--domain', DOMAIN, '--clients', String(n), '--ramp', '500',
    '--refresh-rate', '100', '--refresh-time', '0.5',
    '--call-rate', '20', '--call-time', '1', '--call-hold', '0.3', '--call-to', 'peers',
    '--target-pid', String(gw.pid), '--timeout', '5'];
}

// What every successful run must show.
function checkRun(r, n, minCalls = 10) {
  const why = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
  assert.equal(r.code, 0, why);
  assert.match(r.stdout, /result: ok/, why);
  const j = r.json;
  assert.ok(j, 'the JSON file parses');
  assert.equal(j.tool, 'wtpf-bench');
  assert.equal(j.result.ok, true);
  assert.equal(j.result.clients, n);
  assert.equal(j.result.registered, n);
  assert.ok(j.result.register_time_s > 0);
  // the steady rate, between the tenth and the nine-tenths of the clients,
  // follows the ramp of 500 clients a second (none with under 10 clients)
  if (n >= 10)
    assert.ok(j.result.register_steady_rate_per_s > 250 && j.result.register_steady_rate_per_s < 750,
      `steady rate ${j.result.register_steady_rate_per_s}/s at a ramp of 500/s`);
  else
    assert.equal(j.result.register_steady_rate_per_s, -1);
  assert.equal(j.errors.total, 0, JSON.stringify(j.errors));
  assert.deepEqual(j.errors.by_status, {});
  assert.deepEqual(j.errors.by_kind, {});
  for (const k of ['connect', 'register', 'refresh', 'invite_18x', 'invite_200', 'bye', 'ack_in']) {
    const t = j.transactions[k];
    assert.ok(t, `transaction ${k} measured`);
    assert.ok(t.ok > 0, `${k}: some succeeded`);
    assert.equal(t.failed, 0, `${k}: none failed`);
    for (const p of ['p50_ms', 'p90_ms', 'p99_ms', 'max_ms'])
      assert.ok(t[p] > 0, `${k}.${p} > 0`);
    assert.ok(t.p50_ms <= t.p90_ms && t.p90_ms <= t.p99_ms && t.p99_ms <= t.max_ms, `${k}: percentiles ordered`);
  }
  assert.equal(j.transactions.connect.ok, n);
  assert.equal(j.transactions.register.ok, n);
  const c = j.counters;
  assert.ok(c.calls_placed >= minCalls, `calls placed: ${c.calls_placed}`);
  assert.equal(c.calls_answered, c.calls_placed);
  assert.equal(c.calls_completed, c.calls_placed);
  assert.equal(c.calls_failed, 0);
  assert.equal(c.inbound_calls, c.calls_placed, 'the callees are bench clients');
  assert.equal(c.inbound_answered, c.calls_placed);
  assert.deepEqual(j.phases.map((p) => p.name), ['register', 'refresh', 'calls', 'close']);
  assert.deepEqual(j.steps.map((s) => s.name), ['register', 'refresh', 'calls', 'close', 'end']);
  const reg = j.phases[0];
  assert.equal(reg.registered_end, n);
  assert.ok(reg.target.rss_kb_end > 0 && reg.target.pss_kb_end > 0, 'gateway memory sampled');
  assert.ok(reg.target.cpu_s >= 0 && reg.target.fds_end >= n, 'gateway CPU and descriptors sampled');
  assert.equal(j.steps.at(-1).open, 0, 'every WebSocket closed at the end');
  assert.ok(j.target.rss_kb_per_client !== null);
}

describe('wtpf-bench quick mode against wtpfd', { timeout: 90000 }, () => {
  let b;
  before(async () => { b = await bed(); });
  after(async () => {
    if (!b) return;
    const r = await b.gw.stop();
    b.sock.close();
    assert.deepEqual(r, { code: 0, signal: null });
    b.gw.cleanup();
  });

  test('ws, HS256 tokens: 50 clients over three lws contexts register, refresh and call each other', async () => {
    const r = await bench(['--url', b.gw.wsUrl, ...common(b.gw, CLIENTS), '--contexts', '3',
      '--jwt-alg', 'HS256', '--jwt-key', path.join(b.gw.dir, 'hs256.key'), '--jwt-iss', ISS.hs]);
    checkRun(r, CLIENTS);
    assert.equal(r.json.config.transport, 'ws');
    assert.equal(r.json.config.contexts, 3, 'the clients, calling each other, over three lws contexts');
  });

  test('wss, ES256 tokens, four source addresses, one lws context whatever is asked', async () => {
    const r = await bench(['--url', b.gw.wssUrl, '--insecure', '--local-addrs', '127.0.0.1-127.0.0.4', '--contexts', '3',
      ...common(b.gw, CLIENTS), '--user', 'ec%05u',
      '--jwt-alg', 'ES256', '--jwt-key', path.resolve(LIB, '../../data/jwt/ec1.key'), '--jwt-iss', ISS.ec]);
    checkRun(r, CLIENTS);
    assert.equal(r.json.config.transport, 'wss');
    assert.equal(r.json.config.local_addrs, 4);
    assert.equal(r.json.config.contexts, 1, 'over wss, one context');
  });

  test('ws, digest: users challenged, registered and calling', async () => {
    const r = await bench(['--url', b.gw.wsUrl, ...common(b.gw, 4), '--call-rate', '5',
      '--call-hold', '0.1', '--user', 'dig%u', '--auth', 'digest', '--password', 'pw']);
    checkRun(r, 4, 4);
    assert.ok(r.json.counters.digest_challenges >= 4);
    assert.equal(r.json.config.contexts, 1, 'one lws context per 500 clients');
  });

  test('a loopback capture of the run: reg_pcap.py pairs every REGISTER with its 200 on the wire', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-pcap-'));
    fs.chmodSync(dir, 0o777);   // tcpdump writes as its own user
    const pcap = path.join(dir, 'reg.pcap');
    const cap = spawn('tcpdump', ['-i', 'lo', '-w', pcap, '-U', '-s', '0', '-n', `tcp port ${b.gw.wsPort}`],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let capLog = '';
    const closed = new Promise((r) => cap.on('close', r));
    try {
      await new Promise((resolve, reject) => {
        cap.stderr.on('data', (d) => { capLog += d; if (/listening on/.test(capLog)) resolve(); });
        cap.on('close', () => reject(new Error(`tcpdump exited: ${capLog}`)));
      });
      const r = await bench(['--url', b.gw.wsUrl, ...common(b.gw, CLIENTS),
        '--jwt-alg', 'HS256', '--jwt-key', path.join(b.gw.dir, 'hs256.key'), '--jwt-iss', ISS.hs]);
      checkRun(r, CLIENTS);
      await new Promise((res) => setTimeout(res, 300));
      cap.kill('SIGINT');
      await closed;
      const a = JSON.parse(execFileSync('python3', [path.join(__dirname, 'scenarios', 'reg_pcap.py'), pcap,
        '--ws-port', String(b.gw.wsPort)], { encoding: 'utf8' }));
      const refresh = r.json.transactions.refresh;
      assert.equal(a.initial.count, CLIENTS, 'one initial registration per client');
      assert.equal(a.refresh.count, refresh.ok, 'every refresh the client counted, paired on the wire');
      assert.equal(a.unanswered, 0);
      assert.deepEqual(a.statuses, { 200: CLIENTS + refresh.ok });
      assert.ok(a.refresh.p50_ms > 0 && a.refresh.p50_ms <= a.refresh.p99_ms && a.refresh.p99_ms <= a.refresh.max_ms);
      // the wire time is part of what the client waits (its histogram
      // has about 3 % resolution)
      assert.ok(a.refresh.max_ms <= refresh.max_ms * 1.05 + 0.01,
        `wire max ${a.refresh.max_ms} ms, client max ${refresh.max_ms} ms`);
    } finally {
      cap.kill('SIGINT');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a wrong key: every registration refused, reported by status, exit 1', async () => {
    const r = await bench(['--url', b.gw.wsUrl, '--origin', ORIGIN, '--domain', DOMAIN,
      '--clients', '5', '--jwt-key', path.resolve(LIB, '../../data/jwt/jwks-rsa-oct.json'),
      '--jwt-iss', ISS.hs, '--target-pid', String(b.gw.pid)]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.json.result.ok, false);
    assert.equal(r.json.result.registered, 0);
    assert.equal(r.json.errors.by_status['REGISTER 401'].count, 5);
    assert.equal(r.json.transactions.register.failed, 5);
  });
});

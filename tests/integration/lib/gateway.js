// Starts and stops a real wtpfd for the integration tests.
//
// startGateway(opts) writes a configuration into a fresh temporary folder
// (free loopback ports, test keys copied from tests/data/jwt, a self-signed
// certificate made with openssl when wss is wanted), spawns
// process.env.WTPFD -c FILE (optionally under a wrapper such as valgrind),
// captures its stderr log, and resolves once it logged `listening` for every
// listener. gw.stop() sends SIGTERM to its PID and resolves with the exit
// code; after opts.stopTimeoutMs it kills it with SIGKILL and rejects.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const DATA = path.resolve(__dirname, '../../data/jwt');
const WTPFD = process.env.WTPFD;

// The tenants every test can use. `acme` takes tokens from three issuers
// (HS256 secret, ES256 PEM key, RS256 JWKS key chosen by kid) and digest;
// `closed` takes only HS256 tokens (no digest).
const ORIGIN = 'https://app.acme.test';
const CLOSED_ORIGIN = 'https://app.closed.test';
const DOMAIN = 'acme.test';
const CLOSED_DOMAIN = 'closed.test';
const ISS = {
  hs: 'https://idp.acme.test',
  ec: 'https://ec.acme.test',
  rsa: 'https://rsa.acme.test',
  closed: 'https://idp.closed.test',
};

function defaultTenants(extraOrigins = []) {
  return [
    {
      name: 'acme', domain: DOMAIN, origins: [ORIGIN, ...extraOrigins],
      allow_digest: true,
      issuers: [
        { issuer: ISS.hs, audience: 'wtpf', keys: 'hs256.key', algorithms: ['HS256'] },
        { issuer: ISS.ec, audience: 'wtpf', keys: 'ec1.pub', algorithms: ['ES256'] },
        { issuer: ISS.rsa, audience: 'wtpf', keys: 'jwks-rsa-oct.json', algorithms: ['RS256'] },
      ],
    },
    {
      name: 'closed', domain: CLOSED_DOMAIN, origins: [CLOSED_ORIGIN],
      allow_digest: false,
      issuers: [
        { issuer: ISS.closed, audience: 'wtpf', keys: 'hs256.key', algorithms: ['HS256'] },
      ],
    },
  ];
}

// A JavaScript value as libconfig text.
function lc(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === 'object')
      return '(\n' + v.map(lc).join(',\n') + '\n)';
    return '[ ' + v.map(lc).join(', ') + ' ]';
  }
  return '{\n' + Object.entries(v).map(([k, x]) => `  ${k} = ${lc(x)};`).join('\n') + '\n}';
}

function toLibconfig(obj) {
  return Object.entries(obj).map(([k, v]) => `${k} = ${lc(v)};`).join('\n') + '\n';
}

// A TCP port free on 127.0.0.1 right now, and not handed out before by
// this process: the kernel may give the same ephemeral port to two
// listen(0) calls in a row once the first is closed, and a gateway
// whose trunk and admin ports are the same cannot start.
const portsGiven = new Set();
function freePortOnce() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
async function freePort() {
  for (;;) {
    const port = await freePortOnce();
    if (!portsGiven.has(port)) {
      portsGiven.add(port);
      return port;
    }
  }
}

// A self-signed P-256 certificate for 127.0.0.1 and localhost.
function makeCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
  { stdio: 'ignore' });
  return { cert, key };
}

function copyKeys(dir) {
  fs.copyFileSync(path.join(DATA, 'hmac.secret'), path.join(dir, 'hs256.key'));
  for (const f of ['ec1.pub', 'ec2.pub', 'rsa.pub', 'jwks-rsa-oct.json', 'jwks-ec.json'])
    fs.copyFileSync(path.join(DATA, f), path.join(dir, f));
}

// Gateways still running when the test process exits (a crashed or
// timed-out test) are killed by PID, never left behind.
const running = new Set();
process.on('exit', () => {
  for (const gw of running) {
    try { process.kill(gw.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
});

class Gateway {
  constructor() {
    this.lines = [];
    this.waiters = [];
  }

  // Every log line so far, as one string.
  log() { return this.lines.join('\n'); }

  // Resolves with the first log line (from `from` on) matching re.
  waitLog(re, timeoutMs = 5000, from = 0) {
    const hit = this.lines.slice(from).find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    if (this.exitResult)
      return Promise.reject(new Error(`wtpfd exited (${JSON.stringify(this.exitResult)}), no log line matching ${re}; log:\n${this.log()}`));
    return new Promise((resolve, reject) => {
      const w = { re, resolve, reject, timer: null };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no log line matching ${re} within ${timeoutMs} ms; log:\n${this.log()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  // GET on the admin listener: resolves with { status, type, body }.
  async admin(path) {
    const r = await fetch(`http://127.0.0.1:${this.adminPort}${path}`);
    return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
  }

  // A request to the JSON API (/api/...): resolves with { status, type,
  // body (text), json (parsed, or undefined) }. o: { method, body (an
  // object is sent as JSON, a string as is), token (default gw.adminToken;
  // null: no Authorization) }.
  async api(path, o = {}) {
    const headers = {};
    const token = o.token === undefined ? this.adminToken : o.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body = o.body;
    if (body !== undefined && typeof body !== 'string') {
      body = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    const r = await fetch(`http://127.0.0.1:${this.adminPort}${path}`,
      { method: o.method || 'GET', headers, body });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch (e) { json = undefined; }
    return { status: r.status, type: r.headers.get('content-type'), body: text, json };
  }

  // The value of one Prometheus sample, e.g. metric('wtpf_calls_active')
  // or metric('wtpf_identities_in_use{tenant="acme"}'); undefined if absent.
  async metric(sample) {
    const { body } = await this.admin('/metrics');
    const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  }

  // Marks the log so that waitLog(re, t, mark) only looks at what follows.
  mark() { return this.lines.length; }

  _line(l) {
    this.lines.push(l);
    if (process.env.WTPF_TEST_VERBOSE) process.stderr.write(`[wtpfd] ${l}\n`);
    for (const w of [...this.waiters]) {
      if (w.re.test(l)) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(l);
      }
    }
  }

  // SIGTERM by PID; resolves with { code, signal } once it exited.
  stop(timeoutMs = 10000) {
    if (this.exitResult) return Promise.resolve(this.exitResult);
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        try { process.kill(this.pid, 'SIGKILL'); } catch (e) { /* gone */ }
        reject(new Error(`wtpfd (pid ${this.pid}) did not exit ${timeoutMs} ms after SIGTERM; log:\n${this.log()}`));
      }, timeoutMs);
      this.exitPromise.then((r) => { clearTimeout(timer); resolve(r); });
    });
    try { process.kill(this.pid, 'SIGTERM'); } catch (e) { /* exited meanwhile */ }
    return done;
  }

  // Kills it whatever its state (for after() hooks); never throws.
  async kill() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try { process.kill(this.pid, 'SIGKILL'); } catch (e) { /* gone */ }
      await this.exitPromise;
    }
  }

  // Writes the configuration again: `text`, or gw.config as libconfig.
  writeConfig(text) {
    fs.writeFileSync(this.confPath, text === undefined ? toLibconfig(this.config) : text);
  }

  // SIGHUP by PID; resolves with the line that tells how the reload went
  // ("configuration reloaded", or "reload refused..."/"reload failed...").
  reload(timeoutMs = 5000) {
    const from = this.mark();
    process.kill(this.pid, 'SIGHUP');
    return this.waitLog(/configuration reloaded|reload (refused|failed)/, timeoutMs, from);
  }

  cleanup() {
    if (!process.env.WTPF_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// opts: { websocket, registrar, auth, tenants, extraOrigins, extra, tls,
//         logLevel, adminToken (written to admin.token, named by
//         admin.token_file; gw.adminToken keeps it),
//         users: [[tenant, user, password]], wrapper: [cmd, ...args],
//         startTimeoutMs, dir (an existing folder: its store is kept, so a
//         gateway can be started again on the store of one that died) }
async function startGateway(opts = {}) {
  if (!WTPFD) throw new Error('WTPFD is not set (the path of the wtpfd binary)');
  const gw = new Gateway();
  gw.dir = opts.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-it-'));
  copyKeys(gw.dir);
  gw.wsPort = await freePort();
  gw.wssPort = opts.tls ? await freePort() : 0;
  gw.adminPort = await freePort();
  const websocket = {
    ws_address: '127.0.0.1', ws_port: gw.wsPort,
    wss_address: '127.0.0.1', wss_port: gw.wssPort,
  };
  if (opts.tls) {
    const { cert, key } = makeCert(gw.dir);
    websocket.tls_certificate = cert;
    websocket.tls_key = key;
  }
  Object.assign(websocket, opts.websocket || {});
  gw.config = {
    log_level: opts.logLevel || 'info',
    websocket,
    registrar: { min_expires: 60, max_expires: 3600, default_expires: 600, ...(opts.registrar || {}) },
    auth: { clock_skew: 30, nonce_lifetime: 300, max_nonces: 1000, ...(opts.auth || {}) },
    store: { path: 'wtpf.db' },
    admin: { address: '127.0.0.1', port: gw.adminPort },
    tenants: opts.tenants || defaultTenants(opts.extraOrigins),
    ...(opts.extra || {}),   // other top-level groups (trunks...)
  };
  if (opts.adminToken) {
    gw.adminToken = opts.adminToken;
    fs.writeFileSync(path.join(gw.dir, 'admin.token'), `${opts.adminToken}\n`, { mode: 0o600 });
    gw.config.admin.token_file = 'admin.token';
  }
  gw.confPath = path.join(gw.dir, 'wtpf.conf');
  gw.storePath = path.resolve(gw.dir, gw.config.store.path);
  fs.writeFileSync(gw.confPath, toLibconfig(gw.config));
  gw.wsUrl = `ws://127.0.0.1:${gw.wsPort}`;
  gw.wssUrl = opts.tls ? `wss://127.0.0.1:${gw.wssPort}` : null;

  // Setup commands that need the same config (user add) run before start.
  for (const [tenant, user, pass] of opts.users || [])
    addUser(gw.confPath, tenant, user, pass);

  const argv = [...(opts.wrapper || []), WTPFD, '-c', gw.confPath];
  gw.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  gw.pid = gw.proc.pid;
  running.add(gw);
  gw.proc.on('exit', () => running.delete(gw));
  gw.exitPromise = new Promise((resolve) => {
    gw.proc.on('close', (code, signal) => resolve({ code, signal }));
  });
  gw.exitPromise.then((r) => {
    gw.exitResult = r;
    // Nothing more will be logged: fail whoever still waits, at once.
    for (const w of gw.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`wtpfd exited (${JSON.stringify(r)}) before logging ${w.re}; log:\n${gw.log()}`));
    }
  });
  let buf = '';
  const onData = (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      gw._line(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  gw.proc.stderr.on('data', onData);
  gw.proc.stdout.on('data', onData);

  const timeout = opts.startTimeoutMs || 10000;
  const started = Promise.all([
    gw.waitLog(/listening ws:\/\//, timeout),
    opts.tls ? gw.waitLog(/listening wss:\/\//, timeout) : null,
  ]);
  const died = gw.exitPromise.then((r) => {
    throw new Error(`wtpfd exited early (${JSON.stringify(r)}); log:\n${gw.log()}`);
  });
  try {
    await Promise.race([started, died]);
  } catch (e) {
    await gw.kill();
    e.gateway = gw;
    gw.cleanup();
    throw e;
  }
  died.catch(() => {});
  return gw;
}

// `wtpfd user add -c FILE TENANT USER PASSWORD`; returns its stdout.
function addUser(confPath, tenant, user, pass) {
  return execFileSync(WTPFD, ['user', 'add', '-c', confPath, tenant, user, pass],
    { encoding: 'utf8' });
}

module.exports = {
  startGateway, addUser, freePort, makeCert, toLibconfig, defaultTenants,
  ORIGIN, CLOSED_ORIGIN, DOMAIN, CLOSED_DOMAIN, ISS, DATA,
};

// The demo command, as a newcomer uses it: `scripts/run --no-build` (the
// gateway of this build, $WTPFD) with the demo configuration and the local
// IMS stand-in (scripts/ims-standin: Kamailio, rtpengine, SIPp echo and
// tone users). Once the banner is out, the URLs it prints answer, JsSIP in
// headless Chromium (fake microphone) registers with the token it printed,
// calls the echo number and hears its own audio come back (inbound RTP
// with energy), well within a minute; the tone number plays a tone. Then
// SIGINT, as Ctrl-C: the script exits 0 and every process it started is
// gone (no wtpfd, kamailio, rtpengine or sipp left in this network
// namespace). A run killed with SIGKILL leaves its daemons behind; the next
// run stops them through their pid files and starts on the same folder.
//
// The configuration is conf/wtpf.conf with its run-time paths moved into
// this test's output folder (the demo's own run/ is never touched). Runs in
// a network namespace with only lo (CMakeLists.txt), so the demo's fixed
// ports are free. Output: calls-out/demo/.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const browser = require('./lib/browser');
const { outDir } = require('./lib/env');
const { sleep } = require('./lib/peers');

const { T, waitEvent } = browser;
const TOP = path.resolve(__dirname, '../..');
const ECHO = '+4930999000';
const TONE = '+4930999001';
const DOMAIN = 'demo.wtpf.test';
const PAGE = { port: 8000, origin: 'http://127.0.0.1:8000' };   // an Origin the demo tenant allows
const DAEMONS = ['wtpfd', 'kamailio', 'rtpengine', 'sipp'];

const dir = outDir('demo');
const runDir = path.join(dir, 'run');

// conf/wtpf.conf with the store and TLS pair in runDir, every other
// relative path made absolute (relative paths are the file's folder's).
function writeConf() {
  const src = fs.readFileSync(path.join(TOP, 'conf/wtpf.conf'), 'utf8');
  const out = src.replace(/"\.\.\/run\//g, `"${runDir}/`)
    .replace(/"\.\.\//g, `"${TOP}/`)
    .replace(/"demo\//g, `"${TOP}/conf/demo/`);
  assert.ok(out.includes(`"${runDir}/tls/cert.pem"`), 'the demo configuration keeps its TLS pair under ../run/tls');
  const file = path.join(dir, 'wtpf.conf');
  fs.writeFileSync(file, out);
  return file;
}
const conf = writeConf();

// ---- the script -----------------------------------------------------------

const runs = [];
after(async () => {
  if (st.b) await browser.close(st.b, dir).catch(() => {});
  for (const r of runs) {
    if (r.exit) continue;
    try { process.kill(r.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    await within(r.exited, 20000);
  }
});

function startRun(name) {
  const out = path.join(dir, `${name}.out`);
  const child = spawn('bash', [path.join(TOP, 'scripts/run'), '--no-build', '--conf', conf, '--run-dir', runDir],
    { cwd: TOP, stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { pid: child.pid, text: '', t0: Date.now(), exit: null };
  const add = (d) => { r.text += d; fs.appendFileSync(out, d); };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  r.exited = new Promise((resolve) => child.on('exit', (code, signal) => { r.exit = { code, signal }; resolve(r.exit); }));
  runs.push(r);
  return r;
}

// The promise's value, or null after ms (the timer does not outlive it).
function within(promise, ms) {
  let t;
  return Promise.race([promise, new Promise((r) => { t = setTimeout(() => r(null), ms); })])
    .finally(() => clearTimeout(t));
}

async function waitText(r, re, ms, what) {
  const t0 = Date.now();
  while (!re.test(r.text)) {
    if (r.exit) throw new Error(`scripts/run exited ${JSON.stringify(r.exit)} before ${what}:\n${r.text.slice(-4000)}`);
    if (Date.now() - t0 > ms) throw new Error(`no ${what} within ${ms} ms:\n${r.text.slice(-4000)}`);
    await sleep(100);
  }
  return Date.now();
}

// ---- processes -------------------------------------------------------------

const readPid = (f) => { try { return Number(fs.readFileSync(f, 'utf8').trim()) || null; } catch (e) { return null; } };
const stateOf = (pid) => {
  try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]; } catch (e) { return null; }
};
const running = (pid) => { const s = stateOf(pid); return s !== null && s !== 'Z'; };
const children = (pid) => {
  try { return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch (e) { return []; }
};

// What the script started, from its pid files (and Kamailio's workers).
function startedPids() {
  const files = ['wtpfd', 'ims-standin'].map((n) => path.join(runDir, `${n}.pid`))
    .concat(['rtpengine', 'kamailio', 'sipp-echo', 'sipp-tone'].map((n) => path.join(runDir, 'ims', `${n}.pid`)));
  const out = {};
  for (const f of files) {
    const pid = readPid(f);
    assert.ok(pid && running(pid), `${path.basename(f)} names a running process (${pid})`);
    out[path.basename(f, '.pid')] = pid;
  }
  children(out.kamailio).forEach((p, i) => { out[`kamailio-worker-${i}`] = p; });
  return out;
}

// The daemons running in this network namespace (other tests run theirs in
// their own namespaces).
function daemonsHere() {
  const me = fs.readlinkSync('/proc/self/ns/net');
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readlinkSync(`/proc/${e}/ns/net`) !== me || !running(Number(e))) continue;
      const comm = fs.readFileSync(`/proc/${e}/comm`, 'utf8').trim();
      if (DAEMONS.includes(comm)) out.push(`${e} ${comm}`);
    } catch (err) { /* gone, or not ours to read */ }
  }
  return out;
}

// ---- HTTP and media --------------------------------------------------------

function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url}: timeout`)));
  });
}

// The audio RTP session `sid` has received so far: packets, bytes, energy
// and level of what was played out (and, for the log, the energy the fake
// microphone sent).
function inbound(b, sid) {
  return b.page.evaluate(async (s) => {
    const pc = window.T.sessions[s].session.connection;
    const r = { packets: 0, bytes: 0, energy: 0, level: 0, state: pc.connectionState, micEnergy: 0 };
    (await pc.getStats()).forEach((x) => {
      if (x.type === 'media-source' && x.kind === 'audio') r.micEnergy += x.totalAudioEnergy || 0;
      if (x.type === 'inbound-rtp' && x.kind === 'audio') {
        r.packets += x.packetsReceived || 0;
        r.bytes += x.bytesReceived || 0;
        r.energy += x.totalAudioEnergy || 0;
        r.level = Math.max(r.level, x.audioLevel || 0);
      }
    });
    return r;
  }, sid);
}

// Calls `number`; resolves once audio came back: packets and bytes rising
// and audible energy (not only silence), with the time it took.
async function callHears(b, number, ms = 15000) {
  const t0 = Date.now();
  const sid = await T(b, 'call', 'alice', `sip:${number}@${DOMAIN}`);
  await waitEvent(b, sid, 'confirmed', 10000);
  // Played out, as a softphone does: audio levels come from playout.
  await b.page.evaluate(async (s) => {
    const pc = window.T.sessions[s].session.connection;
    const a = document.createElement('audio');
    a.srcObject = new MediaStream(pc.getReceivers().map((x) => x.track));
    document.body.appendChild(a);
    await a.play().catch((e) => console.log(`audio play: ${e}`));
  }, sid);
  let first = null;
  let last = null;
  while (Date.now() - t0 < ms) {
    const s = await inbound(b, sid);
    if (!first && s.packets > 0) first = s;
    if (first && s.packets > first.packets && s.bytes > first.bytes && s.energy > 0) {
      return { sid, first, last: s, ms: Date.now() - t0 };
    }
    last = s;
    await sleep(200);
  }
  throw new Error(`call to ${number}: no audio back within ${ms} ms (${JSON.stringify(last)})`);
}

// ---- the test ----------------------------------------------------------------

const st = {};

test('scripts/run: the demo answers with audio, and Ctrl-C stops everything it started', async () => {
  const r = startRun('run1');
  const banner = await waitText(r, /Stop with Ctrl-C\./, 30000, 'banner');
  const tReady = banner - r.t0;
  assert.match(r.text, /Trunk: +registered to the P-CSCF stand-in/, 'the trunk registered before the banner');
  const token = (r.text.match(/^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m) || [])[1];
  assert.ok(token, `the banner prints the demo token:\n${r.text}`);
  for (const n of [ECHO, TONE]) assert.ok(r.text.includes(n), `the banner names ${n}`);

  // The URLs of the banner answer.
  for (const url of ['http://127.0.0.1:8090/health', 'http://127.0.0.1:8090/metrics',
    'http://127.0.0.1:8080/phone/', 'http://127.0.0.1:8090/console/']) {
    assert.ok(r.text.includes(url), `the banner prints ${url}`);
    const res = await httpGet(url);
    assert.equal(res.status, 200, `GET ${url}`);
  }
  const adminToken = fs.readFileSync(path.join(TOP, 'conf/demo/admin.token'), 'utf8').trim();
  assert.ok(r.text.includes(adminToken), 'the banner prints the admin token');

  // A newcomer's browser: register with the printed token, call the echo.
  st.b = await browser.launch(PAGE, dir);
  const reg = await T(st.b, 'startUA', {
    key: 'alice', ws: 'ws://127.0.0.1:8080', uri: `sip:alice@${DOMAIN}`, jwt: token,
    instance: '5b2c6a3e-8d1f-4e1a-9c77-0d5e1f2a3b4c',
  });
  assert.equal(reg.ok, true, `JsSIP registers with the printed token: ${JSON.stringify(reg)}`);
  assert.match(reg.pau, /sip:\+4930123\d{6}@demo\.wtpf\.test/, 'alice got a number of the demo range');

  const echo = await callHears(st.b, ECHO);
  const toAudio = Date.now() - banner;
  console.log(`# banner ${tReady} ms after start; echo audio ${echo.ms} ms after dialling, ` +
    `${toAudio} ms after the banner; stats ${JSON.stringify(echo.last)}`);
  assert.ok(toAudio < 60000, `audio within a minute of the banner (${toAudio} ms)`);
  await T(st.b, 'terminate', echo.sid);
  await waitEvent(st.b, echo.sid, 'ended', 5000);

  const tone = await callHears(st.b, TONE);
  console.log(`# tone audio ${tone.ms} ms after dialling; stats ${JSON.stringify(tone.last)}`);
  await T(st.b, 'terminate', tone.sid);
  await waitEvent(st.b, tone.sid, 'ended', 5000);
  await T(st.b, 'stopAll');
  await browser.close(st.b, dir);
  st.b = null;

  // Ctrl-C.
  const pids = startedPids();
  const t0 = Date.now();
  process.kill(r.pid, 'SIGINT');
  const exit = await within(r.exited, 30000);
  assert.deepEqual(exit, { code: 0, signal: null }, `scripts/run exits 0 on SIGINT:\n${r.text.slice(-3000)}`);
  console.log(`# stopped ${Date.now() - t0} ms after SIGINT`);
  const left = Object.entries(pids).filter(([, p]) => running(p));
  assert.deepEqual(left, [], 'every process the demo started is gone');
  assert.deepEqual(daemonsHere(), [], 'no wtpfd, kamailio, rtpengine or sipp left in the namespace');
  assert.match(r.text, /run: stopped/);
  assert.match(fs.readFileSync(path.join(runDir, 'wtpfd.log'), 'utf8'), /wtpfd stopped/,
    'the gateway shut down cleanly');

  // A second run on the same folder starts again. Killed hard (the script
  // and the stand-in's script by SIGKILL: nothing stops the daemons), it
  // leaves them running; a third run stops them through their pid files
  // first, then starts, and SIGTERM stops it like Ctrl-C.
  const r2 = startRun('run2');
  await waitText(r2, /Stop with Ctrl-C\./, 30000, 'banner of the second run');
  assert.match(r2.text, /Trunk: +registered to the P-CSCF stand-in/);
  const pids2 = startedPids();
  process.kill(pids2['ims-standin'], 'SIGKILL');
  process.kill(r2.pid, 'SIGKILL');
  await r2.exited;
  await sleep(300);
  assert.ok(running(pids2.wtpfd) && running(pids2.kamailio), 'the daemons outlive a killed script');

  const r3 = startRun('run3');
  await waitText(r3, /Stop with Ctrl-C\./, 45000, 'banner of the third run');
  assert.match(r3.text, /left by an earlier run/, 'the third run found what the second left');
  assert.match(r3.text, /Trunk: +registered to the P-CSCF stand-in/);
  assert.deepEqual(Object.entries(pids2).filter(([, p]) => running(p)), [], 'the second run\'s processes are gone');
  // Kamailio of this run found this run's rtpengine (one it cannot ping at
  // start is left aside for a minute: calls would fail meanwhile).
  const kamLog = fs.readFileSync(path.join(runDir, 'ims/kamailio/kamailio.log'), 'utf8');
  assert.match(kamLog, /rtpengine instance <udp:127\.0\.0\.1:2223> found/, 'Kamailio found rtpengine');
  assert.doesNotMatch(kamLog, /did not respond to ping/, 'Kamailio found rtpengine at once');
  const pids3 = startedPids();
  process.kill(r3.pid, 'SIGTERM');
  const exit3 = await within(r3.exited, 30000);
  assert.deepEqual(exit3, { code: 0, signal: null }, `the third run exits 0 on SIGTERM:\n${r3.text.slice(-3000)}`);
  assert.deepEqual(Object.entries(pids3).filter(([, p]) => running(p)), []);
  assert.deepEqual(daemonsHere(), []);
});

// The real third-party peers of the call tests, started and stopped by PID
// from the test process (which runs in a network namespace with only lo):
//
//  * Kamailio as the P-CSCF stand-in: tests/peers/kamailio/pcscf.cfg, copied
//    into the run folder with its ports changed when asked (a second P-CSCF
//    for failover) and Kamailio's own sipdump module switched on, so that the
//    tests read every SIP message exactly as Kamailio received and sent it;
//  * rtpengine (the eIMS-AGW stand-in) through tests/peers/rtpengine/start.sh;
//  * SIPp for the IMS users, with -trace_msg so that the tests read what each
//    SIPp received.
'use strict';
const { spawn } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');

const PEERS = path.resolve(__dirname, '../../peers');
const SCEN = path.resolve(__dirname, '../sipp');

// Everything started here is killed by PID when the test process exits
// (a crashed or timed-out test), never left behind.
const running = new Set();
process.on('exit', () => {
  for (const p of running) {
    try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A child process whose stdout+stderr go to a log file.
class Proc {
  constructor(name, cmd, args, { log, env, cwd } = {}) {
    this.name = name;
    this.logPath = log;
    const fd = log ? fs.openSync(log, 'a') : 'ignore';
    this.proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...(env || {}) }, cwd });
    if (log) fs.closeSync(fd);
    this.pid = this.proc.pid;
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        running.delete(this);
        this.exitResult = { code, signal };
        resolve(this.exitResult);
      });
      this.proc.on('error', (e) => {
        running.delete(this);
        this.exitResult = { code: -1, signal: null, error: e.message };
        resolve(this.exitResult);
      });
    });
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch (e) { return ''; }
  }

  // SIGTERM by PID, SIGKILL after timeoutMs; resolves with { code, signal }.
  async stop(timeoutMs = 5000) {
    if (this.exitResult) return this.exitResult;
    try { process.kill(this.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    const t = setTimeout(() => {
      try { process.kill(this.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }, timeoutMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  // Resolves when the process exits, or rejects after timeoutMs.
  wait(timeoutMs) {
    if (this.exitResult) return Promise.resolve(this.exitResult);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(
        `${this.name} (pid ${this.pid}) still running after ${timeoutMs} ms; log:\n${this.log().slice(-3000)}`)), timeoutMs);
      this.exited.then((r) => { clearTimeout(t); resolve(r); });
    });
  }
}

// Sends OPTIONS over UDP until something answers 200 (the stand-in answers
// OPTIONS to itself), so that a test starts only once Kamailio serves.
async function sipPing(port, timeoutMs = 8000) {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const lport = sock.address().port;
  let ok = false;
  sock.on('message', (m) => { if (/^SIP\/2\.0 200 /.test(m.toString())) ok = true; });
  const t0 = Date.now();
  try {
    for (let i = 0; !ok && Date.now() - t0 < timeoutMs; i++) {
      const msg = [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bKping${i}${Date.now()};rport`,
        'Max-Forwards: 70', `From: <sip:ping@127.0.0.1>;tag=p${i}`, `To: <sip:127.0.0.1:${port}>`,
        `Call-ID: ping${i}-${Date.now()}@test`, `CSeq: ${i + 1} OPTIONS`, 'Content-Length: 0', '', ''].join('\r\n');
      sock.send(msg, port, '127.0.0.1');
      await sleep(200);
    }
  } finally {
    sock.close();
  }
  return ok;
}

// ---- sipdump: what Kamailio received and sent -------------------------

// The messages of a sipdump text file: { tag/dir, srcport..., text (its
// final line end dropped), raw (every byte as Kamailio logged it) }.
function parseSipdump(text) {
  const out = [];
  for (const chunk of text.split(/^====================\s*$/m)) {
    const i = chunk.indexOf('~~~~~~~~~~~~~~~~~~~~');
    if (i < 0) continue;
    const meta = {};
    for (const l of chunk.slice(0, i).split('\n')) {
      const m = /^([a-z]+): (.*)$/.exec(l.trim());
      if (m) meta[m[1]] = m[2];
    }
    let body = chunk.slice(i + 20).replace(/^\r?\n/, '');
    const end = body.indexOf('||||||||||||||||||||');
    if (end < 0) continue;   // still being written: read it next time
    body = body.slice(0, end);
    out.push({ ...meta, dir: meta.tag, text: body.replace(/\r?\n$/, ''), raw: body });
  }
  return out;
}

// ---- Kamailio -----------------------------------------------------------

class Kamailio {
  // opts: { dir, port (5070), wsPort (8081), defines: ['WITH_AUTH', ...],
  //         oneTimeNonce: true for a registrar that accepts each digest nonce
  //         only once (no replayed credentials, as a strict S-CSCF) }
  constructor(opts) {
    this.oneTimeNonce = !!opts.oneTimeNonce;
    this.dir = opts.dir;
    this.port = opts.port || 5070;
    this.wsPort = opts.wsPort || (this.port === 5070 ? 8081 : this.port + 3000);
    this.defines = opts.defines || [];
    this.uri = `sip:127.0.0.1:${this.port}`;
    fs.mkdirSync(this.dir, { recursive: true });
    this.dumpDir = path.join(this.dir, 'sipdump');
    fs.mkdirSync(this.dumpDir, { recursive: true });
  }

  // The project's proven stand-in config with this instance's ports, and
  // sipdump writing every message Kamailio receives and sends to text files.
  config() {
    let cfg = fs.readFileSync(path.join(PEERS, 'kamailio/pcscf.cfg'), 'utf8');
    if (this.port !== 5070) {
      cfg = cfg.replace('#!substdef "!MY_SIP_PORT!5070!g"', `#!substdef "!MY_SIP_PORT!${this.port}!g"`)
        .replace('alias="127.0.0.1:5070"', `alias="127.0.0.1:${this.port}"`);
    }
    cfg = cfg.replace('#!substdef "!MY_WS_PORT!8081!g"', `#!substdef "!MY_WS_PORT!${this.wsPort}!g"`);
    const dump = [
      'loadmodule "sipdump.so"',
      'modparam("sipdump", "enable", 1)',
      'modparam("sipdump", "mode", 1)',
      `modparam("sipdump", "folder", "${this.dumpDir}")`,
      'modparam("sipdump", "wait", 20000)',
    ].join('\n');
    if (!cfg.includes('loadmodule "ctl.so"')) throw new Error('pcscf.cfg changed: no ctl.so line');
    cfg = cfg.replace('loadmodule "ctl.so"', `loadmodule "ctl.so"\n${dump}`);
    if (this.oneTimeNonce) {
      const qop = 'modparam("auth", "qop", "auth")';
      if (!cfg.includes(qop)) throw new Error('pcscf.cfg changed: no auth qop modparam');
      cfg = cfg.replace(qop, `${qop}\nmodparam("auth", "one_time_nonce", 1)`);
    }
    const file = path.join(this.dir, 'pcscf.cfg');
    fs.writeFileSync(file, cfg);
    return file;
  }

  async start() {
    const cfg = this.config();
    const args = ['-f', cfg, '-P', path.join(this.dir, 'kamailio.pid'), '-Y', this.dir,
      '-m', '128', '-M', '8', '-E', '-DD',
      '-A', `CTL_SOCK="unix:${path.join(this.dir, 'ctl.sock')}"`];
    for (const d of this.defines) args.push('-A', d);
    this.logPath = path.join(this.dir, 'kamailio.log');
    this.proc = new Proc(`kamailio:${this.port}`, 'kamailio', args, { log: this.logPath });
    const up = await Promise.race([sipPing(this.port), this.proc.exited.then(() => false)]);
    if (!up) {
      await this.proc.stop();
      throw new Error(`Kamailio on ${this.port} did not start; log:\n${this.log().slice(-3000)}`);
    }
    return this;
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch (e) { return ''; }
  }

  // Every message in the sipdump files so far (dir: 'rcv' or 'snd').
  messages() {
    let all = [];
    for (const f of fs.readdirSync(this.dumpDir).sort())
      all = all.concat(parseSipdump(fs.readFileSync(path.join(this.dumpDir, f), 'utf8')));
    return all;
  }

  // Polls the sipdump files until pred(messages) returns something truthy.
  async waitDump(pred, timeoutMs = 5000, what = 'sipdump condition') {
    const t0 = Date.now();
    for (;;) {
      const r = pred(this.messages());
      if (r) return r;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`${what}: not seen in Kamailio ${this.port}'s sipdump within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  // Polls the Kamailio log for a line matching re.
  async waitLog(re, timeoutMs = 5000) {
    const t0 = Date.now();
    for (;;) {
      const hit = this.log().split('\n').find((l) => re.test(l));
      if (hit) return hit;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`no Kamailio ${this.port} log line matching ${re} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  // Every process of this Kamailio (the main one and its children).
  pids() {
    const out = [];
    const walk = (pid) => {
      out.push(pid);
      let kids = '';
      try { kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8'); } catch (e) { /* gone */ }
      for (const k of kids.trim().split(/\s+/).filter(Boolean)) walk(Number(k));
    };
    if (this.proc && !this.proc.exitResult) walk(this.proc.pid);
    return out;
  }

  // A silent P-CSCF: SIGSTOP to each of its processes, by PID (no ICMP
  // port-unreachable either: the sockets stay open, nothing answers).
  freeze() {
    this.frozen = this.pids();
    for (const p of this.frozen) { try { process.kill(p, 'SIGSTOP'); } catch (e) { /* gone */ } }
  }

  // SIGTERM to the main process (it stops its children). A frozen one does
  // not get over it (its main waits for them in vain): each of its
  // processes gets SIGKILL by PID. Any child left after that is killed too,
  // if it is still one of ours.
  async stop() {
    if (!this.proc) return null;
    const all = this.pids();
    if (this.frozen) {
      for (const p of all) { try { process.kill(p, 'SIGKILL'); } catch (e) { /* gone */ } }
      this.frozen = null;
    }
    const r = await this.proc.stop();
    await sleep(100);
    const cfg = path.join(this.dir, 'pcscf.cfg');
    for (const p of all) {
      let cmd = '';
      try { cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch (e) { continue; }
      if (cmd.includes(cfg)) { try { process.kill(p, 'SIGKILL'); } catch (e) { /* gone */ } }
    }
    return r;
  }
}

// ---- rtpengine ----------------------------------------------------------

async function startRtpengine(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const p = new Proc('rtpengine', 'sh', [path.join(PEERS, 'rtpengine/start.sh')],
    { env: { RUN_DIR: dir } });   // start.sh execs rtpengine: same PID
  p.logPath = path.join(dir, 'rtpengine.log');
  // Ready when its ng port answers a ping.
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  let ok = false;
  sock.on('message', (m) => { if (m.toString().includes('pong')) ok = true; });
  const t0 = Date.now();
  while (!ok && !p.exitResult && Date.now() - t0 < 8000) {
    sock.send('c0ffee d7:command4:pinge', 2223, '127.0.0.1');
    await sleep(150);
  }
  sock.close();
  if (!ok) {
    await p.stop();
    throw new Error(`rtpengine did not start; log:\n${p.log().slice(-3000)}`);
  }
  return p;
}

// ---- SIPp ---------------------------------------------------------------

// Whether a SIP message's text is whole: its header ends and its body
// has the bytes its Content-Length (or l:) says.
function sipComplete(text) {
  const h = /\r?\n\r?\n/.exec(text);
  if (!h) return false;
  const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(text.slice(0, h.index));
  return !cl || Buffer.byteLength(text.slice(h.index + h[0].length)) >= Number(cl[1]);
}

// A SIPp message trace (-trace_msg) split into messages with direction.
// SIPp writes the file through stdio: its last message may be cut where a
// buffer was flushed, so an incomplete last message is left for later.
function parseSippTrace(text) {
  const out = [];
  const re = /^-{10,}[^\n]*\n(UDP|TCP) message (sent|received)[^\n]*\n\n/gm;
  const marks = [];
  let m;
  while ((m = re.exec(text))) marks.push({ at: m.index, start: re.lastIndex, dir: m[2] });
  for (let i = 0; i < marks.length; i++) {
    const last = i + 1 === marks.length;
    const raw = text.slice(marks[i].start, last ? text.length : marks[i + 1].at);
    if (last && !sipComplete(raw)) break;
    out.push({ dir: marks[i].dir, text: raw.replace(/\s+$/, '') });
  }
  return out;
}

class Sipp {
  // opts: { name, dir, scenario (file in tests/calls/sipp or tests/peers/sipp),
  //         port, mp, service, remote ('127.0.0.1:5070'), ip, m (1), args: [...] }
  constructor(opts) {
    this.name = opts.name || 'sipp';
    this.dir = opts.dir;
    const own = path.join(SCEN, opts.scenario);
    const scen = fs.existsSync(own) ? own : path.join(PEERS, 'sipp', opts.scenario);
    this.tracePath = path.join(this.dir, `${this.name}.msg`);
    this.logPath = path.join(this.dir, `${this.name}.out`);
    const args = ['-sf', scen, '-i', opts.ip || '127.0.0.1', '-p', String(opts.port),
      '-mp', String(opts.mp), '-m', String(opts.m || 1), '-nostdin',
      '-trace_msg', '-message_file', this.tracePath,
      '-trace_err', '-error_file', path.join(this.dir, `${this.name}.err`)];
    if (opts.service) args.push('-s', opts.service);
    args.push(...(opts.args || []));
    if (opts.remote) args.push(opts.remote);
    this.proc = new Proc(`sipp:${this.name}`, 'sipp', args, { log: this.logPath, cwd: this.dir });
  }

  messages() {
    try { return parseSippTrace(fs.readFileSync(this.tracePath, 'utf8')); } catch (e) { return []; }
  }

  received() { return this.messages().filter((m) => m.dir === 'received'); }

  errors() {
    try { return fs.readFileSync(path.join(this.dir, `${this.name}.err`), 'utf8'); } catch (e) { return ''; }
  }

  // Resolves with SIPp's exit code (0: every call succeeded).
  async done(timeoutMs = 20000) {
    const r = await this.proc.wait(timeoutMs);
    return r.code;
  }

  async waitMsg(pred, timeoutMs = 8000, what = 'message') {
    const t0 = Date.now();
    for (;;) {
      const hit = this.received().find((m) => pred(m.text));
      if (hit) return hit.text;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`${this.name}: no ${what} received within ${timeoutMs} ms; got: ${
          this.received().map((m) => m.text.split('\n')[0]).join(' | ') || 'nothing'}`);
      await sleep(50);
    }
  }

  stop() { return this.proc.stop(); }

  // A short account for assertion messages.
  describe() {
    return `${this.name}: exit ${JSON.stringify(this.proc.exitResult)}\n${
      this.messages().map((m) => `${m.dir}: ${m.text.split('\n')[0]}`).join('\n')}\nerrors:\n${this.errors().slice(-1500)}`;
  }
}

function sipp(opts) { return new Sipp(opts); }

// Registers an IMS user at Kamailio with digest (WITH_AUTH) from `port`,
// the port its UAS will then listen on (reg_auth.xml puts [local_port] in
// the Contact). Resolves once SIPp got the 200.
async function registerImsUser({ dir, user, port, mp, kamailio }) {
  const s = new Sipp({ name: `reg-${user}-${port}`, dir, scenario: 'reg_auth.xml', port, mp,
    service: user, remote: `127.0.0.1:${kamailio.port}`, args: ['-au', user, '-ap', 'secret', '-timeout', '10s'] });
  const code = await s.done(15000);
  if (code !== 0) throw new Error(`IMS user ${user} did not register:\n${s.describe()}`);
}

// Header values of a SIP message text (name case-insensitive, compact forms
// not expanded: Kamailio and SIPp both see the long forms Sofia sends).
function headers(text, name) {
  const lines = text.split(/\r?\n/);
  const out = [];
  for (const l of lines) {
    if (l === '') break;
    const c = l.indexOf(':');
    if (c > 0 && l.slice(0, c).trim().toLowerCase() === name.toLowerCase()) out.push(l.slice(c + 1).trim());
  }
  return out;
}

const header = (text, name) => headers(text, name)[0];

function body(text) {
  const i = text.search(/\r?\n\r?\n/);
  return i < 0 ? '' : text.slice(i).trim();
}

// The exact body of a raw message: the Content-Length bytes after the
// blank line (throws when fewer are there).
function rawBody(raw) {
  const i = raw.indexOf('\r\n\r\n');
  if (i < 0) throw new Error(`no end of headers in:\n${raw}`);
  const len = Number(header(raw, 'Content-Length') || header(raw, 'l'));
  const b = Buffer.from(raw.slice(i + 4), 'utf8');
  if (!(len >= 0) || b.length < len) throw new Error(`body shorter than Content-Length ${len}:\n${raw}`);
  return b.subarray(0, len).toString('utf8');
}

module.exports = {
  Proc, Kamailio, startRtpengine, Sipp, sipp, registerImsUser, parseSippTrace, parseSipdump,
  headers, header, body, rawBody, sleep, sipPing, PEERS, SCEN,
};

// Processes of a benchmark run: started by bench/run, tracked by PID,
// bounded in time, stopped by PID (never by name), all of them stopped when
// bench/run exits, however it exits. Every command line is recorded for the
// report.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const dgram = require('node:dgram');

const live = new Map();   // pid -> { name, proc, extra: () => [pids] }
const commands = [];      // { t, cmd } in the order run

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A command line as a shell would take it back.
function quote(a) {
  a = String(a);
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
function cmdline(cmd, args) { return [cmd, ...args].map(quote).join(' '); }

function record(text) { commands.push({ t: new Date().toISOString(), cmd: text }); }

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

// The direct children of pid (from /proc).
function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push(Number(d));
    } catch (e) { /* gone */ }
  }
  return out;
}

const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch (e) { return 100; }
})();

// CPU seconds of the given processes so far, summed: user + system, or
// system (kernel) only.
function cpuSeconds(pids, sysOnly = false) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += (sysOnly ? 0 : Number(f[11])) + Number(f[12]);
    } catch (e) { /* gone */ }
  }
  return ticks / CLK_TCK;
}

// Starts a process in the background, output to logPath. Returns
// { pid, name, proc, exited (promise of { code, signal }), log }.
// opts.ulimit: run it under `ulimit -n` raised to the hard limit.
function start(name, cmd, args, opts = {}) {
  const fd = fs.openSync(opts.log, 'a');
  let argv = [cmd, ...args];
  let shown = cmdline(cmd, args);
  if (opts.ulimit) {
    argv = ['bash', '-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', 'bash', cmd, ...args];
    shown = `(ulimit -n $(ulimit -Hn) && exec ${shown})`;
  }
  record(`${opts.background === false ? '' : '[bg] '}${shown}${opts.cwd ? `    # in ${opts.cwd}` : ''}`);
  const proc = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd, env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const p = { pid: proc.pid, name, proc, log: opts.log, extra: opts.extra || null };
  p.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { live.delete(p.pid); p.result = { code, signal }; resolve(p.result); });
    proc.on('error', (e) => { live.delete(p.pid); p.result = { code: 127, signal: null, error: e.message }; resolve(p.result); });
  });
  if (proc.pid) live.set(proc.pid, p);
  return p;
}

// Stops a process by PID: sig, then SIGKILL after graceMs; also the extra
// PIDs it names (Kamailio's children) if they outlive it.
async function stop(p, sig = 'SIGTERM', graceMs = 10000) {
  if (!p || p.result) return p && p.result;
  const extra = p.extra ? p.extra() : [];
  try { process.kill(p.pid, sig); } catch (e) { /* gone */ }
  const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, graceMs);
  const r = await p.exited;
  clearTimeout(t);
  for (let i = 0; i < 50 && extra.some(alive); i++) await sleep(100);
  for (const pid of extra.filter(alive)) { try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ } }
  return r;
}

// Runs a command to its end, at most timeoutS seconds: then `killSignal`,
// and SIGKILL 15 s later. Resolves with { code, signal, timedOut, seconds }.
async function run(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  const p = start(name, cmd, args, { ...opts, background: false });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try { process.kill(p.pid, opts.killSignal || 'SIGINT'); } catch (e) { /* gone */ }
    setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, 15000).unref();
  }, (opts.timeoutS || 600) * 1000);
  const r = await p.exited;
  clearTimeout(timer);
  return { ...r, timedOut, seconds: (Date.now() - t0) / 1000 };
}

// Synchronous (for small helpers: versions, openssl); recorded.
function runSync(cmd, args, opts = {}) {
  if (!opts.quiet) record(cmdline(cmd, args));
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000, ...opts });
  } catch (e) {
    if (opts.tolerant) return `${e.stdout || ''}${e.stderr || ''}`;
    throw e;
  }
}

// Resolves once a TCP connect to 127.0.0.1:port succeeds (true), or false
// after timeoutMs or once p has exited.
async function waitTcp(port, timeoutMs = 10000, p = null) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (p && p.result) return false;
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

// True when nothing listens on 127.0.0.1:port (TCP and UDP).
async function portFree(port) {
  const tcp = await new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  const udp = await new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return tcp && udp;
}

async function waitFile(path, timeoutMs, p = null) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (fs.existsSync(path)) return true;
    if (p && p.result) return false;
    await sleep(100);
  }
  return false;
}

// Everything still running: SIGTERM, then SIGKILL (by PID).
async function stopAll() {
  await Promise.all([...live.values()].map((p) => stop(p, 'SIGTERM', 5000)));
}

function killAllSync() {
  for (const p of live.values()) {
    const extra = p.extra ? p.extra() : [];
    for (const pid of [p.pid, ...extra]) { try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ } }
  }
}

module.exports = {
  start, stop, run, runSync, stopAll, killAllSync, waitTcp, waitFile, portFree,
  childrenOf, cpuSeconds, alive, sleep, record, commands, cmdline, live,
};

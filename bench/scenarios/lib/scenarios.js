// The benchmark scenarios (issue "Benchmark", 1-5), each against wtpfd and
// Kamailio (4: wtpfd only). Every figure goes into R (the results object);
// a scenario that fails records why and the run goes on.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const P = require('./proc');
const T = require('./targets');

const HERE = path.resolve(__dirname, '..');
const CALLEE = '+4940555000001';   // the IMS number WebRTC clients call

function say(msg) { process.stdout.write(`bench/run: ${msg}\n`); }

const phase = (j, name) => (j && j.phases ? j.phases.find((p) => p.name === name) : undefined);
const num = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? null : Number(Number(x).toFixed(d)));

// The first few errors of a wtpf-bench JSON ("kind x count"), or ''.
function errors(j, ph) {
  const e = ph ? ph.errors : j && j.errors;
  if (!e || !e.total) return '';
  const all = [...Object.entries(e.by_status || {}), ...Object.entries(e.by_kind || {})]
    .map(([k, v]) => [k, typeof v === 'object' ? v.count : v])
    .sort((a, b) => b[1] - a[1]);
  return all.slice(0, 3).map(([k, c]) => `${k} ×${c}`).join(', ');
}

// wtpf-bench's target and client options for one target kind and transport.
function clientArgs(cfg, kind, transport, o = {}) {
  const pt = cfg.ports;
  const a = [];
  if (kind === 'wtpfd') {
    a.push('--url', transport === 'wss' ? `wss://127.0.0.1:${pt.wss}/` : `ws://127.0.0.1:${pt.ws}/`,
      '--origin', 'http://bench.wtpf.test', '--domain', 'bench.wtpf.test');
    if (o.alg === 'ES256')
      a.push('--jwt-alg', 'ES256', '--jwt-key', path.join(cfg.keyDir, 'ec.key'), '--jwt-iss', 'https://ec.bench.test');
    else
      a.push('--jwt-key', path.join(cfg.keyDir, 'hs256.key'), '--jwt-iss', 'https://idp.bench.test');
  } else {
    a.push('--url', transport === 'wss' ? `wss://127.0.0.1:${pt.kwss}/` : `ws://127.0.0.1:${pt.kws}/`,
      '--domain', '127.0.0.1', '--auth', 'digest', '--password', cfg.password);
  }
  if (transport === 'wss') a.push('--insecure');
  if (o.user) a.push('--user', o.user);
  a.push('--local-addrs', cfg.localAddrs, '--timeout', String(cfg.txTimeout));
  return a;
}

function files(cfg, name) {
  return { json: path.join(cfg.runDir, 'json', `${name}.json`), log: path.join(cfg.runDir, 'logs', `${name}.txt`) };
}

function readJson(f) {
  try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { return null; }
}

// One wtpf-bench run to its end (bounded by timeoutS).
async function bench(cfg, name, target, args, timeoutS) {
  const f = files(cfg, name);
  const r = await P.run(`wtpf-bench ${name}`, cfg.bench,
    [...args.map(String), '--target-pid', target.pidList, '--json', f.json], { log: f.log, timeoutS });
  return { code: r.code, timedOut: r.timedOut, seconds: r.seconds, j: readJson(f.json), log: f.log, targetDied: target.died() };
}

function startTarget(cfg, kind, label, o = {}) {
  const dir = path.join(cfg.runDir, 'targets', label);
  return kind === 'wtpfd' ? T.startWtpfd(cfg, dir, label) : T.startKamailio(cfg, dir, label, o);
}

function outcome(b) {
  const notes = [];
  if (b.timedOut) notes.push('wtpf-bench timed out');
  if (b.targetDied) notes.push('target exited during the run');
  if (!b.j) notes.push(`no JSON (exit ${b.code})`);
  return notes.join('; ');
}

// ---- 1. scale: memory per client and idle CPU ------------------------

async function scale(cfg, R) {
  R.scale = [];
  for (const transport of cfg.transports) {
    for (const n of cfg.steps) {
      for (const kind of cfg.targets) {
        const label = `scale-${transport}-${n}-${kind}`;
        const row = { transport, n, kind };
        R.scale.push(row);
        let t;
        try {
          t = await startTarget(cfg, kind, label, { tls: transport === 'wss', tcpChildren: transport === 'wss' ? cfg.kamTlsTcpChildren : 0 });
          const ramp = transport === 'wss' ? cfg.rampWss : cfg.rampWs;
          const args = [...clientArgs(cfg, kind, transport), '--clients', n, '--ramp', ramp,
            '--max-pending', cfg.maxPending, '--hold', cfg.hold];
          const b = await bench(cfg, label, t, args, Math.ceil((n / ramp) * 4 + cfg.hold + 120));
          const j = b.j;
          const hold = phase(j, 'hold');
          const reg = phase(j, 'register');
          Object.assign(row, {
            registered: j ? j.result.registered : null,
            failed: j ? j.result.register_failed : null,
            regRate: j && j.result.register_time_s ? num(j.result.registered / j.result.register_time_s, 0) : null,
            pss: j ? num(j.target.pss_kb_per_client, 1) : null,
            rss: j ? num(j.target.rss_kb_per_client, 1) : null,
            pssMB: reg ? num(reg.target.pss_kb_end / 1024, 1) : null,
            idle: hold ? num(hold.target.cpu_pct, 2) : null,
            fds: hold ? hold.target.fds_end : null,
            openAtHoldEnd: hold ? hold.registered_end : null,
            errors: errors(j), note: outcome(b), code: b.code,
          });
        } catch (e) {
          row.note = `not run: ${e.message}`;
        } finally {
          if (t) await t.stop();
        }
        say(`scale ${transport} ${n} ${kind}: registered ${row.registered}, PSS ${row.pss} KiB/client, idle ${row.idle}% ${row.note || ''}`);
      }
    }
  }
}

// Steps through RATES, POINT(rate) resolving to whether the step was
// sustained, until the first step that is not; then halves the interval
// between the last sustained step and that one up to BISECT times (a
// doubling step is found to 1/16 with 4), pausing PAUSE_MS before each
// (what a step past the peak left queued). STOP() ends it early.
async function sweep(rates, bisect, point, stop, pauseMs) {
  let good = 0;
  let bad = 0;
  for (const rate of rates) {
    if (stop()) return;
    if (!(await point(rate))) { bad = rate; break; }
    good = rate;
  }
  for (let i = 0; good && bad && i < bisect; i++) {
    const rate = Math.round((good + bad) / 2);
    if (rate <= good || rate >= bad || stop()) break;
    await P.sleep(pauseMs);
    if (await point(rate)) good = rate;
    else bad = rate;
  }
}

// ---- 2. registration rate and 5. latency against offered load -------

// Whether scenario 2 rates new registrations over the steady middle of the
// batch (from the tenth to the nine-tenths of the clients): only when a
// tenth of them is at least twice the clients in flight.
function steadyRegRate(cfg) {
  return cfg.regClients >= 20 * cfg.newRegPending;
}

// One batch of new registrations against a fresh target; its table row.
async function newRegOnce(cfg, v, rep) {
  const label = `register-${v.key}${cfg.regRepeats > 1 ? `-${rep}` : ''}`;
  const row = { key: v.key, kind: v.kind, auth: v.auth, clients: cfg.regClients };
  let t;
  try {
    t = await startTarget(cfg, v.kind, label);
    const args = [...clientArgs(cfg, v.kind, 'ws', v), '--clients', cfg.regClients, '--ramp', 0,
      '--max-pending', cfg.newRegPending];
    const b = await bench(cfg, label, t, args, Math.ceil(cfg.regClients / 100 + 120));
    const j = b.j;
    const reg = phase(j, 'register');
    const tr = j && j.transactions;
    Object.assign(row, {
      registered: j ? j.result.registered : null,
      batchRate: j && j.result.register_time_s > 0 ? num(j.result.registered / j.result.register_time_s, 0) : null,
      cpuUs: reg && j.result.registered ? num((reg.target.cpu_s / j.result.registered) * 1e6, 0) : null,
      cpuPct: reg ? num(reg.target.cpu_pct, 1) : null,
      genPct: reg ? num(reg.self.cpu_pct, 1) : null,
      p50: tr && tr.register ? tr.register.p50_ms : null,
      p99: tr && tr.register ? tr.register.p99_ms : null,
      connectP50: tr && tr.connect ? tr.connect.p50_ms : null,
      challenges: j ? j.counters.digest_challenges : null,
      errors: errors(j), note: outcome(b),
    });
    // the steady part exists only when the batch is much longer than the
    // clients in flight (the first ones start at once and answer together)
    row.rate = steadyRegRate(cfg) ? (j && j.result.register_steady_rate_per_s > 0 ?
      num(j.result.register_steady_rate_per_s, 0) : null) : row.batchRate;
  } catch (e) {
    row.note = `not run: ${e.message}`;
  } finally {
    if (t) await t.stop();
  }
  say(`register ${v.key} (${rep}/${cfg.regRepeats}): ${row.rate}/s, ${row.cpuUs} µs CPU each ${row.note || ''}`);
  return row;
}

// The run of median rate among @p rows (the lower one of an even count),
// with every run's rate in .runs; a run without a rate (failed) counts as
// the slowest.
function medianRun(rows) {
  const rated = rows.filter((r) => r.rate !== null && r.rate !== undefined);
  const order = [...rows.filter((r) => !rated.includes(r)), ...rated.sort((a, b) => a.rate - b.rate)];
  return { ...order[Math.floor((order.length - 1) / 2)], runs: rows.map((r) => r.rate) };
}

async function registration(cfg, R) {
  const variants = [];
  for (const kind of cfg.targets) {
    if (kind === 'wtpfd') variants.push({ key: 'wtpfd', kind, alg: 'HS256', user: 'hs%05u', auth: 'Bearer HS256' },
      { key: 'wtpfd-es256', kind, alg: 'ES256', user: 'es%05u', auth: 'Bearer ES256' });
    else variants.push({ key: 'kamailio', kind, auth: 'digest MD5, qop=auth' });
  }
  // the targets take turns, so that a slower pass of the machine falls on
  // both; each figure is the median of its runs
  const runs = new Map(variants.map((v) => [v.key, []]));
  for (let rep = 1; rep <= cfg.regRepeats; rep++)
    for (const v of variants) runs.get(v.key).push(await newRegOnce(cfg, v, rep));
  R.reg = variants.map((v) => medianRun(runs.get(v.key)));
  R.regSteady = steadyRegRate(cfg);

  // refreshes at stepped offered rates: both targets' sweeps at once, one
  // step at a time, taking turns; then, for each, half of its peak
  R.sweep = {};
  for (const kind of cfg.targets) R.sweep[kind] = { points: [], peak: null, half: null };
  const turn = turns();
  await Promise.all(cfg.targets.map((kind) => refreshSweep(cfg, kind, R.sweep[kind], turn)));
  for (const kind of cfg.targets) await refreshHalf(cfg, kind, R.sweep[kind]);
}

// A function that runs the functions given to it one at a time, in the
// order given, each once the one before has ended; it returns what each
// returns (a promise).
function turns() {
  let last = Promise.resolve();
  return (fn) => {
    const run = last.then(fn, fn);
    last = run.catch(() => {});
    return run;
  };
}

// One refresh step of RATE/s against the running target T: a fresh
// wtpf-bench registers the sweep's clients, refreshes for the step's
// seconds and closes. Its point (achieved rate, latency, CPU, sustained).
async function refreshPoint(cfg, kind, label, t, rate, tag) {
  const name = `${label}-${rate}${tag ? `-${tag}` : ''}`;
  const args = [...clientArgs(cfg, kind, 'ws'), '--clients', cfg.sweepClients, '--ramp', 0,
    '--max-pending', cfg.regPending, '--refresh-rate', rate, '--refresh-time', cfg.sweepTime];
  const b = await bench(cfg, name, t, args, Math.ceil(cfg.sweepClients / 100 + cfg.sweepTime * 3 + 90));
  const ph = phase(b.j, 'refresh');
  const x = ph && ph.transactions.refresh;
  const pt = { offered: rate, half: tag === 'half' };
  if (x) {
    const failed = Math.max(x.failed, ph.errors ? ph.errors.total : 0);
    Object.assign(pt, {
      achieved: num(x.ok / cfg.sweepTime, 0), ok: x.ok, failed,
      p50: x.p50_ms, p90: x.p90_ms, p99: x.p99_ms, max: x.max_ms,
      cpuUs: x.ok ? num((ph.target.cpu_s / x.ok) * 1e6, 0) : null,
      cpuPct: num(ph.target.cpu_pct, 1), genPct: num(ph.self.cpu_pct, 1), errors: errors(b.j, ph),
    });
    pt.sustained = !b.timedOut && !b.targetDied && pt.achieved >= 0.95 * rate && failed <= 0.01 * x.ok &&
      pt.p50 < cfg.sweepMaxP50;
  } else {
    pt.sustained = false;
    pt.errors = errors(b.j);
  }
  pt.note = outcome(b);
  say(`refresh ${kind} offered ${rate}/s: ${pt.achieved}/s, p50 ${pt.p50} ms, p99 ${pt.p99} ms${pt.sustained ? '' : ' (not sustained)'}`);
  return pt;
}

// The refresh sweep of KIND on a target of its own, into S (points and
// peak); each start, step and stop waits for its TURN.
async function refreshSweep(cfg, kind, s, turn) {
  const label = `refresh-${kind}`;
  let t;
  try {
    t = await turn(() => startTarget(cfg, kind, label));
    await sweep(cfg.sweepRates, cfg.sweepBisect, async (rate) => {
      const pt = await turn(() => refreshPoint(cfg, kind, label, t, rate));
      s.points.push(pt);
      return pt.sustained;
    }, () => t.died(), 2000);   // what a step past the peak left queued
    const ok = s.points.filter((p) => p.sustained);
    if (ok.length) {
      const best = ok.reduce((a, b) => (b.achieved > a.achieved ? b : a));
      s.peak = { offered: best.offered, achieved: best.achieved, cpuUs: best.cpuUs, p99: best.p99 };
    }
  } catch (e) {
    s.note = `not run: ${e.message}`;
    say(`refresh ${kind}: ${s.note}`);
  } finally {
    if (t) await turn(() => t.stop());
  }
}

// Half of KIND's refresh peak in S, on a fresh target (the saturated step
// leaves a backlog behind it), then once more under a loopback capture
// started before the clients connect: the latency the target adds, on
// the wire at its port.
async function refreshHalf(cfg, kind, s) {
  if (!s.peak) return;
  const label = `refresh-${kind}`;
  const hr = Math.max(1, Math.round(s.peak.achieved / 2));
  let t;
  try {
    await P.sleep(2000);
    t = await startTarget(cfg, kind, `${label}-half`);
    s.half = await refreshPoint(cfg, kind, label, t, hr, 'half');
    s.points.push(s.half);
    await t.stop();
    t = null;
    await P.sleep(2000);
    t = await startTarget(cfg, kind, `${label}-wire`);
    const wt = t;
    s.wire = await wirePoint(cfg, kind, `${label}-wire`, () => refreshPoint(cfg, kind, label, wt, hr, 'wire'));
  } catch (e) {
    s.note = `not run: ${e.message}`;
    say(`refresh ${kind}: ${s.note}`);
  } finally {
    if (t) await t.stop();
  }
}

// tcpdump on lo with filter, written to DIR/NAME.pcap; resolves once it
// listens.
async function startCapture(cfg, label, dir, name, filter) {
  const pcap = path.join(dir, `${name}.pcap`);
  const log = path.join(cfg.runDir, 'logs', `${label}-tcpdump.txt`);
  const cap = P.start('tcpdump', 'tcpdump', ['-i', 'lo', '-w', pcap, '-U', '-s', '0', '-B', '16384', '-n', filter],
    { log });
  for (let i = 0; i < 50 && !/listening on/.test(fs.readFileSync(log, 'utf8')); i++) await P.sleep(100);
  if (cap.result) throw new Error(`tcpdump did not start: ${T.tail(log)}`);
  cap.pcap = pcap;
  return cap;
}

// run() (one sweep point) under a capture of the target's ws port, then
// reg_pcap.py on it: { point, refresh: {count, p50_ms ... max_ms},
// unanswered, statuses }, or { note }.
async function wirePoint(cfg, kind, label, run) {
  const port = kind === 'wtpfd' ? cfg.ports.ws : cfg.ports.kws;
  const dir = path.join(cfg.runDir, 'targets', label);
  let cap;
  try {
    cap = await startCapture(cfg, label, dir, 'refresh', `tcp port ${port}`);
    const pt = await run();
    await P.stop(cap, 'SIGINT', 5000);
    cap = null;
    const out = P.runSync('python3', [path.join(HERE, 'reg_pcap.py'), path.join(dir, 'refresh.pcap'),
      '--ws-port', String(port)], { maxBuffer: 16 << 20 });
    fs.writeFileSync(path.join(cfg.runDir, 'json', `${label}-pcap.json`), out);
    fs.rmSync(path.join(dir, 'refresh.pcap'), { force: true });   // about 250 MB at 16,000/s
    const a = JSON.parse(out);
    say(`refresh ${kind} on the wire at ${pt.offered}/s: p50 ${a.refresh.p50_ms} ms, p99 ${a.refresh.p99_ms} ms ` +
      `(${a.refresh.count} refreshes, ${a.unanswered} unanswered)`);
    return { point: pt, refresh: a.refresh, unanswered: a.unanswered, statuses: a.statuses };
  } catch (e) {
    say(`refresh ${kind} on the wire: not run: ${e.message}`);
    return { note: `not run: ${e.message}` };
  } finally {
    if (cap) await P.stop(cap, 'SIGINT', 5000);
  }
}

// ---- 3. call rate both ways, SIPp as IMS ----------------------------

// SIPp's statistics file (-trace_stat -stf FILE): the counters of its
// last line, and with AT (seconds after SIPp's start) the calls placed by
// then, interpolated between the lines (-fd 1 writes one a second).
function sippStat(file, at) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const head = lines[0].split(';');
    const rows = lines.slice(1).map((l) => l.split(';'));
    const last = rows[rows.length - 1];
    const v = (row, k) => Number(row[head.indexOf(k)]);
    const epoch = (row, k) => Number(row[head.indexOf(k)].split('\t')[2]);
    const r = { outgoing: v(last, 'OutgoingCall(C)'), ok: v(last, 'SuccessfulCall(C)'), failed: v(last, 'FailedCall(C)'), elapsed: last[head.indexOf('ElapsedTime(C)')] };
    if (at !== undefined) {
      const pts = [[0, 0], ...rows.map((row) => [epoch(row, 'CurrentTime') - epoch(row, 'StartTime'), v(row, 'OutgoingCall(C)')])];
      const i = pts.findIndex(([t]) => t > at);
      if (i < 0) r.placedAt = pts[pts.length - 1][1];
      else {
        const [t0, n0] = pts[i - 1];
        const [t1, n1] = pts[i];
        r.placedAt = Math.round(n0 + ((n1 - n0) * (at - t0)) / (t1 - t0));
      }
    }
    return r;
  } catch (e) {
    return null;
  }
}

// SIPp's response times (-trace_rtt: DIR/<scenario>_<pid>_rtt.csv, one
// line per call, "date_ms;response_time_ms;rtd", after a header line;
// SIPp writes them every -rtt_freq calls and not the rest at its exit,
// hence -rtt_freq 1):
// { n, p50, p99 } in ms, or null when there is no such file or sample.
function sippRtt(dir) {
  try {
    const f = fs.readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'));
    const v = f.flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').trim().split('\n').slice(1))
      .map((l) => Number(l.split(';')[1])).filter((x) => Number.isFinite(x));
    return v.length ? { n: v.length, p50: num(pct(v, 50), 3), p99: num(pct(v, 99), 3) } : null;
  } catch (e) {
    return null;
  }
}

async function calls(cfg, R) {
  R.calls = {};
  for (const kind of cfg.targets) {
    const res = { out: [], in: [], notes: [] };
    R.calls[kind] = res;
    const label = `calls-${kind}`;
    const dir = path.join(cfg.runDir, 'targets', label);
    let uas; let t; let inb;
    try {
      uas = await T.startUas(cfg, path.join(dir, 'sipp'));
      t = await startTarget(cfg, kind, label);
      await P.sleep(500);
      // WebRTC client -> IMS
      await sweep(cfg.callRates, cfg.callBisect, async (rate) => {
        const name = `${label}-out-${rate}`;
        const args = [...clientArgs(cfg, kind, 'ws'), '--clients', cfg.callClients, '--ramp', 0,
          '--max-pending', cfg.regPending, '--call-rate', rate, '--call-time', cfg.callTime,
          '--call-hold', cfg.callHold, '--call-to', CALLEE];
        const b = await bench(cfg, name, t, args, Math.ceil(cfg.callTime + cfg.callHold + cfg.callClients / 100 + 120));
        const ph = phase(b.j, 'calls');
        const st = { rate };
        if (ph) {
          const c = ph.counters;
          const x = ph.transactions.invite_200 || {};
          Object.assign(st, {
            placed: c.calls_placed, completed: c.calls_completed,
            failed: c.calls_placed - c.calls_completed,
            failPct: c.calls_placed ? num(((c.calls_placed - c.calls_completed) / c.calls_placed) * 100, 2) : null,
            cpuUs: c.calls_completed ? num((ph.target.cpu_s / c.calls_completed) * 1e6, 0) : null,
            sysUs: c.calls_completed && ph.target.sys_s != null ? num((ph.target.sys_s / c.calls_completed) * 1e6, 0) : null,
            setupP50: x.p50_ms, setupP99: x.p99_ms, errors: errors(b.j, ph),
            cpuPct: num(ph.target.cpu_pct, 1), genPct: num(ph.self.cpu_pct, 1),
          });
          st.sustained = !b.timedOut && !b.targetDied && st.placed >= 0.95 * rate * cfg.callTime && st.failPct < 1 &&
            st.setupP50 < cfg.callMaxP50;
        } else {
          st.sustained = false;
          st.errors = errors(b.j);
        }
        st.note = outcome(b);
        res.out.push(st);
        say(`calls ${kind} WIC->IMS ${rate}/s: ${st.completed}/${st.placed} completed, ${st.cpuUs} µs CPU/call${st.sustained ? '' : ' (not sustained)'}`);
        return st.sustained;
      }, () => t.died(), 3000);
      // IMS -> WebRTC client: registered clients linger, SIPp calls them.
      // A fresh target first: Kamailio's usrloc keeps the bindings of the
      // WIC -> IMS steps' clients after their connections closed, and a
      // lookup then also sends the INVITE over the alias of a closed
      // connection, whose source address and port a new client may have
      // reused: another client, often in a call, answered 486.
      await t.stop();
      t = await startTarget(cfg, kind, `${label}-in`);
      await P.sleep(500);
      if (!t.died()) {
        const nf = path.join(dir, 'numbers.csv');
        const f = files(cfg, `${label}-in-clients`);
        const args = [...clientArgs(cfg, kind, 'ws'), '--clients', cfg.callClients, '--ramp', 0,
          '--max-pending', cfg.regPending, '--linger', 3600, '--numbers-out', nf,
          '--target-pid', t.pidList, '--json', f.json];
        inb = P.start(`wtpf-bench ${label}-in`, cfg.bench, args.map(String), { log: f.log });
        if (!(await P.waitFile(nf, 60000, inb))) throw new Error(`the clients did not all register (log ${f.log})`);
        await P.sleep(500);
        const port = kind === 'wtpfd' ? cfg.ports.trunk : cfg.ports.ksip;
        // 40 s before a step after one not sustained: calls SIPp gave up
        // on past the peak leave their callees busy until the target's
        // transaction timers (32 s) end them, and they would answer 486
        await sweep(cfg.callRates, cfg.callBisect, async (rate) => {
          const name = `${label}-in-${rate}`;
          const stat = path.join(dir, `sipp-in-${rate}.csv`);
          const rttDir = path.join(dir, `sipp-in-${rate}-rtt`);
          fs.rmSync(rttDir, { recursive: true, force: true });
          fs.mkdirSync(rttDir, { recursive: true });
          const count = Math.round(rate * cfg.callTime);
          const c0 = t.cpu();
          const k0 = t.sysCpu();
          const r = await P.run(`sipp ${name}`, 'sipp', [`127.0.0.1:${port}`, '-sf', path.join(HERE, 'sipp/uac.xml'),
            '-t', cfg.trunkTransport === 'tcp' ? 't1' : 'u1', '-inf', nf, '-i', '127.0.0.1', '-p', String(cfg.ports.uac), '-mp', String(cfg.ports.media2),
            '-r', String(rate), '-m', String(count), '-d', String(Math.round(cfg.callHold * 1000)),
            '-nostdin', '-trace_stat', '-stf', stat, '-fd', '1', '-default_behaviors', 'all,-abortunexp',
            '-recv_timeout', String(cfg.callRecvTimeout * 1000), '-timeout', `${Math.ceil(cfg.callTime + cfg.callHold + 60)}s`, '-timeout_error',
            '-trace_err', '-error_file', path.join(dir, `sipp-in-${rate}-errors.log`), '-trace_rtt', '-rtt_freq', '1'],
          { log: path.join(cfg.runDir, 'logs', `${name}.txt`), timeoutS: cfg.callTime + cfg.callHold + 90, cwd: rttDir });
          const cpu = t.cpu() - c0;
          const kcpu = t.sysCpu() - k0;
          const s = sippStat(stat, cfg.callTime);
          const rtt = sippRtt(rttDir);
          const st = { rate, seconds: num(r.seconds, 1), setupP50: rtt && rtt.p50, setupP99: rtt && rtt.p99 };
          if (s) {
            Object.assign(st, {
              placed: s.outgoing, completed: s.ok, failed: s.outgoing - s.ok,
              failPct: s.outgoing ? num(((s.outgoing - s.ok) / s.outgoing) * 100, 2) : null,
              cpuUs: s.ok ? num((cpu / s.ok) * 1e6, 0) : null,
              sysUs: s.ok ? num((kcpu / s.ok) * 1e6, 0) : null,
              cpuPct: r.seconds ? num((cpu / r.seconds) * 100, 1) : null,
            });
            // placed on time: 95 % of the step's calls within its
            // seconds, as for WIC -> IMS (SIPp places late when the
            // target holds its calls up to SIPp's concurrency limit)
            st.onTime = s.placedAt;
            st.sustained = !r.timedOut && s.outgoing === count && s.placedAt >= 0.95 * count && st.failPct < 1 &&
              r.seconds <= cfg.callTime + cfg.callHold + cfg.callRecvTimeout + 5 && !t.died() &&
              st.setupP50 !== null && st.setupP50 < cfg.callMaxP50;
          } else {
            st.sustained = false;
          }
          st.note = [r.timedOut ? 'SIPp timed out' : '', r.code ? `SIPp exit ${r.code}` : '',
            t.died() ? 'target exited' : ''].filter(Boolean).join('; ');
          res.in.push(st);
          say(`calls ${kind} IMS->WIC ${rate}/s: ${st.completed}/${st.placed} completed in ${st.seconds} s, ${st.cpuUs} µs CPU/call${st.sustained ? '' : ' (not sustained)'}`);
          await P.sleep(2000);
          return st.sustained;
        }, () => t.died(), 40000);
        await P.stop(inb, 'SIGINT', 30000);
        const j = readJson(f.json);
        if (j) res.inClients = { registered: j.result.registered, inbound: j.counters.inbound_calls, answered: j.counters.inbound_answered, completed: j.counters.inbound_completed, errors: errors(j) };
      }
    } catch (e) {
      res.notes.push(`not run: ${e.message}`);
      say(`calls ${kind}: ${e.message}`);
    } finally {
      if (inb) await P.stop(inb, 'SIGINT', 30000);
      if (t) await t.stop();
      if (uas) await uas.stop();
    }
  }
}

// ---- 4. ring-group fan-out (wtpfd), measured on a loopback capture --

const pct = (arr, p) => {
  if (!arr.length) return null;
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

async function ringGroup(cfg, R) {
  const res = { reps: cfg.ringReps, calls: [] };
  R.ring = res;
  if (!cfg.targets.includes('wtpfd')) { res.note = 'wtpfd not among the targets'; return; }
  const label = 'ringgroup-wtpfd';
  const dir = path.join(cfg.runDir, 'targets', label);
  let uas; let t; let cap; const clients = [];
  try {
    uas = await T.startUas(cfg, path.join(dir, 'sipp'));
    t = await startTarget(cfg, 'wtpfd', label);
    cap = await startCapture(cfg, label, dir, 'ring', `tcp port ${cfg.ports.ws} or udp port ${cfg.ports.trunk}`);
    const pcap = cap.pcap;
    // one agent answers after 0.3 s, the 49 others would ring for an hour
    const common = [...clientArgs(cfg, 'wtpfd', 'ws', { user: '+49301000900%02u' }), '--impu-base', T.RG.base,
      '--linger', 3600];
    const parts = [
      { name: 'answers', args: ['--clients', 1, '--first-index', 0, '--answer-delay', 0.3, '--target-pid', t.pidList] },
      { name: 'rings', args: ['--clients', 49, '--first-index', 1, '--answer-delay', 3600] },
    ];
    for (const part of parts) {
      const f = files(cfg, `${label}-${part.name}`);
      part.numbers = path.join(dir, `${part.name}.csv`);
      part.p = P.start(`wtpf-bench ${label}-${part.name}`, cfg.bench,
        [...common, ...part.args, '--numbers-out', part.numbers, '--json', f.json].map(String), { log: f.log });
      part.json = f.json;
      clients.push(part);
    }
    for (const part of parts)
      if (!(await P.waitFile(part.numbers, 30000, part.p))) throw new Error(`the ring group's agents did not register (${part.name})`);
    await P.sleep(500);
    const inf = path.join(dir, 'group.csv');
    fs.writeFileSync(inf, `SEQUENTIAL\n${T.RG.number};group\n`);
    const stat = path.join(dir, 'sipp-ring.csv');
    const r = await P.run('sipp ring', 'sipp', [`127.0.0.1:${cfg.ports.trunk}`, '-sf', path.join(HERE, 'sipp/uac.xml'),
      '-inf', inf, '-i', '127.0.0.1', '-p', String(cfg.ports.uac), '-mp', String(cfg.ports.media2),
      '-r', '1', '-rp', '1500', '-m', String(cfg.ringReps), '-l', '1', '-d', '300', '-nostdin',
      '-trace_stat', '-stf', stat, '-fd', '3600', '-timeout', `${cfg.ringReps * 3 + 30}s`, '-timeout_error'],
    { log: path.join(cfg.runDir, 'logs', `${label}-sipp.txt`), timeoutS: cfg.ringReps * 3 + 60, cwd: dir });
    res.sipp = sippStat(stat);
    res.sippExit = r.code;
    await P.sleep(500);
    for (const part of parts) await P.stop(part.p, 'SIGINT', 20000);
    await P.stop(cap, 'SIGINT', 5000);
    const out = P.runSync('python3', [path.join(HERE, 'rg_pcap.py'), pcap, '--ws-port', String(cfg.ports.ws),
      '--trunk-port', String(cfg.ports.trunk)], { maxBuffer: 64 << 20 });
    fs.writeFileSync(path.join(cfg.runDir, 'json', `${label}-pcap.json`), out);
    const a = JSON.parse(out);
    res.calls = a.calls;
    const full = a.calls.filter((c) => c.legs === 50 && c.cancels === 49 && c.cancel_ms !== null);
    res.complete = full.length;
    const f = full.map((c) => c.fanout_ms);
    const c = full.map((x) => x.cancel_ms);
    const first = full.map((x) => x.first_invite_ms);
    res.fanout = { p50: pct(f, 50), p99: pct(f, 99), max: pct(f, 100) };
    res.cancel = { p50: pct(c, 50), p99: pct(c, 99), max: pct(c, 100) };
    res.first = { p50: pct(first, 50), p99: pct(first, 99), max: pct(first, 100) };
  } catch (e) {
    res.note = `not run: ${e.message}`;
  } finally {
    for (const part of clients) await P.stop(part.p, 'SIGINT', 20000);
    if (cap) await P.stop(cap, 'SIGINT', 5000);
    if (t) await t.stop();
    if (uas) await uas.stop();
  }
  say(`ring group: ${res.complete || 0}/${res.reps} complete; fan-out p50 ${res.fanout && res.fanout.p50} ms, CANCELs p50 ${res.cancel && res.cancel.p50} ms ${res.note || ''}`);
}

module.exports = { scale, registration, calls, ringGroup, pct, sweep, sippStat, sippRtt, medianRun, turns };

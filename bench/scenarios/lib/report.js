// bench/RESULTS.md and the latency plot from the results of a run.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const P = require('./proc');

const KAM = 'kamailio';
const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const ratio = (a, b) => (a === null || a === undefined || !b ? null : a / b);
const verdict = (ok) => (ok === null || ok === undefined ? 'not measured' : ok ? '**pass**' : '**FAIL**');
const esc = (s) => String(s || '').replace(/\|/g, '\\|');

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => (c === undefined || c === null || c === '' ? '–' : c)).join(' | ')} |`)].join('\n');
}

// ---- plot -----------------------------------------------------------

function plot(cfg, R) {
  const dir = path.join(cfg.runDir, 'plot');
  fs.mkdirSync(dir, { recursive: true });
  const series = [];
  const colour = { wtpfd: '#1f5fbf', [KAM]: '#c62828' };
  for (const kind of Object.keys(R.sweep || {})) {
    const pts = R.sweep[kind].points.filter((p) => !p.half && p.p50 > 0 && p.p99 > 0).sort((a, b) => a.offered - b.offered);
    if (!pts.length) continue;
    const dat = path.join(dir, `${kind}.dat`);
    fs.writeFileSync(dat, `# offered achieved p50_ms p99_ms\n${pts.map((p) => `${p.offered} ${p.achieved} ${p.p50} ${p.p99}`).join('\n')}\n`);
    series.push(`'${dat}' using 1:3 with linespoints lw 2 pt 7 lc rgb '${colour[kind]}' title '${kind} p50'`,
      `'${dat}' using 1:4 with linespoints lw 2 pt 5 dt 2 lc rgb '${colour[kind]}' title '${kind} p99'`);
    const h = R.sweep[kind].half;
    if (h && h.p99 > 0) {
      const hd = path.join(dir, `${kind}-half.dat`);
      fs.writeFileSync(hd, `${h.offered} ${h.p99}\n`);
      series.push(`'${hd}' using 1:2 with points pt 13 ps 2.5 lc rgb '${colour[kind]}' title '${kind} p99 at half of peak'`);
    }
  }
  if (!series.length) return false;
  const gp = path.join(dir, 'latency.gp');
  fs.writeFileSync(gp, [
    "set terminal pngcairo size 1000,620 font 'DejaVu Sans,11'",
    `set output '${cfg.plot}'`,
    "set title 'REGISTER (refresh) latency against offered load: wtpfd (Bearer HS256) and Kamailio (digest), ws, loopback'",
    "set xlabel 'offered refreshes per second'",
    "set ylabel 'latency seen by the client (ms)'",
    'set logscale xy', 'set grid xtics ytics mxtics mytics', 'set key top left box opaque',
    "set format x '%g'", "set format y '%g'",
    `plot ${series.join(', \\\n  ')}`, ''].join('\n'));
  P.runSync('gnuplot', [gp]);
  return true;
}

// ---- the report -----------------------------------------------------

function scaleSection(cfg, R) {
  const out = ['## 1. Scale: memory per client and idle CPU', '',
    `Fresh target per step; N clients connect and register (${cfg.rampWs}/s over ws, ${cfg.rampWss}/s over wss, at most ${cfg.maxPending} pending), ` +
    `then stay idle for ${cfg.hold} s (\`--hold\`). PSS per client: what the target's PSS grew by over the register phase, divided by the clients registered ` +
    '(Kamailio: summed over all its processes). Idle CPU: the target\'s CPU time over the hold phase, in % of one core. ' +
    `Pings: wtpfd \`ping_interval = ${cfg.ping}\`, Kamailio websocket \`keepalive_timeout = ${cfg.ping}\`.`, ''];
  const rows = [];
  const checks = [];
  const by = (tr, n, k) => (R.scale || []).find((r) => r.transport === tr && r.n === n && r.kind === k);
  for (const tr of cfg.transports) {
    for (const n of cfg.steps) {
      const w = by(tr, n, 'wtpfd');
      const k = by(tr, n, KAM);
      const lim = tr === 'ws' ? 16 : 48;
      let pass = null;
      if (w && w.registered !== null && w.registered !== undefined) {
        pass = w.registered === n && w.pss !== null && w.pss <= lim && w.idle !== null && w.idle < 2;
        checks.push({ tr, n, w, pass });
      }
      rows.push([tr, n.toLocaleString('en'),
        w ? `${w.registered ?? '–'}` : '', k ? `${k.registered ?? '–'}` : '',
        w ? f(w.pss) : '', k ? f(k.pss) : '', f(ratio(w && w.pss, k && k.pss), 2),
        w ? f(w.idle, 2) : '', k ? f(k.idle, 2) : '', f(ratio(w && w.idle, k && k.idle), 2),
        w ? f(w.pssMB) : '', k ? f(k.pssMB) : '',
        `≤ ${lim} KiB, < 2 %: ${verdict(pass)}`,
        esc([w && w.errors ? `wtpfd: ${w.errors}` : '', w && w.note ? `wtpfd: ${w.note}` : '',
          k && k.errors ? `Kamailio: ${k.errors}` : '', k && k.note ? `Kamailio: ${k.note}` : ''].filter(Boolean).join('; '))]);
    }
  }
  out.push(table(['transport', 'N', 'wtpfd registered', 'Kamailio registered', 'wtpfd PSS KiB/client',
    'Kamailio PSS KiB/client', 'ratio', 'wtpfd idle CPU %', 'Kamailio idle CPU %', 'ratio',
    'wtpfd PSS MiB', 'Kamailio PSS MiB', 'target (wtpfd)', 'errors / notes'], rows), '');
  return { text: out.join('\n'), checks };
}

function regSection(cfg, R) {
  const out = ['## 2. Registration rate and CPU per REGISTER', ''];
  const w = (R.reg || []).find((r) => r.key === 'wtpfd');
  const we = (R.reg || []).find((r) => r.key === 'wtpfd-es256');
  const k = (R.reg || []).find((r) => r.key === KAM);
  out.push(`New registrations: ${cfg.regClients.toLocaleString('en')} clients, each a new WebSocket connection ` +
    '(TCP, HTTP upgrade) and a REGISTER; wtpfd verifies a Bearer token in it (and allocates the client a number, kept in its store), ' +
    'Kamailio challenges it (401) and checks the digest response, then saves the binding. ' +
    `No pacing (\`--ramp 0\`), at most ${cfg.newRegPending} clients in flight: the rate is what the target sustained. ` +
    (R.regSteady
      ? 'new REGISTER/s is the steady rate: registrations between the tenth and the nine-tenths of the clients, over the time between the two, ' +
        `while ${cfg.newRegPending} clients stay in flight; "whole batch" divides all of them by the time from the generator's start to the last 200, ` +
        'which adds its start-up and the draining of the last clients. '
      : `new REGISTER/s is the whole batch: too few clients for a steady part (that needs at least 20 × the ${cfg.newRegPending} in flight). `) +
    `Each row runs ${cfg.regRepeats} time${cfg.regRepeats > 1 ? 's' : ''}, on a fresh target each time, the rows taking turns ` +
    '(wtpfd, wtpfd ES256, Kamailio, wtpfd, ...) so that a slower pass of the machine falls on all of them; ' +
    'the table shows the run of median rate, and "runs" the rate of each. ' +
    'CPU per REGISTER: target CPU seconds over the register phase / registrations.', '');
  const rows = (R.reg || []).map((r) => [r.key, r.auth, r.registered, f(r.rate, 0), (r.runs || []).map((x) => f(x, 0)).join(', '),
    f(r.batchRate, 0), f(r.cpuUs, 0), f(r.cpuPct), f(r.genPct),
    f(r.connectP50, 2), f(r.p50, 2), f(r.p99, 2), r.challenges, esc([r.errors, r.note].filter(Boolean).join('; '))]);
  out.push(table(['target', 'authentication', 'registered', 'new REGISTER/s', 'runs', 'whole batch /s', 'CPU µs/REGISTER', 'target CPU %', 'generator CPU %',
    'connect p50 ms', 'REGISTER p50 ms', 'REGISTER p99 ms', '401 challenges', 'errors / notes'], rows), '');

  const sw = R.sweep || {};
  const wp = sw.wtpfd && sw.wtpfd.peak;
  const kp = sw[KAM] && sw[KAM].peak;
  const capped = (kind) => {
    const s = sw[kind];
    return s && s.points.filter((p) => !p.half).every((p) => p.sustained) ? '≥ ' : '';
  };
  out.push(`Refreshes: re-REGISTERs on registered clients (${cfg.sweepClients.toLocaleString('en')} clients) at stepped offered rates ` +
    `(${cfg.sweepTime} s each, scenario 5; doubling, then up to ${cfg.sweepBisect} halvings of the interval between the last sustained step and the first that was not; ` +
    'the two targets run side by side and take turns, one step at a time, so that both sweeps see the same passes of the machine); the peak is the highest rate ' +
    `sustained: achieved within 5 % of the offered one, under 1 % failures and a median latency under ${cfg.sweepMaxP50} ms (no standing queue) ` +
    '(Kamailio: the nonce of the first challenge is reused with a growing nc; a stale one is challenged again). ' +
    '"≥" marks a peak at the highest offered step, not a saturation point.', '');
  const rr = (a, b) => f(ratio(a, b), 2);
  const checks = {
    newRate: w && k && w.rate && k.rate ? w.rate >= 2 * k.rate : null,
    newCpu: w && k && w.cpuUs && k.cpuUs ? w.cpuUs <= 0.5 * k.cpuUs : null,
    refRate: wp && kp ? wp.achieved >= 2 * kp.achieved : null,
    refCpu: wp && kp && wp.cpuUs && kp.cpuUs ? wp.cpuUs <= 0.5 * kp.cpuUs : null,
  };
  out.push(table(['figure', 'wtpfd', 'Kamailio', 'ratio wtpfd/Kamailio', 'target', 'result'], [
    ['new REGISTER/s (wtpfd HS256)', f(w && w.rate, 0), f(k && k.rate, 0), rr(w && w.rate, k && k.rate), '≥ 2', verdict(checks.newRate)],
    ['new REGISTER/s (wtpfd ES256)', f(we && we.rate, 0), f(k && k.rate, 0), rr(we && we.rate, k && k.rate), '(information)', ''],
    ['CPU µs per new REGISTER (HS256)', f(w && w.cpuUs, 0), f(k && k.cpuUs, 0), rr(w && w.cpuUs, k && k.cpuUs), '≤ 0.5', verdict(checks.newCpu)],
    ['CPU µs per new REGISTER (ES256)', f(we && we.cpuUs, 0), f(k && k.cpuUs, 0), rr(we && we.cpuUs, k && k.cpuUs), '(information)', ''],
    ['refreshes/s (peak)', wp ? `${capped('wtpfd')}${f(wp.achieved, 0)}` : '–', kp ? `${capped(KAM)}${f(kp.achieved, 0)}` : '–',
      rr(wp && wp.achieved, kp && kp.achieved), '≥ 2', verdict(checks.refRate)],
    ['CPU µs per refresh (at the peak)', f(wp && wp.cpuUs, 0), f(kp && kp.cpuUs, 0), rr(wp && wp.cpuUs, kp && kp.cpuUs), '≤ 0.5', verdict(checks.refCpu)],
  ]), '');
  return { text: out.join('\n'), checks };
}

function callSection(cfg, R) {
  const out = ['## 3. Call rate, WebRTC client → IMS and IMS → WebRTC client', '',
    'SIPp plays IMS (`bench/scenarios/sipp/uas.xml` answers at once with a WebRTC answer, `uac.xml` calls with a WebRTC offer), ' +
    `over ${cfg.trunkTransport.toUpperCase()} (\`--trunk-transport\`; over UDP on a loaded machine a dropped datagram makes the target retransmit an INVITE, ` +
    'which SIPp\'s UAS takes for an unexpected message and aborts the call). ' +
    'Both SIPp sides ignore unexpected messages (`-default_behaviors all,-abortunexp`): a 180 that Kamailio\'s TCP workers pass on after the 200 ' +
    'does not fail a call that was answered. ' +
    'wtpfd: static trunk pointing straight at the SIPp UAS, no P-CSCF in between. Kamailio: WS client → Kamailio → SIPp UAS, and ' +
    'SIPp UAC → Kamailio → WS client (usrloc lookup). ' +
    `${cfg.callClients.toLocaleString('en')} registered clients; each step offers a rate for ${cfg.callTime} s, calls held ${cfg.callHold} s then BYEd ` +
    '(by the client outbound, by SIPp inbound). A step is sustained when at least 95 % of the offered calls were placed within its seconds ("placed": the calls placed by then; SIPp inbound places the rest late, and they may still complete), under 1 % failed, ' +
    `and the median INVITE→200 time (seen by the caller: the client outbound, SIPp inbound, in whole milliseconds) was under ${cfg.callMaxP50} ms (no standing queue); ` +
    `the stepping stops at the first step that is not, then halves the interval between the last sustained step and that one ${cfg.callBisect} times (rows in order of rate). ` +
    `A call SIPp places that waits longer than ${cfg.callRecvTimeout} s for a response fails. CPU µs per call: target CPU over the step / completed calls; ` +
    '"of it kernel": the system time in that figure (/proc/PID/stat), mostly the loopback sends and receives of the call\'s messages.', ''];
  const best = (steps) => {
    const ok = (steps || []).filter((s) => s.sustained);
    return ok.length ? ok.reduce((a, b) => (b.rate > a.rate ? b : a)) : null;
  };
  const checks = {};
  const summary = [];
  for (const dir of ['out', 'in']) {
    const name = dir === 'out' ? 'WIC → IMS' : 'IMS → WIC';
    const rows = [];
    for (const kind of Object.keys(R.calls || {})) {
      for (const s of [...R.calls[kind][dir]].sort((x, y) => x.rate - y.rate)) {
        rows.push([kind, s.rate, s.onTime != null ? s.onTime : s.placed, s.completed, f(s.failPct, 2), f(s.cpuUs, 0), f(s.sysUs, 0), f(s.cpuPct),
          dir === 'out' ? f(s.genPct) : '',
          f(s.setupP50, 2), f(s.setupP99, 2),
          s.sustained ? 'yes' : 'no', esc([s.errors, s.note].filter(Boolean).join('; '))]);
      }
    }
    out.push(`### ${name}`, '', table(['target', 'offered calls/s', 'placed', 'completed', 'failed %', 'CPU µs/call',
      'of it kernel µs', 'target CPU %', 'generator CPU %', 'INVITE→200 p50 ms', 'INVITE→200 p99 ms', 'sustained', 'errors / notes'], rows), '');
    const cw = R.calls && R.calls.wtpfd;
    const ck = R.calls && R.calls[KAM];
    const bw = cw && best(cw[dir]);
    const bk = ck && best(ck[dir]);
    const top = (c, b) => (c && b && c[dir].every((s) => s.sustained) && b.rate === Math.max(...cfg.callRates) ? '≥ ' : '');
    checks[`${dir}Rate`] = bw && bk ? bw.rate >= 1.5 * bk.rate : null;
    checks[`${dir}Cpu`] = bw && bw.cpuUs !== null ? bw.cpuUs <= 100 : null;
    summary.push([`${name}: highest sustained calls/s`, bw ? `${top(cw, bw)}${bw.rate}` : '–', bk ? `${top(ck, bk)}${bk.rate}` : '–',
      f(ratio(bw && bw.rate, bk && bk.rate), 2), '≥ 1.5', verdict(checks[`${dir}Rate`])]);
    summary.push([`${name}: CPU µs per call at that rate`, f(bw && bw.cpuUs, 0), f(bk && bk.cpuUs, 0),
      f(ratio(bw && bw.cpuUs, bk && bk.cpuUs), 2), 'wtpfd ≤ 100 µs', verdict(checks[`${dir}Cpu`])]);
    summary.push([`${name}: of it kernel µs per call`, f(bw && bw.sysUs, 0), f(bk && bk.sysUs, 0),
      f(ratio(bw && bw.sysUs, bk && bk.sysUs), 2), '(information)', '']);
  }
  const notes = Object.entries(R.calls || {}).flatMap(([k, c]) => (c.notes || []).map((n) => `${k}: ${n}`));
  out.push('### Summary', '', table(['figure', 'wtpfd', 'Kamailio', 'ratio wtpfd/Kamailio', 'target', 'result'], summary), '');
  out.push('"≥" marks the highest step offered, sustained: the target was not saturated.', '');
  if (notes.length) out.push(...notes.map((n) => `* ${esc(n)}`), '');
  return { text: out.join('\n'), checks };
}

function ringSection(cfg, R) {
  const r = R.ring || {};
  const out = ['## 4. Ring-group fan-out (wtpfd)', '',
    `One inbound call at a time from SIPp (UDP, static trunk) to a simultaneous ring group of 50 agents, each a wtpf-bench client over ws; ` +
    `one agent answers after 0.3 s, the 49 others keep ringing and get CANCEL; ${r.reps} calls. Times from a loopback capture ` +
    '(`tcpdump -i lo`, the trunk port and the ws port) read by `bench/scenarios/rg_pcap.py`: INVITE in on the trunk → the 50th INVITE ' +
    'out on the WebSockets; the 200 in from the answering agent → the 49th CANCEL out. Capture time stamps are taken by the kernel, ' +
    'so they include neither client\'s processing.', ''];
  if (r.note) out.push(`Not measured: ${esc(r.note)}`, '');
  const checks = {
    fanout: r.fanout && r.fanout.p99 !== null ? r.fanout.p99 < 5 : null,
    cancel: r.cancel && r.cancel.p99 !== null ? r.cancel.p99 < 5 : null,
  };
  out.push(table(['interval', 'p50 ms', 'p99 ms', 'max ms', 'target', 'result'], [
    ['INVITE in → first INVITE out', f(r.first && r.first.p50, 3), f(r.first && r.first.p99, 3), f(r.first && r.first.max, 3), '', ''],
    ['INVITE in → 50th INVITE out', f(r.fanout && r.fanout.p50, 3), f(r.fanout && r.fanout.p99, 3), f(r.fanout && r.fanout.max, 3), 'p99 < 5 ms', verdict(checks.fanout)],
    ['200 in → 49th CANCEL out', f(r.cancel && r.cancel.p50, 3), f(r.cancel && r.cancel.p99, 3), f(r.cancel && r.cancel.max, 3), 'p99 < 5 ms', verdict(checks.cancel)],
  ]), '');
  const s = r.sipp;
  out.push(`Calls with all 50 INVITEs and 49 CANCELs seen: ${r.complete ?? 0} of ${r.reps}` +
    (s ? ` (SIPp: ${s.ok} successful, ${s.failed} failed of ${s.outgoing}).` : '.'), '');
  const odd = (r.calls || []).filter((c) => !(c.legs === 50 && c.cancels === 49));
  if (odd.length) out.push(`Incomplete calls: ${odd.map((c) => `${c.from}: ${c.legs} INVITEs, ${c.cancels} CANCELs`).join('; ')}`, '');
  return { text: out.join('\n'), checks };
}

function sweepSection(cfg, R, havePlot) {
  const sw = R.sweep || {};
  const out = ['## 5. Latency against offered load', '',
    'REGISTER refreshes at stepped offered rates (the runs of scenario 2), latency as the client sees it (send → 200). ' +
    'Points past the peak are steps the target did not sustain; the large marker is a separate run at half of the peak, on a fresh target.', ''];
  if (havePlot) out.push(`![REGISTER latency against offered load](${path.basename(cfg.plot)})`, '');
  const rows = [];
  for (const kind of Object.keys(sw)) {
    for (const p of sw[kind].points)
      rows.push([kind, `${p.offered}${p.half ? ' (half of peak)' : ''}`, f(p.achieved, 0), f(p.p50, 2), f(p.p90, 2), f(p.p99, 2),
        f(p.max, 2), f(p.cpuUs, 0), f(p.cpuPct), f(p.genPct), p.sustained ? 'yes' : 'no', esc([p.errors, p.note].filter(Boolean).join('; '))]);
    if (sw[kind].note) rows.push([kind, '', '', '', '', '', '', '', '', '', esc(sw[kind].note)]);
  }
  out.push(table(['target', 'offered/s', 'achieved/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'CPU µs/refresh',
    'target CPU %', 'generator CPU %', 'sustained', 'errors / notes'], rows), '');
  const hw = sw.wtpfd && sw.wtpfd.half;
  const hk = sw[KAM] && sw[KAM].half;
  out.push('The latency the target adds is measured on the wire: the same half-of-peak rate once more, on a fresh target, ' +
    'under a `tcpdump` capture of its WebSocket port started before the clients connect; `reg_pcap.py` pairs each refresh ' +
    'with its 200 (connection, Call-ID, CSeq) and takes the time between the two frames at the target\'s port. ' +
    'This leaves out the load generator\'s own queueing, which the client-side figures above include; the capture ' +
    'takes CPU of its own on the same two cores.', '');
  const wrows = [];
  for (const kind of Object.keys(sw)) {
    const w = sw[kind].wire;
    if (!w) continue;
    const p = w.point || {};
    const r = w.refresh || {};
    wrows.push([kind, f(p.offered, 0), f(p.achieved, 0), f(r.count, 0), f(r.p50_ms, 2), f(r.p90_ms, 2), f(r.p99_ms, 2),
      f(r.max_ms, 2), f(p.p99, 2), p.sustained ? 'yes' : 'no',
      esc([w.note, w.unanswered ? `${w.unanswered} unanswered` : '', p.errors, p.note].filter(Boolean).join('; '))]);
  }
  if (wrows.length)
    out.push(table(['target', 'offered/s', 'achieved/s', 'refreshes paired', 'wire p50 ms', 'wire p90 ms', 'wire p99 ms',
      'wire max ms', 'client p99 ms (same run)', 'sustained', 'notes'], wrows), '');
  const ww = sw.wtpfd && sw.wtpfd.wire;
  const wk = sw[KAM] && sw[KAM].wire;
  const wp99 = (w) => (w && w.refresh ? w.refresh.p99_ms : null);
  const checks = {
    half: wp99(ww) !== null && ww.point ? wp99(ww) < 2 && ww.point.sustained && !ww.unanswered : null,
  };
  out.push(table(['figure', 'wtpfd', 'Kamailio', 'ratio wtpfd/Kamailio', 'target', 'result'], [
    ['p99 ms added by the target at half of peak (wire)', ww && ww.point ? `${f(wp99(ww), 2)} (at ${ww.point.offered}/s)` : '–',
      wk && wk.point ? `${f(wp99(wk), 2)} (at ${wk.point.offered}/s)` : '–', f(ratio(wp99(ww), wp99(wk)), 2), '< 2 ms',
      verdict(checks.half)],
    ['p99 ms at half of peak, as the client sees it', hw ? `${f(hw.p99, 2)} (at ${hw.offered}/s)` : '–',
      hk ? `${f(hk.p99, 2)} (at ${hk.offered}/s)` : '–', f(ratio(hw && hw.p99, hk && hk.p99), 2), '–', '–'],
  ]), '');
  return { text: out.join('\n'), checks };
}

function write(cfg, R) {
  let havePlot = false;
  try {
    havePlot = plot(cfg, R);
  } catch (e) {
    R.plotError = e.message;
  }
  const m = R.machine;
  const v = R.versions;
  const parts = [];
  parts.push('# wtpf benchmark results', '',
    `Written by \`bench/run${cfg.argv.length ? ` ${cfg.argv.join(' ')}` : ''}\` on ${R.started} (${cfg.quick ? 'quick mode: small numbers, for development; not the benchmark' : 'full run'}); ` +
    `took ${Math.round(R.seconds)} s. Raw results (wtpf-bench JSON, logs, captures, configurations): \`${cfg.runDir}\` on that machine.`, '',
    '## Machine and versions', '',
    table(['', ''], [
      ['CPU', `${m.nproc} × ${m.cpu}`], ['memory', `${m.memGiB} GiB`], ['kernel', m.kernel],
      ['load average at start / end', `${m.loadStart} / ${m.loadEnd}`],
      ['wtpfd', `git ${v.git}`], ['wtpf-bench', v.bench], ['Kamailio', v.kamailio], ['SIPp', v.sipp],
      ['libwebsockets', v.lws], ['OpenSSL', v.openssl], ['gnuplot, tcpdump', `${v.gnuplot}; ${v.tcpdump}`],
    ]), '',
    'Everything runs on this one machine over loopback: the target, the load generator (one wtpf-bench process, one thread), SIPp and tcpdump ' +
    'share its cores, so the generator\'s own CPU bounds the highest rates. Figures are from one run each; on a shared machine ' +
    '(another build or profile running) they move by tens of percent from run to run. "generator CPU %" is wtpf-bench\'s own CPU over ' +
    'the same phase (100 % = one core): where it nears 100 %, or target and generator together near the machine\'s cores, the rate ' +
    'is the machine\'s, not the target\'s.', '',
    '### Set-up', '',
    `* wtpfd: \`bench/scenarios/wtpf.conf.in\` (log level warn, static trunk to the SIPp UAS, one tenant, Bearer HS256/ES256, ring group of 50), ` +
    `\`ping_interval = ${cfg.ping}\`, started fresh for every step with \`ulimit -n\` at the hard limit.`,
    `* Kamailio: \`bench/kamailio/edge.cfg\`, \`-m ${cfg.kamShm} -M ${cfg.kamPkg}\`, ${cfg.kamChildren} UDP workers, ${cfg.kamTcpChildren} TCP workers ` +
    `(wss runs: ${cfg.kamTlsTcpChildren} — see the notes), usrloc in memory, digest with a fixed password, \`tcp_max_connections\` 20000, ` +
    'started fresh for every step with `ulimit -n` at the hard limit; its CPU and memory are summed over all its processes.',
    `* Clients spread over source addresses ${cfg.localAddrs}; transaction timeout ${cfg.txTimeout} s.`, '');

  const s1 = cfg.scenarios.includes(1) ? scaleSection(cfg, R) : null;
  const s2 = cfg.scenarios.includes(2) || cfg.scenarios.includes(5) ? regSection(cfg, R) : null;
  const s3 = cfg.scenarios.includes(3) ? callSection(cfg, R) : null;
  const s4 = cfg.scenarios.includes(4) ? ringSection(cfg, R) : null;
  const s5 = cfg.scenarios.includes(2) || cfg.scenarios.includes(5) ? sweepSection(cfg, R, havePlot) : null;

  // the targets at a glance
  const t = [];
  if (s1) {
    const big = s1.checks.filter((c) => c.n >= 19000);
    const n19 = big.length ? big.every((c) => c.w.registered === c.n) : null;
    const maxN = Math.max(...cfg.steps);
    t.push(['1', '≥ 19,000 clients registered and held', n19 === null ? `not measured (largest step ${maxN.toLocaleString('en')})` : verdict(n19)]);
    for (const tr of cfg.transports) {
      const cs = s1.checks.filter((c) => c.tr === tr);
      const lim = tr === 'ws' ? 16 : 48;
      t.push(['1', `≤ ${lim} KiB PSS per client over ${tr}`, cs.length ? `${verdict(cs.every((c) => c.w.pss !== null && c.w.pss <= lim))} (${cs.map((c) => `${c.n}: ${f(c.w.pss)}`).join(', ')})` : 'not measured']);
      t.push(['1', `< 2 % of a core idle over ${tr}`, cs.length ? `${verdict(cs.every((c) => c.w.idle !== null && c.w.idle < 2))} (${cs.map((c) => `${c.n}: ${f(c.w.idle, 2)} %`).join(', ')})` : 'not measured']);
    }
  }
  if (s2) {
    t.push(['2', 'new REGISTER/s ≥ 2 × Kamailio', verdict(s2.checks.newRate)], ['2', 'CPU per new REGISTER ≤ ½ Kamailio', verdict(s2.checks.newCpu)],
      ['2', 'refreshes/s ≥ 2 × Kamailio', verdict(s2.checks.refRate)], ['2', 'CPU per refresh ≤ ½ Kamailio', verdict(s2.checks.refCpu)]);
  }
  if (s3) {
    t.push(['3', 'WIC → IMS calls/s ≥ 1.5 × Kamailio', verdict(s3.checks.outRate)], ['3', 'WIC → IMS ≤ 100 µs CPU per call', verdict(s3.checks.outCpu)],
      ['3', 'IMS → WIC calls/s ≥ 1.5 × Kamailio', verdict(s3.checks.inRate)], ['3', 'IMS → WIC ≤ 100 µs CPU per call', verdict(s3.checks.inCpu)]);
  }
  if (s4) t.push(['4', 'ring group: 50th INVITE out < 5 ms (p99)', verdict(s4.checks.fanout)], ['4', 'ring group: 49th CANCEL out < 5 ms (p99)', verdict(s4.checks.cancel)]);
  if (s5) t.push(['5', 'p99 added by the gateway < 2 ms at half of peak load (wire)', verdict(s5.checks.half)]);
  parts.push('## Targets at a glance', '', table(['scenario', 'target (wtpfd)', 'result'], t), '');
  for (const s of [s1, s2, s3, s4, s5]) if (s) parts.push(s.text);

  parts.push('## Notes', '',
    '* Kamailio 5.6.3 (Debian 12) with OpenSSL 3 corrupts its shared memory and crashes (`qm_free(): BUG: freeing already freed pointer ... tls_init.c`, ' +
    'a worker killed by signal 6) as soon as several TCP workers handle TLS connections; the fix (`tls_threads_mode`) only exists in later ' +
    `versions. Its wss runs therefore use ${cfg.kamTlsTcpChildren} TCP worker; this changes its rates, hardly its memory per connection or idle CPU. Its ws runs ` +
    'do not load the tls module.',
    '* Authentication differs by design: wtpfd verifies a token in one REGISTER; Kamailio answers a first REGISTER with 401 and checks the ' +
    'digest of the second (a fresh client costs it two REGISTERs). Neither challenges INVITEs.',
    '* "Registered" for Kamailio means the 200 to a REGISTER; wtpfd also allocates each new subject a number in its store.',
    '* CPU figures come from `/proc/PID/stat` (10 ms ticks), so short phases with little work are coarse.');
  if (R.plotError) parts.push(`* The plot could not be made: ${esc(R.plotError)}`);
  if (R.errors && R.errors.length) parts.push(...R.errors.map((e) => `* Run error: ${esc(e)}`));
  parts.push('');

  parts.push('## Commands run', '', 'In order, as run (`[bg]`: started in the background and stopped by PID afterwards).', '',
    '<details><summary>' + `${P.commands.length} commands` + '</summary>', '', '```sh',
    ...P.commands.map((c) => c.cmd), '```', '', '</details>', '');
  fs.writeFileSync(cfg.results, parts.join('\n'));
  fs.writeFileSync(path.join(cfg.runDir, 'results.json'), JSON.stringify({ cfg, R }, null, 1));
}

module.exports = { write };

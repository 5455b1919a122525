// bench.steps: how bench/run steps its offered rates, reads SIPp's
// statistics and picks the median of repeated runs, on made-up targets and files (no process is started).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sweep, sippStat, sippRtt, medianRun, turns } = require('./scenarios/lib/scenarios');

const RATES = [50, 100, 200, 400, 800, 1200, 1600, 2400, 3200, 4000];

// A target that sustains every rate up to CAP; the rates offered, in order.
async function against(cap, bisect, stopAfter = Infinity) {
  const offered = [];
  await sweep(RATES, bisect, async (r) => { offered.push(r); return r <= cap; },
    () => offered.length >= stopAfter, 0);
  return offered;
}

test('steps up to the first rate not sustained, then halves the interval', async () => {
  assert.deepEqual(await against(3000, 2), [...RATES.slice(0, 9), 2800, 3000]);
  assert.deepEqual(await against(2500, 2), [...RATES.slice(0, 9), 2800, 2600]);
  assert.deepEqual(await against(3000, 0), RATES.slice(0, 9));
});

test('a target sustaining every step is not bisected', async () => {
  assert.deepEqual(await against(1e9, 2), RATES);
});

test('a first step not sustained ends the sweep', async () => {
  assert.deepEqual(await against(10, 4), [50]);
});

test('stop() ends the sweep before the next step', async () => {
  assert.deepEqual(await against(1e9, 2, 3), [50, 100, 200]);
});

// SIPp's -trace_stat file: a header, then a line per -fd period whose
// time fields read "date<TAB>time<TAB>epoch".
function statFile(rows) {
  const head = ['StartTime', 'LastResetTime', 'CurrentTime', 'ElapsedTime(C)', 'OutgoingCall(C)',
    'SuccessfulCall(C)', 'FailedCall(C)'];
  const t = (e) => `2026-11-23\t00:00:00.000000\t${e.toFixed(6)}`;
  const start = 1795396000;
  const lines = rows.map(([s, out, ok, failed]) => [t(start), t(start), t(start + s), `00:00:${String(Math.floor(s)).padStart(2, '0')}`,
    out, ok, failed].join(';'));
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-steps-')), 'stat.csv');
  fs.writeFileSync(f, [head.join(';'), ...lines].join('\n') + '\n');
  return f;
}

test('reads the last counters and the calls placed by a given second', () => {
  // 100 calls a second for 8 s, then 50 a second: 800 by 8 s, 900 by 10 s
  const rows = [];
  for (let s = 1; s <= 8; s++) rows.push([s, 100 * s, 90 * s, 0]);
  for (let s = 9; s <= 12; s++) rows.push([s, 800 + 50 * (s - 8), 700 + 50 * (s - 8), s === 12 ? 3 : 0]);
  const f = statFile(rows);
  const r = sippStat(f, 10);
  assert.equal(r.outgoing, 1000);
  assert.equal(r.ok, 900);
  assert.equal(r.failed, 3);
  assert.equal(r.placedAt, 900);
  assert.equal(sippStat(f, 2.5).placedAt, 250, 'interpolated between two lines');
  assert.equal(sippStat(f, 60).placedAt, 1000, 'after the last line: its count');
  assert.equal(sippStat(f).placedAt, undefined, 'no time asked, none given');
});

test('a missing or empty file gives null', () => {
  assert.equal(sippStat(path.join(os.tmpdir(), 'wtpf-no-such-stat.csv'), 10), null);
  const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-steps-')), 'stat.csv');
  fs.writeFileSync(empty, '');
  assert.equal(sippStat(empty, 10), null);
});

test('reads the median and p99 of SIPp\'s response times (-trace_rtt)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-steps-'));
  // 100 calls: 1..100 ms, written in two dumps as SIPp does (-rtt_freq)
  const line = (i) => `${1795396000000 + i}.000000;${i}.000000;1`;
  const all = Array.from({ length: 100 }, (_, i) => line(i + 1));
  fs.writeFileSync(path.join(dir, 'uac_4242_rtt.csv'), ['Date_ms;response_time_ms;rtd_no', ...all].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'uac_4242_.csv'), 'not a response time file\n');
  assert.deepEqual(sippRtt(dir), { n: 100, p50: 50, p99: 99 });
  assert.equal(sippRtt(path.join(dir, 'none')), null, 'no folder: null');
  fs.rmSync(path.join(dir, 'uac_4242_rtt.csv'));
  assert.equal(sippRtt(dir), null, 'no file: null');
  fs.rmSync(dir, { recursive: true });
});

test('repeated new-registration runs: the run of median rate, every rate listed', () => {
  const run = (rate, cpuUs) => ({ key: 'wtpfd', rate, cpuUs });
  const three = medianRun([run(9000, 90), run(8000, 100), run(10000, 80)]);
  assert.equal(three.rate, 9000);
  assert.equal(three.cpuUs, 90, 'the whole row of that run, not a mix');
  assert.deepEqual(three.runs, [9000, 8000, 10000], 'in the order run');
  assert.equal(medianRun([run(9000, 90), run(8000, 100)]).rate, 8000, 'even count: the lower middle');
  // a failed run (no rate) counts as the slowest
  assert.equal(medianRun([run(null, null), run(8000, 100), run(10000, 80)]).rate, 8000);
  assert.equal(medianRun([run(null, null), run(null, null), run(10000, 80)]).rate, null);
  const none = medianRun([{ key: 'k', rate: null, note: 'not run: x' }]);
  assert.equal(none.note, 'not run: x');
  assert.deepEqual(none.runs, [null]);
  assert.equal(medianRun([run(7000, 1)]).rate, 7000);
});

test('two sweeps sharing turns: their steps alternate, one at a time, each sweep on its own path', async () => {
  const turn = turns();
  const log = [];
  let running = 0;
  const step = (who, cap) => async (r) => turn(async () => {
    assert.equal(running++, 0, 'no two steps at once');
    log.push(`${who}${r}`);
    await new Promise((res) => setTimeout(res, who === 'w' ? 3 : 1));
    running--;
    return r <= cap;
  });
  await Promise.all([
    sweep([50, 100, 200, 400], 0, step('w', 400), () => false, 0),
    sweep([50, 100, 200, 400], 0, step('k', 100), () => false, 0),
  ]);
  // k stops at its first step past 100; w goes on alone
  assert.deepEqual(log, ['w50', 'k50', 'w100', 'k100', 'w200', 'k200', 'w400']);
  // a step that throws does not stop the next one
  const after = [];
  await assert.rejects(turn(async () => { throw new Error('boom'); }), /boom/);
  await turn(async () => after.push('next'));
  assert.deepEqual(after, ['next']);
});

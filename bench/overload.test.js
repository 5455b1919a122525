// bench.overload: three times the load the gateway is set to sustain, from
// wtpf-bench, then the load gone. The gateway's limit here is its per
// address REGISTER rate (limits.register_rate = 50/s, bursts of 100); the
// clients re-REGISTER at 150/s from that one address for 4 s. The gateway
// must keep serving its limit (about 50/s, plus the burst), answer the rest
// 503 with Retry-After — nothing else: no timeout, no closed connection,
// no crash — keep the REGISTERs it serves fast, count the refusals in its
// metrics, and serve everything again once the load is back under the
// limit.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const LIB = path.resolve(__dirname, '../tests/integration/lib');
const { bench } = require('./lib/bench');
const { startGateway, ORIGIN, DOMAIN, ISS } = require(path.join(LIB, 'gateway'));

const BENCH = process.env.WTPF_BENCH;
const RATE = 50;            // limits.register_rate
const OFFERED = 3 * RATE;   // the overload
const SECONDS = 4;


describe('three times the sustainable REGISTER load from one address', { timeout: 90000 }, () => {
  let gw;

  before(async () => {
    gw = await startGateway({ extra: { limits: { register_rate: RATE, retry_after: 3 } } });
  });

  after(async () => {
    const r = await gw.stop();
    assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
    gw.cleanup();
  });

  const common = (clients) => ['--url', gw.wsUrl + '/', '--origin', ORIGIN, '--domain', DOMAIN,
    '--jwt-key', path.join(gw.dir, 'hs256.key'), '--jwt-iss', ISS.hs,
    '--local-addrs', '127.0.0.77', '--clients', String(clients), '--ramp', '20',
    '--target-pid', String(gw.pid), '--timeout', '5'];

  test('past its limit the gateway serves about the limit and answers the rest 503; then it recovers', async () => {
    const r = await bench([...common(20), '--refresh-rate', String(OFFERED),
      '--refresh-time', String(SECONDS)]);
    const j = r.json;
    const why = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
    assert.ok(j, why);
    assert.equal(j.result.registered, 20, `everyone registered first (within the burst): ${why}`);
    const t = j.transactions.refresh;
    const offered = t.ok + t.failed;
    assert.ok(offered >= OFFERED * SECONDS * 0.8, `the load was offered: ${offered}`);
    // served: the rate, plus what was left of the burst of 2 x RATE
    assert.ok(t.ok >= RATE * SECONDS * 0.8 && t.ok <= RATE * SECONDS + 2 * RATE + 10,
      `served about its limit: ${t.ok} of ${offered}`);
    assert.ok(t.failed >= offered * 0.4, `the rest refused: ${t.failed}`);
    // refused with 503 only, and nothing else went wrong
    assert.deepEqual(Object.keys(j.errors.by_status), ['REGISTER 503'], JSON.stringify(j.errors));
    assert.equal(j.errors.by_status['REGISTER 503'].count, t.failed);
    assert.deepEqual(j.errors.by_kind, {}, `no timeout, no closed connection: ${JSON.stringify(j.errors.by_kind)}`);
    // what it serves stays fast while it sheds the rest
    assert.ok(t.p99_ms < 50, `served REGISTERs p99 ${t.p99_ms} ms`);
    const metrics = (await gw.admin('/metrics')).body;
    const refused = Number(/wtpf_overload_refusals_total\{reason="register_rate"\} (\d+)/.exec(metrics)[1]);
    assert.equal(refused, t.failed, 'every refusal counted');
    await gw.waitLog(/refused peer=127\.0\.0\.77: register_rate/, 2000);

    // the load gone: after a pause, half the limit is served in full
    await new Promise((res) => setTimeout(res, 2500));
    const calm = await bench([...common(10), '--refresh-rate', String(RATE / 2),
      '--refresh-time', '2']);
    assert.equal(calm.code, 0, `exit ${calm.code}\n${calm.stdout}\n${calm.stderr}`);
    assert.equal(calm.json.errors.total, 0);
    assert.ok(calm.json.transactions.refresh.ok >= RATE / 2 * 2 * 0.8);
    assert.equal(gw.exitResult, undefined, 'wtpfd still running');
  });
});

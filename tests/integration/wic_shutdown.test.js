// Clean shutdown under valgrind: SIGTERM with registered clients closes
// their WebSockets with 1001 (going away) and wtpfd exits 0 with no definite
// leak and no memory error (valgrind --error-exitcode=99).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startGateway, ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, request, rand } = require('./lib/sip');
const J = require(path.join(__dirname, '../web/lib/jssip-node.js'));

// Exercises the edge's paths that allocate (refusals, challenges, INVITE
// transactions, closes on errors) so that valgrind checks them too.
async function traffic(gw) {
  const T = 30000;
  await assert.rejects(connect(gw.wsUrl, { origin: 'https://evil.example' }));
  const c = await connect(gw.wsUrl, { origin: ORIGIN });
  const aor = `sip:xena@${DOMAIN}`;
  const reg = (headers) => c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: aor,
    headers: { Contact: '<sip:xena@x.invalid;transport=ws>', ...headers } }, T);
  assert.equal((await reg({})).status, 401);
  assert.equal((await reg({ Authorization: `Bearer ${tok.tamper(tok.hs256({ sub: 'xena' }))}` })).status, 401);
  assert.equal((await reg({ Authorization: 'Digest username="xena", realm="acme.test", nonce="x", uri="sip:acme.test", response="0"' })).status, 400);
  assert.equal((await reg({ Authorization: `Bearer ${tok.es256({ sub: 'xena' })}` })).status, 200);
  const callId = rand(8);
  const inv = await c.transact({ method: 'INVITE', uri: `sip:bob@${DOMAIN}`, from: aor, callId, cseq: 1,
    headers: { Contact: '<sip:xena@x.invalid;transport=ws>' } }, T);
  assert.ok(inv.status >= 300);
  c.send(request({ method: 'ACK', uri: `sip:bob@${DOMAIN}`, from: aor, callId, cseq: 1, branch: inv.branch,
    fromTag: /;tag=([^;\s]+)/.exec(inv.get('from'))[1], toTag: /;tag=([^;\s]+)/.exec(inv.get('to'))[1] }));
  assert.equal((await c.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: aor }, T)).status, 200);
  c.send('not SIP at all');
  assert.equal((await c.closed).code, 1002);
  const big = await connect(gw.wsUrl, { origin: ORIGIN });
  big.send('x'.repeat(70000));
  assert.equal((await big.closed).code, 1009);
  await gw.waitLog(/binding removed aor=sip:xena@acme\.test/, T);
}

test('SIGTERM with two registered clients under valgrind: 1001, exit 0, no leak', { timeout: 240000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-vg-'));
  const vglog = path.join(dir, 'valgrind.log');
  const gw = await startGateway({
    dir, tls: true,
    wrapper: ['valgrind', '--leak-check=full', '--errors-for-leak-kinds=definite',
      '--error-exitcode=99', '--track-fds=no', `--log-file=${vglog}`],
    startTimeoutMs: 90000,
  });
  const uas = [];
  try {
    const regs = [];
    for (const [user, url] of [['vera', gw.wsUrl], ['walt', gw.wssUrl]]) {
      const r = await J.register({ ws: url, origin: ORIGIN, uri: `sip:${user}@${DOMAIN}`,
        authorization_jwt: `Bearer ${tok.hs256({ sub: user })}`, timeoutMs: 30000 });
      uas.push(r.ua);
      assert.equal(r.status, 200, `${user}: ${r.status} ${r.reason || r.cause}`);
      regs.push(r);
    }
    await traffic(gw);
    const disconnected = regs.map((r) => new Promise((resolve) =>
      r.ua.once('disconnected', (e) => resolve(e))));

    const mark = gw.mark();
    const exit = await gw.stop(120000);
    await gw.waitLog(/signal received: shutting down \(2 flows\)/, 1000, mark);
    for (const r of regs) {
      const c = await r.socket.closedWith;
      assert.equal(c.code, 1001, `close code seen by the client: ${JSON.stringify(c)}`);
      assert.equal(c.reason, 'gateway shutting down');
    }
    for (const e of await Promise.all(disconnected))
      assert.equal(e.code, 1001, 'JsSIP reports the going-away close');
    const report = fs.readFileSync(vglog, 'utf8');
    assert.deepEqual(exit, { code: 0, signal: null },
      `wtpfd under valgrind exit (99 = valgrind found errors); valgrind log:\n${report}\nwtpfd log:\n${gw.log()}`);
    assert.match(report, /ERROR SUMMARY: 0 errors/, report);
    assert.doesNotMatch(report, /definitely lost: [1-9]/, report);
    assert.match(gw.log(), /wtpfd stopped/);
  } finally {
    for (const ua of uas) ua.stop();
    await gw.kill();
    gw.cleanup();
  }
});

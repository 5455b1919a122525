// The WebSocket handshake policy of the edge (RFC 7118, RFC 6455): the
// `sip` subprotocol, the tenants' Origins, an optional token, the wss
// listener and the handshake timeout. Raw `ws` clients.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const tls = require('node:tls');

const { startGateway, freePort, ORIGIN, CLOSED_ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect } = require('./lib/sip');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('WebSocket handshake', { timeout: 50000 }, () => {
  let gw;

  before(async () => {
    gw = await startGateway({ tls: true, websocket: { handshake_timeout: 2 } });
  });

  after(async () => {
    const r = await gw.stop();
    assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
    gw.cleanup();
  });

  // Expects the handshake to be refused and the log to give the reason.
  async function refused(url, o, reason, status = 403) {
    const mark = gw.mark();
    await assert.rejects(connect(url, o), (e) => {
      // Refused by our policy: HTTP 403 naming the reason. (libwebsockets
      // itself hangs up on some malformed upgrades: status null there.)
      if (status === null) assert.ok(e.statusCode === undefined || e.statusCode >= 400, e.message);
      else assert.equal(e.statusCode, status, `refusal: ${e.message}`);
      return true;
    });
    const line = await gw.waitLog(/handshake refused/, 2000, mark);
    assert.match(line, reason);
    assert.equal(gw.lines.slice(mark).filter((l) => /flow open/.test(l)).length, 0, 'no flow opened');
    return line;
  }

  test('the listener is bound to the configured address only (ws_address 127.0.0.1)', () => {
    const port = new URL(gw.wsUrl).port;
    const out = require('node:child_process').execFileSync('ss', ['-Hltn', `sport = :${port}`]).toString();
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${port}\\b`), out);
    assert.doesNotMatch(out, new RegExp(`(\\*|0\\.0\\.0\\.0|\\[::\\]):${port}\\b`), out);
  });

  test('right Origin and subprotocol sip: open, sip selected, flow logged', async () => {
    const mark = gw.mark();
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    assert.equal(c.ws.protocol, 'sip', 'Sec-WebSocket-Protocol: sip in the 101');
    await gw.waitLog(/wic conn=\d+ flow open peer=127\.0\.0\.1 tls=0 origin="https:\/\/app\.acme\.test"$/, 2000, mark);
    // It is a working SIP flow.
    const r = await c.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: `sip:anon@${DOMAIN}` });
    assert.equal(r.status, 200);
    await c.close();
    await gw.waitLog(/flow closed/, 2000, mark);
  });

  test('sip among other offered subprotocols is chosen', async () => {
    const c = await connect(gw.wsUrl, { origin: ORIGIN, protocol: ['foo', 'sip'] });
    assert.equal(c.ws.protocol, 'sip');
    await c.close();
  });

  test('no subprotocol: refused', async () => {
    const line = await refused(gw.wsUrl, { origin: ORIGIN, protocol: null }, /no 'sip' subprotocol requested/);
    assert.match(line, /origin="https:\/\/app\.acme\.test"/, 'the log names the Origin too');
  });

  test('only other subprotocols: refused', async () => {
    await refused(gw.wsUrl, { origin: ORIGIN, protocol: 'chat' }, /subprotocols "chat" offered, not 'sip'/, null);
  });

  test('wrong Origin: refused', async () => {
    await refused(gw.wsUrl, { origin: 'https://evil.example' }, /origin="https:\/\/evil\.example": Origin not allowed/);
    // An Origin is matched exactly, not as a prefix.
    await refused(gw.wsUrl, { origin: `${ORIGIN}.evil.example` }, /Origin not allowed/);
  });

  test('no Origin: refused', async () => {
    await refused(gw.wsUrl, {}, /no Origin header/);
  });

  test('another tenant\'s Origin is served', async () => {
    const c = await connect(gw.wsUrl, { origin: CLOSED_ORIGIN });
    assert.equal(c.ws.protocol, 'sip');
    await c.close();
  });

  test('a token at the handshake must be valid', async () => {
    await refused(gw.wsUrl, { origin: ORIGIN, query: `?access_token=${tok.tamper(tok.hs256())}` },
      /bad signature/);
    await refused(gw.wsUrl, { origin: ORIGIN, headers: { Authorization: `Bearer ${tok.hs256({ exp: tok.now() - 600 })}` } },
      /token expired/);
    // The issuer is trusted by the acme tenant only, not for the closed Origin.
    await refused(gw.wsUrl, { origin: CLOSED_ORIGIN, query: `?access_token=${tok.hs256()}` },
      /token issuer not trusted for this Origin/);
    const mark = gw.mark();
    const ok = await connect(gw.wsUrl, { origin: ORIGIN, query: `?access_token=${tok.hs256({ sub: 'zoe' })}` });
    await gw.waitLog(/flow open .* identity=sip:zoe@acme\.test/, 2000, mark);
    await ok.close();
  });

  test('wss listener: TLS with the configured certificate, SIP over it', async () => {
    // The listener really speaks TLS and presents the test certificate.
    const cert = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: gw.wssPort, rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'] }, () => { resolve(s.getPeerCertificate()); s.end(); });
      s.on('error', reject);
    });
    assert.equal(cert.subject.CN, '127.0.0.1');
    const mark = gw.mark();
    const c = await connect(gw.wssUrl, { origin: ORIGIN });
    assert.equal(c.ws.protocol, 'sip');
    await gw.waitLog(/flow open peer=127\.0\.0\.1 tls=1 /, 2000, mark);
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:wes@${DOMAIN}`,
      headers: { Authorization: `Bearer ${tok.hs256({ sub: 'wes' })}`,
        Contact: '<sip:wes@w.invalid;transport=wss>', Expires: '300' } });
    assert.equal(r.status, 200);
    assert.match(r.get('contact'), /^<sip:wes@w\.invalid;transport=wss>.*expires=300/);
    await c.close();
    // Plain WebSocket on the TLS port is not served.
    await assert.rejects(connect(`ws://127.0.0.1:${gw.wssPort}`, { origin: ORIGIN }));
  });

  test('wss: TLS 1.2 or later with forward-secret AEAD suites only', async () => {
    const hello = (o) => new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: gw.wssPort, rejectUnauthorized: false, ...o },
        () => { const r = { ok: true, version: s.getProtocol(), cipher: s.getCipher().name }; s.end(); resolve(r); });
      s.on('error', (e) => resolve({ ok: false, error: e.code || e.message }));
    });
    // Node's own OpenSSL refuses TLS < 1.2 at its default security level:
    // lower it for the client, so that only the gateway's refusal counts.
    for (const v of ['TLSv1', 'TLSv1.1']) {
      const r = await hello({ minVersion: v, maxVersion: v, ciphers: 'DEFAULT:@SECLEVEL=0' });
      assert.equal(r.ok, false, `${v} refused: ${JSON.stringify(r)}`);
    }
    const t12 = await hello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(t12.ok, true, JSON.stringify(t12));
    assert.match(t12.cipher, /^ECDHE-(RSA|ECDSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/, t12.cipher);
    for (const weak of ['AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'AES256-GCM-SHA384']) {
      const r = await hello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: weak });
      assert.equal(r.ok, false, `${weak} refused: ${JSON.stringify(r)}`);
    }
    const t13 = await hello({ minVersion: 'TLSv1.3' });
    assert.equal(t13.ok && t13.version, 'TLSv1.3', JSON.stringify(t13));
  });

  test('wss certificate renewed in place: SIGHUP loads it for new connections, open ones stay', async () => {
    const { execFileSync } = require('node:child_process');
    const path = require('node:path');
    const fs = require('node:fs');
    const peerCert = () => new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: gw.wssPort, rejectUnauthorized: false },
        () => { const c = s.getPeerCertificate(); s.end(); resolve(c); });
      s.on('error', reject);
    });
    const before = await peerCert();
    const open = await connect(gw.wssUrl, { origin: ORIGIN });
    const cert = path.join(gw.dir, 'cert.pem'), key = path.join(gw.dir, 'key.pem');
    const renew = (cn) => execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
      'ec_paramgen_curve:P-256', '-nodes', '-keyout', key + '.new', '-out', cert + '.new',
      '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    renew('renewed.wtpf.test');
    fs.renameSync(cert + '.new', cert);
    fs.renameSync(key + '.new', key);
    const mark = gw.mark();
    await gw.reload();
    await gw.waitLog(/wss certificate reloaded from .*cert\.pem/, 3000, mark);
    const after = await peerCert();
    assert.equal(after.subject.CN, 'renewed.wtpf.test');
    assert.notEqual(after.fingerprint256, before.fingerprint256);
    const r = await open.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: `sip:o@${DOMAIN}` });
    assert.equal(r.status, 200, 'the connection opened before still works');
    // a key that does not match: refused, the renewed pair keeps serving
    execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key]);
    const mark2 = gw.mark();
    await gw.reload();
    await gw.waitLog(/wss certificate .* not reloaded .*the running ones stay/, 3000, mark2);
    assert.equal((await peerCert()).fingerprint256, after.fingerprint256);
    await open.close();
  });

  test('handshake_timeout: a connection that never upgrades is closed', async () => {
    const t0 = Date.now();
    const closedAfter = await new Promise((resolve, reject) => {
      const s = net.connect(gw.wsPort, '127.0.0.1');
      s.on('error', () => {});
      s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'));  // never finished
      const t = setTimeout(() => { s.destroy(); reject(new Error('not closed within 8 s')); }, 8000);
      s.on('close', () => { clearTimeout(t); resolve(Date.now() - t0); });
    });
    assert.ok(closedAfter >= 1500 && closedAfter < 5000, `closed after ${closedAfter} ms (handshake_timeout=2)`);
    // The same over TLS: a client that does not even start TLS.
    const t1 = Date.now();
    const tlsAfter = await new Promise((resolve, reject) => {
      const s = net.connect(gw.wssPort, '127.0.0.1');
      s.on('error', () => {});
      const t = setTimeout(() => { s.destroy(); reject(new Error('not closed within 8 s')); }, 8000);
      s.on('close', () => { clearTimeout(t); resolve(Date.now() - t1); });
    });
    assert.ok(tlsAfter < 5000, `TLS port closed after ${tlsAfter} ms`);
  });
});

describe('startup failures are reported', { timeout: 30000 }, () => {
  test('an unreadable TLS certificate stops the start with the reason', async () => {
    await assert.rejects(
      startGateway({ tls: true, websocket: { tls_certificate: '/nonexistent/cert.pem' } }),
      (e) => {
        assert.match(e.message, /exited early \(\{"code":1,"signal":null\}\)/);
        assert.match(e.message, /tls_certificate: cannot read file '\/nonexistent\/cert\.pem'/);
        return true;
      });
  });

  test('wtpfd --check-config accepts a good file and names the fault of a bad one', async () => {
    const { execFileSync, spawnSync } = require('node:child_process');
    const fs = require('node:fs');
    const path = require('node:path');
    const gw = await startGateway({ tls: true });
    try {
      const out = execFileSync(process.env.WTPFD, ['--check-config', gw.confPath], { encoding: 'utf8' });
      assert.match(out, /configuration is valid/);
      const bad = path.join(gw.dir, 'bad.conf');
      fs.writeFileSync(bad, fs.readFileSync(gw.confPath, 'utf8').replace('keys = "ec1.pub"', 'keys = "missing.pub"'));
      const r = spawnSync(process.env.WTPFD, ['--check-config', bad], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /missing\.pub/);
    } finally {
      const r = await gw.stop();
      gw.cleanup();
      assert.deepEqual(r, { code: 0, signal: null });
    }
  });

  test('a port in use stops the start with the reason', async () => {
    const srv = net.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(startGateway({ websocket: { ws_port: srv.address().port } }), (e) => {
        assert.match(e.message, /exited early \(\{"code":1,"signal":null\}\)/);
        assert.match(e.message, new RegExp(`cannot listen on ws 127\\.0\\.0\\.1:${srv.address().port}`));
        return true;
      });
    } finally {
      srv.close();
    }
  });

  test('a start that fails after the trunks are up (admin port in use) exits 1, without an abort', async () => {
    const srv = net.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const port = srv.address().port;
    const trunkPort = await freePort();
    let exit, log;
    try {
      // The ws listener may be up (and startGateway resolved) before
      // the admin listener fails: either way, wait for the exit.
      const gw = await startGateway({
        extra: {
          admin: { address: '127.0.0.1', port },
          trunks: [{ name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
            domain: 'ims.test', pcscf: ['sip:127.0.0.1:5999'], options_interval: 3600 }],
        },
      });
      exit = await Promise.race([gw.exitPromise, sleep(5000).then(() => 'still running')]);
      log = gw.log();
      await gw.kill();
      gw.cleanup();
    } catch (e) {
      exit = /exited early \((.*)\); log:/.exec(e.message)?.[1];
      exit = exit && JSON.parse(exit);
      log = e.message;
    } finally {
      srv.close();
    }
    assert.deepEqual(exit, { code: 1, signal: null }, log);
    assert.match(log, /trunk ims: static mode, listening on sip:127\.0\.0\.1/);
    assert.match(log, new RegExp(`admin cannot listen on http://127\\.0\\.0\\.1:${port}`));
    assert.match(log, /start failed: Address already in use/);
  });
});

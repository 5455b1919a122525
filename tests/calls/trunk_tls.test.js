// TLS on the W8 trunk (issue 8): the versions and suites its listener
// accepts, mutual TLS so that only the operator's P-CSCF may connect (static
// mode), and the check of the P-CSCF's certificate when the trunk connects.
// Node's TLS stack is the peer on the TLS level; the trunk's policy comes
// from wtpf.conf (tls_ciphers, tls_min_version, tls_verify_client,
// tls_peer_names, tls_verify). The full path with Kamailio as the P-CSCF
// over mutual TLS is in trunk_net.test.js.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');

const { startGateway, freePort } = require('../integration/lib/gateway');
const { branch, rand } = require('../integration/lib/sip');
const { outDir } = require('./lib/env');
const { selfSigned, sofiaTlsDir } = require('./lib/net');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A TLS client connection to port with options o. Resolves to
// { ok: true, socket, version, cipher } once the handshake is done and the
// server has not refused it in the first moment (TLS 1.3 sends the server's
// verdict on a client certificate after the client's handshake ends), or
// { ok: false, error }.
function tlsConnect(port, o = {}) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r) => { if (!done) { done = true; resolve(r); } };
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o }, () => {
      const r = { ok: true, socket: s, version: s.getProtocol(), cipher: s.getCipher().name };
      setTimeout(() => finish(s.destroyed ? { ok: false, error: 'closed' } : r), 150);
    });
    s.on('error', (e) => { finish({ ok: false, error: e.code || e.message }); s.destroy(); });
    s.on('close', () => finish({ ok: false, error: 'closed' }));
  });
}

// OPTIONS over an open TLS socket; resolves to the status line or null.
function options(r, port) {
  return new Promise((resolve) => {
    const s = r.socket;
    let buf = '';
    const t = setTimeout(() => resolve(null), 3000);
    s.on('data', (d) => {
      buf += d.toString();
      const m = /^SIP\/2\.0 (\d{3}) [^\r\n]*/m.exec(buf);
      if (m) { clearTimeout(t); resolve(m[0]); }
    });
    s.on('close', () => { clearTimeout(t); resolve(null); });
    s.write([`OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=${branch()};alias`, 'Max-Forwards: 70',
      `From: <sip:pcscf@127.0.0.1>;tag=${rand(4)}`, `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: tls-${rand(8)}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
  });
}

async function trunkGateway(dir, trunk) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const gw = await startGateway({
    dir,
    extra: { trunks: [{
      name: 'ims', mode: 'static', bind: `sips:127.0.0.1:${port}`, domain: 'ims.test',
      pcscf: ['sip:127.0.0.1:5999;transport=tls'], options_interval: 3600, ...trunk,
    }] },
  });
  gw.trunkPort = port;
  gw.saveTo = dir;
  await gw.waitLog(/trunk ims: static mode, listening on sips:/);
  return gw;
}

async function stop(gw) {
  if (!gw) return;
  await gw.stop().catch(() => gw.kill());
  fs.writeFileSync(path.join(gw.saveTo, 'wtpfd.log'), `${gw.log()}\n`);
}

const pem = (f) => fs.readFileSync(f, 'utf8');

describe('the trunk\'s TLS listener: TLS 1.2 or later, forward-secret AEAD suites only', { timeout: 60000 }, () => {
  let gw;
  before(async () => {
    const dir = outDir('trunk-tls-policy');
    gw = await trunkGateway(path.join(dir, 'wtpfd'), { tls_dir: sofiaTlsDir(path.join(dir, 'tls')) });
  });
  after(() => stop(gw));

  test('TLS 1.0 and 1.1 are refused', async () => {
    const mark = gw.lines.length;
    for (const v of ['TLSv1', 'TLSv1.1']) {
      const r = await tlsConnect(gw.trunkPort, { minVersion: v, maxVersion: v, ciphers: 'DEFAULT:@SECLEVEL=0' });
      assert.equal(r.ok, false, `${v} handshake refused (${r.version})`);
    }
    await gw.waitLog(/trunk ims: TLS connection from a peer refused: protocol version/, 3000, mark);
  });

  test('TLS 1.2 suites without forward secrecy or without AEAD are refused', async () => {
    const mark = gw.lines.length;
    for (const c of ['AES128-GCM-SHA256', 'AES256-SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384']) {
      const r = await tlsConnect(gw.trunkPort, { maxVersion: 'TLSv1.2', ciphers: c });
      assert.equal(r.ok, false, `${c} refused (got ${r.cipher})`);
    }
    await gw.waitLog(/trunk ims: TLS connection from a peer refused: handshake failure/, 3000, mark);
  });

  test('TLS 1.2 with ECDHE and AES-GCM or ChaCha20, and TLS 1.3, carry SIP', async () => {
    for (const [o, want] of [
      [{ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, 'TLSv1.2'],
      [{ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }, 'TLSv1.2'],
      [{ minVersion: 'TLSv1.3' }, 'TLSv1.3']]) {
      const r = await tlsConnect(gw.trunkPort, o);
      assert.ok(r.ok, `handshake with ${JSON.stringify(o)}: ${r.error}`);
      assert.equal(r.version, want);
      assert.match(await options(r, gw.trunkPort) || 'none', /^SIP\/2\.0 200 /, `OPTIONS over ${want} ${r.cipher}`);
      r.socket.destroy();
    }
  });

  test('tls_min_version = "1.3" refuses TLS 1.2', async () => {
    const dir = outDir('trunk-tls-13');
    const g13 = await trunkGateway(path.join(dir, 'wtpfd'),
      { tls_dir: sofiaTlsDir(path.join(dir, 'tls')), tls_min_version: '1.3' });
    try {
      const r12 = await tlsConnect(g13.trunkPort, { maxVersion: 'TLSv1.2' });
      assert.equal(r12.ok, false, 'TLS 1.2 refused');
      const r13 = await tlsConnect(g13.trunkPort, {});
      assert.ok(r13.ok && r13.version === 'TLSv1.3', `TLS 1.3 accepted: ${r13.error || r13.version}`);
      r13.socket.destroy();
    } finally {
      await stop(g13);
    }
  });
});

test('SIGHUP reloads agent.pem and cafile.pem: new connections get the new certificate, open ones go on; a bad pair changes nothing', { timeout: 60000 }, async () => {
  const dir = outDir('trunk-tls-reload');
  const tlsDir = sofiaTlsDir(path.join(dir, 'tls'));
  const gw = await trunkGateway(path.join(dir, 'wtpfd'), { tls_dir: tlsDir });
  const fingerprint = (r) => r.socket.getPeerCertificate().fingerprint256;
  const fileFingerprint = (f) => new (require('node:crypto').X509Certificate)(pem(f)).fingerprint256;
  try {
    const before = await tlsConnect(gw.trunkPort, {});
    assert.ok(before.ok, before.error);
    const first = fingerprint(before);
    assert.equal(first, fileFingerprint(path.join(tlsDir, 'gateway.crt')));

    const renewed = selfSigned(path.join(dir, 'renewed'), 'gateway');
    fs.writeFileSync(path.join(tlsDir, 'agent.pem'), pem(renewed.key) + pem(renewed.cert));
    let mark = gw.lines.length;
    assert.match(await gw.reload(), /configuration reloaded/);
    await gw.waitLog(/trunk ims: TLS certificate and CA list reloaded from /, 2000, mark);
    const after = await tlsConnect(gw.trunkPort, {});
    assert.ok(after.ok, after.error);
    assert.equal(fingerprint(after), fileFingerprint(renewed.cert), 'a new connection gets the new certificate');
    assert.notEqual(fingerprint(after), first);
    assert.match(await options(before, gw.trunkPort) || 'none', /^SIP\/2\.0 200 /, 'the connection opened before goes on');
    assert.match(await options(after, gw.trunkPort) || 'none', /^SIP\/2\.0 200 /);

    // a key that is not the certificate's: refused, the renewed pair stays
    const other = selfSigned(path.join(dir, 'other'), 'gateway');
    fs.writeFileSync(path.join(tlsDir, 'agent.pem'), pem(other.key) + pem(renewed.cert));
    mark = gw.lines.length;
    await gw.reload();
    await gw.waitLog(/trunk ims: TLS files of .* not reloaded: agent\.pem must hold a key and its certificate/, 2000, mark);
    const third = await tlsConnect(gw.trunkPort, {});
    assert.ok(third.ok, third.error);
    assert.equal(fingerprint(third), fileFingerprint(renewed.cert), 'still the renewed certificate');
    for (const r of [before, after, third]) r.socket.destroy();
  } finally {
    await stop(gw);
  }
});

describe('mutual TLS (static mode): only a peer whose certificate is from cafile.pem and names the P-CSCF', { timeout: 60000 }, () => {
  let gw, dir, good, named, stranger;
  before(async () => {
    dir = outDir('trunk-tls-mutual');
    good = selfSigned(path.join(dir, 'peers'), 'pcscf', 'pcscf.ims.test', 'DNS:pcscf.ims.test');
    named = selfSigned(path.join(dir, 'peers'), 'other', 'other.ims.test', 'DNS:other.ims.test');
    stranger = selfSigned(path.join(dir, 'peers'), 'stranger', 'pcscf.ims.test', 'DNS:pcscf.ims.test');
    // cafile.pem trusts the gateway's own, pcscf's and other's certificates,
    // not stranger's (which claims the right name)
    gw = await trunkGateway(path.join(dir, 'wtpfd'), {
      tls_dir: sofiaTlsDir(path.join(dir, 'tls'), [good.cert, named.cert]),
      tls_verify_client: true, tls_peer_names: ['pcscf.ims.test'],
    });
  });
  after(() => stop(gw));

  const as = (c) => (c ? { cert: pem(c.cert), key: pem(c.key) } : {});
  for (const v of ['TLSv1.2', 'TLSv1.3']) {
    test(`${v}: no certificate, an untrusted one, or a trusted one naming another host: refused and logged`, async () => {
      const mark = gw.lines.length;
      for (const [who, c] of [['no certificate', null], ['untrusted', stranger], ['other name', named]]) {
        const r = await tlsConnect(gw.trunkPort, { minVersion: v, maxVersion: v, ...as(c) });
        const answer = r.ok ? await options(r, gw.trunkPort) : null;
        assert.equal(answer, null, `${who}: nothing carried (${r.ok ? 'handshake done' : r.error})`);
        if (r.ok) r.socket.destroy();
      }
      await gw.waitLog(/trunk ims: TLS connection from a peer refused: no certificate shown/, 3000, mark);
      await gw.waitLog(/trunk ims: TLS connection from a peer refused: certificate '\/CN=other\.ims\.test': names none of tls_peer_names/, 3000, mark);
      await gw.waitLog(/trunk ims: TLS connection from a peer refused: certificate '\/CN=pcscf\.ims\.test': self[- ]signed certificate/, 3000, mark);
    });

    test(`${v}: the P-CSCF's certificate is accepted and SIP flows`, async () => {
      const r = await tlsConnect(gw.trunkPort, { minVersion: v, maxVersion: v, ...as(good) });
      assert.ok(r.ok, `handshake: ${r.error}`);
      assert.match(await options(r, gw.trunkPort) || 'none', /^SIP\/2\.0 200 /);
      r.socket.destroy();
    });
  }
});

describe('the P-CSCF\'s certificate (tls_verify): from cafile.pem and naming the P-CSCF URI\'s host', { timeout: 60000 }, () => {
  // The trunk probes its P-CSCF with OPTIONS over TLS; a TLS server stands
  // in for the P-CSCF and reports whether an OPTIONS came through.
  async function probeThrough(name, cert, trust) {
    const dir = outDir(`trunk-tls-verify-${name}`);
    const port = await freePort();
    let got = false;
    const server = tls.createServer({ cert: pem(cert.cert), key: pem(cert.key) }, (s) => {
      s.on('data', (d) => { if (d.toString().startsWith('OPTIONS ')) got = true; });
      s.on('error', () => {});
    });
    server.on('tlsClientError', () => {});
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
    const gw = await trunkGateway(path.join(dir, 'wtpfd'), {
      tls_dir: sofiaTlsDir(path.join(dir, 'tls'), trust ? [cert.cert] : []),
      pcscf: [`sip:127.0.0.1:${port};transport=tls`], options_interval: 1,
    });
    try {
      await sleep(2500);
      return { got, log: gw.log() };
    } finally {
      await stop(gw);
      server.close();
    }
  }

  test('a certificate naming 127.0.0.1 (IP subjectAltName), from cafile.pem: the probe goes through', async () => {
    const dir = outDir('trunk-tls-verify-certs');
    const r = await probeThrough('good', selfSigned(path.join(dir, 'ok'), 'pcscf'), true);
    assert.ok(r.got, 'the OPTIONS reached the P-CSCF');
    assert.doesNotMatch(r.log, /TLS connection to the P-CSCF refused/);
  });

  test('a certificate from cafile.pem naming another host: refused, logged, nothing sent', async () => {
    const dir = outDir('trunk-tls-verify-certs');
    const r = await probeThrough('name', selfSigned(path.join(dir, 'name'), 'pcscf', 'pcscf.elsewhere.test',
      'DNS:pcscf.elsewhere.test'), true);
    assert.equal(r.got, false, 'no OPTIONS sent over that connection');
    assert.match(r.log, /trunk ims: TLS connection to the P-CSCF refused: certificate '\/CN=pcscf\.elsewhere\.test': names none of the trunk's P-CSCF hosts/);
  });

  test('a certificate naming 127.0.0.1 but not from cafile.pem: refused, logged, nothing sent', async () => {
    const dir = outDir('trunk-tls-verify-certs');
    const r = await probeThrough('ca', selfSigned(path.join(dir, 'ca'), 'pcscf'), false);
    assert.equal(r.got, false, 'no OPTIONS sent over that connection');
    assert.match(r.log, /trunk ims: TLS connection to the P-CSCF refused: certificate '\/CN=127\.0\.0\.1': self[- ]signed certificate/);
  });
});

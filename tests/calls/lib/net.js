// Peers for the trunk's network cases (trunk_net.test.js), beside those of
// peers.js and started and stopped the same way, by PID:
//
//  * dnsmasq as the IMS operator's DNS (RFC 3263: NAPTR -> SRV -> A), on
//    127.0.0.1:53 of the test's own network namespace, with --log-queries
//    so that a test reads which records were asked for;
//  * Kamailio with a TLS listener (the stand-in config as peers.js makes
//    it, plus the tls module and a self-signed certificate);
//  * the certificate folder Sofia-SIP's TLS transport wants (agent.pem:
//    key and certificate; cafile.pem: the certificates it trusts).
'use strict';
const { execFileSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');

const { Proc, Kamailio, sleep } = require('./peers');

// ---- DNS ----------------------------------------------------------------

// A DNS query of one question (type: 1 A, 28 AAAA, 33 SRV, 35 NAPTR) sent to
// 127.0.0.1:53; resolves with { rcode, answers } or null on no reply.
function dnsQuery(name, type, timeoutMs = 500) {
  const id = Math.floor(Math.random() * 65535);
  const qname = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);   // recursion desired
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const t = setTimeout(() => { sock.close(); resolve(null); }, timeoutMs);
    sock.on('message', (m) => {
      if (m.readUInt16BE(0) !== id) return;
      clearTimeout(t);
      sock.close();
      resolve({ rcode: m[3] & 15, answers: m.readUInt16BE(6) });
    });
    sock.on('error', () => {});
    sock.send(Buffer.concat([head, qname, tail]), 53, '127.0.0.1');
  });
}

// dnsmasq serving only the records given, nothing from /etc/hosts or
// upstream. rec: { naptr: [[name, order, pref, flags, service, regexp,
// replacement]], srv: [[name, target, port, priority, weight]],
// a: [[name, ip]] }. (Asked for a type a name lacks, with no upstream, it
// answers REFUSED: Sofia's resolver copes, and asks no AAAA here anyway.)
class Dnsmasq {
  constructor(dir, rec) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
    this.logPath = path.join(dir, 'dnsmasq.log');
    this.args = ['-k', '--no-resolv', '--no-hosts', '--port=53', '--listen-address=127.0.0.1',
      '--bind-interfaces', '--pid-file=', '--log-queries', `--log-facility=${this.logPath}`];
    for (const n of rec.naptr || []) this.args.push(`--naptr-record=${n.join(',')}`);
    for (const s of rec.srv || []) this.args.push(`--srv-host=${s.join(',')}`);
    for (const a of rec.a || []) this.args.push(`--host-record=${a.join(',')}`);
  }

  // Resolves once it answers `probe` ([name, type]).
  async start(probe) {
    this.proc = new Proc('dnsmasq', 'dnsmasq', this.args, { log: path.join(this.dir, 'dnsmasq.out') });
    const t0 = Date.now();
    while (!this.proc.exitResult && Date.now() - t0 < 5000) {
      const r = await dnsQuery(probe[0], probe[1], 200);
      if (r && r.rcode === 0 && r.answers > 0) {
        this.probeLines = this.queries().length;   // the probe's own lines
        return this;
      }
      await sleep(100);
    }
    await this.proc.stop();
    throw new Error(`dnsmasq did not answer ${probe.join(' ')}: ${this.proc.log()}\n${this.log()}`);
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch (e) { return ''; }
  }

  // The queries it logged after the readiness probe: [{ type, name, from }].
  queries() {
    const out = [];
    for (const l of this.log().split('\n')) {
      const m = / query\[(\w+)\] (\S+) from (\S+)/.exec(l);
      if (m) out.push({ type: m[1], name: m[2], from: m[3] });
    }
    return out.slice(this.probeLines || 0);
  }

  stop() { return this.proc ? this.proc.stop() : null; }
}

// A resolv.conf naming only the namespace's own DNS server.
function resolvConf(dir) {
  const file = path.join(dir, 'resolv.conf');
  fs.writeFileSync(file, 'nameserver 127.0.0.1\n');
  return file;
}

// ---- TLS ----------------------------------------------------------------

// A self-signed P-256 certificate (by default for 127.0.0.1): { key, cert }
// paths.
function selfSigned(dir, name, cn = '127.0.0.1', san = 'IP:127.0.0.1,DNS:localhost') {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return { key, cert };
}

// The folder Sofia-SIP's TLS transport reads (TPTAG_CERTIFICATE): agent.pem
// with its own key and certificate, cafile.pem with the peers it trusts.
function sofiaTlsDir(dir, trusted = []) {
  const own = selfSigned(dir, 'gateway');
  fs.writeFileSync(path.join(dir, 'agent.pem'),
    fs.readFileSync(own.key, 'utf8') + fs.readFileSync(own.cert, 'utf8'));
  fs.writeFileSync(path.join(dir, 'cafile.pem'),
    [own.cert, ...trusted].map((f) => fs.readFileSync(f, 'utf8')).join(''));
  return dir;
}

// Kamailio as peers.js starts it, with its tm module told not to turn a
// final 503 from downstream into a 500 (RFC 3261 §16.7 step 6 says a proxy
// should, and Kamailio does by default): the 503 and its Retry-After then
// reach the trunk as a P-CSCF that is itself overloaded would send them.
class Pass503Kamailio extends Kamailio {
  config() {
    const file = super.config();
    const cfg = fs.readFileSync(file, 'utf8');
    const at = 'modparam("tm", "fr_inv_timer", 60000)';
    if (!cfg.includes(at)) throw new Error('pcscf.cfg changed: no tm fr_inv_timer modparam');
    fs.writeFileSync(file, cfg.replace(at, `${at}\nmodparam("tm", "remap_503_500", 0)`));
    return file;
  }
}

// Kamailio as peers.js starts it, plus a TLS listener on tlsPort with a
// fresh self-signed certificate (this.cert), shown as a client certificate
// too (the trunk may ask for one: mutual TLS); no client certificate asked,
// none verified (the gateway's is self-signed too).
class TlsKamailio extends Kamailio {
  constructor(opts) {
    super(opts);
    this.tlsPort = opts.tlsPort || 5061;
    const c = selfSigned(path.join(this.dir, 'tls'), 'kamailio');
    this.cert = c.cert;
    this.key = c.key;
  }

  config() {
    const file = super.config();
    let cfg = fs.readFileSync(file, 'utf8');
    const tlsCfg = path.join(this.dir, 'tls.cfg');
    fs.writeFileSync(tlsCfg, [
      '[server:default]', 'method = TLSv1.2+', 'verify_certificate = no', 'require_certificate = no',
      `private_key = ${this.key}`, `certificate = ${this.cert}`, '',
      '[client:default]', 'method = TLSv1.2+', 'verify_certificate = no', 'require_certificate = no',
      `private_key = ${this.key}`, `certificate = ${this.cert}`, ''].join('\n'));
    const listen = 'listen=tcp:127.0.0.1:MY_SIP_PORT';
    if (!cfg.includes(listen) || !cfg.includes('loadmodule "ctl.so"'))
      throw new Error('pcscf.cfg changed: no tcp listen line or ctl.so line');
    cfg = cfg.replace(listen, `${listen}\nenable_tls=yes\nlisten=tls:127.0.0.1:${this.tlsPort}`)
      .replace('loadmodule "ctl.so"', `loadmodule "ctl.so"\nloadmodule "tls.so"\nmodparam("tls", "config", "${tlsCfg}")`);
    fs.writeFileSync(file, cfg);
    return file;
  }
}

// The TCP sockets process `pid` listens on, as 'address:port' ([v6]:port).
function tcpListeners(pid) {
  const out = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3]).sort();
}

module.exports = {
  Dnsmasq, dnsQuery, resolvConf, selfSigned, sofiaTlsDir, Pass503Kamailio, TlsKamailio, tcpListeners,
};

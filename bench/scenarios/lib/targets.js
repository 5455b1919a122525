// The systems under test, each started fresh (its own folder, a new store)
// with its descriptor limit at the hard limit, and stopped by PID: wtpfd
// with bench/scenarios/wtpf.conf.in, Kamailio with bench/kamailio/edge.cfg,
// and the SIPp UAS that plays IMS behind either.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const P = require('./proc');

const HERE = path.resolve(__dirname, '..');                 // bench/scenarios
const KAMCFG = path.resolve(HERE, '../kamailio/edge.cfg');

// The ring group of scenario 4: 50 agents, the numbers of the clients
// +49301000900NN (their tokens claim them), and the group's number.
const RG = { number: '+4930100099999', base: '+4930100090000', size: 50 };
const rgMembers = () => Array.from({ length: RG.size },
  (_, i) => `"+49301000900${String(i).padStart(2, '0')}"`).join(', ');

// Keys, token secret and certificate for the run (once, in keyDir).
function makeKeys(keyDir) {
  fs.mkdirSync(keyDir, { recursive: true });
  fs.writeFileSync(path.join(keyDir, 'hs256.key'), `${require('node:crypto').randomBytes(32).toString('base64')}\n`);
  P.runSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(keyDir, 'ec.key')]);
  P.runSync('openssl', ['pkey', '-in', path.join(keyDir, 'ec.key'), '-pubout', '-out', path.join(keyDir, 'ec.pub')]);
  P.runSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(keyDir, 'key.pem'), '-out', path.join(keyDir, 'cert.pem'), '-days', '7',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  fs.writeFileSync(path.join(keyDir, 'tls.cfg'), ['[server:default]', 'method = TLSv1.2+',
    'verify_certificate = no', 'require_certificate = no',
    `certificate = ${path.join(keyDir, 'cert.pem')}`, `private_key = ${path.join(keyDir, 'key.pem')}`, ''].join('\n'));
}

class Target {
  constructor(kind, label, p, pids, dir) {
    Object.assign(this, { kind, label, p, pids, dir });
  }
  get pidList() { return this.pids.join(','); }
  died() { return !!this.p.result; }
  cpu() { return P.cpuSeconds(this.pids); }
  sysCpu() { return P.cpuSeconds(this.pids, true); }
  async stop() {
    const r = await P.stop(this.p, 'SIGTERM', 15000);
    this.exit = r;
    return r;
  }
}

async function checkPorts(ports) {
  for (const port of ports) {
    if (!(await P.portFree(port)))
      throw new Error(`port ${port} on 127.0.0.1 is in use (set WTPF_BENCH_PORT_BASE to move every port)`);
  }
}

// wtpfd with a fresh folder and store. cfg: { ports, keyDir, wtpfd, ping }.
async function startWtpfd(cfg, dir, label) {
  fs.mkdirSync(dir, { recursive: true });
  const pt = cfg.ports;
  await checkPorts([pt.ws, pt.wss, pt.admin, pt.trunk]);
  const vars = {
    WS_PORT: pt.ws, WSS_PORT: pt.wss, ADMIN_PORT: pt.admin, TRUNK_PORT: pt.trunk, UAS_PORT: pt.uas,
    UAS_TRANSPORT: cfg.trunkTransport, PING_INTERVAL: cfg.ping, IDLE_TIMEOUT: Math.max(120, cfg.ping * 4), KEYDIR: cfg.keyDir,
    RG_NUMBER: RG.number, RG_MEMBERS: rgMembers(),
  };
  const conf = fs.readFileSync(path.join(HERE, 'wtpf.conf.in'), 'utf8')
    .replace(/@([A-Z_]+)@/g, (m, k) => (k in vars ? String(vars[k]) : m));
  const confPath = path.join(dir, 'wtpf.conf');
  fs.writeFileSync(confPath, conf);
  const p = P.start(`wtpfd ${label}`, cfg.wtpfd, ['-c', confPath],
    { log: path.join(dir, 'wtpfd.log'), ulimit: true, cwd: dir });
  const up = await P.waitTcp(pt.ws, 15000, p) && await P.waitTcp(pt.wss, 5000, p);
  if (!up) {
    await P.stop(p, 'SIGKILL', 1000);
    throw new Error(`wtpfd did not start (log ${path.join(dir, 'wtpfd.log')}): ${tail(path.join(dir, 'wtpfd.log'))}`);
  }
  return new Target('wtpfd', label, p, [p.pid], dir);
}

// Kamailio (edge.cfg) with opts { tls, tcpChildren }; its PIDs are the main
// process and its children.
async function startKamailio(cfg, dir, label, opts = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const pt = cfg.ports;
  const ports = [pt.kws, pt.ksip];
  if (opts.tls) ports.push(pt.kwss);
  await checkPorts(ports);
  const args = ['-DD', '-E', '-f', KAMCFG, '-m', String(cfg.kamShm), '-M', String(cfg.kamPkg),
    '-A', `WS_PORT=${pt.kws}`, '-A', `WSS_PORT=${pt.kwss}`, '-A', `SIP_PORT=${pt.ksip}`,
    '-A', `UAS_ADDR="127.0.0.1:${pt.uas}"`, '-A', `UAS_TRANSPORT="${cfg.trunkTransport}"`, '-A', `PASSWORD="${cfg.password}"`,
    '-A', `CHILDREN=${cfg.kamChildren}`, '-A', `TCP_CHILDREN=${opts.tcpChildren || cfg.kamTcpChildren}`,
    '-A', `KA_TIMEOUT=${cfg.ping}`, '-A', `CTL_SOCK="unix:${path.join(dir, 'ctl.sock')}"`,
    '-l', `udp:127.0.0.1:${pt.ksip}`, '-l', `tcp:127.0.0.1:${pt.ksip}`, '-l', `tcp:127.0.0.1:${pt.kws}`];
  if (opts.tls)
    args.push('-A', 'WITH_TLS', '-A', `TLS_CFG="${path.join(cfg.keyDir, 'tls.cfg')}"`, '-l', `tls:127.0.0.1:${pt.kwss}`);
  const p = P.start(`kamailio ${label}`, 'kamailio', args,
    { log: path.join(dir, 'kamailio.log'), ulimit: true, cwd: dir });
  let kids = [];
  p.extra = () => kids;
  const up = await P.waitTcp(pt.kws, 15000, p) && (!opts.tls || await P.waitTcp(pt.kwss, 5000, p));
  if (!up) {
    await P.stop(p, 'SIGKILL', 1000);
    throw new Error(`kamailio did not start (log ${path.join(dir, 'kamailio.log')}): ${tail(path.join(dir, 'kamailio.log'))}`);
  }
  // its workers are forked at start: wait until their number is stable
  let n = -1;
  for (let i = 0; i < 30; i++) {
    await P.sleep(200);
    kids = P.childrenOf(p.pid);
    if (kids.length === n && n > 0) break;
    n = kids.length;
  }
  return new Target('kamailio', label, p, [p.pid, ...kids], dir);
}

// The SIPp UAS on 127.0.0.1:uas: answers INVITEs (uas.xml) and, with -aa,
// the static trunk's OPTIONS; a message it does not expect (a retransmitted
// INVITE) does not abort the call.
async function startUas(cfg, dir) {
  fs.mkdirSync(dir, { recursive: true });
  await checkPorts([cfg.ports.uas]);
  const p = P.start('sipp uas', 'sipp', ['-sf', path.join(HERE, 'sipp/uas.xml'), '-t', cfg.trunkTransport === 'tcp' ? 't1' : 'u1', '-i', '127.0.0.1',
    '-p', String(cfg.ports.uas), '-mp', String(cfg.ports.media1), '-aa', '-default_behaviors', 'all,-abortunexp', '-nostdin', '-trace_err', '-error_file', path.join(dir, 'uas_errors.log')],
  { log: path.join(dir, 'sipp_uas.log'), cwd: dir });
  await P.sleep(500);
  if (p.result) throw new Error(`SIPp UAS did not start: ${tail(path.join(dir, 'sipp_uas.log'))}`);
  return { p, stop: () => P.stop(p, 'SIGTERM', 5000) };
}

function tail(file, n = 6) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join(' | ');
  } catch (e) { return '(no log)'; }
}

module.exports = { makeKeys, startWtpfd, startKamailio, startUas, RG, tail };

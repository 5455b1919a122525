// The call-test topology, all on loopback inside the test's own network
// namespace:
//
//   WIC (JsSIP in Chromium, or a raw ws client) --ws--> wtpfd
//       --W8 trunk, udp 127.0.0.1:5090--> Kamailio P-CSCF(s) --> SIPp IMS users
//   media: browser <--ICE/DTLS-SRTP--> rtpengine <--RTP/AVP--> SIPp (-rtp_echo)
//
// The gateway comes from tests/integration/lib/gateway.js (read-only reuse)
// with a generated configuration: one trunk "ims" and one tenant "acme"
// (domain acme.test) whose calls use it and whose users carry numeric
// identities in the token claim `impu`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const { startGateway, ISS } = require('../../integration/lib/gateway');
const tok = require('../../integration/lib/tokens');
const { Kamailio, startRtpengine } = require('./peers');

const DOMAIN = 'acme.test';
const TRUNK_PORT = 5090;

// A fresh output folder for one test file: logs and traces stay there after
// the run (in the ctest build folder, else the system temp folder).
function outDir(name) {
  const base = process.env.WTPF_TEST_OUTPUT || os.tmpdir();
  const dir = path.join(base, 'calls-out', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function tenant(origins, extra = {}) {
  return {
    name: 'acme', domain: DOMAIN, origins, allow_digest: false, trunk: 'ims',
    issuers: [{ issuer: ISS.hs, audience: 'wtpf', keys: 'hs256.key', algorithms: ['HS256'] }],
    ...extra,
  };
}

function trunk(o = {}) {
  return {
    name: 'ims', mode: 'registration', bind: `sip:127.0.0.1:${TRUNK_PORT}`,
    pcscf: ['sip:127.0.0.1:5070'], domain: '127.0.0.1', impu: 'sip:pbx@127.0.0.1',
    impi: 'pbx', password: 'secret', options_interval: 5, failover_time: 10,
    ...o,
  };
}

// The identity a WIC user has: a number in the tenant's domain.
const aorOf = (number) => `sip:${number}@${DOMAIN}`;
const tokenFor = (number, sub = `u${number.replace(/\D/g, '')}`) =>
  tok.hs256({ sub, impu: aorOf(number) });

// Starts wtpfd with the trunk; debug log with every W8 message (TPORT_LOG).
// Resolves once it listens (and, in registration mode, once registered
// unless o.waitRegistered === false). o.tenant: more options of the tenant
// (ranges, identity_sets...); o.trunks: further trunks after "ims".
async function startWtpf(dir, o = {}) {
  process.env.TPORT_LOG = '1';
  fs.mkdirSync(path.join(dir, 'wtpfd'), { recursive: true });
  const gw = await startGateway({
    dir: path.join(dir, 'wtpfd'),
    logLevel: 'debug',
    tenants: [tenant(o.origins || ['http://127.0.0.1'], o.tenant)],
    extra: { trunks: [trunk(o.trunk), ...(o.trunks || [])] },
  });
  gw.saveLog = () => fs.writeFileSync(path.join(dir, 'wtpfd.log'), gw.log() + '\n');
  const mode = (o.trunk && o.trunk.mode) || 'registration';
  if (mode === 'registration' && o.waitRegistered !== false) {
    try {
      await gw.waitLog(/trunk ims: registered via/, 10000);
    } catch (e) {
      gw.saveLog();
      await gw.kill();
      throw e;
    }
  }
  return gw;
}

// rtpengine (when media), Kamailio with `defines`, then wtpfd.
async function startStack(dir, o = {}) {
  const s = { dir };
  try {
    if (o.media) s.rtp = await startRtpengine(path.join(dir, 'rtpengine'));
    s.kam = await new Kamailio({ dir: path.join(dir, 'kamailio'), defines: o.defines,
      oneTimeNonce: o.oneTimeNonce }).start();
    s.gw = await startWtpf(dir, o);
  } catch (e) {
    await stopStack(s);
    throw e;
  }
  return s;
}

// Stops what startStack started, gateway first (its un-REGISTER still
// reaches Kamailio); returns the gateway's exit result.
async function stopStack(s) {
  let r = null;
  if (s.gw) {
    r = await s.gw.stop().catch((e) => ({ error: e.message }));
    s.gw.saveLog();
  }
  if (s.kam) await s.kam.stop();
  if (s.rtp) await s.rtp.stop();
  return r;
}

module.exports = {
  DOMAIN, TRUNK_PORT, outDir, tenant, trunk, aorOf, tokenFor, startWtpf, startStack, stopStack,
};

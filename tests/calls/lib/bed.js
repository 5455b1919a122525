// The test bed of the browser call tests: rtpengine, Kamailio as the P-CSCF
// (WITH_AUTH WITH_GIN WITH_RTPENGINE), wtpfd registered to it over the GIN
// trunk, Chromium with calls.html, and the WIC user registered through the
// gateway with a numeric identity.
'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { startStack, stopStack, outDir, aorOf, tokenFor } = require('./env');
const browser = require('./browser');
const { registerImsUser, sipp, header, headers, body } = require('./peers');

// The WIC user of the tests and the numbers of IMS users.
const ALICE = '+4930123400001';

// o.trunk: options of the gateway's trunk (e.g. { codecs: [...] }).
async function startBed(name, o = {}) {
  const dir = outDir(name);
  const web = await browser.reserveOrigin();
  const bed = { dir, imsPort: 5080, mp: 6100 };
  bed.stack = await startStack(dir, {
    media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'], origins: [web.origin], trunk: o.trunk,
  });
  bed.gw = bed.stack.gw;
  bed.kam = bed.stack.kam;
  try {
    bed.b = await browser.launch(web, dir);
    await registerWic(bed, 'alice', ALICE);
  } catch (e) {
    await stopBed(bed);
    throw e;
  }
  return bed;
}

// Registers a JsSIP UA (key) in the page for `number`.
async function registerWic(bed, key, number) {
  const reg = await browser.T(bed.b, 'startUA', {
    key, ws: bed.gw.wsUrl, uri: aorOf(number), jwt: tokenFor(number), instance: crypto.randomUUID(),
  });
  assert.equal(reg.ok, true, `JsSIP ${key} registers ${aorOf(number)}: ${JSON.stringify(reg)}`);
}

async function stopBed(bed) {
  if (bed.b) {
    await browser.T(bed.b, 'stopAll').catch(() => {});
    await browser.close(bed.b, bed.dir);
  }
  const r = await stopStack(bed.stack || {});
  return r;
}

// A new media port for each SIPp (they all default to 6000).
function nextMp(bed) {
  bed.mp += 4;
  return bed.mp;
}

// An IMS user registered at Kamailio from its own port, then its UAS.
async function imsUas(bed, { user, scenario, args = [], name }) {
  bed.imsPort += 1;
  const port = bed.imsPort;
  await registerImsUser({ dir: bed.dir, user, port, mp: nextMp(bed), kamailio: bed.kam });
  const s = sipp({ name: name || `${port}-${user}-${scenario.replace('.xml', '')}`, dir: bed.dir, scenario, port,
    mp: nextMp(bed), args: ['-timeout', '40s', ...args] });
  await new Promise((r) => setTimeout(r, 300));   // listening
  return s;
}

// An IMS caller: SIPp UAC through Kamailio to `number`.
function imsUac(bed, { number, scenario, args = [], name }) {
  bed.imsPort += 1;
  return sipp({ name: name || `${bed.imsPort}-caller-${scenario.replace('.xml', '')}`, dir: bed.dir, scenario,
    port: bed.imsPort, mp: nextMp(bed), service: number, remote: '127.0.0.1:5070',
    args: ['-timeout', '40s', ...args] });
}

// What W8 must never leak toward IMS: WebSocket Vias and .invalid hosts.
function assertNoWicLeak(s) {
  for (const m of s.received()) {
    const first = m.text.split('\n')[0];
    assert.ok(!m.text.includes('.invalid'), `${s.name} received .invalid in ${first}:\n${m.text}`);
    for (const v of headers(m.text, 'Via'))
      assert.doesNotMatch(v, /SIP\/2\.0\/WSS?\b/i, `${s.name} received a WebSocket Via in ${first}`);
  }
}

// The media check: connected within 10 s, RTP both ways.
function assertMedia(m, what) {
  assert.equal(m.connectionState, 'connected', `${what}: ICE+DTLS connected (${JSON.stringify(m)})`);
  assert.equal(m.dtlsState, 'connected', `${what}: DTLS connected (${JSON.stringify(m)})`);
  assert.ok(m.packetsSent > 0, `${what}: RTP sent (${JSON.stringify(m)})`);
  assert.ok(m.packetsReceived > 0, `${what}: RTP received back (${JSON.stringify(m)})`);
}

module.exports = {
  ALICE, startBed, stopBed, registerWic, imsUas, imsUac, assertNoWicLeak, assertMedia, header, body,
};

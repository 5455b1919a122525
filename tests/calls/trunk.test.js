// DESIGN.md §4 flow 2: the WTPF registers its range to the P-CSCF (RFC 6140
// GIN) with digest, un-registers when stopped, fails over to the next
// P-CSCF; and the static-mode trunk (OPTIONS keepalive, requests only from
// the configured P-CSCFs). Real Kamailio (the P-CSCF stand-in, its sipdump
// shows every message as Kamailio saw it) and SIPp; a raw ws client as the
// WIC. Where calls pass, Kamailio runs WITH_RTPENGINE with rtpengine as the
// eIMS-AGW: SIPp's plain RTP/AVP becomes WebRTC toward the trunk and back, as
// the gateway requires. Runs in a network namespace with only lo (see
// CMakeLists.txt).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Kamailio, startRtpengine, sipp, registerImsUser, header, headers, sleep } = require('./lib/peers');
const { outDir, startStack, stopStack, startWtpf, DOMAIN, TRUNK_PORT } = require('./lib/env');
const { RawWic } = require('./lib/wic');

const ORIGIN = 'http://127.0.0.1';
const fromTrunk = (m) => m.dir === 'rcv' && m.srcport === String(TRUNK_PORT);
const firstLine = (m) => m.text.split('\r\n')[0];
const cseqOf = (t) => header(t, 'CSeq');
const callIdOf = (t) => header(t, 'Call-ID');

// The response Kamailio sent to request `req` (same Call-ID and CSeq).
const answerTo = (msgs, req) => msgs.find((m) => m.dir === 'snd' && /^SIP\/2\.0 /.test(m.text) &&
  callIdOf(m.text) === callIdOf(req.text) && cseqOf(m.text) === cseqOf(req.text) &&
  !/^SIP\/2\.0 1/.test(m.text));

test('§4.2a registration mode: one GIN REGISTER with digest, as Kamailio saw it; un-REGISTER on SIGTERM',
  { timeout: 60000 }, async () => {
    const dir = outDir('trunk-register');
    // A registrar that takes each nonce once: the un-REGISTER cannot replay
    // the credentials of the REGISTER (a strict S-CSCF does not accept that).
    const s = await startStack(dir, { defines: ['WITH_AUTH', 'WITH_GIN'], oneTimeNonce: true });
    let stopped = null;
    try {
      const regs = await s.kam.waitDump((ms) => {
        const r = ms.filter((m) => fromTrunk(m) && /^REGISTER /.test(m.text));
        return r.length >= 2 && answerTo(ms, r[1]) ? r : null;
      }, 5000, 'two REGISTERs from the trunk and an answer to the second');
      const all = s.kam.messages();
      const [first, second] = regs;

      for (const r of [first, second]) {
        assert.equal(firstLine(r), 'REGISTER sip:127.0.0.1 SIP/2.0', 'Request-URI: the home domain');
        const contact = headers(r.text, 'Contact');
        assert.equal(contact.length, 1, `one Contact: ${contact}`);
        assert.match(contact[0], /^<sip:127\.0\.0\.1:5090;transport=udp;bnc>/i,
          'bnc Contact (RFC 6140): the trunk address, no user part');
        assert.ok(!contact[0].includes('@'), `no user part in the bnc Contact: ${contact[0]}`);
        assert.equal(header(r.text, 'Require'), 'gin');
        assert.equal(header(r.text, 'Proxy-Require'), 'gin');
        const sup = header(r.text, 'Supported').split(/\s*,\s*/);
        assert.ok(sup.includes('path') && sup.includes('gin'), `Supported lists path and gin: ${sup}`);
        assert.match(header(r.text, 'To'), /^<sip:pbx@127\.0\.0\.1>$/, 'To: the trunk IMPU');
        assert.match(header(r.text, 'Expires'), /^\d+$/);
      }
      // Digest: the first REGISTER is challenged, the second carries the
      // answer for impi "pbx" and gets 200.
      assert.equal(header(first.text, 'Authorization'), undefined, 'first REGISTER without credentials');
      assert.match(firstLine(answerTo(all, first)), /^SIP\/2\.0 401 /, 'challenged');
      const auth = header(second.text, 'Authorization');
      assert.match(auth, /^Digest /);
      assert.match(auth, /username="pbx"/);
      assert.match(auth, /uri="sip:127\.0\.0\.1"/);
      const ok = answerTo(all, second);
      assert.match(firstLine(ok), /^SIP\/2\.0 200 /, `REGISTER with credentials accepted: ${firstLine(ok)}`);
      assert.match(header(ok.text, 'Contact'), /<sip:127\.0\.0\.1:5090;transport=udp;bnc>;expires=\d+/i,
        'Kamailio stored the bnc binding');
      // Kamailio logs this only after pv_www_authenticate() passed.
      await s.kam.waitLog(/REGISTER aor=sip:pbx@127\.0\.0\.1 Require=<gin> Supported=<path, gin>/, 1000);
      await s.gw.waitLog(/trunk ims: registered via sip:127\.0\.0\.1:5070/, 1000);

      // SIGTERM: the trunk un-registers before the process exits.
      const before = s.kam.messages().length;
      stopped = await s.gw.stop(15000);
      assert.deepEqual(stopped, { code: 0, signal: null }, 'wtpfd exits 0');
      const unreg = await s.kam.waitDump((ms) => {
        const r = ms.slice(before).filter((m) => fromTrunk(m) && /^REGISTER /.test(m.text) &&
          (header(m.text, 'Expires') === '0' || /;expires=0\b/.test(header(m.text, 'Contact') || '')));
        const answered = r.filter((m) => answerTo(ms, m));
        return answered.length ? { reqs: r, ms } : null;
      }, 3000, 'un-REGISTER (expires 0) and its answer');
      const last = unreg.reqs[unreg.reqs.length - 1];
      const fin = answerTo(unreg.ms, last);
      assert.match(firstLine(fin), /^SIP\/2\.0 200 /,
        `the un-REGISTER is accepted by the P-CSCF (got ${firstLine(fin)}; requests: ${
          unreg.reqs.map((m) => `${cseqOf(m.text)} auth=${!!header(m.text, 'Authorization')}`).join(', ')})`);
      assert.match(header(last.text, 'Contact'), /bnc/, 'the un-REGISTER removes the bnc Contact');
      await s.gw.waitLog(/trunk ims: un-registered \(200 /, 100);
    } finally {
      if (!stopped) await stopStack(s);
      else { s.gw.saveLog(); s.gw = null; await stopStack(s); }
    }
  });

test('§4.2b static mode: OPTIONS keepalive reaches the P-CSCF; INVITEs only from a configured P-CSCF',
  { timeout: 60000 }, async () => {
    const dir = outDir('trunk-static');
    const s = await startStack(dir, {
      media: true, defines: ['WITH_STATIC', 'WITH_RTPENGINE'],
      trunk: { mode: 'static', impu: '', impi: '', password: '', options_interval: 1 },
    });
    try {
      // Two rounds of OPTIONS, both answered 200 by Kamailio.
      const opts = await s.kam.waitDump((ms) => {
        const o = ms.filter((m) => fromTrunk(m) && /^OPTIONS /.test(m.text) && answerTo(ms, m));
        return o.length >= 2 ? o : null;
      }, 5000, 'two answered OPTIONS from the trunk');
      const all = s.kam.messages();
      assert.equal(firstLine(opts[0]), 'OPTIONS sip:127.0.0.1:5070 SIP/2.0', 'OPTIONS to the configured P-CSCF');
      assert.match(firstLine(answerTo(all, opts[0])), /^SIP\/2\.0 200 /);
      assert.ok(!all.some((m) => fromTrunk(m) && /^REGISTER /.test(m.text)), 'static mode: no REGISTER');
      assert.doesNotMatch(s.gw.log(), /P-CSCF \S+ is down/);

      // An INVITE straight from 127.0.0.2 (not a configured P-CSCF): 403.
      const rogue = sipp({ name: 'rogue', dir, scenario: 'uac_reject.xml', ip: '127.0.0.2', port: 5097, mp: 6990,
        service: '+4930123400001', remote: `127.0.0.1:${TRUNK_PORT}`, args: ['-timeout', '10s'] });
      const rc = await rogue.done(15000);
      const got = rogue.received().map((m) => m.text.split('\n')[0]);
      assert.equal(rc, 0, rogue.describe());
      assert.ok(got.some((l) => /^SIP\/2\.0 403 /.test(l)), `403 for a foreign source: ${got}`);
      await s.gw.waitLog(/INVITE from a host that is not a configured P-CSCF: 403/, 1000);

      // The same INVITE through the P-CSCF passes the source check (and,
      // its SDP made WebRTC by rtpengine, with nobody registered for the
      // number, gets 480 from the gateway).
      const via = sipp({ name: 'via-pcscf', dir, scenario: 'uac_reject.xml', port: 5098, mp: 6992,
        service: '+4930123400001', remote: '127.0.0.1:5070', args: ['-timeout', '10s'] });
      assert.equal(await via.done(15000), 0, via.describe());
      const got2 = via.received().map((m) => m.text.split('\n')[0]);
      assert.ok(got2.some((l) => /^SIP\/2\.0 480 /.test(l)), `480 through the P-CSCF: ${got2}`);
      await s.gw.waitLog(/inbound call for \+4930123400001: 0 device/, 1000);
    } finally {
      const r = await stopStack(s);
      assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
    }
  });

// how: 'stopped' (SIGTERM: its port is closed, ICMP tells at once) or
// 'silent' (SIGSTOP: nothing answers; the OPTIONS time out after failover_time).
async function failover(how) {
  const dir = outDir(`trunk-failover-${how}`);
  const OPTIONS_INTERVAL = 1, FAILOVER_TIME = 2;
  // One rtpengine (the eIMS-AGW) behind both P-CSCFs.
  const rtp = await startRtpengine(path.join(dir, 'rtpengine'));
  const defines = ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'];
  let k1, k2, gw, wic, uas;
  try {
    k1 = await new Kamailio({ dir: path.join(dir, 'kamailio1'), port: 5070, defines }).start();
    k2 = await new Kamailio({ dir: path.join(dir, 'kamailio2'), port: 5071, defines }).start();
    gw = await startWtpf(dir, {
      origins: [ORIGIN],
      trunk: { pcscf: [k1.uri, k2.uri], options_interval: OPTIONS_INTERVAL, failover_time: FAILOVER_TIME },
    });
    await gw.waitLog(/trunk ims: registered via sip:127\.0\.0\.1:5070/, 100);
    // The IMS user the next call goes to, registered at the second P-CSCF.
    await registerImsUser({ dir, user: 'carol', port: 5082, mp: 6120, kamailio: k2 });

    const mark = gw.mark();
    const t0 = Date.now();
    // The stop is not awaited before the clock is read: how long Kamailio
    // takes to exit (up to its SIGKILL after 5 s on a loaded machine) is
    // not the gateway's failover time. Until its socket closes it is a
    // silent P-CSCF, which the OPTIONS timeout covers.
    const stopping = how === 'stopped' ? k1.stop() : (k1.freeze(), null);
    await gw.waitLog(/trunk ims: registered via sip:127\.0\.0\.1:5071/,
      (OPTIONS_INTERVAL + FAILOVER_TIME + 3) * 1000, mark);
    const took = Date.now() - t0;
    await stopping;
    assert.ok(took <= (OPTIONS_INTERVAL + FAILOVER_TIME) * 1000 + 1500,
      `re-registered within options_interval + failover_time (+1.5 s slack): ${took} ms`);
    await k2.waitDump((ms) => ms.some((m) => fromTrunk(m) && /^REGISTER /.test(m.text) &&
      /username="pbx"/.test(header(m.text, 'Authorization') || '') &&
      header(m.text, 'Require') === 'gin'), 3000, 'the authenticated GIN REGISTER at the second P-CSCF');
    await k2.waitLog(/REGISTER aor=sip:pbx@127\.0\.0\.1 Require=<gin>/, 1000);

    // The next outbound call goes through the second P-CSCF.
    uas = sipp({ name: 'carol', dir, scenario: 'uas_answer.xml', port: 5082, mp: 6122, args: ['-timeout', '20s'] });
    await sleep(300);
    wic = new RawWic(gw, '+4930123400001');
    await wic.register(ORIGIN);
    const d = await wic.invite(`sip:carol@${DOMAIN}`);
    assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
    wic.ack(d);
    const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
    assert.match(inv, /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5071;/m, 'relayed by the second P-CSCF');
    assert.ok(!k1.messages().some((m) => /^INVITE /.test(m.text)), 'nothing went to the stopped one');
    assert.match(header(inv, 'P-Asserted-Identity'), /^<sip:\+4930123400001@acme\.test>$/);
    await sleep(300);
    const bye = await wic.bye(d);
    assert.equal(bye.status, 200);
    assert.equal(await uas.done(10000), 0, uas.describe());
  } finally {
    if (wic) await wic.close();
    if (uas) await uas.stop();
    if (gw) { await gw.stop().catch(() => gw.kill()); gw.saveLog(); }
    if (k1) await k1.stop();
    if (k2) await k2.stop();
    await rtp.stop();
  }
}

test('§4.2c failover: the first P-CSCF stops, the trunk re-registers to the second in time and calls go there',
  { timeout: 60000 }, () => failover('stopped'));

test('§4.2d failover: the first P-CSCF falls silent, the trunk re-registers to the second in time and calls go there',
  { timeout: 60000 }, () => failover('silent'));

// The trunk toward the P-CSCF on a real network's terms (issue 3), DESIGN.md
// §4 flows 2 and 3:
//   §4.2e the P-CSCF found by DNS (RFC 3263 NAPTR -> SRV -> A, Sofia's
//         asynchronous resolver) from a dnsmasq inside the namespace;
//   §4.2f TLS toward the P-CSCF (Kamailio's tls module): REGISTER, a call's
//         INVITE, and IMS's BYE back to the trunk's sips: bind address;
//   §4.3l session timers (RFC 4028): IMS makes the gateway the refresher;
//   §4.3o the IMS side vanishing mid-call: the failing refresh ends the call;
//   §4.3m failures from IMS toward the browser (503 + Retry-After, 486, 302);
//   §4.3n INFO (DTMF) relayed both ways;
//   §4.3r RFC 3262 100rel toward IMS: IMS's reliable 183 is PRACKed by the
//         trunk, and reaches the browser unreliable;
//   §4.4j an inbound INVITE with Require: 100rel: the browser's 180 goes to
//         IMS reliable (Require: 100rel, RSeq), and the trunk takes the PRACK.
// After each call the gateway's last "ended:" line says no call is left.
// Real peers only: dnsmasq, Kamailio (the P-CSCF stand-in, its sipdump shows
// what it received and how), SIPp as the IMS users, a raw ws client as the
// browser (signalling only: no media, so SIPp answers with WebRTC SDP as an
// eIMS-AGW would make it). Runs in a network namespace with only lo (see
// CMakeLists.txt): dnsmasq takes 127.0.0.1:53 there.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Kamailio, sipp, registerImsUser, header, rawBody, sleep } = require('./lib/peers');
const { outDir, startWtpf, stopStack, DOMAIN, TRUNK_PORT } = require('./lib/env');
const { Dnsmasq, resolvConf, sofiaTlsDir, tcpListeners, Pass503Kamailio, TlsKamailio } = require('./lib/net');
const { RawWic, webrtcAnswer } = require('./lib/wic');

const ORIGIN = 'http://127.0.0.1';
const ALICE = '+4930123400001';
const DEFINES = ['WITH_AUTH', 'WITH_GIN'];
const firstLine = (t) => t.split(/\r?\n/)[0];
const isReq = (m, method) => new RegExp(`^${method} `).test(m.text);

// The gateway's last "ended:" line (call core) must say no call is left.
async function noCallLeft(gw, mark) {
  await gw.waitLog(/ ended: .*\(calls left: \d+\)/, 3000, mark);
  await sleep(200);   // any later end of another call would log too
  const ended = gw.log().split('\n').slice(mark).filter((l) => / ended: /.test(l));
  assert.match(ended[ended.length - 1], /\(calls left: 0\)$/, `no call left behind:\n${ended.join('\n')}`);
}

// Another request from the browser in the dialog `d` of an answered call
// (as RawWic.bye does for BYE); resolves with its final response.
function inDialog(wic, d, method, { headers, body } = {}) {
  d.cseq += 1;
  return wic.c.transact({ method, uri: d.remote, from: wic.aor, to: d.target,
    fromTag: d.fromTag, toTag: d.toTag, callId: d.callId, cseq: d.cseq, headers, body });
}

// One outbound call from a raw ws client to an IMS user registered at
// `kam`, answered by SIPp (WebRTC answer), hung up by the browser.
// Returns { d, uas, inv } once SIPp has answered the BYE.
async function oneCall(dir, gw, kam, num, port, mp) {
  await registerImsUser({ dir, user: num, port, mp, kamailio: kam });
  const uas = sipp({ name: `${port}-uas`, dir, scenario: 'uas_webrtc.xml', port, mp: mp + 2,
    args: ['-timeout', '30s'] });
  await sleep(300);
  const wic = new RawWic(gw, ALICE);
  try {
    await wic.register(ORIGIN);
    const d = await wic.invite(`sip:${num}@${DOMAIN}`);
    assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
    wic.ack(d);
    const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
    await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
    const bye = await wic.bye(d);
    assert.equal(bye.status, 200, bye.startLine);
    assert.equal(await uas.done(10000), 0, uas.describe());
    return { d, uas, inv };
  } finally {
    await wic.close();
  }
}

test('§4.2e the P-CSCF found by DNS: NAPTR -> SRV, by priority; REGISTER and calls go to it',
  { timeout: 60000 }, async () => {
    const dir = outDir('trunk-net-dns');
    // The operator's DNS: ims.test offers SIP over UDP, two P-CSCFs by SRV
    // priority. Both run, so that only the priority decides.
    const dns = new Dnsmasq(path.join(dir, 'dnsmasq'), {
      naptr: [['ims.test', 10, 10, 'S', 'SIP+D2U', '', '_sip._udp.ims.test']],
      srv: [['_sip._udp.ims.test', 'pcscf1.ims.test', 5070, 10, 0],
        ['_sip._udp.ims.test', 'pcscf2.ims.test', 5071, 20, 0]],
      a: [['pcscf1.ims.test', '127.0.0.1'], ['pcscf2.ims.test', '127.0.0.1']],
    });
    let k1, k2, gw;
    try {
      await dns.start(['ims.test', 35]);
      k1 = await new Kamailio({ dir: path.join(dir, 'kamailio1'), port: 5070, defines: DEFINES }).start();
      k2 = await new Kamailio({ dir: path.join(dir, 'kamailio2'), port: 5071, defines: DEFINES }).start();
      gw = await startWtpf(dir, {
        origins: [ORIGIN],
        trunk: { pcscf: ['sip:ims.test'], resolv_conf: resolvConf(dir) },
      });
      await gw.waitLog(/trunk ims: registered via sip:ims\.test/, 100);

      // The trunk's REGISTERs reached the P-CSCF of priority 10, which
      // accepted the second (digest); the one of priority 20 saw none.
      const fromTrunk = (m) => m.dir === 'rcv' && m.srcport === String(TRUNK_PORT);
      const regs = await k1.waitDump((ms) => {
        const r = ms.filter((m) => fromTrunk(m) && isReq(m, 'REGISTER'));
        return r.length >= 2 ? r : null;
      }, 3000, 'two REGISTERs from the trunk at pcscf1 (5070)');
      assert.equal(regs[0].dstport, '5070');
      assert.equal(firstLine(regs[0].text), 'REGISTER sip:127.0.0.1 SIP/2.0');
      assert.match(header(regs[0].text, 'Route') || '', /^<sip:ims\.test;lr>$/,
        'routed by the configured domain name, resolved by the trunk itself');
      assert.match(header(regs[1].text, 'Authorization') || '', /username="pbx"/);
      await k1.waitLog(/REGISTER aor=sip:pbx@127\.0\.0\.1 Require=<gin>/, 1000);
      assert.deepEqual(k2.messages().filter(fromTrunk).map((m) => firstLine(m.text)), [],
        'nothing from the trunk at pcscf2 (SRV priority 20)');

      // RFC 3263 §4.1: NAPTR for the domain, then SRV for its replacement.
      // (dnsmasq puts the targets' A records in the SRV answer's additional
      // section, and Sofia takes them from there: no A query needs to follow.)
      const q = dns.queries();
      const asked = (type, name) => q.findIndex((x) => x.type === type && x.name === name);
      const naptr = asked('NAPTR', 'ims.test');
      const srv = asked('SRV', '_sip._udp.ims.test');
      assert.ok(naptr >= 0, `NAPTR ims.test asked: ${JSON.stringify(q)}`);
      assert.ok(srv > naptr, `then SRV _sip._udp.ims.test: ${JSON.stringify(q)}`);
      assert.ok(q.every((x) => x.from === '127.0.0.1'), 'asked over loopback');

      // A call's INVITE takes the same way (the trunk's route names ims.test).
      const mark = gw.mark();
      const { inv } = await oneCall(dir, gw, k1, '+4940555000501', 5301, 6801);
      assert.match(inv, /^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:5070;/m, 'relayed by pcscf1');
      await k1.waitDump((ms) => ms.some((m) => fromTrunk(m) && isReq(m, 'INVITE')), 2000,
        'the INVITE from the trunk at pcscf1');
      assert.ok(!k2.messages().some((m) => isReq(m, 'INVITE')), 'no INVITE at pcscf2');
      await noCallLeft(gw, mark);
    } finally {
      if (gw) { await gw.stop().catch(() => gw.kill()); gw.saveLog(); }
      if (k1) await k1.stop();
      if (k2) await k2.stop();
      await dns.stop();
    }
  });

test('§4.2f TLS toward the P-CSCF: REGISTER, a call\'s INVITE and IMS\'s BYE all over TLS (mutual)',
  { timeout: 60000 }, async () => {
    const dir = outDir('trunk-net-tls');
    const TLS_BIND = 5091;
    let kam, gw;
    try {
      kam = await new TlsKamailio({ dir: path.join(dir, 'kamailio'), tlsPort: 5061, defines: DEFINES }).start();
      gw = await startWtpf(dir, {
        origins: [ORIGIN],
        trunk: {
          bind: `sips:127.0.0.1:${TLS_BIND}`, tls_dir: sofiaTlsDir(path.join(dir, 'sofia-tls'), [kam.cert]),
          // mutual TLS: Kamailio's BYE comes on a connection it opens, with
          // its certificate (trunk_tls.test.js has the refusals)
          tls_verify_client: true, tls_peer_names: ['127.0.0.1'],
          pcscf: ['sip:127.0.0.1:5061;transport=tls'],
        },
      });
      await gw.waitLog(/trunk ims: registered via sip:127\.0\.0\.1:5061;transport=tls/, 100);
      const overTls = (m) => /^tls\b/.test(m.proto);
      const regs = await kam.waitDump((ms) => {
        const r = ms.filter((m) => m.dir === 'rcv' && isReq(m, 'REGISTER'));
        return r.length >= 2 ? r : null;
      }, 3000, 'two REGISTERs');
      for (const r of regs) {
        assert.ok(overTls(r) && r.dstport === '5061', `REGISTER over TLS to 5061: ${r.proto} ${r.dstport}`);
        assert.match(header(r.text, 'Via'), /^SIP\/2\.0\/TLS 127\.0\.0\.1:5091;/, 'Via: TLS, the bind address');
        assert.match(header(r.text, 'Contact'), /^<sip:127\.0\.0\.1:5091;transport=tls;bnc>/,
          'the bnc Contact names the TLS listener');
      }
      await kam.waitLog(/REGISTER aor=sip:pbx@127\.0\.0\.1 Require=<gin>/, 1000);
      // The trunk listens on its bind address alone: no TLS listener on a
      // port nobody was told about (the WebSocket and admin ports aside).
      assert.deepEqual(tcpListeners(gw.pid).filter((a) => !a.endsWith(`:${gw.wsPort}`) &&
                                                       !a.endsWith(`:${gw.adminPort}`)),
        [`127.0.0.1:${TLS_BIND}`], 'the trunk\'s TCP listeners');

      // A call: the INVITE goes over TLS; IMS hangs up, and Kamailio's BYE
      // reaches the gateway over TLS at the Contact it was given.
      const num = '+4940555000511';
      await registerImsUser({ dir, user: num, port: 5311, mp: 6811, kamailio: kam });
      const uas = sipp({ name: '5311-uas', dir, scenario: 'uas_webrtc_bye.xml', port: 5311, mp: 6813,
        args: ['-timeout', '30s', '-d', '500'] });
      await sleep(300);
      const wic = new RawWic(gw, ALICE);
      const mark = gw.mark();
      try {
        await wic.register(ORIGIN);
        const d = await wic.invite(`sip:${num}@${DOMAIN}`);
        assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
        wic.ack(d);
        const bye = await wic.nextRequest('BYE', 5000);
        wic.reply(bye, 200, 'OK');
        assert.equal(await uas.done(10000), 0, uas.describe());
      } finally {
        await wic.close();
      }
      const inv = await kam.waitDump((ms) => ms.find((m) => m.dir === 'rcv' && isReq(m, 'INVITE') &&
        m.text.includes(num)), 2000, 'the INVITE');
      assert.ok(overTls(inv) && inv.dstport === '5061', `INVITE over TLS: ${inv.proto} ${inv.dstport}`);
      assert.match(header(inv.text, 'Contact'), /^<sip:\+4930123400001@127\.0\.0\.1:5091;transport=tls>$/);
      const byeOut = await kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' && isReq(m, 'BYE') &&
        m.dstport === String(TLS_BIND)), 2000, 'the BYE toward the gateway');
      assert.ok(overTls(byeOut), `the BYE went to the gateway over TLS: ${byeOut.proto}`);
      const byeOk = await kam.waitDump((ms) => ms.find((m) => m.dir === 'rcv' && /^SIP\/2\.0 200 /.test(m.text) &&
        / BYE$/.test(header(m.text, 'CSeq'))), 2000, 'the 200 to the BYE');
      assert.ok(overTls(byeOk), `and its 200 came back over TLS: ${byeOk.proto}`);
      await noCallLeft(gw, mark);
    } finally {
      if (gw) { await gw.stop().catch(() => gw.kill()); gw.saveLog(); }
      if (kam) await kam.stop();
    }
  });

describe('calls on the trunk (one stack: Kamailio WITH_AUTH WITH_GIN passing 503s, no rtpengine)', { timeout: 150000 }, () => {
  let s;
  let port = 5380;
  let mp = 6900;
  const wics = [];

  // An IMS user registered at Kamailio, then its UAS on the same port.
  async function imsUas(user, scenario, args = [], timeout = '20s') {
    port += 1; mp += 4;
    await registerImsUser({ dir: s.dir, user, port, mp, kamailio: s.kam });
    const uas = sipp({ name: `${port}-uas-${scenario.replace('.xml', '')}`, dir: s.dir, scenario, port,
      mp: mp + 2, args: ['-timeout', timeout, ...args] });
    uas.port = port;
    await sleep(300);
    return uas;
  }
  async function wicOf() {
    const w = new RawWic(s.gw, ALICE);
    await w.register(ORIGIN);
    wics.push(w);
    return w;
  }

  before(async () => {
    const dir = outDir('trunk-net-calls');
    s = { dir };
    try {
      s.kam = await new Pass503Kamailio({ dir: path.join(dir, 'kamailio'), defines: DEFINES }).start();
      s.gw = await startWtpf(dir, { origins: [ORIGIN] });
    } catch (e) {
      await stopStack(s);
      throw e;
    }
  });
  after(async () => {
    for (const w of wics) await w.close();
    if (!s) return;
    const r = await stopStack(s);
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  // An answered call to an IMS user whose 200 asks for a 90 s session
  // timer with the gateway as the refresher (uas_timer.xml).
  async function timerCall(num) {
    const uas = await imsUas(num, 'uas_timer.xml', [], '120s');
    const wic = await wicOf();
    const mark = s.gw.mark();
    const d = await wic.invite(`sip:${num}@${DOMAIN}`);
    assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
    wic.ack(d);
    return { uas, wic, mark, d };
  }

  test('§4.3l session timer: IMS makes the gateway the refresher (90 s); its UPDATE comes in time and the call stays up',
    { timeout: 90000 }, async () => {
      const { uas, wic, mark, d } = await timerCall('+4940555000601');
      const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
      assert.match(header(inv, 'Supported') || '', /\btimer\b/, 'the trunk offers session timers');
      await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
      const t0 = Date.now();

      // RFC 4028 §10: the refresher refreshes at about half the interval
      // (nua: 40 to 50 s of 90); the test takes 30 s to 60 s.
      const upd = await uas.waitMsg((t) => /^UPDATE /.test(t), 60000, 'the refreshing UPDATE');
      const took = Date.now() - t0;
      assert.ok(took >= 30000 && took < 60000, `refreshed after ${took} ms`);
      assert.match(header(upd, 'Session-Expires') || '', /^90;\s*refresher=uac$/i,
        `the UPDATE keeps the interval with the gateway as refresher: ${header(upd, 'Session-Expires')}`);
      assert.equal(header(upd, 'Call-ID'), header(inv, 'Call-ID'), 'in the call\'s dialog');
      assert.equal(header(upd, 'Content-Length'), '0', 'without SDP (NUTAG_REFRESH_WITHOUT_SDP)');

      // SIPp's 200 keeps the call up: a second later, nothing has ended it
      // on either side, and the browser never saw the refresh.
      await sleep(1000);
      assert.ok(!uas.received().some((m) => /^BYE /.test(m.text)), 'IMS got no BYE');
      assert.deepEqual(wic.c.messages.map((m) => m.startLine), [], 'the browser got nothing (no BYE, no UPDATE)');
      assert.ok(!s.gw.log().split('\n').slice(mark).some((l) => / ended: /.test(l)), 'the call did not end');
      const bye = await wic.bye(d);
      assert.equal(bye.status, 200, `the call is still there to hang up: ${bye.startLine}`);
      assert.equal(await uas.done(10000), 0, uas.describe());
      await noCallLeft(s.gw, mark);
    });

  test('§4.3o the IMS side vanishes mid-call: the failing refresh ends both legs, the browser gets a BYE',
    { timeout: 100000 }, async () => {
      const { uas, wic, mark, d } = await timerCall('+4940555000602');
      await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
      // The IMS user's host goes away without a word (no BYE).
      await uas.stop();
      const t0 = Date.now();
      // The refresh comes at about 45 s; Kamailio answers it 408 after
      // its fr_timer (10 s): the dialog is gone and the call ends.
      const bye = await wic.nextRequest('BYE', 80000);
      const took = Date.now() - t0;
      assert.ok(took >= 30000 && took < 80000, `ended after ${took} ms`);
      assert.equal(bye.get('call-id'), d.callId, 'the BYE is in the browser\'s dialog');
      wic.reply(bye, 200, 'OK');
      await noCallLeft(s.gw, mark);
      const upd = s.gw.log().split('\n').slice(mark).filter((l) => /UPDATE sip:/.test(l));
      assert.ok(upd.length >= 1, 'the trunk tried to refresh the session');
    });

  test('§4.3m failures from IMS at once: 503 keeps its Retry-After, 486 stays 486, a 302 becomes 480 (not followed)',
    async () => {
    // Sofia's nua on its own would retry an INVITE answered 5xx with a
    // Retry-After under 32 s after that delay, and follow a 302 to its
    // Contact: the gateway must do neither, and answer the browser at once.
    const cases = [
      { scenario: 'uas_unavailable.xml', from: 503, to: 503, args: ['-key', 'retry_after', '120'], retryAfter: '120' },
      { scenario: 'uas_unavailable.xml', from: 503, to: 503, args: ['-key', 'retry_after', '10'], retryAfter: '10' },
      { scenario: 'uas_busy.xml', from: 486, to: 486 },
      { scenario: 'uas_redirect.xml', from: 302, to: 480 },
    ];
    for (const [i, c] of cases.entries()) {
      const num = `+494055500061${i}`;
      const uas = await imsUas(num, c.scenario, c.args);
      const wic = await wicOf();
      const mark = s.gw.mark();
      const t0 = Date.now();
      const d = await wic.invite(`sip:${num}@${DOMAIN}`, 3000);
      assert.ok(Date.now() - t0 < 2000, `answered at once (${Date.now() - t0} ms)`);
      wic.ackFailure(d);
      assert.equal(await uas.done(10000), 0, `SIPp answered ${c.from} and got its ACK: ${uas.describe()}`);
      // What the gateway got from IMS (through Kamailio) and what it made of it.
      const got = await s.kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' && m.dstport === String(TRUNK_PORT) &&
        / INVITE$/.test(header(m.text, 'CSeq')) && header(m.text, 'To').includes(num) &&
        /^SIP\/2\.0 [3-6]/.test(m.text)), 2000, `the final answer to the trunk for ${num}`);
      assert.match(firstLine(got.text), new RegExp(`^SIP/2\\.0 ${c.from} `), 'what IMS answered the trunk');
      assert.equal(d.response.status, c.to, `the browser gets ${c.to}: ${d.response.startLine}`);
      if (c.retryAfter)
        assert.equal(d.response.get('retry-after'), c.retryAfter, 'Retry-After passes to the browser');
      if (c.from === 302)
        assert.equal(d.response.get('contact'), undefined, 'no redirection target toward the browser');
      await s.gw.waitLog(new RegExp(`outbound call \\S+ ended: IMS answered ${c.from} `), 2000, mark);
      await noCallLeft(s.gw, mark);
      const since = s.gw.log().split('\n').slice(mark);
      assert.equal(since.filter((l) => / sofia\s+INVITE sip:/.test(l)).length, 1,
        `one INVITE from the trunk: no retry, no redirection followed:\n${
          since.filter((l) => / sofia\s+INVITE sip:/.test(l)).join('\n')}`);
      assert.ok(!since.some((l) => /P-CSCF \S+ failed/.test(l)),
        'an answer from the far end does not fail the P-CSCF over');
    }
    assert.equal(s.gw.log().match(/trunk ims: registered via/g).length, 1, 'the trunk stayed registered');
  });

  test('§4.3n INFO (DTMF) during a call: the browser\'s reaches IMS byte for byte, IMS\'s reaches the browser',
    async () => {
      const num = '+4940555000621';
      const uas = await imsUas(num, 'uas_info.xml');
      const wic = await wicOf();
      const mark = s.gw.mark();
      const d = await wic.invite(`sip:${num}@${DOMAIN}`);
      assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
      wic.ack(d);
      await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');

      const DTMF = 'Signal=5\r\nDuration=160\r\n';
      const r = await inDialog(wic, d, 'INFO', { headers: { 'Content-Type': 'application/dtmf-relay' }, body: DTMF });
      assert.equal(r.status, 200, r.startLine);
      const info = await uas.waitMsg((t) => /^INFO /.test(t), 3000, 'INFO');
      assert.equal(header(info, 'Content-Type'), 'application/dtmf-relay');
      // Byte for byte, as Kamailio relayed it to SIPp.
      const relayed = await s.kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' && isReq(m, 'INFO') &&
        m.dstport === String(uas.port)), 2000, 'the INFO toward SIPp');
      assert.equal(rawBody(relayed.raw), DTMF, 'the same body reached IMS');

      // IMS's INFO (sent once it had answered ours) reaches the browser.
      const fromIms = await wic.nextRequest('INFO', 5000);
      wic.reply(fromIms, 200, 'OK');
      const sent = await s.kam.waitDump((ms) => ms.find((m) => m.dir === 'rcv' && isReq(m, 'INFO') &&
        m.srcport === String(uas.port)), 2000, 'the INFO from SIPp');
      assert.equal(fromIms.get('content-type'), 'application/dtmf-relay');
      assert.equal(fromIms.body, rawBody(sent.raw), 'the same body reached the browser');
      assert.match(fromIms.body, /^Signal=1\r\nDuration=100\r\n$/);
      await uas.waitMsg((t) => /^SIP\/2\.0 200 /.test(t) && / INFO$/.test(header(t, 'CSeq')), 3000,
        'the browser\'s 200 to IMS\'s INFO');

      const bye = await wic.bye(d);
      assert.equal(bye.status, 200, bye.startLine);
      assert.equal(await uas.done(10000), 0, uas.describe());
      await noCallLeft(s.gw, mark);
    });

  test('§4.3r outbound with 100rel: IMS\'s reliable 183 is PRACKed by the trunk, the browser gets it unreliable',
    async () => {
      const num = '+4940555000631';
      const uas = await imsUas(num, 'uas_100rel.xml');
      const wic = await wicOf();
      const mark = s.gw.mark();
      const d = await wic.invite(`sip:${num}@${DOMAIN}`);
      assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
      wic.ack(d);
      const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
      assert.match(header(inv, 'Supported') || '', /\b100rel\b/, 'the trunk offers 100rel');
      const invCseq = Number(/^(\d+) INVITE$/.exec(header(inv, 'CSeq'))[1]);

      // The trunk PRACKed the reliable 183 (RFC 3262 §7.2: RAck = RSeq, the
      // INVITE's CSeq number and method), in the call's dialog.
      const prack = await uas.waitMsg((t) => /^PRACK /.test(t), 3000, 'PRACK');
      assert.equal(header(prack, 'RAck'), `1 ${invCseq} INVITE`, 'RAck: 1 <INVITE CSeq> INVITE');
      assert.equal(header(prack, 'Call-ID'), header(inv, 'Call-ID'), 'the PRACK is in the call\'s dialog');
      assert.equal(uas.received().filter((m) => /^PRACK /.test(m.text)).length, 1, 'one PRACK');
      await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');

      // The browser got the 183 with the early answer, unreliable: browsers
      // do not PRACK.
      const p183 = d.response.provisional.filter((m) => m.status === 183);
      assert.equal(p183.length, 1, `one 183 to the browser: ${d.response.provisional.map((m) => m.startLine).join(' | ')}`);
      assert.doesNotMatch(p183[0].get('require') || '', /100rel/i, 'no Require: 100rel toward the browser');
      assert.equal(p183[0].get('rseq'), undefined, 'no RSeq toward the browser');
      assert.match(p183[0].body || '', /^m=audio /m, 'the 183 carries the early answer');
      assert.equal(wic.c.messages.filter((m) => m.method === 'PRACK').length, 0, 'no PRACK asked of the browser');

      const bye = await wic.bye(d);
      assert.equal(bye.status, 200, bye.startLine);
      assert.equal(await uas.done(10000), 0, uas.describe());
      await noCallLeft(s.gw, mark);
    });

  test('§4.4j inbound with Require: 100rel: the browser\'s 180 reaches IMS reliable, the trunk takes the PRACK',
    async () => {
      // Its own user (the other raw clients here are ALICE's: an inbound
      // call would fork to each of them).
      const BOB = '+4930123400002';
      const wic = new RawWic(s.gw, BOB);
      await wic.register(ORIGIN);
      wics.push(wic);
      port += 1; mp += 4;
      const mark = s.gw.mark();
      const uac = sipp({ name: `${port}-caller-uac_100rel`, dir: s.dir, scenario: 'uac_100rel.xml', port, mp,
        service: BOB, remote: `127.0.0.1:${s.kam.port}`, args: ['-timeout', '20s', '-d', '1000'] });

      const inv = await wic.nextRequest('INVITE', 8000);
      assert.doesNotMatch(inv.get('require') || '', /100rel/i, 'the browser is not asked for 100rel');
      wic.reply(inv, 180, 'Ringing');
      // IMS got the 180 reliable, PRACKed it, and the trunk answered the PRACK.
      const r180 = await uac.waitMsg((t) => /^SIP\/2\.0 180 /.test(t), 3000, '180');
      assert.match(header(r180, 'Require') || '', /\b100rel\b/, 'the 180 toward IMS requires 100rel');
      const rseq = header(r180, 'RSeq');
      assert.match(rseq || '', /^\d+$/, `the 180 has an RSeq: ${rseq}`);
      const prackOk = await uac.waitMsg((t) => /^SIP\/2\.0 200 /.test(t) && / PRACK$/.test(header(t, 'CSeq')),
        3000, 'the 200 to the PRACK');
      assert.equal(header(prackOk, 'Call-ID'), header(r180, 'Call-ID'));
      const prack = await s.kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' && isReq(m, 'PRACK') &&
        m.dstport === String(TRUNK_PORT)), 2000, 'the PRACK toward the trunk');
      assert.equal(header(prack.text, 'RAck'), `${rseq} 1 INVITE`);
      assert.equal(wic.c.messages.filter((m) => m.method === 'PRACK').length, 0, 'the PRACK stays on the IMS side');

      wic.reply(inv, 200, 'OK', { sdp: webrtcAnswer(inv.body) });
      const ok = await uac.waitMsg((t) => /^SIP\/2\.0 200 /.test(t) && / INVITE$/.test(header(t, 'CSeq')),
        3000, 'the 200 to the INVITE');
      assert.match(ok, /^m=audio /m, 'with the answer');
      await wic.nextRequest('ACK', 3000);
      const bye = await wic.nextRequest('BYE', 5000);
      wic.reply(bye, 200, 'OK');
      assert.equal(await uac.done(10000), 0, `SIPp: 180, PRACK/200, 200, ACK, BYE/200: ${uac.describe()}`);
      await noCallLeft(s.gw, mark);
    });
});

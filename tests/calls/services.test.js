// The third party's services (gateway/svc/, seed 001) on real calls, with
// the tenant's `services` group as conf/wtpf.conf documents it:
//   a. dial plan: what the browser dials (the Request-URI user part of its
//      INVITE) becomes the Request-URI toward IMS: national 030... ->
//      +4930... and international 00... -> +... (a plain number: the trunk
//      makes it sip:N@domain;user=phone, tel_uri being off), a short code
//      to a rule's own tel: URI;
//   b. an emergency number passes untouched although a dial-plan rule and
//      a barring pattern would both match it;
//   c. barred destinations (as dialled, and once rewritten) get 403
//      "Destination Barred" and nothing reaches IMS;
//   d. inbound: the caller's number (P-Asserted-Identity, else From; a tel:
//      number or a sip: user part) as the browser sees it in the From of
//      the INVITE on its WebSocket, rewritten by the first caller_display
//      rule that matches; a caller no rule matches passes unchanged;
//   e. with the trunk's tel_uri on, a plain number (rewritten, or an
//      emergency number) becomes a tel: Request-URI;
//   f. SIGHUP with new rules: they replace the old ones (svc_reload).
// Two stacks, one per trunk setting (tel_uri needs a restart); about 15 s.
// Real peers only: Kamailio as the P-CSCF (WITH_AUTH WITH_GIN; its sipdump
// shows what it received from the trunk), SIPp as the IMS users (their
// traces show what reached them), raw ws clients as the browsers
// (signalling only, no rtpengine: SIPp offers and answers WebRTC SDP as an
// eIMS-AGW would). After every call the gateway's last "ended:" line says
// no call is left. Runs in a network namespace with only lo (CMakeLists.txt).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { Kamailio, sipp, registerImsUser, header, sleep } = require('./lib/peers');
const { outDir, startWtpf, stopStack, DOMAIN, TRUNK_PORT } = require('./lib/env');
const { RawWic, webrtcAnswer } = require('./lib/wic');

const ORIGIN = 'http://127.0.0.1';
const ALICE = '+4930123400001';     // places the outbound calls
const BOB = '+4930123400002';       // gets the inbound ones
const DEFINES = ['WITH_AUTH', 'WITH_GIN'];

// The tenant's services (libconfig through tests/integration/lib/gateway.js;
// a JS '\\+' is the ERE \+).
const SERVICES = {
  emergency: ['112', '110'],
  barred: ['^(\\+49|0)?900', '^11'],           // premium rate; 11x service numbers
  dial_plan: [
    { match: '^100$', replace: 'tel:+49305550100' },            // short code: the desk
    { match: '^0([1-9][0-9]+)$', replace: '+49$1' },             // national
    { match: '^00([1-9][0-9]+)$', replace: '+$1' },              // international
    { match: '^(1[0-9]+)$', replace: '+49305550$1' },            // other short codes
  ],
  caller_display: [
    { match: '^\\+4930555000([0-9]+)$', replace: '$1' },         // colleagues: extension
    { match: '^\\+49([1-9][0-9]+)$', replace: '0$1' },           // German: national
  ],
};

const fromTrunk = (m) => m.dir === 'rcv' && m.srcport === String(TRUNK_PORT);
const isInvite = (m) => /^INVITE /.test(m.text);
const firstLine = (t) => t.split(/\r?\n/)[0];
const uriOf = (nameAddr) => /<([^>]+)>/.exec(nameAddr || '')[1];

// The gateway's last "ended:" line (call core) must say no call is left.
async function noCallLeft(gw, mark) {
  await gw.waitLog(/ ended: .*\(calls left: \d+\)/, 3000, mark);
  await sleep(200);   // any later end of another call would log too
  const ended = gw.log().split('\n').slice(mark).filter((l) => / ended: /.test(l));
  assert.match(ended[ended.length - 1], /\(calls left: 0\)$/, `no call left behind:\n${ended.join('\n')}`);
}

// One stack (Kamailio, wtpfd with the tenant's `o.services` and trunk
// options `o.trunk`), ALICE and BOB registered as raw ws clients, and the
// calls the tests make on it. Every process is stopped by PID in stop().
class Bed {
  constructor(name, o) {
    this.name = name;
    this.o = o;
    this.port = o.port;        // SIPp ports: port (SIP), mp (media), apart per bed
    this.mp = o.mp;
  }

  async start() {
    const dir = outDir(this.name);
    this.s = { dir };
    try {
      this.s.kam = await new Kamailio({ dir: path.join(dir, 'kamailio'), defines: DEFINES }).start();
      this.s.gw = await startWtpf(dir, { origins: [ORIGIN], tenant: { services: this.o.services },
        trunk: this.o.trunk });
      this.alice = new RawWic(this.s.gw, ALICE);
      await this.alice.register(ORIGIN);
      this.bob = new RawWic(this.s.gw, BOB);
      await this.bob.register(ORIGIN);
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
    return this;
  }

  // Resolves with wtpfd's exit result (null when it never started).
  async stop() {
    if (this.alice) await this.alice.close();
    if (this.bob) await this.bob.close();
    this.alice = this.bob = null;
    const r = this.s ? await stopStack(this.s) : null;
    this.s = null;
    return r;
  }

  get gw() { return this.s.gw; }

  get kam() { return this.s.kam; }

  // An IMS user registered at Kamailio, then its UAS on the same port.
  async imsUas(user, scenario = 'uas_webrtc.xml') {
    this.port += 1; this.mp += 4;
    const { port, mp } = this;
    await registerImsUser({ dir: this.s.dir, user, port, mp, kamailio: this.kam });
    const uas = sipp({ name: `${port}-uas-${user}`, dir: this.s.dir, scenario, port, mp: mp + 2,
      args: ['-timeout', '20s'] });
    await sleep(300);
    return uas;
  }

  // ALICE dials `dialled`; the IMS user `imsUser` answers, ALICE hangs up.
  // Returns what SIPp received, what Kamailio received from the trunk and
  // the gateway's log lines of the call.
  async outboundCall(dialled, imsUser) {
    const uas = await this.imsUas(imsUser);
    const mark = this.gw.mark();
    try {
      const d = await this.alice.invite(`sip:${dialled}@${DOMAIN}`);
      assert.equal(d.response.status, 200, `call answered: ${d.response.startLine}\n${uas.describe()}`);
      this.alice.ack(d);
      const inv = await uas.waitMsg((t) => /^INVITE /.test(t), 1000, 'INVITE');
      await uas.waitMsg((t) => /^ACK /.test(t), 3000, 'ACK');
      const bye = await this.alice.bye(d);
      assert.equal(bye.status, 200, bye.startLine);
      assert.equal(await uas.done(10000), 0, uas.describe());
      await noCallLeft(this.gw, mark);
      const atKam = await this.kam.waitDump((ms) => ms.find((m) => fromTrunk(m) && isInvite(m) &&
        header(m.text, 'Call-ID') === header(inv, 'Call-ID')), 2000, 'the INVITE from the trunk');
      return { inv, atKam: atKam.text, log: this.gw.log().split('\n').slice(mark) };
    } finally {
      await uas.stop();
    }
  }

  // ALICE dials a barred destination: 403 at once. Returns the gateway's
  // log lines of the call.
  async barredCall(dialled) {
    const mark = this.gw.mark();
    const t0 = Date.now();
    const d = await this.alice.invite(`sip:${dialled}@${DOMAIN}`, 3000);
    this.alice.ackFailure(d);
    assert.equal(d.response.status, 403, d.response.startLine);
    assert.equal(d.response.reason, 'Destination Barred');
    assert.ok(Date.now() - t0 < 1000, `refused at once (${Date.now() - t0} ms)`);
    await this.gw.waitLog(new RegExp(`svc\\s+tenant acme: ${dialled} is barred`), 1000, mark);
    await this.gw.waitLog(/ ended: Destination Barred \(calls left: \d+\)/, 1000, mark);
    await noCallLeft(this.gw, mark);
    return this.gw.log().split('\n').slice(mark);
  }

  // SIPp calls BOB through Kamailio as `fromUri` with the header line
  // `idHdr`; BOB answers, SIPp hangs up. Returns the INVITE BOB got and the
  // one Kamailio sent the trunk.
  async inboundCall(fromUri, idHdr) {
    this.port += 1; this.mp += 4;
    const mark = this.gw.mark();
    const uac = sipp({ name: `${this.port}-caller`, dir: this.s.dir, scenario: 'uac_caller.xml',
      port: this.port, mp: this.mp, service: BOB, remote: `127.0.0.1:${this.kam.port}`,
      args: ['-timeout', '20s', '-d', '300', '-key', 'from_uri', fromUri, '-key', 'id_hdr', idHdr] });
    try {
      const inv = await this.bob.nextRequest('INVITE', 8000);
      this.bob.reply(inv, 200, 'OK', { sdp: webrtcAnswer(inv.body) });
      await this.bob.nextRequest('ACK', 3000);
      const bye = await this.bob.nextRequest('BYE', 5000);
      this.bob.reply(bye, 200, 'OK');
      assert.equal(await uac.done(10000), 0, uac.describe());
      await noCallLeft(this.gw, mark);
      const sent = uac.messages().find((m) => m.dir === 'sent' && /^INVITE /.test(m.text)).text;
      const atTrunk = await this.kam.waitDump((ms) => ms.find((m) => m.dir === 'snd' && isInvite(m) &&
        m.dstport === String(TRUNK_PORT) && header(m.text, 'Call-ID') === header(sent, 'Call-ID')),
      2000, 'the INVITE toward the trunk');
      return { inv, atTrunk: atTrunk.text };
    } finally {
      await uac.stop();
    }
  }
}

describe('services on real calls (trunk tel_uri off)', { timeout: 60000 }, () => {
  let b;

  before(async () => {
    b = await new Bed('services', { services: SERVICES, port: 5400, mp: 7000 }).start();
  });

  after(async () => {
    if (!b) return;
    const r = await b.stop();
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('a. dial plan: national 030... and international 00... become +E.164 (sip:...;user=phone), short code 100 a tel: URI',
    async () => {
      // National: the trunk's tel_uri is off, so the number becomes
      // sip:+49...@<trunk domain>;user=phone.
      let c = await b.outboundCall('0305550701', '+49305550701');
      assert.equal(firstLine(c.atKam), 'INVITE sip:+49305550701@127.0.0.1;user=phone SIP/2.0',
        'what Kamailio received from the trunk');
      assert.match(firstLine(c.inv), /^INVITE sip:\+49305550701@127\.0\.0\.1:\d+/,
        'reached the IMS user +49305550701');
      assert.equal(uriOf(header(c.inv, 'To')), 'sip:+49305550701@127.0.0.1;user=phone');
      assert.ok(!c.atKam.includes('0305550701@'), 'the national form went nowhere');
      assert.ok(c.log.some((l) => /dial plan: 0305550701 -> \+49305550701$/.test(l)), 'logged');
      assert.ok(c.log.some((l) => /outbound call from \S+ to \+49305550701 via trunk ims/.test(l)));

      // International: 00 -> +.
      c = await b.outboundCall('0041445550702', '+41445550702');
      assert.equal(firstLine(c.atKam), 'INVITE sip:+41445550702@127.0.0.1;user=phone SIP/2.0');
      assert.match(firstLine(c.inv), /^INVITE sip:\+41445550702@/);
      assert.ok(c.log.some((l) => /dial plan: 0041445550702 -> \+41445550702$/.test(l)), 'logged');

      // A short code: the rule's tel: URI is the Request-URI as it is.
      c = await b.outboundCall('100', '+49305550100');
      assert.equal(firstLine(c.atKam), 'INVITE tel:+49305550100 SIP/2.0');
      assert.match(firstLine(c.inv), /^INVITE sip:\+49305550100@/, 'reached the desk\'s IMS user');
      assert.equal(uriOf(header(c.inv, 'To')), 'tel:+49305550100');
      assert.ok(c.log.some((l) => /dial plan: 100 -> tel:\+49305550100$/.test(l)), 'logged');
    });

  test('b. emergency number 112: untouched though "^(1[0-9]+)$" would rewrite it and "^11" would bar it',
    async () => {
      const c = await b.outboundCall('112', '112');
      assert.equal(firstLine(c.atKam), 'INVITE sip:112@127.0.0.1;user=phone SIP/2.0',
        'Kamailio got the Request-URI as dialled');
      assert.match(firstLine(c.inv), /^INVITE sip:112@/, 'reached the IMS user 112');
      assert.equal(uriOf(header(c.inv, 'To')), 'sip:112@127.0.0.1;user=phone');
      assert.ok(c.log.some((l) => /emergency number 112: passed untouched$/.test(l)), 'logged');
      assert.ok(!c.log.some((l) => /dial plan: |is barred/.test(l)), 'neither rewritten nor barred');
      assert.ok(!b.kam.messages().some((m) => isInvite(m) && m.text.includes('+49305550112')),
        'the dial plan\'s +49305550112 reached nobody');
    });

  test('c. barred: 0900... as dialled, and 0049900... once rewritten, get 403 Destination Barred; nothing reaches IMS',
    async () => {
      const before = b.kam.messages().length;
      const log1 = await b.barredCall('09001234567');
      const log2 = await b.barredCall('00499001234567');
      // A neighbour of the emergency number is no emergency number.
      const log3 = await b.barredCall('113');
      for (const l of [log1, log2, log3])
        assert.ok(!l.some((x) => /outbound call from |dial plan: /.test(x)), `no call toward IMS:\n${l.join('\n')}`);
      await sleep(300);
      const invites = b.kam.messages().slice(before).filter((m) => fromTrunk(m) && isInvite(m));
      assert.deepEqual(invites.map((m) => firstLine(m.text)), [], 'no INVITE from the trunk at Kamailio');
    });

  test('d. inbound: the caller as BOB\'s browser sees it, rewritten by the first caller_display rule that matches',
    async () => {
      const cases = [
        // P-Asserted-Identity (tel:) wins over From; German -> national form
        { from: 'sip:caller@127.0.0.1', id: 'P-Asserted-Identity: <tel:+4940555000777>', shown: 'tel:040555000777' },
        // a sip: user part; the colleagues' rule comes first (and wins over
        // the national one that matches too)
        { from: 'sip:caller@127.0.0.1', id: 'P-Asserted-Identity: <sip:+4930555000201@127.0.0.1;user=phone>',
          shown: 'sip:201@127.0.0.1;user=phone' },
        // no asserted identity: From's user part
        { from: 'sip:+4940555000779@127.0.0.1', id: 'Subject: no PAI', shown: 'sip:040555000779@127.0.0.1' },
        // no rule matches: unchanged
        { from: 'sip:caller@127.0.0.1', id: 'P-Asserted-Identity: <tel:+33145290000>', shown: 'tel:+33145290000' },
      ];
      for (const c of cases) {
        const { inv, atTrunk } = await b.inboundCall(c.from, c.id);
        // What IMS asserted reached the trunk unchanged: the rewrite is the gateway's.
        const [name, value] = c.id.split(/:\s*(.*)/s);
        assert.equal(header(atTrunk, name), value, `Kamailio passed ${name} on`);
        assert.equal(uriOf(inv.get('from')), c.shown, `From of the INVITE on the WebSocket: ${inv.get('from')}`);
        // the display name goes with the identity it came with (none in these PAIs)
        assert.match(inv.get('from'), name === 'P-Asserted-Identity' ? /^</ : /^"IMS Caller" </);
        assert.equal(uriOf(inv.get('to')), `sip:${BOB}@${DOMAIN}`);
        assert.equal(inv.get('p-asserted-identity'), undefined, 'no asserted identity toward the browser');
      }
    });
});

describe('services with the trunk\'s tel_uri on, and new rules by SIGHUP', { timeout: 40000 }, () => {
  let b;

  before(async () => {
    b = await new Bed('services-tel', { services: SERVICES, trunk: { tel_uri: true }, port: 5500, mp: 7400 }).start();
  });

  after(async () => {
    if (!b) return;
    const r = await b.stop();
    assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
  });

  test('e. tel_uri: the dial plan\'s plain number becomes tel:+49..., the emergency number tel:112', async () => {
    let c = await b.outboundCall('0305550711', '+49305550711');
    assert.equal(firstLine(c.atKam), 'INVITE tel:+49305550711 SIP/2.0', 'what Kamailio received from the trunk');
    assert.match(firstLine(c.inv), /^INVITE sip:\+49305550711@/, 'reached the IMS user +49305550711');
    assert.equal(uriOf(header(c.inv, 'To')), 'tel:+49305550711');
    c = await b.outboundCall('112', '112');
    assert.equal(firstLine(c.atKam), 'INVITE tel:112 SIP/2.0', 'the emergency number untouched');
    assert.ok(c.log.some((l) => /emergency number 112: passed untouched$/.test(l)), 'logged');
  });

  test('f. SIGHUP: the new configuration\'s rules replace the old ones', async () => {
    b.gw.config.tenants[0].services = {
      emergency: ['110'],
      barred: ['^0137'],
      dial_plan: [{ match: '^0([1-9][0-9]+)$', replace: '+43$1' }],
      caller_display: [{ match: '^\\+(.*)$', replace: '00$1' }],
    };
    b.gw.writeConfig();
    assert.match(await b.gw.reload(), /configuration reloaded/);

    // The new national rule (Austria); the old one (+49) is gone.
    const c = await b.outboundCall('0305550712', '+43305550712');
    assert.equal(firstLine(c.atKam), 'INVITE tel:+43305550712 SIP/2.0');
    assert.ok(c.log.some((l) => /dial plan: 0305550712 -> \+43305550712$/.test(l)), 'logged');
    // The new barring pattern applies (before: dialled as +491371234).
    await b.barredCall('01371234');
    // The new caller_display rule: German numbers are no longer national.
    const { inv } = await b.inboundCall('sip:caller@127.0.0.1', 'P-Asserted-Identity: <tel:+4940555000777>');
    assert.equal(uriOf(inv.get('from')), 'tel:004940555000777');
  });
});

// Hostile input on the W8 trunk: every SIP torture message of RFC 4475
// section 3 (tests/data/torture, index.json says what each must get) sent to
// a static-mode trunk over UDP and over TCP, from 127.0.0.1, the configured
// P-CSCF's address (static mode takes INVITEs from nowhere else). Malformed
// requests get 400 or are dropped, well-formed ones an answer that is not
// 400, stray responses nothing; after each message an OPTIONS still gets
// 200 and wtpfd is still running; at the end no call is left and wtpfd
// exits 0.
//
// Only the transport token of each message's top Via is set to the
// transport used (Sofia's transaction layer drops a request whose top Via
// names another). Responses follow the top Via (RFC 3261 18.2.2): over UDP
// they go to 127.0.0.1 at the Via's port, 5060 or 5050 here, where this test
// listens; it runs in its own network namespace (see CMakeLists.txt).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { startGateway, freePort, defaultTenants } = require('../integration/lib/gateway');
const { branch, rand } = require('../integration/lib/sip');
const { outDir } = require('./lib/env');

const DATA = path.resolve(__dirname, '../data/torture');
const INDEX = JSON.parse(fs.readFileSync(path.join(DATA, 'index.json'), 'utf8'));
const VIA_PORTS = [5060, 5050];   // the ports the messages' top Via values name
const T = 5000;

// Known gateway bugs: these cases assert the correct behaviour and are
// reported as todo until the gateway is fixed. Keys: name or name/transport.
const TODO = {
  // BUG: a valid request (RFC 3261 token and quoted-pair syntax: '`' in the
  // method, "\<NUL>" in the To display name) gets no answer at all: Sofia's
  // parser refuses the request line and stops at the NUL, and nta drops the
  // message. Expected: 405 or 501 for the unknown method.
  intmeth: 'Sofia-SIP refuses "`" in a method and a NUL quoted-pair: a valid request is dropped',
};

// A P-CSCF stand-in on 127.0.0.1: answers OPTIONS with 200. Resolves to
// [socket, a promise of the first OPTIONS].
async function standInPcscf() {
  const sock = dgram.createSocket('udp4');
  let probed;
  const firstProbe = new Promise((r) => { probed = r; });
  sock.on('message', (m, ri) => {
    const t = m.toString();
    if (!t.startsWith('OPTIONS ')) return;
    probed();
    const keep = t.split('\r\n').filter((l) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq):/i.test(l));
    sock.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), ri.port, ri.address);
  });
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  return [sock, firstProbe];
}

// A gateway with a static trunk to a P-CSCF stand-in (UDP, OPTIONS every
// 30 s), in dir/wtpfd; resolves once the stand-in has been probed.
async function staticTrunkGateway(dir) {
  const [pcscf, firstProbe] = await standInPcscf();
  const trunkPort = await freePort();
  fs.mkdirSync(path.join(dir, 'wtpfd'), { recursive: true });
  const gw = await startGateway({
    dir: path.join(dir, 'wtpfd'),
    extra: { trunks: [{
      name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
      pcscf: [`sip:127.0.0.1:${pcscf.address().port};transport=udp`], domain: 'ims.test', options_interval: 30,
    }] },
  });
  await firstProbe;
  return { gw, pcscf, trunkPort };
}

// buf with the transport of its top Via set to tp (UDP or TCP).
function viaAs(buf, tp) {
  const t = buf.toString('latin1');
  const end = t.indexOf('\r\n\r\n');
  const head = end < 0 ? t : t.slice(0, end);
  const m = /^(via|v)[ \t]*:/im.exec(head);
  if (!m) return buf;
  const top = head.slice(m.index).replace(/(\/[ \t\r\n]*)(UDP|TCP|TLS|SCTP|UNKNOWN)\b/i, `$1${tp}`);
  return Buffer.from(head.slice(0, m.index) + top + (end < 0 ? '' : t.slice(end)), 'latin1');
}

function callIds(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  return [...head.matchAll(/^(?:call-id|i)[ \t]*:[ \t]*(.*)$/gim)].map((x) => x[1].trim());
}

// The responses in a chunk of received text (a datagram or stream data).
function responses(text, where) {
  return text.split(/(?=SIP\/2\.0 \d{3} )/).filter((s) => /^SIP\/2\.0 \d{3} /.test(s)).map((s) => {
    const head = s.split('\r\n\r\n')[0];
    const hdr = (re) => ((re.exec(head) || [])[1] || '').trim();
    return {
      where, text: s, line: head.split('\r\n')[0], status: Number(s.slice(8, 11)),
      callId: hdr(/^(?:call-id|i)[ \t]*:(.*)$/im), via: hdr(/^(?:via|v)[ \t]*:(.*)$/im),
      header: (name) => hdr(new RegExp(`^${name}[ \\t]*:(.*)$`, 'im')),
    };
  });
}

function accepted(expect, res) {
  for (const e of expect) {
    if (e === 'none' && !res.final) return true;
    if (e === 'handled' && res.final && ![400, 500].includes(res.final.status)) return true;
    if (typeof e === 'number' && res.final && res.final.status === e) return true;
  }
  return false;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const tp of ['udp', 'tcp']) {
  describe(`RFC 4475 torture messages on the W8 trunk over ${tp.toUpperCase()}`, { timeout: 150000 }, () => {
    let gw, pcscf, trunkPort, dir;
    const heard = [];        // every response received anywhere: { where, ... }
    const sockets = [];

    before(async () => {
      dir = outDir(`torture-w8-${tp}`);
      let firstProbe;
      [pcscf, firstProbe] = await standInPcscf();   // answers OPTIONS
      for (const port of VIA_PORTS) {
        const s = dgram.createSocket('udp4');
        s.on('message', (m) => heard.push(...responses(m.toString('latin1'), `udp:${port}`)));
        await new Promise((resolve, reject) => {
          s.once('error', (e) => reject(new Error(`cannot listen on udp 127.0.0.1:${port} (run in a network namespace, as ctest does): ${e.message}`)));
          s.bind(port, '127.0.0.1', resolve);
        });
        sockets.push(s);
      }
      trunkPort = await freePort();
      const tenants = defaultTenants();
      tenants[0].trunk = 'ims';
      tenants[0].ranges = ['+4930123400000-+4930123409999'];
      process.env.TPORT_LOG = '1';   // every W8 message in the (debug) log
      fs.mkdirSync(path.join(dir, 'wtpfd'), { recursive: true });
      gw = await startGateway({
        dir: path.join(dir, 'wtpfd'), logLevel: 'debug', tenants,
        extra: { trunks: [{
          name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
          pcscf: [`sip:127.0.0.1:${pcscf.address().port};transport=udp`], domain: 'ims.test',
          options_interval: 1, failover_time: 4,
        }] },
      });
      await firstProbe;
    });

    after(async () => {
      if (gw) {
        await gw.kill();
        fs.writeFileSync(path.join(dir, 'wtpfd.log'), gw.log() + '\n');
      }
      for (const s of [pcscf, ...sockets]) s.close();
    });

    // OPTIONS over UDP from a fresh socket; resolves with the response.
    async function options(label) {
      const s = dgram.createSocket('udp4');
      await new Promise((r) => s.bind(0, '127.0.0.1', r));
      const callId = `probe-${rand(6)}`;
      const text = [`OPTIONS sip:127.0.0.1:${trunkPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=${branch()};rport`, 'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1>;tag=${rand(4)}`, `To: <sip:127.0.0.1:${trunkPort}>`,
        `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
      try {
        return await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no answer to OPTIONS (${label})`)), T);
          s.on('message', (m) => {
            const [r] = responses(m.toString(), 'probe');
            if (r && r.callId === callId && r.status >= 200) {
              clearTimeout(timer);
              resolve(r);
            }
          });
          s.send(text, trunkPort, '127.0.0.1');
        });
      } finally {
        s.close();
      }
    }

    // Sends one message (top Via set to this transport); resolves with what
    // came back for its Call-ID: { final, all }.
    async function exchange(buf, isInvite) {
      const ids = callIds(buf);
      const from = heard.length;
      const mine = () => heard.slice(from).filter((r) => (ids.length ? ids.includes(r.callId) : !r.callId));
      const data = viaAs(buf, tp.toUpperCase());
      if (tp === 'udp') {
        const s = dgram.createSocket('udp4');
        s.on('message', (m) => heard.push(...responses(m.toString('latin1'), 'udp:source')));
        await new Promise((r) => s.bind(0, '127.0.0.1', r));
        s.send(data, trunkPort, '127.0.0.1');
        // The trunk handles datagrams in order: once an OPTIONS sent after
        // the message is answered, the message's own answer went out.
        await options('sync');
        await sleep(100);
        s.close();
      } else {
        const c = net.connect(trunkPort, '127.0.0.1');
        let closed = false;
        c.on('data', (d) => heard.push(...responses(d.toString('latin1'), 'tcp')));
        c.on('error', () => {});
        c.on('close', () => { closed = true; });
        await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
        c.write(data);
        // A stream has no sync point that every message leaves intact (a
        // Content-Length too large swallows what follows): wait for a final
        // answer, the connection's end, or 1.5 s of silence.
        const t0 = Date.now();
        while (!closed && !mine().some((r) => r.status >= 200) && Date.now() - t0 < 1500) await sleep(20);
        c.destroy();
      }
      if (isInvite && mine().length && !mine().some((r) => r.status >= 200)) {
        const t0 = Date.now();   // a 100 Trying so far: the final follows
        while (!mine().some((r) => r.status >= 200) && Date.now() - t0 < T) await sleep(20);
      }
      const all = mine();
      return { all, final: all.find((r) => r.status >= 200) };
    }

    test('the trunk answers OPTIONS before any torture', async () => {
      assert.equal((await options('first')).status, 200);
    });

    for (const m of INDEX.messages) {
      const buf = fs.readFileSync(path.join(DATA, m.file));
      const expect = (tp === 'tcp' && m.expect.w8_tcp) || m.expect.w8;
      const todo = TODO[`${m.name}/${tp}`] || TODO[m.name];
      test(`${m.section} ${m.name} (${m.validity})`, todo ? { todo } : {}, async () => {
        const res = await exchange(buf, m.method === 'INVITE');
        assert.ok(accepted(expect, res),
          `${m.name}: expected ${JSON.stringify(expect)} (${m.gateway_must}); got ${
            res.all.map((r) => `${r.where}: ${r.line}`).join(' | ') || 'nothing'}`);
        if (m.method === 'response')
          assert.deepEqual(res.all.map((r) => r.line), [], 'a stray response gets nothing back');
        if (m.name === 'dblreq' && tp === 'udp')
          assert.ok(!heard.some((r) => /977644900765/.test(r.callId)),
            'the INVITE after the REGISTER\'s Content-Length is never processed');
        if (m.name === 'esc02')
          assert.ok(![200, 401, 423].includes(res.final.status), 'RE%47IST%45R is not REGISTER');
        if (m.name === 'bext01') {
          const uns = res.final.header('Unsupported');
          assert.match(uns, /nothingSupportsThis\b/, `Unsupported names the option-tags: ${uns}`);
          assert.match(uns, /nothingSupportsThisEither/, `Unsupported names the option-tags: ${uns}`);
        }
        if (m.name === 'invut' && res.final.status === 415)
          assert.match(res.final.header('Accept'), /application\/sdp/);
        assert.equal(gw.exitResult, undefined, `wtpfd still running after ${m.name}`);
        assert.equal((await options(m.name)).status, 200, `OPTIONS answered after ${m.name}`);
      });
    }

    test('after every message: the trunk still up, no call left, wtpfd exits 0 with no crash', async () => {
      assert.equal((await options('last')).status, 200);
      assert.equal(await gw.metric('wtpf_calls_active'), 0, 'no call left behind');
      assert.doesNotMatch(gw.log(), /P-CSCF \S+ failed/, 'the trunk kept its P-CSCF');
      const exit = await gw.stop(15000);
      assert.deepEqual(exit, { code: 0, signal: null }, `wtpfd exit; log tail:\n${gw.lines.slice(-40).join('\n')}`);
      assert.doesNotMatch(gw.log(), /segmentation|SIGSEGV|SIGABRT|abort|assertion|AddressSanitizer|core dumped/i);
      assert.match(gw.log(), /wtpfd stopped/);
    });
  });
}

// The IPv4 name servers of /etc/resolv.conf (what getaddrinfo asks).
function nameServers() {
  let text = '';
  try { text = fs.readFileSync('/etc/resolv.conf', 'utf8'); } catch (e) { /* none */ }
  return [...text.matchAll(/^nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]);
}

// True in a network namespace of our own (only lo), where this test may
// put the name servers' addresses on lo.
function isolated() {
  try {
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).trim().split('\n');
    return links.length === 1 && / lo: /.test(links[0]);
  } catch (e) {
    return false;
  }
}

// A response the trunk must send to a host given by name: RFC 3261 18.2.2
// sends it to the Via's maddr. A blocking look-up of that name would stop
// the gateway's one thread. Here the name servers of /etc/resolv.conf are
// played by sockets that never answer (and count the queries).
describe('W8: a request whose answer goes to a host by name does not stall the gateway', { timeout: 90000 }, () => {
  let gw, pcscf, trunkPort, dir;
  const added = [];
  const dns = [];
  let queries = 0;

  before(async () => {
    dir = outDir('torture-w8-dns');
    if (!isolated() || !nameServers().length) return;
    for (const ns of nameServers()) {
      try {
        execFileSync('ip', ['addr', 'add', `${ns}/32`, 'dev', 'lo'], { stdio: 'ignore' });
        added.push(ns);
      } catch (e) { /* already there (127.0.0.53...) */ }
      const s = dgram.createSocket('udp4');
      s.on('message', () => { queries++; });
      await new Promise((resolve, reject) => { s.once('error', reject); s.bind(53, ns, resolve); });
      dns.push(s);
    }
    ({ gw, pcscf, trunkPort } = await staticTrunkGateway(dir));
  });

  after(async () => {
    if (gw) {
      await gw.kill();   // SIGKILL: a stalled gateway does not see SIGTERM in time
      fs.writeFileSync(path.join(dir, 'wtpfd.log'), gw.log() + '\n');
    }
    for (const s of [pcscf, ...dns]) if (s) s.close();
    for (const ns of added) {
      try { execFileSync('ip', ['addr', 'del', `${ns}/32`, 'dev', 'lo'], { stdio: 'ignore' }); } catch (e) { /* gone */ }
    }
  });

  // One datagram naming a host for the answer must not freeze the gateway
  // (WebSocket edge, trunk, admin): Sofia's transport used to resolve the
  // name with a blocking getaddrinfo() (tport_resolve, from nta's response
  // path) in the gateway's one thread, about 40 s here for a name server
  // that does not answer. Static mode checks the source of INVITEs only, so
  // any host that reaches the trunk's port could do it. The gateway now
  // looks up no name at run time outside the asynchronous resolver: the
  // answer is not sent, a log line names the host, DNS is not asked, and
  // another client's OPTIONS is answered at once.
  const cases = [
    ['OPTIONS with a Via maddr naming a host whose DNS never answers', 'stall.example.org',
      (port) => [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=${branch()};maddr=stall.example.org`]],
    ['a SIP/7.0 request (RFC 4475 badvers) whose Via host is such a name', 'stall7.example.org',
      (port) => [`OPTIONS sip:127.0.0.1:${port} SIP/7.0`,
        `Via: SIP/7.0/UDP stall7.example.org:5999;branch=${branch()}`]],
  ];
  for (const [name, host, head] of cases) {
    test(name, async (t) => {
      if (!gw) return t.skip('needs a network namespace of its own with an IPv4 name server in /etc/resolv.conf');
      const mark = gw.lines.length;
      const asked = queries;
      const send = async (text) => {
        const s = dgram.createSocket('udp4');
        await new Promise((r) => s.bind(0, '127.0.0.1', r));
        s.send(text, trunkPort, '127.0.0.1');
        return s;
      };
      const poison = await send([...head(trunkPort), 'Max-Forwards: 70',
        `From: <sip:x@127.0.0.1>;tag=${rand(4)}`, `To: <sip:127.0.0.1:${trunkPort}>`, `Call-ID: maddr-${rand(6)}`,
        'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
      await sleep(50);
      const t0 = Date.now();
      const probe = dgram.createSocket('udp4');
      await new Promise((r) => probe.bind(0, '127.0.0.1', r));
      const answered = new Promise((resolve) => probe.on('message', () => resolve(Date.now() - t0)));
      probe.send([`OPTIONS sip:127.0.0.1:${trunkPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${probe.address().port};branch=${branch()};rport`, 'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1>;tag=${rand(4)}`, `To: <sip:127.0.0.1:${trunkPort}>`, `Call-ID: probe-${rand(6)}`,
        'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'), trunkPort, '127.0.0.1');
      const health = fetch(`http://127.0.0.1:${gw.adminPort}/health`).then(() => Date.now() - t0);
      const late = (p) => Promise.race([p, sleep(2000).then(() => null)]);
      const [ms, hms] = await Promise.all([late(answered), late(health)]);
      poison.close();
      probe.close();
      assert.ok(ms !== null && ms < 1000, `another client's OPTIONS answered at once (${ms === null ? 'not within 2 s' : `${ms} ms`})`);
      assert.ok(hms !== null && hms < 1000, `GET /health answered at once (${hms === null ? 'not within 2 s' : `${hms} ms`})`);
      await gw.waitLog(new RegExp(`w8 not sending to '${host.replace(/\./g, '\\.')}': a host name at run time`), 2000, mark);
      assert.equal(queries, asked, 'DNS was not asked for the name');
    });
  }
});

// The resident memory of process @p pid in KiB.
function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

// A backlog on one TCP connection from the P-CSCF. Sofia-SIP used to read
// all of it at once, then for every message it parsed copy the rest into
// a new buffer (O(n^2)) and keep a backlog-sized buffer behind the
// message: at 2,400 calls/s from SIPp over TCP the gateway grew by
// hundreds of MB a second and stopped answering. It now reads at most
// 16 KiB at a time and leaves the rest to TCP's flow control.
describe('W8: a backlog on a TCP connection is read 16 KiB at a time', { timeout: 60000 }, () => {
  const N = 4000;
  let gw, pcscf, trunkPort, dir;

  before(async () => {
    dir = outDir('torture-w8-backlog');
    ({ gw, pcscf, trunkPort } = await staticTrunkGateway(dir));
  });

  after(async () => {
    if (gw) {
      try { process.kill(gw.pid, 'SIGCONT'); } catch (e) { /* gone */ }
      await gw.kill();
      fs.writeFileSync(path.join(dir, 'wtpfd.log'), gw.log() + '\n');
    }
    if (pcscf) pcscf.close();
  });

  test(`${N} OPTIONS queued while the gateway is stopped: all answered, in bounded reads, no memory burst`, async () => {
    const c = net.connect(trunkPort, '127.0.0.1');
    await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
    const port = c.localPort;
    const callId = `backlog-${rand(6)}`;
    const seen = new Set();
    let text = '';
    let done;
    const all = new Promise((r) => { done = r; });
    c.on('data', (d) => {
      text += d.toString('latin1');
      const cut = text.lastIndexOf('SIP/2.0 ');
      for (const r of responses(text.slice(0, cut), 'tcp'))
        if (r.status === 200 && r.callId === callId) seen.add(r.header('CSeq'));
      text = text.slice(cut);
      if (seen.size === N - 1) done();
    });
    const reqs = [];
    for (let i = 1; i <= N; i++) {
      reqs.push([`OPTIONS sip:127.0.0.1:${trunkPort} SIP/2.0`,
        `Via: SIP/2.0/TCP 127.0.0.1:${port};branch=${branch()};rport`, 'Max-Forwards: 70',
        `From: <sip:p-cscf@127.0.0.1>;tag=${rand(4)}`, `To: <sip:127.0.0.1:${trunkPort}>`,
        `Call-ID: ${callId}`, `CSeq: ${i} OPTIONS`, 'Content-Length: 0', '', ''].join('\r\n'));
    }
    const before = rssKiB(gw.pid);
    process.kill(gw.pid, 'SIGSTOP');
    c.write(reqs.join(''));
    await sleep(300);     // the kernel takes what the window allows: a backlog
    process.kill(gw.pid, 'SIGCONT');
    const t0 = Date.now();
    const ok = await Promise.race([all.then(() => true), sleep(20000).then(() => false)]);
    // the last response's CSeq may sit in `text` (no later one to cut at)
    for (const r of responses(text, 'tcp')) if (r.status === 200 && r.callId === callId) seen.add(r.header('CSeq'));
    c.destroy();
    assert.ok(ok || seen.size === N, `every OPTIONS answered 200 (${seen.size} of ${N} in ${Date.now() - t0} ms)`);
    const bounded = await gw.metric('wtpf_trunk_reads_bounded_total');
    assert.ok(bounded > 0, `reads were bounded (wtpf_trunk_reads_bounded_total ${bounded})`);
    // (AddressSanitizer keeps up to 256 MB of freed memory in quarantine)
    const limit = process.env.ASAN_OPTIONS ? 512 * 1024 : 64 * 1024;
    const grew = rssKiB(gw.pid) - before;
    assert.ok(grew < limit, `the gateway grew by ${grew} KiB (at most ${limit})`);
    assert.equal((await fetch(`http://127.0.0.1:${gw.adminPort}/health`)).status, 200);
  });
});

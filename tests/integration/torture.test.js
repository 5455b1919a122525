// Hostile input on the WebSocket edge: every SIP torture message of RFC 4475
// section 3 (tests/data/torture, index.json says what each must get) sent
// as one WebSocket message, each on two fresh flows: one with no identity
// and one authenticated as alice at the handshake (so that valid requests
// get past the identity check to the registrar and the call core).
// Well-formed messages are answered (not 400), malformed ones refused with
// 400 or the flow closed with 1002, stray responses ignored; after each
// message an OPTIONS on a fresh flow still gets 200. The gateway runs under
// valgrind when it is installed (WTPF_TORTURE_VALGRIND=0 runs it bare), and
// must end with no invalid read or write, no crash, and exit 0.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const { startGateway, ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, request, branch } = require('./lib/sip');

const DATA = path.resolve(__dirname, '../data/torture');
const INDEX = JSON.parse(fs.readFileSync(path.join(DATA, 'index.json'), 'utf8'));

function haveValgrind() {
  if (process.env.WTPF_TORTURE_VALGRIND === '0') return false;
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return false;
  }
}
const VALGRIND = haveValgrind();
const T = VALGRIND ? 30000 : 5000;          // wait for one answer

// Known gateway bugs: these cases assert the correct behaviour and are
// reported as todo until the gateway is fixed. Keys: name or name/flow.
const TODO = {
  // BUG: a valid message (RFC 3261 token and quoted-pair syntax) closes the
  // flow with 1002 "not a SIP message": Sofia-SIP's parser, which
  // wic_sip_parse() (gateway/wic/wic_sip.c) relies on, refuses a '`' in the
  // method of the request line and stops at the NUL of the quoted-pair
  // "\<NUL>" in To, losing every header after it. Expected: an answer (405,
  // 501, or 403 on a flow with no identity), the flow kept.
  intmeth: 'Sofia-SIP refuses "`" in a method and a NUL quoted-pair: a valid request closes the flow (1002)',
};

const isUtf8 = (buf) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch (e) {
    return false;
  }
};

// The values of Call-ID (or i) in the head of a raw message.
function callIds(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  return [...head.matchAll(/^(?:call-id|i)[ \t]*:[ \t]*(.*)$/gim)].map((m) => m[1].trim());
}

// True when the outcome of one message is among the accepted ones.
function accepted(expect, res, anonValid) {
  for (const e of expect) {
    if (e === 'close' && res.closed && res.closed.code === 1002) return true;
    if (e === 'none' && !res.closed && !res.final) return true;
    if (e === 'handled' && res.final && ![400, 500].includes(res.final.status)) return true;
    if (typeof e === 'number' && res.final && res.final.status === e) return true;
  }
  return Boolean(anonValid && res.final && res.final.status === 403 &&
    res.final.reason === 'Not Registered On This Flow');
}

function describeResult(res) {
  if (res.closed) return `closed ${res.closed.code} "${res.closed.reason}"`;
  const got = res.messages.map((m) => m.startLine).join(' | ');
  return res.final ? got : `no final answer (${got || 'nothing'})`;
}

describe('RFC 4475 torture messages over the WebSocket edge', { timeout: VALGRIND ? 280000 : 120000 }, () => {
  let gw;
  let vglog;
  const open = [];

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-torture-'));
    vglog = path.join(dir, 'valgrind.log');
    gw = await startGateway({
      dir,
      wrapper: VALGRIND ? ['valgrind', '--error-exitcode=99', '--leak-check=full',
        '--errors-for-leak-kinds=definite', '--track-fds=no', `--log-file=${vglog}`] : [],
      startTimeoutMs: VALGRIND ? 90000 : 10000,
    });
  });

  after(async () => {
    for (const c of open) c.ws.terminate();
    await gw.kill();
    gw.cleanup();
  });

  async function flow(kind) {
    const query = kind === 'alice' ? `?access_token=${tok.hs256({ sub: 'alice' })}` : '';
    const c = await connect(gw.wsUrl, { origin: ORIGIN, query });
    open.push(c);
    return c;
  }

  // Sends buf on a fresh flow, then an OPTIONS on the same flow: the gateway
  // handles one flow's messages in order, so whatever the torture message
  // gets comes before the OPTIONS' 200 (or the flow is closed first).
  async function exchange(buf, kind, isRequest) {
    const c = await flow(kind);
    c.ws.send(buf, { binary: !isUtf8(buf) });
    const sb = branch();
    c.send(request({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: `sip:sync@${DOMAIN}`, branch: sb }));
    const isSync = (m) => m.status && (m.get('via') || '').includes(sb);
    const synced = await Promise.race([
      c.next(isSync, T).then(() => true),
      c.closed.then(() => false),
    ]);
    const mine = () => c.messages.filter((m) => !isSync(m));
    let final = mine().find((m) => m.status >= 200);
    // An INVITE may have had only its 100 Trying so far.
    if (synced && !final && isRequest && mine().some((m) => m.status < 200)) {
      final = await c.next((m) => m.status >= 200 && !isSync(m), T).catch(() => undefined);
    }
    const closed = c.ws.readyState === WebSocket.OPEN ? null
      : await Promise.race([c.closed, new Promise((r) => setTimeout(() => r({ code: 'none', reason: '' }), T))]);
    const res = { messages: mine(), final: closed ? undefined : final, closed };
    c.ws.terminate();
    return res;
  }

  async function stillAnswers(name) {
    assert.equal(gw.exitResult, undefined, `wtpfd still running after ${name}`);
    const c = await flow('anon');
    const r = await c.transact({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: `sip:probe@${DOMAIN}` }, T);
    assert.equal(r.status, 200, `OPTIONS on a fresh flow after ${name}`);
    c.ws.terminate();
  }

  test('the index lists every message file once', () => {
    const files = fs.readdirSync(DATA).filter((f) => f.endsWith('.sip')).sort();
    assert.deepEqual(INDEX.messages.map((m) => m.file).sort(), files);
    assert.ok(files.length >= 45, `${files.length} messages`);
    for (const m of INDEX.messages) {
      assert.match(m.section, /^3\.\d/, m.name);
      assert.ok(['valid', 'invalid'].includes(m.validity), m.name);
      assert.ok(m.gateway_must && m.expect.ws.length && m.expect.w8.length, m.name);
    }
  });

  for (const m of INDEX.messages) {
    const buf = fs.readFileSync(path.join(DATA, m.file));
    const isRequest = m.method !== 'response';
    for (const kind of ['anon', 'alice']) {
      const todo = TODO[`${m.name}/${kind}`] || TODO[m.name];
      test(`${m.section} ${m.name} (${m.validity}) on a flow ${kind === 'anon' ? 'with no identity' : 'of alice'}`,
        todo ? { todo } : {}, async () => {
          const mark = gw.mark();
          const res = await exchange(buf, kind, isRequest);
          const anonValid = kind === 'anon' && m.validity === 'valid' && isRequest && m.method !== 'REGISTER';
          assert.ok(accepted(m.expect.ws, res, anonValid),
            `${m.name}: expected ${JSON.stringify(m.expect.ws)} (${m.gateway_must}); got ${describeResult(res)}`);
          if (res.closed) {
            assert.deepEqual(res.messages.map((x) => x.startLine), [], 'nothing answered before the close');
            assert.ok(res.closed.reason.length > 0, 'the close names the problem');
            await gw.waitLog(/garbage on the flow \(.+\): closing/, T, mark);
          }
          if (res.final && res.final.status === 400)
            assert.ok(res.final.reason.length > 0, '400 with a reason phrase');
          if (!isRequest)
            assert.equal(res.final, undefined, 'a stray response gets no answer');

          // What some messages must get beyond the status.
          if (m.name === 'dblreq')
            assert.ok(!res.messages.some((x) => /977644900765/.test(x.get('call-id') || '') || x.cseqMethod === 'INVITE'),
              'the INVITE after the REGISTER\'s Content-Length is never processed');
          if (m.name === 'esc02' && res.final)
            assert.ok(![200, 401, 423].includes(res.final.status), 'RE%47IST%45R is not REGISTER');
          if (m.name === 'regaut01')
            assert.match(res.final.all('www-authenticate', false).join('\n'), /^Bearer realm="acme\.test"/m,
              'challenged with the schemes the gateway supports');
          if (m.name === 'bext01') {
            const uns = res.final.all('unsupported');
            assert.ok(uns.includes('nothingSupportsThis') && uns.includes('nothingSupportsThisEither'),
              `Unsupported names the Require option-tags: ${uns}`);
          }
          if (m.name === 'invut' && res.final.status === 415)
            assert.match(res.final.get('accept') || '', /application\/sdp/);
          if (['unkscm', 'novelsc'].includes(m.name))
            assert.equal(res.final.reason, 'Unsupported URI Scheme');

          await stillAnswers(m.name);
        });
    }
  }

  test('a request spread over many frames and followed by garbage: the gateway still answers', async () => {
    // The longest message in fragments, then the shortest garbage.
    const c = await flow('alice');
    const buf = fs.readFileSync(path.join(DATA, 'longreq.sip'));
    for (let i = 0; i < buf.length; i += 700)
      c.ws.send(buf.subarray(i, i + 700), { fin: i + 700 >= buf.length });
    const r = await c.next((x) => x.status >= 200, T);
    assert.notEqual(r.status, 400, `longreq in fragments: ${r.startLine}`);
    c.send('\u0000');
    const cl = await c.closed;
    assert.equal(cl.code, 1002);
    await stillAnswers('fragments');
  });

  test('after every message: no call left, wtpfd exits 0, no crash, no invalid memory access', async () => {
    await stillAnswers('all messages');
    assert.equal(await gw.metric('wtpf_calls_active'), 0, 'no call left behind');
    const exit = await gw.stop(VALGRIND ? 120000 : 10000);
    const report = VALGRIND ? fs.readFileSync(vglog, 'utf8') : '';
    assert.deepEqual(exit, { code: 0, signal: null },
      `wtpfd exit (99 = valgrind found errors); valgrind:\n${report}\nlog tail:\n${gw.lines.slice(-40).join('\n')}`);
    assert.doesNotMatch(gw.log(), /segmentation|SIGSEGV|SIGABRT|abort|assertion|AddressSanitizer|core dumped/i);
    assert.match(gw.log(), /wtpfd stopped/);
    if (VALGRIND) {
      assert.doesNotMatch(report, /Invalid (read|write|free)|uninitialised|Mismatched free/, report);
      assert.match(report, /ERROR SUMMARY: 0 errors/, report);
    }
  });
});

// Headless Chromium with JsSIP and fake media devices for the call tests:
// serves tests/calls/calls.html and the JsSIP bundle from 127.0.0.1 (the
// tenant's allowed Origin), launches /usr/bin/chromium with a fresh profile
// and the WebRTC-on-loopback flags, and gives small helpers around the page
// API (window.T, see calls.html).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { freePort } = require('../../integration/lib/gateway');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FILES = {
  '/': [path.resolve(__dirname, '../calls.html'), 'text/html'],
  '/jssip.bundle.min.js': [path.resolve(__dirname, '../../web/jssip.bundle.min.js'), 'text/javascript'],
};
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'];

// The page's Origin must be known before the gateway's config is written.
async function reserveOrigin() {
  const port = await freePort();
  return { port, origin: `http://127.0.0.1:${port}` };
}

// Chromium now and then never finishes starting (once in a full run, the
// whole test's time went by in launch): a launch gets 30 s, and a second
// try in a fresh profile.
async function launchChromium(userDataDir) {
  const opts = { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30000 };
  try {
    return await chromium.launchPersistentContext(userDataDir, opts);
  } catch (e) {
    if (!/timeout/i.test(String(e && e.message))) throw e;
    console.error(`# chromium did not start within 30 s; trying once more: ${e.message.split('\n')[0]}`);
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.mkdirSync(userDataDir);
    return chromium.launchPersistentContext(userDataDir, opts);
  }
}

async function launch({ port, origin }, outDir) {
  const server = http.createServer((req, res) => {
    const f = FILES[req.url];
    if (!f) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'Content-Type': f[1] });
    fs.createReadStream(f[0]).pipe(res);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-calls-chromium-'));
  const b = { server, userDataDir, consoleLines: [], pageErrors: [] };
  try {
    b.ctx = await launchChromium(userDataDir);
    b.page = b.ctx.pages()[0] || await b.ctx.newPage();
    b.page.on('console', (m) => {
      b.consoleLines.push(m.text());
      if (process.env.WTPF_TEST_VERBOSE) console.log('[page]', m.text());
    });
    b.page.on('pageerror', (e) => b.pageErrors.push(e.message));
    await b.page.goto(`${origin}/`);
  } catch (e) {
    await close(b, outDir);
    throw e;
  }
  return b;
}

async function close(b, outDir) {
  if (outDir) fs.writeFileSync(path.join(outDir, 'page-console.log'), b.consoleLines.join('\n') + '\n');
  if (b.ctx) await b.ctx.close().catch(() => {});
  b.server.close();
  fs.rmSync(b.userDataDir, { recursive: true, force: true });
}

// page.evaluate of window.T.<fn>(...args)
function T(b, fn, ...args) {
  return b.page.evaluate(([f, a]) => window.T[f](...a), [fn, args]);
}

// Waits until session `sid` has an event called `name`; returns its state.
async function waitEvent(b, sid, name, timeoutMs = 10000) {
  try {
    await b.page.waitForFunction(([s, n]) => window.T.has(s, n), [sid, name],
      { timeout: timeoutMs, polling: 50 });
  } catch (e) {
    const st = await T(b, 'state', sid).catch(() => null);
    throw new Error(`session ${sid}: no '${name}' event within ${timeoutMs} ms; events: ${
      st ? JSON.stringify(st.events.map((x) => ({ ...x, raw: undefined }))) : 'no session'}`);
  }
  return T(b, 'state', sid);
}

// Waits for the first incoming session of UA `key` numbered above `after`.
async function waitIncoming(b, key, after = -1, timeoutMs = 10000) {
  await b.page.waitForFunction(([k, a]) => window.T.incoming(k, a) >= 0, [key, after],
    { timeout: timeoutMs, polling: 50 });
  return T(b, 'incoming', key, after);
}

const eventOf = (st, name) => st.events.find((e) => e.name === name);

module.exports = { reserveOrigin, launch, close, T, waitEvent, waitIncoming, eventOf };

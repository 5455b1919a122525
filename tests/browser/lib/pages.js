// For the tests of the gateway's own pages (softphone, console): headless
// Chromium with a fresh profile, a fake microphone and WebRTC on loopback,
// the page's errors and console lines kept for the assertions, screenshots
// into the test output folder; and raw HTTP requests whose path goes out
// exactly as written (fetch() would resolve "..").
// Run inside `unshare -n` (see tests/integration/CMakeLists.txt).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = process.env.WTPF_TEST_OUTPUT || os.tmpdir();
// The pages as the repository holds them (web.root of the tests).
const WWW = path.resolve(__dirname, '../../../www');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'];

// Resolves with { ctx, page, pageErrors, consoleLines, dir }.
async function launch() {
  const b = { pageErrors: [], consoleLines: [],
    dir: fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-pages-chromium-')) };
  try {
    b.ctx = await chromium.launchPersistentContext(b.dir, {
      executablePath: CHROMIUM, headless: true, ignoreHTTPSErrors: true, args: ARGS,
      viewport: { width: 1200, height: 900 },
    });
    b.page = b.ctx.pages()[0] || await b.ctx.newPage();
    b.page.on('pageerror', (e) => b.pageErrors.push(e.message));
    b.page.on('console', (m) => {
      b.consoleLines.push(m.text());
      if (process.env.WTPF_TEST_VERBOSE) console.log('[page]', m.text());
    });
  } catch (e) {
    await close(b);
    throw e;
  }
  return b;
}

async function close(b) {
  if (b.ctx) await b.ctx.close().catch(() => {});
  fs.rmSync(b.dir, { recursive: true, force: true });
}

// A full-page screenshot as OUT/name.
function screenshot(page, name) {
  return page.screenshot({ path: path.join(OUT, name), fullPage: true });
}

// `method path` to 127.0.0.1:port, the path sent byte for byte; resolves
// with { status, type, headers, body }.
function rawRequest(port, rawPath, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'],
        headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

module.exports = { launch, close, screenshot, rawRequest, WWW, OUT };

// JsSIP in headless Chromium registers over wss with a Bearer token the test
// mints, then un-registers. The page and the JsSIP bundle come from a tiny
// HTTP server on 127.0.0.1 whose Origin the test configuration allows. Run
// inside a network namespace with only loopback (see CMakeLists.txt).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { startGateway, freePort, DOMAIN } = require('../integration/lib/gateway');
const tok = require('../integration/lib/tokens');
const { SipMessage } = require('../integration/lib/sip');

const WEB = path.resolve(__dirname, '../web');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = process.env.WTPF_TEST_OUTPUT || os.tmpdir();

function serve(port) {
  const files = {
    '/': ['register.html', 'text/html'],
    '/jssip.bundle.min.js': ['jssip.bundle.min.js', 'text/javascript'],
  };
  const server = http.createServer((req, res) => {
    const f = files[req.url];
    if (!f) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'Content-Type': f[1] });
    fs.createReadStream(path.join(WEB, f[0])).pipe(res);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

test('JsSIP in headless Chromium registers over wss with a Bearer token, then un-registers',
  { timeout: 120000 }, async () => {
    const httpPort = await freePort();
    const origin = `http://127.0.0.1:${httpPort}`;
    const gw = await startGateway({ tls: true, extraOrigins: [origin] });
    const server = await serve(httpPort);
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-chromium-'));
    let ctx;
    try {
      ctx = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        ignoreHTTPSErrors: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--ignore-certificate-errors'],
      });
      const page = ctx.pages()[0] || await ctx.newPage();
      const pageErrors = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => { if (process.env.WTPF_TEST_VERBOSE) console.log('[page]', m.text()); });
      await page.goto(`${origin}/`);
      assert.equal(await page.evaluate(() => typeof JsSIP.UA), 'function', 'the JsSIP bundle loaded');

      const user = 'chrome';
      const aor = `sip:${user}@${DOMAIN}`;
      const contact = 'sip:chrome-tab@browser.invalid;transport=ws';
      const instance = crypto.randomUUID();
      const mark = gw.mark();
      const reg = await page.evaluate((o) => window.startUA(o), {
        ws: gw.wssUrl, uri: aor, contact_uri: contact, instance_id: instance,
        authorization_jwt: `Bearer ${tok.hs256({ sub: user })}`,
      });
      assert.equal(reg.ok, true, `registration: ${JSON.stringify(reg)}\nwtpfd log:\n${gw.log()}`);
      assert.equal(reg.status, 200);
      const m = new SipMessage(reg.data.replace(/\r?\n/g, '\r\n'));
      const mine = m.all('contact').filter((c) => c.startsWith(`<${contact}>`));
      assert.equal(mine.length, 1, `the browser's Contact in the 200: ${m.all('contact')}`);
      assert.match(mine[0], /;expires=600\b/);
      assert.match(mine[0], new RegExp(`\\+sip\\.instance="<urn:uuid:${instance}>"`));
      assert.equal(m.get('p-associated-uri'), `<${aor}>`);
      // It came over TLS from the page's Origin.
      await gw.waitLog(new RegExp(`flow open peer=127\\.0\\.0\\.1 tls=1 origin="${origin.replace(/[.:/]/g, '\\$&')}"`),
        2000, mark);
      await gw.waitLog(/REGISTER aor=sip:chrome@acme\.test contacts=1 -> 200 bindings=1/, 2000, mark);

      await page.screenshot({ path: path.join(OUT, 'browser-register.png'), fullPage: true });

      const un = await page.evaluate(() => window.unregisterUA());
      assert.equal(un.ok, true, `un-register: ${JSON.stringify(un)}`);
      assert.equal(un.status, 200);
      const left = new SipMessage(un.data.replace(/\r?\n/g, '\r\n')).all('contact');
      assert.equal(left.filter((c) => c.startsWith(`<${contact}>`)).length, 0, 'binding gone');
      await gw.waitLog(/binding removed aor=sip:chrome@acme\.test contact=browser\.invalid: un-registered/, 2000, mark);
      await page.screenshot({ path: path.join(OUT, 'browser-unregister.png'), fullPage: true });
      await page.evaluate(() => window.stopUA());
      assert.deepEqual(pageErrors, [], 'no JavaScript errors in the page');
    } finally {
      if (ctx) await ctx.close();
      server.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
      const r = await gw.stop();
      gw.cleanup();
      assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
    }
  });

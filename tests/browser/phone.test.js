// The softphone page (www/phone/), served by the gateway itself on its ws
// listener next to the SIP WebSocket, driven in headless Chromium: a wrong
// password, then registration with the number the gateway assigns, a call
// to an IMS user, a call from one. The call test bed of tests/calls:
// Kamailio as the P-CSCF (GIN trunk, media anchored at rtpengine), SIPp as
// the IMS users, all on loopback in the test's own network namespace.
// Assertions read what the page shows; screenshots phone-*.png go to the
// test output folder.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { addUser, freePort } = require('../integration/lib/gateway');
const { startStack, stopStack, outDir, DOMAIN } = require('../calls/lib/env');
const { imsUas, imsUac } = require('../calls/lib/bed');
const { launch, close, screenshot, rawRequest, WWW } = require('./lib/pages');

const RANGE = '+4930123400100-+4930123400199';
const FIRST = '+4930123400100';            // what sequential allocation hands out first
const PASSWORD = 'bob-secret-password';
const IMS_USER = '+4940555000301';

let stack, gw, bed, b, origin;

// ---- what the page shows --------------------------------------------------

const stateOf = (page) => page.$eval('#state', (e) => ({ state: e.dataset.state, text: e.textContent }));
const activity = (page) => page.$$eval('#activity li', (lis) => lis.map((li) => li.textContent).reverse().join('\n'));
// The states the page went through, oldest first.
const statesSeen = (page) => page.$$eval('#activity li[data-state]', (lis) => lis.map((li) => li.dataset.state).reverse());
const visible = (page, sel) => page.$eval(sel, (e) => !e.hidden && e.offsetParent !== null);

async function waitState(page, state, timeoutMs = 10000) {
  try {
    await page.waitForFunction((s) => document.getElementById('state').dataset.state === s, state,
      { timeout: timeoutMs, polling: 50 });
  } catch (e) {
    const now = await stateOf(page);
    throw new Error(`the page never showed '${state}'; it shows "${now.text}"\nactivity:\n${await activity(page)}`);
  }
  return (await stateOf(page)).text;
}

async function signIn(page, identity, password) {
  await page.fill('#identity', identity);
  await page.check('input[name="auth"][value="password"]');
  await page.fill('#password', password);
  await page.click('#login-btn');
}

// ---- the bed ----------------------------------------------------------------

describe('softphone page served by the gateway', { timeout: 90000 }, () => {
  before(async () => {
    const dir = outDir('phone');
    stack = await startStack(dir, { media: true, defines: ['WITH_AUTH', 'WITH_GIN', 'WITH_RTPENGINE'],
      tenant: { allow_digest: true, ranges: [RANGE] } });
    gw = stack.gw;
    addUser(gw.confPath, 'acme', 'bob', PASSWORD);
    // The page comes from the gateway's own ws listener: serve www/ and
    // allow that listener as an Origin (a reload applies both).
    origin = `http://127.0.0.1:${gw.wsPort}`;
    gw.config.web = { root: WWW };
    gw.config.tenants[0].origins.push(origin);
    gw.writeConfig();
    assert.match(await gw.reload(), /configuration reloaded/);
    bed = { dir, imsPort: 5080, mp: 6100, kam: stack.kam };
    b = await launch();
  });

  after(async () => {
    if (b) await close(b);
    if (stack) {
      const r = await stopStack(stack);
      assert.deepEqual(r, { code: 0, signal: null }, 'wtpfd exits 0');
    }
  });

  test('the page, its script and JsSIP come from the ws listener; nothing outside the web root', async () => {
    assert.ok(fs.existsSync(path.join(WWW, 'vendor/jssip.min.js')),
      'www/vendor/jssip.min.js is there (scripts/deps --web puts it there)');
    const page = await rawRequest(gw.wsPort, '/phone/');
    assert.equal(page.status, 200);
    assert.equal(page.type, 'text/html; charset=utf-8');
    assert.match(page.body, /<output id="state"/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(page.headers['content-security-policy'], /default-src 'self'/);
    for (const [p, type] of [['/phone/phone.js', 'text/javascript; charset=utf-8'],
      ['/phone/phone.css', 'text/css; charset=utf-8'], ['/phone/index.html', 'text/html; charset=utf-8'],
      ['/vendor/jssip.min.js', 'text/javascript; charset=utf-8']]) {
      const r = await rawRequest(gw.wsPort, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.type, type, p);
    }
    for (const p of ['/', '/phone']) {
      const r = await rawRequest(gw.wsPort, p);
      assert.equal(r.status, 302, p);
      assert.match(r.headers.location, /\/phone\/$/, p);
    }
    // Not there, not served here (the console is the admin listener's),
    // and every way out of the web root: 404 (or 403); libwebsockets
    // itself hangs up on a NUL in the path.
    for (const p of ['/phone/nope.html', '/phone/missing/', '/vendor/', '/console/', '/console/console.js',
      '/etc/passwd', '/phone/../../etc/passwd', '/phone/../../../../../../etc/passwd',
      '/phone/%2e%2e/%2e%2e/etc/passwd', '/phone/..%2f..%2f..%2fetc%2fpasswd', '/vendor/../../conf/wtpf.conf',
      '//etc/passwd', '/phone/.hidden', '/phone/phone.js%00.html']) {
      const r = await rawRequest(gw.wsPort, p).catch((e) => ({ status: e.code, body: '' }));
      assert.ok([403, 404].includes(r.status) || (p.includes('%00') && r.status === 'ECONNRESET'),
        `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, /root:|tenants|'use strict'/, `${p}: no file content`);
    }
    assert.equal((await rawRequest(gw.wsPort, '/phone/', 'POST')).status, 405);
  });

  test('no WebSocket there, then a wrong password: the page shows each refusal', async () => {
    const { page } = b;
    await page.goto(`${origin}/phone/`);
    const own = `ws://127.0.0.1:${gw.wsPort}`;
    assert.equal(await page.inputValue('#server'), own,
      'the server defaults to the WebSocket of the page\'s own origin');
    assert.equal((await stateOf(page)).state, 'logged-out');
    const nowhere = `ws://127.0.0.1:${await freePort()}`;
    await page.fill('#server', nowhere);
    await signIn(page, `sip:bob@${DOMAIN}`, PASSWORD);
    assert.match(await waitState(page, 'error'),
      new RegExp(`^error: cannot connect to ${nowhere.replace(/[.:/]/g, '\\$&')}: the WebSocket was refused`));
    await screenshot(page, 'phone-no-websocket.png');

    await page.fill('#server', own);
    await signIn(page, `sip:bob@${DOMAIN}`, 'not-the-password');
    const text = await waitState(page, 'error');
    assert.match(text, /^error: registration refused: 40[13] /, text);
    assert.equal(await visible(page, '#login-btn'), true, 'the user can try again');
    await screenshot(page, 'phone-error.png');
  });

  test('the right password: registered, with the number the gateway assigned', async () => {
    const { page } = b;
    const mark = gw.mark();
    await signIn(page, `sip:bob@${DOMAIN}`, PASSWORD);
    assert.equal(await waitState(page, 'registered'), 'registered');
    assert.equal(await page.textContent('#number'), FIRST, 'the number from P-Associated-URI');
    assert.equal(await page.textContent('#aor'), `sip:bob@${DOMAIN}`);
    assert.deepEqual((await statesSeen(page)).slice(-2), ['connecting', 'registered']);
    // over this listener, from the page's origin
    await gw.waitLog(new RegExp(`flow open peer=127\\.0\\.0\\.1 tls=0 origin="${origin.replace(/[.:/]/g, '\\$&')}"`),
      2000, mark);
    assert.equal(await page.isDisabled('#call-btn'), false, 'Call is enabled');
    await screenshot(page, 'phone-registered.png');
  });

  test('a call to an IMS user: calling, ringing, in call; hung up from the page', async () => {
    const { page } = b;
    const uas = await imsUas(bed, { user: IMS_USER, scenario: 'uas_answer.xml', args: ['-rtp_echo'] });
    await page.fill('#target', IMS_USER);
    await page.click('#call-btn');
    assert.equal(await waitState(page, 'in-call', 15000), 'in call');
    const seen = await statesSeen(page);
    const i = seen.lastIndexOf('calling');
    assert.ok(i >= 0, `the page showed "calling": ${seen}`);
    assert.deepEqual(seen.slice(i), ['calling', 'ringing', 'in-call'], `states of the call: ${seen}`);
    assert.equal(await visible(page, '#hangup-btn'), true);
    assert.equal(await visible(page, '#call-btn'), false);
    await page.waitForFunction(() => {
      const s = document.getElementById('remote-audio').srcObject;
      return s && s.getAudioTracks().length > 0;
    }, null, { timeout: 5000 });
    await screenshot(page, 'phone-in-call.png');

    await page.click('#hangup-btn');
    assert.equal(await waitState(page, 'registered'), 'registered');
    assert.equal(await page.textContent('#call-info'), 'call ended');
    assert.equal(await uas.done(10000), 0, `SIPp saw INVITE, ACK, BYE: ${uas.describe()}`);
    assert.ok(uas.received().some((m) => /^BYE /.test(m.text)), 'the BYE reached IMS');
  });

  test('a call from IMS: ringing with Answer, in call, the caller hangs up', async () => {
    const { page } = b;
    const uac = imsUac(bed, { number: FIRST, scenario: 'uac_bye.xml', args: ['-rtp_echo', '-d', '3000'] });
    assert.equal(await waitState(page, 'ringing', 15000), 'ringing');
    assert.equal(await visible(page, '#answer-btn'), true, 'Answer is shown');
    assert.equal(await visible(page, '#decline-btn'), true, 'Decline is shown');
    assert.equal(await visible(page, '#incoming'), true);
    assert.match(await page.textContent('#caller'), /\+4940999000/, 'the caller\'s number');
    await screenshot(page, 'phone-incoming.png');

    await page.click('#answer-btn');
    assert.equal(await waitState(page, 'in-call'), 'in call');
    assert.equal(await visible(page, '#answer-btn'), false);
    await screenshot(page, 'phone-answered.png');
    assert.equal(await waitState(page, 'registered', 10000), 'registered');
    assert.equal(await page.textContent('#call-info'), 'call ended by the other side');
    assert.equal(await uac.done(10000), 0, `SIPp got 200, sent ACK and BYE, got 200: ${uac.describe()}`);
    assert.deepEqual(b.pageErrors, [], 'no JavaScript errors in the page');
  });
});

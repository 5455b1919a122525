// WIC authentication and registrar, end to end: JsSIP in Node (and a raw
// WebSocket client where JsSIP cannot say it) against a real wtpfd.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { startGateway, addUser, ORIGIN, CLOSED_ORIGIN, DOMAIN, CLOSED_DOMAIN, ISS } =
  require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect, SipMessage } = require('./lib/sip');
const J = require(path.join(__dirname, '../web/lib/jssip-node.js'));

const aor = (user, domain = DOMAIN) => `sip:${user}@${domain}`;
const uuid = () => crypto.randomUUID();
const param = (contact, name) => {
  const m = new RegExp(`;${name.replace(/[+.]/g, '\\$&')}=("[^"]*"|[^;]*)`, 'i').exec(contact);
  return m ? m[1] : undefined;
};
const contactsOf = (res) => new SipMessage(res.data || res.raw).all('contact');
const withUri = (contacts, uri) => contacts.filter((c) => c.startsWith(`<${uri}>`) ||
                                                         c.startsWith(`<${uri};`));

// The 401 challenges of a response, by scheme and algorithm.
function challenges(m) {
  return m.all('www-authenticate', false).map((v) => ({
    raw: v,
    scheme: v.split(/\s+/)[0],
    realm: (/realm="([^"]*)"/.exec(v) || [])[1],
    algorithm: (/algorithm=("?)([A-Za-z0-9-]+)\1/.exec(v) || [])[2],
    error: (/error="([^"]*)"/.exec(v) || [])[1],
    nonce: (/nonce="([^"]*)"/.exec(v) || [])[1],
    qop: (/qop="([^"]*)"/.exec(v) || [])[1],
  }));
}

describe('WIC registration (RFC 3261, RFC 5626, RFC 8898, TS 24.371)', { timeout: 80000 }, () => {
  let gw;
  const uas = [];
  const clients = [];

  before(async () => {
    gw = await startGateway();
  });

  after(async () => {
    await Promise.all(uas.map((ua) => J.stop(ua)));
    for (const c of clients) c.ws.terminate();
    const r = await gw.stop();
    assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
    assert.doesNotMatch(gw.log(), /\berror\b/, 'no error lines in the log');
    gw.cleanup();
  });

  // JsSIP registration with the file's defaults; keeps the UA for after().
  async function jreg(o) {
    const r = await J.register({ ws: gw.wsUrl, origin: ORIGIN, ...o });
    uas.push(r.ua);
    return r;
  }

  async function raw(o = {}) {
    const c = await connect(o.url || gw.wsUrl, { origin: o.origin || ORIGIN, ...o });
    clients.push(c);
    return c;
  }

  // A REGISTER over a raw client; o.token adds `Authorization: Bearer`.
  function rawRegister(c, o) {
    const headers = { ...(o.headers || {}) };
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    if (o.contact) headers.Contact = o.contact;
    if (o.expires !== undefined) headers.Expires = String(o.expires);
    return c.transact({
      method: 'REGISTER', uri: `sip:${o.domain || DOMAIN}`, from: o.aor,
      callId: o.callId, cseq: o.cseq, headers,
    });
  }

  // The bindings of user's AOR, as a second authenticated client sees them
  // with a query REGISTER (no Contact).
  async function query(user, domain = DOMAIN) {
    const c = await raw();
    const token = tok.hs256({ sub: user });
    const r = await rawRegister(c, { aor: aor(user, domain), token });
    assert.equal(r.status, 200, `query REGISTER: ${r.startLine}`);
    c.ws.terminate();
    return r.all('contact');
  }

  test('1. HS256 Bearer token (JsSIP authorization_jwt): 200 lists the Contact with expires and P-Associated-URI', async () => {
    const instance = uuid();
    const contact = 'sip:alice-dev1@dev1.invalid;transport=ws';
    const mark = gw.mark();
    const r = await jreg({
      uri: aor('alice'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'alice' })}`,
      instance, contact_uri: contact, expires: 600,
    });
    assert.equal(r.ok, true, `registration failed: ${r.status} ${r.reason || r.cause}`);
    assert.equal(r.status, 200);
    const sent = r.socket.sent.find((s) => s.startsWith('REGISTER '));
    assert.match(sent, /\r\nAuthorization: Bearer eyJ/, 'JsSIP sent the token');
    const m = new SipMessage(r.response.data);
    const mine = withUri(m.all('contact'), contact);
    assert.equal(mine.length, 1, `own Contact in the 200: ${m.all('contact')}`);
    assert.equal(param(mine[0], 'expires'), '600');
    assert.equal(param(mine[0], '+sip.instance'), `"<urn:uuid:${instance}>"`);
    assert.equal(param(mine[0], 'reg-id'), '1');
    assert.equal(m.get('p-associated-uri'), `<${aor('alice')}>`);
    assert.equal(m.get('require'), 'outbound', 'RFC 5626: Require: outbound when the flow is used');
    await gw.waitLog(/reg conn=\d+ REGISTER aor=sip:alice@acme\.test contacts=1 -> 200 bindings=1/, 2000, mark);
  });

  test('1c. a binding never outlives its token: expires is cut to the token lifetime', async () => {
    const contact = 'sip:alice-short@short.invalid;transport=ws';
    const r = await jreg({
      uri: aor('alice'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'alice', exp: tok.now() + 120 })}`,
      instance: uuid(), contact_uri: contact, expires: 600,
    });
    assert.equal(r.ok, true, `registration failed: ${r.status} ${r.reason || r.cause}`);
    const mine = withUri(new SipMessage(r.response.data).all('contact'), contact);
    assert.equal(mine.length, 1);
    const granted = Number(param(mine[0], 'expires'));
    assert.ok(granted <= 120 && granted >= 110, `expires ${granted} is within the token's 120 s`);
  });

  test('1b. a token from `wtpfd token` (the demo issuer) registers JsSIP', async () => {
    const out = execFileSync(process.env.WTPFD, ['token', '-c', gw.confPath, '-t', 'acme', '-s', 'tess', '-l', '600'],
      { encoding: 'utf8' }).trim();
    assert.match(out, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    const claims = JSON.parse(Buffer.from(out.split('.')[1], 'base64url'));
    assert.equal(claims.sub, 'tess');
    assert.equal(claims.iss, ISS.hs);
    assert.ok(claims.exp - claims.iat === 600, 'TTL honoured');
    const r = await jreg({ uri: aor('tess'), authorization_jwt: `Bearer ${out}`,
      contact_uri: 'sip:tess@cli.invalid;transport=ws' });
    assert.equal(r.status, 200, `${r.status} ${r.reason || r.cause}`);
  });

  test('2. TS 24.371 form: Authorization: Bearer access_token="<jwt>"', async () => {
    const contact = 'sip:bea@dev.invalid;transport=ws';
    const r = await jreg({
      uri: aor('bea'), authorization_jwt: `Bearer access_token="${tok.hs256({ sub: 'bea' })}"`,
      contact_uri: contact,
    });
    assert.equal(r.ok, true, `registration failed: ${r.status} ${r.reason || r.cause}`);
    assert.equal(r.status, 200);
    assert.match(r.socket.sent.find((s) => s.startsWith('REGISTER ')),
      /\r\nAuthorization: Bearer access_token="eyJ[^"]+"\r\n/);
    assert.equal(withUri(contactsOf(r.response), contact).length, 1);
    // The parameter is really read: a broken token in it is refused.
    const c = await raw();
    const bad = await rawRegister(c, {
      aor: aor('bea'), contact: `<${contact}>`,
      headers: { Authorization: `Bearer access_token="${tok.tamper(tok.hs256({ sub: 'bea' }))}"` },
    });
    assert.equal(bad.status, 401);
    assert.match(bad.get('www-authenticate'), /error="invalid_token"/);
  });

  test('3. ES256 token checked with a PEM key, RS256 with a JWKS key chosen by kid', async () => {
    const es = await jreg({ uri: aor('cesar'), authorization_jwt: `Bearer ${tok.es256({ sub: 'cesar' })}`,
      contact_uri: 'sip:cesar@es.invalid;transport=ws' });
    assert.equal(es.status, 200, `ES256: ${es.status} ${es.reason || es.cause}`);
    assert.equal(withUri(contactsOf(es.response), 'sip:cesar@es.invalid;transport=ws').length, 1);
    const rs = await jreg({ uri: aor('rosa'), authorization_jwt: `Bearer ${tok.rs256({ sub: 'rosa' })}`,
      contact_uri: 'sip:rosa@rs.invalid;transport=ws' });
    assert.equal(rs.status, 200, `RS256: ${rs.status} ${rs.reason || rs.cause}`);
    // An audience list that contains ours is accepted too.
    const multi = await jreg({ uri: aor('rosa'), authorization_jwt: `Bearer ${tok.rs256({ sub: 'rosa', aud: ['other', 'wtpf'] })}`,
      contact_uri: 'sip:rosa@aud.invalid;transport=ws' });
    assert.equal(multi.status, 200, `aud list: ${multi.status} ${multi.reason || multi.cause}`);
    assert.equal(withUri(contactsOf(rs.response), 'sip:rosa@rs.invalid;transport=ws').length, 1);

    // Negative controls: the same issuers with the wrong key are refused.
    const c = await raw();
    const mark = gw.mark();
    const otherEc = await rawRegister(c, { aor: aor('cesar'), token: tok.es256({ sub: 'cesar' }, tok.KEYS.ec2),
      contact: '<sip:cesar@x.invalid;transport=ws>' });
    assert.equal(otherEc.status, 401, 'ES256 signed by a key the issuer does not have');
    const unknownKid = await rawRegister(c, { aor: aor('rosa'), token: tok.rs256({ sub: 'rosa' }, 'rsa-9'),
      contact: '<sip:rosa@x.invalid;transport=ws>' });
    assert.equal(unknownKid.status, 401, 'RS256 with a kid not in the JWKS');
    await gw.waitLog(/bearer token refused/, 2000, mark);
  });

  test('4a. token at the handshake (?access_token=): REGISTER without Authorization gets 200', async () => {
    const token = tok.hs256({ sub: 'hank' });
    const mark = gw.mark();
    const r = await jreg({ ws: `${gw.wsUrl}/?access_token=${token}`, uri: aor('hank'),
      contact_uri: 'sip:hank@q.invalid;transport=ws' });
    assert.equal(r.ok, true, `registration failed: ${r.status} ${r.reason || r.cause}`);
    const sent = r.socket.sent.filter((s) => s.startsWith('REGISTER '));
    assert.equal(sent.length, 1, 'one REGISTER, no challenge round');
    assert.doesNotMatch(sent[0], /\r\nAuthorization:/i);
    assert.equal(withUri(contactsOf(r.response), 'sip:hank@q.invalid;transport=ws').length, 1);
    await gw.waitLog(/flow open .* identity=sip:hank@acme\.test/, 2000, mark);
  });

  test('4b. token at the handshake (Authorization: Bearer on the upgrade): covers its AOR only', async () => {
    const token = tok.hs256({ sub: 'ivy' });
    const c = await raw({ headers: { Authorization: `Bearer ${token}` } });
    const ok = await rawRegister(c, { aor: aor('ivy'), contact: '<sip:ivy@h.invalid;transport=ws>', expires: 300 });
    assert.equal(ok.status, 200, ok.startLine);
    assert.equal(withUri(ok.all('contact'), 'sip:ivy@h.invalid;transport=ws').length, 1);
    assert.equal(ok.get('p-associated-uri'), `<${aor('ivy')}>`);
    const other = await rawRegister(c, { aor: aor('ivan'), contact: '<sip:ivan@h.invalid;transport=ws>' });
    assert.equal(other.status, 403, 'the handshake identity does not cover another AOR');
    // A flow without a handshake token is challenged.
    const plain = await raw();
    const no = await rawRegister(plain, { aor: aor('ivy'), contact: '<sip:ivy@h2.invalid;transport=ws>' });
    assert.equal(no.status, 401);
  });

  test('5. digest: user added with `wtpfd user add`; 401 offers SHA-256 and MD5; JsSIP registers; wrong password 403', async () => {
    const out = addUser(gw.confPath, 'acme', 'carol', 'c4rol-Pass!');
    assert.match(out, /user carol added to tenant acme \(realm acme\.test\)/);

    const r = await jreg({ uri: aor('carol'), password: 'c4rol-Pass!',
      contact_uri: 'sip:carol@d.invalid;transport=ws' });
    assert.equal(r.ok, true, `digest registration failed: ${r.status} ${r.reason || r.cause}`);
    assert.equal(r.status, 200);
    const got = r.socket.received.map((t) => new SipMessage(t)).filter((m) => m.cseqMethod === 'REGISTER');
    assert.equal(got[0].status, 401, 'first answer is the challenge');
    const ch = challenges(got[0]);
    const digest = ch.filter((x) => x.scheme === 'Digest');
    assert.deepEqual(digest.map((x) => x.algorithm), ['SHA-256', 'MD5'], 'SHA-256 preferred, MD5 offered');
    for (const d of digest) {
      assert.equal(d.realm, DOMAIN);
      assert.equal(d.qop, 'auth');
      assert.ok(d.nonce && d.nonce.length >= 16, 'a nonce');
    }
    assert.equal(got[1].status, 200);
    const sent = r.socket.sent.filter((s) => s.startsWith('REGISTER '));
    assert.match(sent[1], /Authorization: Digest .*username="carol"/);
    assert.equal(withUri(contactsOf(r.response), 'sip:carol@d.invalid;transport=ws').length, 1);

    const wrong = await jreg({ uri: aor('carol'), password: 'not-her-password',
      contact_uri: 'sip:carol@w.invalid;transport=ws' });
    assert.equal(wrong.ok, false);
    assert.equal(wrong.status, 403, `wrong password: ${wrong.status} ${wrong.reason || wrong.cause}`);
    const unknown = await jreg({ uri: aor('nobody'), password: 'whatever',
      contact_uri: 'sip:nobody@w.invalid;transport=ws' });
    assert.equal(unknown.status, 403, 'unknown user');
    await gw.waitLog(/digest refused user=carol/, 2000);
    assert.equal(withUri(await query('carol'), 'sip:carol@w.invalid;transport=ws').length, 0,
      'the refused REGISTER made no binding');
  });

  test('5a. `wtpfd user add` reading the password from stdin, and `wtpfd user del`', async () => {
    const add = execFileSync(process.env.WTPFD, ['user', 'add', '-c', gw.confPath, 'acme', 'dora', '-'],
      { input: 'd0ra-stdin\n', encoding: 'utf8' });
    assert.match(add, /user dora added/);
    const ok = await jreg({ uri: aor('dora'), password: 'd0ra-stdin', contact_uri: 'sip:dora@s.invalid;transport=ws' });
    assert.equal(ok.status, 200, `${ok.status} ${ok.reason || ok.cause}`);
    const del = execFileSync(process.env.WTPFD, ['user', 'del', '-c', gw.confPath, 'acme', 'dora'], { encoding: 'utf8' });
    assert.match(del, /user dora deleted/);
    const gone = await jreg({ uri: aor('dora'), password: 'd0ra-stdin', contact_uri: 'sip:dora@t.invalid;transport=ws' });
    assert.equal(gone.status, 403, 'a deleted user cannot register any more');
  });

  test('5b. digest with SHA-256 (RFC 7616/8760) computed by a raw client', async () => {
    addUser(gw.confPath, 'acme', 'sha', 'sha-pass');
    const c = await raw();
    const contact = '<sip:sha@raw.invalid;transport=ws>';
    const callId = `sha-${uuid()}`;
    const r1 = await rawRegister(c, { aor: aor('sha'), contact, callId, cseq: 1 });
    assert.equal(r1.status, 401);
    const ch = challenges(r1).find((x) => x.scheme === 'Digest' && x.algorithm === 'SHA-256');
    assert.ok(ch, 'a SHA-256 challenge');
    const H = (s) => crypto.createHash('sha256').update(s).digest('hex');
    const uri = `sip:${DOMAIN}`;
    const cnonce = crypto.randomBytes(8).toString('hex');
    const ha1 = H(`sha:${ch.realm}:sha-pass`);
    const resp = H(`${ha1}:${ch.nonce}:00000001:${cnonce}:auth:${H(`REGISTER:${uri}`)}`);
    const auth = `Digest username="sha", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", ` +
      `response="${resp}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="${cnonce}"`;
    const r2 = await rawRegister(c, { aor: aor('sha'), contact, callId, cseq: 2, headers: { Authorization: auth } });
    assert.equal(r2.status, 200, r2.startLine);
    assert.equal(withUri(r2.all('contact'), 'sip:sha@raw.invalid;transport=ws').length, 1);
    // The same credentials replayed (same nonce and nc) are not accepted.
    const r3 = await rawRegister(c, { aor: aor('sha'), contact, callId, cseq: 3, headers: { Authorization: auth } });
    assert.notEqual(r3.status, 200, 'replayed nonce count refused');
  });

  test('6. refresh on the same flow renews expires and keeps one binding', async () => {
    const contact = 'sip:dave@r.invalid;transport=ws';
    const r = await jreg({ uri: aor('dave'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'dave' })}`,
      contact_uri: contact, expires: 600 });
    assert.equal(r.status, 200);
    await new Promise((res) => setTimeout(res, 2200));
    const before = withUri(await query('dave'), contact);
    assert.equal(before.length, 1);
    const left = Number(param(before[0], 'expires'));
    assert.ok(left <= 598 && left >= 590, `expires counts down (${left})`);
    const again = await J.refresh(r.ua, r.socket);
    assert.equal(again.status, 200, `refresh: ${again.status} ${again.cause}`);
    const regs = r.socket.sent.filter((s) => s.startsWith('REGISTER '));
    const callIds = regs.map((s) => /\r\nCall-ID: (\S+)/i.exec(s)[1]);
    assert.equal(new Set(callIds).size, 1, 'the refresh reused the Call-ID');
    const all = contactsOf(again.response);
    assert.equal(all.length, 1, `one binding after the refresh: ${all}`);
    assert.equal(param(withUri(all, contact)[0], 'expires'), '600', 'expires renewed');
    const after = withUri(await query('dave'), contact);
    assert.equal(after.length, 1);
    assert.ok(Number(param(after[0], 'expires')) >= 599);
  });

  test('8. two devices of one user: the 200 of the second lists both Contacts', async () => {
    const a = await jreg({ uri: aor('frank'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'frank' })}`,
      instance: uuid(), contact_uri: 'sip:frank@laptop.invalid;transport=ws', expires: 300 });
    assert.equal(a.status, 200);
    const b = await jreg({ uri: aor('frank'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'frank' })}`,
      instance: uuid(), contact_uri: 'sip:frank@phone.invalid;transport=ws', expires: 900 });
    assert.equal(b.status, 200);
    const list = contactsOf(b.response);
    assert.equal(list.length, 2, `both bindings: ${list}`);
    const laptop = withUri(list, 'sip:frank@laptop.invalid;transport=ws');
    const phone = withUri(list, 'sip:frank@phone.invalid;transport=ws');
    assert.equal(laptop.length, 1);
    assert.equal(phone.length, 1);
    // Each Contact carries its own binding's remaining time.
    const left = Number(param(laptop[0], 'expires'));
    assert.ok(left <= 300 && left >= 295, `laptop expires ${left}`);
    assert.equal(param(phone[0], 'expires'), '900');
    // The laptop's refresh answer tells the laptop its own time, not the phone's.
    const again = await J.refresh(a.ua, a.socket);
    assert.equal(again.status, 200);
    const mine = withUri(contactsOf(again.response), 'sip:frank@laptop.invalid;transport=ws');
    assert.equal(param(mine[0], 'expires'), '300');
    assert.equal((await query('frank')).length, 2);
  });

  test('7. un-register removes only that binding', async () => {
    const keep = 'sip:erin@keep.invalid;transport=ws';
    const gone = 'sip:erin@gone.invalid;transport=ws';
    const a = await jreg({ uri: aor('erin'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'erin' })}`,
      instance: uuid(), contact_uri: keep });
    const b = await jreg({ uri: aor('erin'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'erin' })}`,
      instance: uuid(), contact_uri: gone });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal((await query('erin')).length, 2);
    const mark = gw.mark();
    const u = await J.unregister(b.ua);
    assert.equal(u.status, 200, `un-REGISTER: ${u.status} ${u.cause}`);
    assert.match(b.socket.sent.filter((s) => s.startsWith('REGISTER ')).pop(), /expires=0|Expires: 0/i);
    const left = contactsOf(u.response);
    assert.equal(withUri(left, gone).length, 0, 'the 200 no longer lists it');
    assert.equal(withUri(left, keep).length, 1, 'the other device stays');
    const seen = await query('erin');
    assert.equal(withUri(seen, gone).length, 0);
    assert.equal(withUri(seen, keep).length, 1);
    await gw.waitLog(/binding removed aor=sip:erin@acme\.test contact=gone\.invalid: un-registered/, 2000, mark);
  });

  test('9. 401 without credentials: Bearer challenge, plus Digest only where the tenant allows it', async () => {
    const c = await raw();
    const r = await rawRegister(c, { aor: aor('gus'), contact: '<sip:gus@x.invalid;transport=ws>' });
    assert.equal(r.status, 401);
    const ch = challenges(r);
    assert.equal(ch[0].raw, `Bearer realm="${DOMAIN}"`);
    assert.deepEqual(ch.slice(1).map((x) => `${x.scheme} ${x.algorithm}`), ['Digest SHA-256', 'Digest MD5']);
    assert.equal(withUri(await query('gus'), 'sip:gus@x.invalid;transport=ws').length, 0);

    const cc = await raw({ origin: CLOSED_ORIGIN });
    const r2 = await rawRegister(cc, { aor: aor('gus', CLOSED_DOMAIN), domain: CLOSED_DOMAIN,
      contact: '<sip:gus@x.invalid;transport=ws>' });
    assert.equal(r2.status, 401);
    assert.deepEqual(r2.all('www-authenticate', false), [`Bearer realm="${CLOSED_DOMAIN}"`],
      'no Digest challenge when the tenant does not allow digest');
    // Digest credentials are refused outright there.
    const r3 = await rawRegister(cc, { aor: aor('gus', CLOSED_DOMAIN), domain: CLOSED_DOMAIN,
      contact: '<sip:gus@x.invalid;transport=ws>',
      headers: { Authorization: `Digest username="gus", realm="${CLOSED_DOMAIN}", nonce="x", uri="sip:${CLOSED_DOMAIN}", response="00"` } });
    assert.equal(r3.status, 403);
    // And a closed-tenant token registers there.
    const r4 = await rawRegister(cc, { aor: aor('gus', CLOSED_DOMAIN), domain: CLOSED_DOMAIN,
      contact: '<sip:gus@x.invalid;transport=ws>', token: tok.hs256({ iss: ISS.closed, sub: 'gus' }) });
    assert.equal(r4.status, 200, r4.startLine);

    // JsSIP without any credentials reports the 401.
    const j = await jreg({ uri: aor('gus'), contact_uri: 'sip:gus@j.invalid;transport=ws' });
    assert.equal(j.ok, false);
    assert.equal(j.status, 401);
  });

  test('9b. a REGISTER for a domain the Origin does not serve is refused', async () => {
    const c = await raw();
    const r = await rawRegister(c, { aor: aor('gus', CLOSED_DOMAIN), domain: CLOSED_DOMAIN,
      contact: '<sip:gus@x.invalid;transport=ws>', token: tok.hs256({ iss: ISS.closed, sub: 'gus' }) });
    assert.equal(r.status, 403, 'acme Origin cannot register in the closed tenant');
  });

  test('10. 403 for an AOR the token does not cover; an impu claim names the one IMPU', async () => {
    const c = await raw();
    const r = await rawRegister(c, { aor: aor('bob'), token: tok.hs256({ sub: 'alice' }),
      contact: '<sip:bob@x.invalid;transport=ws>' });
    assert.equal(r.status, 403);
    assert.match(r.reason, /Not Covered/i);
    assert.equal(withUri(await query('bob'), 'sip:bob@x.invalid;transport=ws').length, 0);

    const impu = 'sip:alice.smith@acme.test';
    const token = tok.hs256({ sub: 'u-1234', impu });
    const j = await jreg({ uri: impu, authorization_jwt: `Bearer ${token}`,
      contact_uri: 'sip:as@i.invalid;transport=ws' });
    assert.equal(j.status, 200, `impu registration: ${j.status} ${j.reason || j.cause}`);
    assert.equal(new SipMessage(j.response.data).get('p-associated-uri'), `<${impu}>`);
    const notSub = await jreg({ uri: aor('u-1234'), authorization_jwt: `Bearer ${token}`,
      contact_uri: 'sip:u@i.invalid;transport=ws' });
    assert.equal(notSub.status, 403, 'the sub AOR is not covered when impu is given');
    const other = await jreg({ uri: aor('mallory'), authorization_jwt: `Bearer ${token}`,
      contact_uri: 'sip:m@i.invalid;transport=ws' });
    assert.equal(other.status, 403);
  });

  test('11. invalid tokens get 401 with error="invalid_token", and the log says why', async () => {
    const t = tok.now();
    const ecPem = require('node:fs').readFileSync(path.join(__dirname, '../data/jwt/ec1.pub'));
    const cases = [
      ['expired', tok.hs256({ sub: 'kim', exp: t - 120, iat: t - 3720, nbf: t - 3720 }), /token expired/],
      ['wrong issuer', tok.hs256({ sub: 'kim', iss: 'https://evil.example' }), /issuer not trusted/],
      ['wrong audience', tok.hs256({ sub: 'kim', aud: 'someone-else' }), /wrong audience/],
      ['bad signature', tok.tamper(tok.hs256({ sub: 'kim' })), /bad signature/],
      ['alg none', tok.none({ sub: 'kim' }), /algorithm none refused/],
      ['not yet valid', tok.hs256({ sub: 'kim', nbf: t + 600 }), /not yet valid/],
      ['no exp', tok.hs256({ sub: 'kim', exp: undefined }), /no exp/],
      // Algorithm confusion: HS256 keyed with the EC issuer's public PEM.
      ['HS256 with the ES256 issuer\'s public key', tok.sign('HS256', ecPem, {},
        tok.claims({ iss: ISS.ec, sub: 'kim' })), /algorithm not allowed/],
      ['not a JWT', 'abc.def', /malformed token|no token/],
    ];
    const c = await raw();
    for (const [name, token, why] of cases) {
      const mark = gw.mark();
      const r = await rawRegister(c, { aor: aor('kim'), token, contact: '<sip:kim@x.invalid;transport=ws>' });
      assert.equal(r.status, 401, `${name}: ${r.startLine}`);
      const bearer = challenges(r).find((x) => x.scheme === 'Bearer');
      assert.ok(bearer, `${name}: Bearer challenge`);
      assert.equal(bearer.realm, DOMAIN);
      assert.equal(bearer.error, 'invalid_token', `${name}: ${bearer.raw}`);
      await gw.waitLog(new RegExp(`bearer token refused: .*(${why.source})`), 2000, mark);
    }
    assert.equal(withUri(await query('kim'), 'sip:kim@x.invalid;transport=ws').length, 0);
    // Within the allowed clock skew (30 s) a just-expired token still works.
    const skew = await rawRegister(c, { aor: aor('kim'), token: tok.hs256({ sub: 'kim', exp: t - 10 }),
      contact: '<sip:kim@x.invalid;transport=ws>' });
    assert.equal(skew.status, 200, skew.startLine);
    // JsSIP reports the refusal of an expired token as a 401.
    const j = await jreg({ uri: aor('kim'), contact_uri: 'sip:kim@j.invalid;transport=ws',
      authorization_jwt: `Bearer ${tok.hs256({ sub: 'kim', exp: t - 120 })}` });
    assert.equal(j.status, 401);
  });

  test('12. a closed flow removes its binding', async () => {
    const ca = 'sip:gina@a.invalid;transport=ws';
    const cb = 'sip:gina@b.invalid;transport=ws';
    const a = await jreg({ uri: aor('gina'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'gina' })}`,
      instance: uuid(), contact_uri: ca });
    const b = await jreg({ uri: aor('gina'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'gina' })}`,
      instance: uuid(), contact_uri: cb });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(contactsOf(b.response).length, 2);
    const mark = gw.mark();
    a.socket.terminate();   // the TCP connection drops, no un-REGISTER
    await gw.waitLog(/binding removed aor=sip:gina@acme\.test contact=a\.invalid: flow closed/, 3000, mark);
    const seen = await query('gina');
    assert.equal(withUri(seen, ca).length, 0, 'A is gone');
    assert.equal(withUri(seen, cb).length, 1, 'B stays');
    // A closes cleanly (close frame 1000) too.
    const mark2 = gw.mark();
    b.socket.close(1000);
    await gw.waitLog(/binding removed aor=sip:gina@acme\.test contact=b\.invalid: flow closed/, 3000, mark2);
    assert.equal((await query('gina')).length, 0);
  });

  test('12b. a page reload (new flow, same +sip.instance and reg-id) replaces the binding; the old flow closing leaves it', async () => {
    const instance = uuid();
    const first = await jreg({ uri: aor('pia'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'pia' })}`,
      instance, contact_uri: 'sip:pia@before.invalid;transport=ws' });
    assert.equal(first.status, 200);
    const second = await jreg({ uri: aor('pia'), authorization_jwt: `Bearer ${tok.hs256({ sub: 'pia' })}`,
      instance, contact_uri: 'sip:pia@after.invalid;transport=ws' });
    assert.equal(second.status, 200);
    const list = contactsOf(second.response);
    assert.equal(list.length, 1, `one binding per instance and reg-id (RFC 5626): ${list}`);
    assert.equal(withUri(list, 'sip:pia@after.invalid;transport=ws').length, 1);
    const mark = gw.mark();
    first.socket.terminate();
    await gw.waitLog(/flow closed/, 2000, mark);
    const seen = await query('pia');
    assert.equal(withUri(seen, 'sip:pia@after.invalid;transport=ws').length, 1,
      'the binding moved to the new flow and survives the old one');
  });

  test('12c. a flow stays bound to the identity that first registered on it', async () => {
    const c = await raw();
    const a = await rawRegister(c, { aor: aor('quinn'), token: tok.hs256({ sub: 'quinn' }),
      contact: '<sip:quinn@x.invalid;transport=ws>' });
    assert.equal(a.status, 200);
    const b = await rawRegister(c, { aor: aor('rita'), token: tok.hs256({ sub: 'rita' }),
      contact: '<sip:rita@x.invalid;transport=ws>' });
    assert.equal(b.status, 403);
    assert.equal(b.reason, 'Flow Bound To Another Identity');
    assert.deepEqual(await query('rita'), []);
  });

  test('13. 423 with Min-Expires; max_expires clamps; Contact: * with Expires: 0 removes all', async () => {
    const c = await raw();
    const token = tok.hs256({ sub: 'lena' });
    const callId = `lena-${uuid()}`;
    const brief = await rawRegister(c, { aor: aor('lena'), token, callId, cseq: 1,
      contact: '<sip:lena@one.invalid;transport=ws>', expires: 30 });
    assert.equal(brief.status, 423);
    assert.equal(brief.get('min-expires'), '60');
    const briefParam = await rawRegister(c, { aor: aor('lena'), token, callId, cseq: 2,
      contact: '<sip:lena@one.invalid;transport=ws>;expires=10' });
    assert.equal(briefParam.status, 423, 'expires Contact parameter is checked too');
    assert.equal((await query('lena')).length, 0, '423 made no binding');

    const long = await rawRegister(c, { aor: aor('lena'), token, callId, cseq: 3,
      contact: '<sip:lena@one.invalid;transport=ws>', expires: 86400 });
    assert.equal(long.status, 200);
    assert.equal(param(withUri(long.all('contact'), 'sip:lena@one.invalid;transport=ws')[0], 'expires'), '3600');
    // Two Contacts in one REGISTER, each with its own expires.
    const two = await rawRegister(c, { aor: aor('lena'), token, callId, cseq: 4, expires: 120,
      contact: '<sip:lena@two.invalid;transport=ws>, <sip:lena@three.invalid;transport=ws>;expires=300' });
    assert.equal(two.status, 200);
    assert.equal(two.all('contact').length, 3);
    assert.equal(param(withUri(two.all('contact'), 'sip:lena@two.invalid;transport=ws')[0], 'expires'), '120');
    assert.equal(param(withUri(two.all('contact'), 'sip:lena@three.invalid;transport=ws')[0], 'expires'), '300');

    const badStar = await rawRegister(c, { aor: aor('lena'), token, callId, cseq: 5, contact: '*', expires: 60 });
    assert.equal(badStar.status, 400, 'Contact: * needs Expires: 0');
    assert.equal((await query('lena')).length, 3);
    const star = await rawRegister(c, { aor: aor('lena'), token, callId, cseq: 6, contact: '*', expires: 0 });
    assert.equal(star.status, 200);
    assert.deepEqual(star.all('contact'), []);
    assert.deepEqual(await query('lena'), []);

    // JsSIP asking for too short a time retries with the Min-Expires it got.
    const j = await jreg({ uri: aor('lena'), authorization_jwt: `Bearer ${token}`, expires: 30,
      contact_uri: 'sip:lena@js.invalid;transport=ws' });
    assert.equal(j.status, 200, `JsSIP after 423: ${j.status} ${j.reason || j.cause}`);
    const got = j.socket.received.map((t) => new SipMessage(t)).filter((m) => m.cseqMethod === 'REGISTER');
    assert.deepEqual(got.map((m) => m.status), [423, 200]);
    assert.equal(param(withUri(contactsOf(j.response), 'sip:lena@js.invalid;transport=ws')[0], 'expires'), '60');
  });

  test('14. fifty clients registering at once all get their binding', async () => {
    const n = 50;
    const res = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const c = await raw();
      return rawRegister(c, { aor: aor(`load${i}`), token: tok.hs256({ sub: `load${i}` }),
        contact: `<sip:load${i}@l.invalid;transport=ws>` });
    }));
    assert.deepEqual(res.map((r) => r.status), Array(n).fill(200));
    res.forEach((r, i) => assert.equal(withUri(r.all('contact'), `sip:load${i}@l.invalid;transport=ws`).length, 1));
    assert.equal(withUri(await query('load17'), 'sip:load17@l.invalid;transport=ws').length, 1);
  });

  test('13b. an old CSeq on the same Call-ID is refused', async () => {
    const c = await raw();
    const token = tok.hs256({ sub: 'otto' });
    const callId = `otto-${uuid()}`;
    const contact = '<sip:otto@x.invalid;transport=ws>';
    assert.equal((await rawRegister(c, { aor: aor('otto'), token, callId, cseq: 5, contact })).status, 200);
    const old = await rawRegister(c, { aor: aor('otto'), token, callId, cseq: 4, contact });
    assert.equal(old.status, 500);
    assert.match(old.reason, /Out of Order/i);
  });
});

describe('registration lifetime', { timeout: 30000 }, () => {
  let gw;
  before(async () => { gw = await startGateway({ registrar: { min_expires: 1 } }); });
  after(async () => {
    const r = await gw.stop();
    assert.deepEqual(r, { code: 0, signal: null });
    gw.cleanup();
  });

  test('a binding that is not refreshed expires on its own', async () => {
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    const token = tok.hs256({ sub: 'mia' });
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: aor('mia'),
      headers: { Authorization: `Bearer ${token}`, Contact: '<sip:mia@x.invalid;transport=ws>', Expires: '2' } });
    assert.equal(r.status, 200);
    assert.equal(param(r.get('contact'), 'expires'), '2');
    await gw.waitLog(/binding removed aor=sip:mia@acme\.test contact=x\.invalid: expired/, 5000);
    const q = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: aor('mia'),
      headers: { Authorization: `Bearer ${token}` } });
    assert.equal(q.status, 200);
    assert.deepEqual(q.all('contact'), []);
    await c.close();
  });
});

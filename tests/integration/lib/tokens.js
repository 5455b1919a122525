// JWTs minted with node:crypto only (an independent signer, not wtpf's own):
// HS256 with the test secret, ES256 (JWS R||S, dsaEncoding 'ieee-p1363') and
// RS256 with the test keys of tests/data/jwt, and the broken kinds the
// gateway must refuse.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { DATA, ISS } = require('./gateway');

const b64u = (buf) => Buffer.from(buf).toString('base64url');
// The HMAC key is the secret file's bytes, trailing whitespace stripped
// (what the gateway's key loader does with a raw secret file).
const HMAC = Buffer.from(fs.readFileSync(path.join(DATA, 'hmac.secret'), 'utf8').trimEnd());
const privKey = (f) => crypto.createPrivateKey(fs.readFileSync(path.join(DATA, f)));
const KEYS = { ec1: privKey('ec1.key'), ec2: privKey('ec2.key'), rsa: privKey('rsa.key') };

function sign(alg, key, header, claims) {
  const input = `${b64u(JSON.stringify({ alg, typ: 'JWT', ...header }))}.${b64u(JSON.stringify(claims))}`;
  let sig;
  if (alg === 'HS256') sig = crypto.createHmac('sha256', key).update(input).digest();
  else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), key);
  else if (alg === 'none') sig = Buffer.alloc(0);
  else throw new Error(`unknown alg ${alg}`);
  return `${input}.${b64u(sig)}`;
}

const now = () => Math.floor(Date.now() / 1000);

// Claims with sensible defaults: valid for an hour, audience `wtpf`.
function claims(o = {}) {
  const t = now();
  const c = { iss: ISS.hs, aud: 'wtpf', sub: 'alice', iat: t, nbf: t - 5, exp: t + 3600, ...o };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

// HS256 token of the acme tenant's HS issuer (or o.iss).
function hs256(o = {}, header = {}, key = HMAC) {
  return sign('HS256', key, header, claims(o));
}

// ES256 token of the acme EC issuer (PEM key ec1.pub).
function es256(o = {}, key = KEYS.ec1) {
  return sign('ES256', key, {}, claims({ iss: ISS.ec, ...o }));
}

// RS256 token of the acme RSA issuer (JWKS, kid rsa-1).
function rs256(o = {}, kid = 'rsa-1') {
  return sign('RS256', KEYS.rsa, kid ? { kid } : {}, claims({ iss: ISS.rsa, ...o }));
}

// An unsigned token (alg none) with otherwise valid claims.
function none(o = {}) {
  return sign('none', null, {}, claims(o));
}

// The same token with its signature altered.
function tamper(token) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[0] ^= 0x01;
  return `${h}.${p}.${b64u(sig)}`;
}

module.exports = { sign, claims, hs256, es256, rs256, none, tamper, HMAC, KEYS, now };

#!/usr/bin/env node
// @file mint.js  Regenerates the JWKS files and the tokens signed by a
// standard signer (node:crypto) that tests/unit/test_auth_jwt.c checks
// against, so that libjwt's ES256/RS256 formats are tested for interop and
// not only against libjwt itself. Run from this folder: `node mint.js`.
// The keys themselves were made once with openssl (see README.md).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const pub = (f) => crypto.createPublicKey(fs.readFileSync(f));
const priv = (f) => crypto.createPrivateKey(fs.readFileSync(f));

function jwk(file, kid, alg) {
  return { kid, alg, use: 'sig', ...pub(file).export({ format: 'jwk' }) };
}

function sign(alg, keyFile, header, claims) {
  const h = b64u(JSON.stringify({ alg, typ: 'JWT', ...header }));
  const p = b64u(JSON.stringify(claims));
  const input = `${h}.${p}`;
  const key = priv(keyFile);
  let sig;
  if (alg === 'ES256')
    sig = crypto.sign('sha256', Buffer.from(input),
                      { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'RS256')
    sig = crypto.sign('sha256', Buffer.from(input), key);
  else
    throw new Error(alg);
  return `${input}.${b64u(sig)}\n`;
}

const secret = fs.readFileSync('hmac.secret', 'utf8').trimEnd();
const write = (f, o) => fs.writeFileSync(f, JSON.stringify(o, null, 2) + '\n');

write('jwks-ec.json', { keys: [jwk('ec1.pub', 'ec-2025', 'ES256'),
                               jwk('ec2.pub', 'ec-2026', 'ES256')] });
write('jwks-rsa-oct.json', { keys: [
  jwk('rsa.pub', 'rsa-1', 'RS256'),
  { kty: 'oct', kid: 'hs-1', alg: 'HS256', k: b64u(Buffer.from(secret)) },
] });

const claims = {
  iss: 'https://idp.example.org', aud: ['wtpf', 'other'],
  sub: 'alice', impu: 'sip:alice@example.org',
  iat: 1700000000, nbf: 1700000000, exp: 4102444800, // 2100-01-01
};
fs.writeFileSync('node-es256.jwt',
                 sign('ES256', 'ec2.key', { kid: 'ec-2026' }, claims));
fs.writeFileSync('node-rs256.jwt',
                 sign('RS256', 'rsa.key', { kid: 'rsa-1' }, claims));

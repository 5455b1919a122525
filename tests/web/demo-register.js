#!/usr/bin/env node
// Registers one JsSIP client to a running wtpf gateway, prints the 200 OK,
// then un-registers. For trying the demo started by scripts/run:
//   node tests/web/demo-register.js --token JWT
//   node tests/web/demo-register.js --user bob --password demo-password
// Options: --ws URL (ws://127.0.0.1:8080), --origin (http://127.0.0.1:8000),
//          --domain (demo.wtpf.test), --sub alice (the token's subject)
'use strict';
const path = require('path');
module.paths.push(path.join(__dirname, 'node_modules'));
const client = require('./lib/jssip-node.js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const ws = args.ws || 'ws://127.0.0.1:8080';
const domain = args.domain || 'demo.wtpf.test';
const user = args.user || args.sub || 'alice';

(async () => {
  const opts = { ws, origin: args.origin || 'http://127.0.0.1:8000', uri: `sip:${user}@${domain}` };
  if (args.token) opts.authorization_jwt = `Bearer ${args.token}`;
  else if (args.password) opts.password = args.password;
  else { console.error('give --token JWT or --user NAME --password PASSWORD'); process.exit(2); }
  const r = await client.register(opts);
  if (r.ok) console.log(`registered: ${r.status}\n${r.response.data.trim()}`);
  else console.log(`registration failed: ${r.status || ''} ${r.reason || r.cause}`);
  if (r.ok) await new Promise((res) => { r.ua.on('unregistered', res); r.ua.unregister(); setTimeout(res, 2000); });
  await client.stop(r.ua);
  process.exit(r.ok ? 0 : 1);
})();

// wtpfctl (gateway/ctl/), the operator's command line over the admin API,
// run as a binary (process.env.WTPFCTL) against a real wtpfd: finding the
// listener and token (-c FILE, conf/wtpf.conf in the working folder,
// WTPF_ADMIN_URL / WTPF_ADMIN_TOKEN), every command's table and --json
// output, and the exit status: 0 done, 1 the gateway refused (its error on
// stderr), 2 usage or configuration error, 3 the gateway cannot be reached.
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startGateway, freePort, defaultTenants, ORIGIN, DOMAIN } = require('./lib/gateway');
const tok = require('./lib/tokens');
const { connect } = require('./lib/sip');
const { reply, localCall } = require('./lib/localcall');
const { udpPcscf } = require('./lib/pcscf');
const { db, cdrsCommitted } = require('./lib/store');

const WTPFCTL = process.env.WTPFCTL && path.resolve(process.env.WTPFCTL);
const TOKEN = 'ctl-test-admin-token-5e8b20c4';
const N = (i) => `+49301234${String(i).padStart(5, '0')}`;
const GROUP = N(9000);

// Runs wtpfctl; resolves with { code, out, err }. o: { input (stdin),
// env (added to a clean environment), cwd, config (false: no -c) }.
function ctl(gw, args, o = {}) {
  const argv = o.config === false ? args : ['-c', gw.confPath, ...args];
  const env = { PATH: process.env.PATH, ...(o.env || {}) };
  return new Promise((resolve) => {
    const child = execFile(WTPFCTL, argv, { env, cwd: o.cwd || os.tmpdir(), encoding: 'utf8', timeout: 20000,
      maxBuffer: 64 << 20 },
      (e, out, err) => resolve({ code: e ? e.code : 0, out, err }));
    child.stdin.on('error', () => {});   // it may exit before reading
    child.stdin.end(o.input || '');
  });
}

// wtpfctl must succeed; resolves with its stdout (--json: parsed).
async function ok(gw, args, o) {
  const r = await ctl(gw, args, o);
  assert.equal(r.code, 0, `wtpfctl ${args.join(' ')} exited ${r.code}: ${r.err}`);
  assert.equal(r.err, '', `nothing on stderr for ${args.join(' ')}`);
  return args.includes('--json') ? JSON.parse(r.out) : r.out;
}

// wtpfctl must fail with @p code and a message matching @p re on stderr
// (and nothing on stdout).
async function fails(gw, args, code, re, o) {
  const r = await ctl(gw, args, o);
  assert.equal(r.code, code, `wtpfctl ${args.join(' ')}: exit ${r.code}, stderr: ${r.err}`);
  assert.match(r.err, re);
  assert.equal(r.out, '');
  return r;
}

describe('wtpfctl', { timeout: 40000 }, () => {
  const b = { clients: [] };
  let gw;

  before(async () => {
    assert.ok(WTPFCTL, 'WTPFCTL is set (the path of the wtpfctl binary)');
    const { sock, firstProbe } = await udpPcscf();
    b.pcscf = sock;
    const tenants = defaultTenants();
    tenants[0].trunk = 'ims';
    tenants[0].local_calls = true;
    tenants[0].ranges = [`${N(0)}-${N(9999)}`];
    tenants[0].services = {
      diversion: [{ identity: N(9), busy: GROUP }],
      ring_groups: [{ number: GROUP, name: 'sales', strategy: 'round_robin', members: [N(1), N(2)] }],
    };
    const trunkPort = await freePort();
    gw = await startGateway({ tenants, adminToken: TOKEN, extra: { trunks: [{
      name: 'ims', mode: 'static', bind: `sip:127.0.0.1:${trunkPort}`,
      pcscf: [`sip:127.0.0.1:${sock.address().port};transport=udp`], domain: 'ims.test',
      options_interval: 1, failover_time: 2,
    }] } });
    await firstProbe;
    b.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wtpfctl-'));
  });
  after(async () => {
    for (const c of b.clients) c.ws.terminate();
    try {
      if (gw) {
        const r = await gw.stop();
        assert.deepEqual(r, { code: 0, signal: null }, `wtpfd exit; log:\n${gw.log()}`);
      }
    } finally {
      if (gw) { await gw.kill(); gw.cleanup(); }
      if (b.pcscf) b.pcscf.close();
      if (b.tmp) fs.rmSync(b.tmp, { recursive: true, force: true });
    }
  });

  async function registered(number, sub, params = '') {
    const c = await connect(gw.wsUrl, { origin: ORIGIN });
    b.clients.push(c);
    c.contactUri = `sip:${sub}@${sub}.invalid;transport=ws`;
    const r = await c.transact({ method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `sip:${number}@${DOMAIN}`,
      headers: { Authorization: `Bearer ${tok.hs256({ sub, impu: `sip:${number}@${DOMAIN}` })}`,
        Contact: `<${c.contactUri}>${params}` } });
    assert.equal(r.status, 200, r.startLine);
    return c;
  }

  test('--help lists every command; usage errors exit 2 before the gateway is looked for', async () => {
    const h = await ok(gw, ['--help'], { config: false });
    assert.match(h, /^Usage: wtpfctl \[OPTIONS\] COMMAND/);
    for (const c of ['status', 'registrations', 'calls', 'cdrs [TENANT]', 'hangup ID', 'tenants', 'identities', 'user add TENANT NAME',
      'user del', 'groups', 'pause TENANT NUMBER', 'resume', 'diversion get', 'diversion set', 'diversion del',
      'reload', '--json', '--config', 'WTPF_ADMIN_URL', 'WTPF_ADMIN_TOKEN', 'Exit status'])
      assert.ok(h.includes(c), `--help mentions ${c}`);
    const nowhere = ['-c', '/nonexistent/wtpf.conf'];
    await fails(gw, [], 2, /no command given/, { config: false });
    await fails(gw, [...nowhere, 'frobnicate'], 2, /unknown command 'frobnicate'[\s\S]*--help/, { config: false });
    await fails(gw, ['--bogus', 'status'], 2, /unknown option '--bogus'/, { config: false });
    await fails(gw, ['-t', 'x', 'status'], 2, /--timeout/, { config: false });
    await fails(gw, ['hangup'], 2, /usage: hangup ID/);
    await fails(gw, ['status', 'extra'], 2, /usage: status/);
    await fails(gw, ['user', 'add', 'acme'], 2, /usage: user add\|del TENANT NAME/);
    await fails(gw, ['pause', 'acme'], 2, /usage: pause TENANT NUMBER/);
    await fails(gw, ['diversion', 'set', 'acme', N(1)], 2, /usage: diversion set TENANT NUMBER KEY=VALUE/);
    await fails(gw, ['diversion', 'set', 'acme', N(1), 'bussy=1'], 2, /unknown key 'bussy'/);
    await fails(gw, ['diversion', 'set', 'acme', N(1), 'time=soon'], 2, /time: seconds 0\.\.3600/);
    await fails(gw, ['diversion', 'set', 'acme', N(1), 'busy'], 2, /expected KEY=VALUE/);
    await fails(gw, ['diversion', 'frob'], 2, /usage: diversion list\|get\|set\|del/);
    await fails(gw, ['user', 'add', 'acme', 'ann'], 2, /no password given/);
  });

  test('finding the gateway: -c FILE, conf/wtpf.conf of the working folder, WTPF_ADMIN_URL and WTPF_ADMIN_TOKEN; exit 3 when unreachable', async () => {
    const url = `http://127.0.0.1:${gw.adminPort}`;
    assert.match(await ok(gw, ['tenants']), /^TENANT\s+DOMAIN/);
    // the default configuration, relative to the working folder
    fs.mkdirSync(path.join(b.tmp, 'conf'), { recursive: true });
    fs.writeFileSync(path.join(b.tmp, 'conf', 'wtpf.conf'), fs.readFileSync(gw.confPath, 'utf8')
      .replace('token_file = "admin.token"', `token_file = "${path.join(gw.dir, 'admin.token')}"`));
    assert.match(await ok(gw, ['tenants'], { config: false, cwd: b.tmp }), /acme/);
    // the environment, with no configuration at hand
    const env = { WTPF_ADMIN_URL: url, WTPF_ADMIN_TOKEN: TOKEN };
    assert.match(await ok(gw, ['tenants'], { config: false, env }), /acme/);
    assert.match(await ok(gw, ['tenants'], { config: false, env: { ...env, WTPF_ADMIN_URL: `${url}/` } }), /acme/);
    // the environment's token wins over the default configuration's
    await fails(gw, ['tenants'], 1, /^wtpfctl: missing or wrong admin token/,
      { config: false, cwd: b.tmp, env: { WTPF_ADMIN_TOKEN: 'not-the-right-token-000' } });
    await fails(gw, ['tenants'], 1, /missing or wrong admin token/, { config: false, env: { WTPF_ADMIN_URL: url } });
    // nothing listens there: 3
    const dead = await freePort();
    await fails(gw, ['status'], 3, new RegExp(`cannot reach the gateway at http://127\\.0\\.0\\.1:${dead}: Connection refused`),
      { config: false, env: { WTPF_ADMIN_URL: `http://127.0.0.1:${dead}`, WTPF_ADMIN_TOKEN: TOKEN } });
    await fails(gw, ['status'], 2, /WTPF_ADMIN_URL: .*http:\/\/HOST:PORT/,
      { config: false, env: { WTPF_ADMIN_URL: 'https://127.0.0.1:1' } });
    await fails(gw, ['status'], 2, /WTPF_ADMIN_URL: .*no path/,
      { config: false, env: { WTPF_ADMIN_URL: `${url}/api` } });
    // configuration errors: 2
    await fails(gw, ['-c', '/nonexistent/wtpf.conf', 'status'], 2, /cannot load \/nonexistent\/wtpf\.conf/, { config: false });
    await fails(gw, ['status'], 2, /cannot load conf\/wtpf\.conf[\s\S]*-c FILE, or set WTPF_ADMIN_URL/,
      { config: false, cwd: fs.mkdtempSync(path.join(b.tmp, 'empty-')) });
    const noTok = path.join(b.tmp, 'notoken.conf');
    fs.writeFileSync(noTok, fs.readFileSync(gw.confPath, 'utf8').replace(/\s*token_file = "admin.token";/, ''));
    await fails(gw, ['-c', noTok, 'status'], 2, /names no admin\.token_file/, { config: false });
    const badTok = path.join(b.tmp, 'badtoken.conf');
    fs.writeFileSync(badTok, fs.readFileSync(gw.confPath, 'utf8').replace('"admin.token"', '"/nonexistent/token"'));
    await fails(gw, ['-c', badTok, 'status'], 2, /cannot read the admin token: \/nonexistent\/token/, { config: false });
  });

  test('status: health and trunks, as a table and as JSON', async () => {
    let j;
    for (let i = 0; i < 30; i++) {
      j = await ok(gw, ['status', '--json']);
      if (j.trunks[0] && j.trunks[0].up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(j.health.status, 'ok');
    assert.equal(j.health.calls, 0);
    assert.equal(j.trunks[0].name, 'ims');
    assert.equal(j.trunks[0].up, true);
    const out = await ok(gw, ['status']);
    assert.match(out, /^gateway ok, up \d+s: 0 connections, 0 registrations, 0 calls$/m);
    assert.match(out, /^TRUNK\s+MODE\s+STATE\s+P-CSCF\s+LAST ERROR$/m);
    assert.match(out, new RegExp(`^ims\\s+static\\s+up\\s+sip:127\\.0\\.0\\.1:${b.pcscf.address().port}`, 'm'));
  });

  test('registrations, identities, tenants with a registered client; an unknown tenant exits 1', async () => {
    assert.equal(await ok(gw, ['registrations']), 'no registrations\n');
    b.ann = await registered(N(1), 'ann',
      ';+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>"');

    const regs = await ok(gw, ['registrations']);
    assert.match(regs, /^TENANT\s+AOR\s+CONTACT\s+INSTANCE\s+PEER\s+CONN\s+EXPIRES$/m);
    assert.match(regs, new RegExp(`^acme\\s+sip:\\${N(1)}@acme\\.test\\s+\\S*sip:ann@ann\\.invalid\\S*\\s+` +
      '<urn:uuid:00000000-0000-4000-8000-000000000001>\\s+127\\.0\\.0\\.1\\S*\\s+\\d+\\s+\\d+m\\d\\ds$', 'm'));
    const rj = await ok(gw, ['registrations', 'acme', '--json']);
    assert.equal(rj.length, 1);
    assert.equal(rj[0].number, N(1));
    assert.deepEqual(await ok(gw, ['--json', 'registrations', 'closed']), []);
    await fails(gw, ['registrations', 'nope'], 1, /^wtpfctl: no tenant 'nope'$/m);

    const ids = await ok(gw, ['identities', 'acme']);
    assert.match(ids, new RegExp(`^acme\\s+main\\s+\\${N(1)}\\s+ann\\s+in use$`, 'm'));
    assert.equal((await ok(gw, ['identities', '--json'])).length, 1);
    assert.equal(await ok(gw, ['identities', 'closed']), 'no identities allocated\n');
    await fails(gw, ['identities', 'nope'], 1, /no tenant 'nope'/);

    const t = await ok(gw, ['tenants']);
    assert.match(t, new RegExp(`^acme\\s+acme\\.test\\s+ims\\s+1\\s+0\\s+no limit\\s+0\\s+1\\s+\\${N(0)}-\\${N(9999)}$`, 'm'));
    assert.match(t, /^closed\s+closed\.test\s+-\s+0\s+0\s+no limit\s+0\s+0\s+-$/m);
    const tj = await ok(gw, ['tenants', '--json']);
    assert.equal(tj[0].identities_in_use, 1);
  });

  test('user add (stdin or --password) and user del; the gateway\'s refusals exit 1', async () => {
    assert.equal(await ok(gw, ['user', 'add', 'acme', 'zoe'], { input: 'z0e-secret!\n' }),
      'user zoe added to tenant acme (realm acme.test)\n');
    const [row] = db(gw, "SELECT ha1_md5 FROM users WHERE tenant = 'acme' AND username = 'zoe'");
    assert.equal(row.ha1_md5, require('node:crypto').createHash('md5').update(`zoe:${DOMAIN}:z0e-secret!`).digest('hex'));
    const j = await ok(gw, ['--json', 'user', 'add', 'acme', 'yan', '--password', 'y4n-secret!']);
    assert.deepEqual(j, { tenant: 'acme', username: 'yan', realm: DOMAIN });
    await fails(gw, ['user', 'add', 'acme', 'xia', '--password', 'short'], 1, /'password' must have at least 8 characters/);
    await fails(gw, ['user', 'add', 'nope', 'xia', '--password', 'long-enough'], 1, /no tenant 'nope'/);
    await fails(gw, ['user', 'add', 'acme', 'x@y', '--password', 'long-enough'], 1, /'username' must be/);
    assert.equal(await ok(gw, ['user', 'del', 'acme', 'zoe']), 'user zoe deleted from tenant acme\n');
    assert.equal(db(gw, "SELECT * FROM users WHERE username = 'zoe'").length, 0);
    await fails(gw, ['user', 'del', 'acme', 'zoe'], 1, /no user 'zoe' in tenant acme/);
    // names with characters that need escaping in the path
    await ok(gw, ['user', 'add', 'acme', 'o\'brien%41+&?#x', '--password', 'long-enough']);
    assert.equal(db(gw, "SELECT username FROM users WHERE username LIKE 'o''brien%'")[0].username, 'o\'brien%41+&?#x');
    assert.equal(await ok(gw, ['user', 'del', 'acme', 'o\'brien%41+&?#x']),
      'user o\'brien%41+&?#x deleted from tenant acme\n');
  });

  test('groups, pause and resume', async () => {
    const g = await ok(gw, ['groups']);
    assert.match(g, new RegExp(`^acme \\${GROUP} "sales": round_robin, 15s per member, overflow after 1m00s to nobody \\(480\\), wrap-up 0s$`, 'm'));
    assert.match(g, /^ {2}MEMBER\s+STATE\s+CALLS\s+DEVICES\s+IDLE$/m);
    assert.match(g, new RegExp(`^ {2}\\${N(1)}\\s+available\\s+0\\s+1\\s+-$`, 'm'));
    assert.match(g, new RegExp(`^ {2}\\${N(2)}\\s+available\\s+0\\s+0\\s+-$`, 'm'));
    assert.equal(await ok(gw, ['pause', 'acme', N(2)]), `agent ${N(2)} of tenant acme paused\n`);
    assert.match(await ok(gw, ['groups']), new RegExp(`^ {2}\\${N(2)}\\s+paused\\s`, 'm'));
    const gj = await ok(gw, ['groups', '--json']);
    assert.equal(gj[0].members[1].paused, true);
    assert.deepEqual(await ok(gw, ['--json', 'resume', 'acme', N(2)]), { tenant: 'acme', number: N(2), paused: false });
    assert.match(await ok(gw, ['groups']), new RegExp(`^ {2}\\${N(2)}\\s+available\\s`, 'm'));
    await fails(gw, ['pause', 'acme', 'bob'], 1, /'bob' is not a number/);
    await fails(gw, ['pause', 'nope', N(2)], 1, /no tenant 'nope'/);
  });

  test('diversion list, get, set (merged with the setting that applies), del', async () => {
    assert.match(await ok(gw, ['diversion', 'list']),
      new RegExp(`^acme\\s+\\${N(9)}\\s+config\\s+-\\s+\\${GROUP}\\s+-\\s+default\\s+-$`, 'm'));
    assert.equal(await ok(gw, ['diversion', 'get', 'acme', N(9)]),
      `${N(9)} of tenant acme (from the configuration)\n  unconditional  -\n  busy           ${GROUP}\n` +
      '  no answer      -\n  not reachable  -\n  no answer time the tenant\'s default\n');
    await fails(gw, ['diversion', 'get', 'acme', N(5)], 1, /no diversion for \+4930123400005 in tenant acme/);

    // set on a number with none: starts empty
    const s1 = await ok(gw, ['diversion', 'set', 'acme', N(5), `busy=${N(6)}`, 'time=30']);
    assert.match(s1, /from the store/);
    assert.match(s1, new RegExp(`busy {11}\\${N(6)}`));
    assert.match(s1, /no answer time 30s/);
    // set again: what is not named stays
    const s2 = await ok(gw, ['--json', 'diversion', 'set', 'acme', N(5), 'no_answer=sip:vm@acme.test']);
    assert.deepEqual(s2, { tenant: 'acme', identity: N(5), unconditional: '', busy: N(6),
      no_answer: 'sip:vm@acme.test', not_reachable: '', no_answer_time: 30, source: 'store' });
    assert.deepEqual(db(gw, `SELECT busy, no_answer, no_answer_time FROM diversions WHERE identity = '${N(5)}'`),
      [{ busy: N(6), no_answer: 'sip:vm@acme.test', no_answer_time: 30 }]);
    // clearing one target; setting over the configuration's copies it to the store
    await ok(gw, ['diversion', 'set', 'acme', N(5), 'busy=']);
    assert.equal(db(gw, `SELECT busy FROM diversions WHERE identity = '${N(5)}'`)[0].busy, '');
    const s3 = await ok(gw, ['--json', 'diversion', 'set', 'acme', N(9), `unconditional=${N(7)}`]);
    assert.equal(s3.busy, GROUP, 'the configuration\'s targets are kept');
    assert.equal(s3.unconditional, N(7));
    const list = await ok(gw, ['diversion', 'list', 'acme', '--json']);
    assert.deepEqual(list.map((d) => [d.identity, d.source]).sort(), [[N(5), 'store'], [N(9), 'store']]);

    // the gateway's validation comes back as exit 1
    await fails(gw, ['diversion', 'set', 'acme', N(5), 'busy=voicemail'], 1, /'busy' must be a number or a sip:\/tel: URI/);
    await fails(gw, ['diversion', 'set', 'acme', N(5), 'time=3601'], 2, /time: seconds 0\.\.3600/);
    await fails(gw, ['diversion', 'set', 'acme', '+4940999', `busy=${N(6)}`], 1, /not within tenant acme's numbers/);
    await fails(gw, ['diversion', 'set', 'nope', N(5), `busy=${N(6)}`], 1, /no tenant 'nope'/);

    assert.equal(await ok(gw, ['diversion', 'del', 'acme', N(5)]), `stored diversion of ${N(5)} in tenant acme deleted\n`);
    assert.equal(db(gw, `SELECT * FROM diversions WHERE identity = '${N(5)}'`).length, 0);
    await fails(gw, ['diversion', 'del', 'acme', N(5)], 1, /no stored diversion for/);
    await fails(gw, ['diversion', 'get', 'acme', N(5)], 1, /no diversion for/);
    await ok(gw, ['diversion', 'del', 'acme', N(9)]);
    assert.match(await ok(gw, ['diversion', 'get', 'acme', N(9)]), /from the configuration/);
  });

  test('calls and hangup: a local call listed and hung up (both sides get BYE); an unknown or malformed id exits 1', async () => {
    assert.equal(await ok(gw, ['calls']), 'no calls\n');
    assert.deepEqual(await ok(gw, ['calls', '--json']), []);
    const bo = await registered(N(2), 'bo');
    const call = await localCall(b.ann, bo, { from: `sip:${N(1)}@${DOMAIN}`, to: `sip:${N(2)}@${DOMAIN}` });
    let list;
    for (let i = 0; i < 20; i++) {
      list = await ok(gw, ['calls', '--json']);
      if (list.length && list.every((c) => c.state === 'answered')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = list.find((c) => c.direction === 'outbound');
    assert.ok(out, JSON.stringify(list));
    const table = await ok(gw, ['calls']);
    assert.match(table, /^ID\s+DIRECTION\s+STATE\s+TENANT\s+USER\s+REMOTE\s+SINCE\s+ANSWERED$/m);
    assert.match(table, new RegExp(`^${out.id}\\s+outbound\\s+answered\\s+acme\\s+\\S*\\${N(1)}\\S*\\s+\\S*\\${N(2)}\\S*\\s+\\d+s\\s+\\d+s$`, 'm'));
    assert.equal(await ok(gw, ['hangup', String(out.id)]), `call ${out.id} hung up\n`);
    const [abye, bbye] = await Promise.all([b.ann.next((m) => m.method === 'BYE'), bo.next((m) => m.method === 'BYE')]);
    assert.equal(abye.get('call-id'), call.callId);
    assert.equal(bbye.get('call-id'), call.inv.get('call-id'));
    reply(b.ann, abye, 200, 'OK');
    reply(bo, bbye, 200, 'OK');
    await gw.waitLog(/\(calls left: 0\)/, 3000);
    assert.equal(await ok(gw, ['calls']), 'no calls\n');
    await fails(gw, ['hangup', String(out.id)], 1, new RegExp(`no call ${out.id}`));
    await fails(gw, ['hangup', '424242'], 1, /^wtpfctl: no call 424242$/m);
    await fails(gw, ['hangup', 'abc'], 1, /call id 'abc' is not a number/);

    // the two calls it made are on record
    const recs = await ok(gw, ['cdrs', 'acme', '--json']);
    const rec = recs.find((r) => r.direction === 'outbound' && r.legs.some((l) => l.call_id === call.callId));
    assert.ok(rec, JSON.stringify(recs));
    const cdrs = await ok(gw, ['cdrs']);
    assert.match(cdrs, /^ID\s+CORR\s+DIRECTION\s+USER\s+REMOTE\s+STATUS\s+TALK\s+REASON$/m);
    assert.match(cdrs, new RegExp(`^${rec.id}\\s+${rec.corr}\\s+outbound\\s+\\S+\\s+\\S+\\s+200\\s+\\d+s\\s+hung up`, 'm'));
    await fails(gw, ['cdrs', 'nope'], 1, /tenant/);
  });

  test('cdrs: the table has the latest 50 records, oldest of them first; --json every record', async () => {
    // more than one page of the API's default size (1000); first, the
    // records of the calls before, which the gateway lists at once and
    // commits to the file within store.cdr_commit_ms
    await cdrsCommitted(gw, (await ok(gw, ['cdrs', '--json'])).length);
    const before = db(gw, 'SELECT max(id) AS id, count(*) AS n FROM cdrs')[0];
    const now = Date.now();
    db(gw, `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1100)
      INSERT INTO cdrs (corr, tenant, direction, user, remote, started, answered, ended, status, reason, legs, services)
      SELECT printf('c%015d', i), 'acme', 'outbound', 'sip:${N(1)}@${DOMAIN}', '<tel:030' || i || '>', ${now}, 0, ${now},
      486, 'busy here', '[]', '[]' FROM k`);
    const ids = db(gw, 'SELECT id FROM cdrs ORDER BY id').map((r) => r.id);
    assert.equal(ids.length, before.n + 1100);
    const rows = (await ok(gw, ['cdrs'])).trimEnd().split('\n');
    assert.match(rows[0], /^ID\s+CORR\s+DIRECTION/);
    assert.deepEqual(rows.slice(1).map((l) => Number(l.split(/\s+/)[0])), ids.slice(-50));
    assert.match(rows[50], new RegExp(`^${ids[ids.length - 1]}\\s+c000000000001100\\s+outbound\\s+\\S+\\s+<tel:0301100>\\s+486\\s+-\\s+busy here$`));
    assert.ok(!rows.some((l) => l.startsWith(`${before.id} `)), 'older records are not in the table');
    assert.deepEqual((await ok(gw, ['cdrs', 'acme'])).trimEnd().split('\n').length, 51);
    assert.equal(await ok(gw, ['cdrs', 'closed']), 'no call records\n');
    const all = await ok(gw, ['cdrs', '--json']);
    assert.deepEqual(all.map((r) => r.id), ids, 'every record, oldest first');
    assert.deepEqual(await ok(gw, ['--json', 'cdrs', 'closed']), []);
  });

  test('the environment: WTPF_ADMIN_URL replaces only the listener, WTPF_ADMIN_TOKEN only the token', async () => {
    // b.tmp/conf/wtpf.conf (the first test) names the gateway and its token file
    const url = `http://127.0.0.1:${gw.adminPort}`;
    assert.match(await ok(gw, ['tenants'], { config: false, cwd: b.tmp, env: { WTPF_ADMIN_URL: url } }), /^acme\s/m);
    // the URL is the one used: nothing listens there
    const dead = await freePort();
    await fails(gw, ['tenants'], 3, new RegExp(`cannot reach the gateway at http://127\\.0\\.0\\.1:${dead}`),
      { config: false, cwd: b.tmp, env: { WTPF_ADMIN_URL: `http://127.0.0.1:${dead}` } });
    // and the token of the environment with the file's listener
    await fails(gw, ['tenants'], 1, /missing or wrong admin token/,
      { config: false, cwd: b.tmp, env: { WTPF_ADMIN_URL: url, WTPF_ADMIN_TOKEN: 'not-the-right-token-000' } });
    // a token the gateway could never take is refused before asking it
    await fails(gw, ['tenants'], 2, /WTPF_ADMIN_TOKEN: the token has 5 characters/,
      { config: false, env: { WTPF_ADMIN_URL: url, WTPF_ADMIN_TOKEN: 'short' } });
  });

  test('reload names the options that need a restart, and keeps their running values', async () => {
    const good = fs.readFileSync(gw.confPath, 'utf8');
    gw.writeConfig(good.replace('max_nonces = 1000;', 'max_nonces = 2000;'));
    assert.equal(await ok(gw, ['reload']), 'configuration reloaded\n' +
      'changed, but only a restart applies it (the running value stays):\n  auth.max_nonces\n');
    assert.deepEqual(await ok(gw, ['reload', '--json']), { status: 'reloaded', restart_needed: ['auth.max_nonces'] });
    gw.writeConfig(good);
    assert.equal(await ok(gw, ['reload']), 'configuration reloaded\n');
  });

  test('reload: done, or refused with the configuration\'s errors (exit 1) and the running one kept', async () => {
    const good = fs.readFileSync(gw.confPath, 'utf8');
    gw.config.tenants[0].max_identities = 40;
    gw.writeConfig();
    assert.equal(await ok(gw, ['reload']), 'configuration reloaded\n');
    assert.match(await ok(gw, ['tenants']), /^acme\s+acme\.test\s+ims\s+\d+\s+\d+\s+40\s/m);
    gw.writeConfig(good.replace('min_expires = 60;', 'min_expires = "soon";'));
    const r = await fails(gw, ['reload'], 1, /^wtpfctl: configuration refused; the running one stays$/m);
    assert.match(r.err, new RegExp(`^ {2}${gw.confPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: .*min_expires`, 'm'));
    assert.match(await ok(gw, ['tenants']), /^acme\s+acme\.test\s+ims\s+\d+\s+\d+\s+40\s/m);
    gw.writeConfig(good);
    assert.deepEqual(await ok(gw, ['reload', '--json']), { status: 'reloaded' });
  });
});

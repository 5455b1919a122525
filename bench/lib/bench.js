// Runs wtpf-bench ($WTPF_BENCH) with args and --json to a temporary file;
// resolves with { code, stdout, stderr, json } (json undefined when the
// tool wrote none). Kills it after 60 s. Shared by bench/*.test.js.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

function bench(args) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wtpf-bench-')), 'out.json');
  return new Promise((resolve, reject) => {
    const p = spawn(process.env.WTPF_BENCH, [...args, '--json', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('wtpf-bench hung')); }, 60000);
    p.on('close', (code) => {
      clearTimeout(timer);
      let json;
      try { json = JSON.parse(fs.readFileSync(out, 'utf8')); } catch (e) { json = undefined; }
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
      resolve({ code, stdout, stderr, json });
    });
  });
}

module.exports = { bench };

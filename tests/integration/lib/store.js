// Rows of a gateway's SQLite store, as an array of objects: the sqlite3
// CLI (installed by scripts/deps --test), else python3's sqlite3 module;
// and a wait for the call records the gateway has not committed yet.
'use strict';
const { execFileSync } = require('node:child_process');

function db(gw, sql) {
  let out;
  try {
    out = execFileSync('sqlite3', ['-json', '-cmd', '.timeout 5000', gw.storePath, sql],
      { encoding: 'utf8' });
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    out = execFileSync('python3', ['-c', 'import sqlite3, json, sys\n' +
      'c = sqlite3.connect(sys.argv[1], timeout=5); c.row_factory = sqlite3.Row\n' +
      'print(json.dumps([dict(r) for r in c.execute(sys.argv[2])]))', gw.storePath, sql],
    { encoding: 'utf8' });
  }
  return out.trim() ? JSON.parse(out) : [];
}

// Resolves once the file holds @p n call records (the gateway commits them
// in groups, store.cdr_commit_ms after the call ended at the latest); throws
// after @p ms with the count it saw.
async function cdrsCommitted(gw, n, ms = 3000) {
  const end = Date.now() + ms;
  let have;
  for (;;) {
    have = db(gw, 'SELECT count(*) AS n FROM cdrs')[0].n;
    if (have >= n) return have;
    if (Date.now() > end) throw new Error(`${have} call records in the file after ${ms} ms, expected ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

module.exports = { db, cdrsCommitted };

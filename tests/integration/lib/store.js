// Rows of a gateway's SQLite store, as an array of objects: the sqlite3
// CLI (installed by scripts/deps --test), else python3's sqlite3 module.
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

module.exports = { db };

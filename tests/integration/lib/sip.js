// A raw SIP-over-WebSocket client on the `ws` package, for protocol-level
// cases JsSIP would not produce: builds requests as text, parses what comes
// back, and records close codes and pings.
'use strict';
const crypto = require('node:crypto');
const WebSocket = require('ws');

const COMPACT = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length',
  c: 'content-type', k: 'supported', e: 'content-encoding', s: 'subject',
};

// Splits a header value at commas outside quotes and <...>.
function splitList(v) {
  const out = [];
  let cur = '', q = false, a = 0;
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (q) {
      if (ch === '\\') { cur += ch + (v[++i] || ''); continue; }
      if (ch === '"') q = false;
    } else if (ch === '"') q = true;
    else if (ch === '<') a++;
    else if (ch === '>') a--;
    else if (ch === ',' && !a) { out.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

class SipMessage {
  constructor(text) {
    this.raw = text;
    const i = text.indexOf('\r\n\r\n');
    const head = i >= 0 ? text.slice(0, i) : text;
    this.body = i >= 0 ? text.slice(i + 4) : '';
    const lines = head.split('\r\n');
    this.startLine = lines.shift();
    const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(this.startLine);
    if (m) { this.status = Number(m[1]); this.reason = m[2]; } else {
      const r = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(this.startLine);
      if (r) { this.method = r[1]; this.uri = r[2]; }
    }
    this.headers = [];
    for (const l of lines) {
      if (/^[ \t]/.test(l) && this.headers.length) {
        this.headers[this.headers.length - 1][1] += ' ' + l.trim();
        continue;
      }
      const c = l.indexOf(':');
      let name = l.slice(0, c).trim().toLowerCase();
      name = COMPACT[name] || name;
      this.headers.push([name, l.slice(c + 1).trim()]);
    }
  }

  // Every value of a header (repeated lines and comma lists joined).
  all(name, list = true) {
    name = name.toLowerCase();
    const vals = this.headers.filter(([n]) => n === name).map(([, v]) => v);
    return list ? vals.flatMap(splitList) : vals;
  }

  get(name) { return this.all(name, false)[0]; }

  get cseqMethod() { return (this.get('cseq') || '').split(/\s+/)[1]; }
}

const rand = (n = 8) => crypto.randomBytes(n).toString('hex');
const branch = () => `z9hG4bK${rand(6)}`;

// Builds a request; every header can be overridden or dropped (null).
function request(o) {
  const method = o.method || 'REGISTER';
  const h = {
    Via: `SIP/2.0/WSS ${o.viaHost || 'client.invalid'};branch=${o.branch || branch()}`,
    'Max-Forwards': '70',
    From: `<${o.from}>;tag=${o.fromTag || rand(4)}`,
    To: o.toTag ? `<${o.to || o.from}>;tag=${o.toTag}` : `<${o.to || o.from}>`,
    'Call-ID': o.callId || rand(10),
    CSeq: `${o.cseq || 1} ${o.cseqMethod || method}`,
    ...(o.headers || {}),
  };
  const lines = [`${method} ${o.uri} SIP/2.0`];
  for (const [k, v] of Object.entries(h)) {
    if (v === null || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
  }
  const body = o.body || '';
  if (!('Content-Length' in h)) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

class RawClient {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.waiters = [];
    this.pings = 0;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('ping', () => { this.pings++; this._wake(); });
    ws.on('message', (data, isBinary) => {
      this.messages.push(new SipMessage(data.toString()));
      this._wake();
    });
    ws.on('error', () => {});
  }

  _wake() {
    for (const w of [...this.waiters]) w();
  }

  // Resolves with the first message (not yet taken) that pred accepts;
  // the message is removed from the queue.
  next(pred = () => true, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.messages.findIndex(pred);
        if (i < 0) return false;
        const [m] = this.messages.splice(i, 1);
        this.waiters = this.waiters.filter((x) => x !== check);
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== check);
        reject(new Error(`no matching SIP message within ${timeoutMs} ms (queued: ${
          this.messages.map((m) => m.startLine).join(' | ') || 'none'})`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  // Resolves when pings received reach n.
  waitPing(n = 1, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.pings < n) return false;
        this.waiters = this.waiters.filter((x) => x !== check);
        clearTimeout(timer);
        resolve(this.pings);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== check);
        reject(new Error(`fewer than ${n} pings within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  send(text) { this.ws.send(text); }

  // Sends a request and resolves with the final response of its transaction
  // (provisional ones are collected in .provisional).
  async transact(o, timeoutMs = 5000) {
    const b = o.branch || branch();
    const text = request({ ...o, branch: b });
    this.send(text);
    const provisional = [];
    for (;;) {
      const m = await this.next((x) => x.status && (x.get('via') || '').includes(b), timeoutMs);
      if (m.status >= 200) { m.provisional = provisional; m.branch = b; return m; }
      provisional.push(m);
    }
  }

  // Asserts nothing arrives for ms; resolves with what arrived (if anything).
  async quiet(ms = 500) {
    await new Promise((r) => setTimeout(r, ms));
    return this.messages.splice(0);
  }

  close(code = 1000) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    return this.closed;
  }
}

// Opens a WebSocket; resolves with a RawClient, or rejects with the
// handshake failure (err.statusCode when the server answered HTTP).
// o: { origin, protocol ('sip' by default, null for none), headers, query,
//      localAddress (the source address, e.g. 127.0.0.2) }
function connect(url, o = {}) {
  const protocols = o.protocol === null ? undefined
    : Array.isArray(o.protocol) ? o.protocol : [o.protocol || 'sip'];
  const opts = { rejectUnauthorized: false, headers: o.headers || {} };
  if (o.origin) opts.origin = o.origin;
  if (o.localAddress) opts.localAddress = o.localAddress;
  const ws = new WebSocket(url + (o.query || ''), protocols, opts);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(new RawClient(ws)));
    ws.once('unexpected-response', (req, res) => {
      const e = new Error(`handshake refused: HTTP ${res.statusCode}`);
      e.statusCode = res.statusCode;
      res.resume();
      ws.terminate();
      reject(e);
    });
    ws.once('error', (e) => reject(e));
  });
}

module.exports = { connect, request, SipMessage, splitList, branch, rand, RawClient };

// JsSIP in Node over the `ws` package: a real SIP-over-WebSocket client for
// the integration tests. JsSIP expects a browser WebSocket; this gives it one
// that sends the Origin header a browser would send (and, for tests of the
// handshake, extra headers a browser could not send).
'use strict';
const WebSocket = require('ws');

// Every WebSocket JsSIP opened, newest last (tests close them abruptly).
const sockets = [];

function useOrigin(origin, extra = {}) {
  global.WebSocket = class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { origin, rejectUnauthorized: false, ...extra });
      // What went over this socket, as text, for assertions.
      this.sent = [];
      this.received = [];
      this.on('message', (d) => this.received.push(d.toString()));
      this.closedWith = new Promise((resolve) => this.on('close', (code, reason) =>
        resolve({ code, reason: reason.toString() })));
      sockets.push(this);
    }

    send(data, ...rest) {
      this.sent.push(String(data));
      return super.send(data, ...rest);
    }
  };
}

// Silence JsSIP's debug module unless asked for.
if (!process.env.DEBUG) process.env.DEBUG = '';
const JsSIP = require('jssip');

// Creates a UA and resolves when it is registered or failed.
// opts: { ws, uri, origin, password, authorization_user, authorization_jwt,
//         instance, expires, register, contact_uri, wsOptions, timeoutMs }
// Resolves with { ua, ok, status, reason, cause, response, socket }.
function register(opts) {
  useOrigin(opts.origin, opts.wsOptions);
  const socket = new JsSIP.WebSocketInterface(opts.ws);
  const cfg = {
    sockets: [socket], uri: opts.uri, register: opts.register !== false,
    register_expires: opts.expires || 600, session_timers: false,
    user_agent: 'wtpf-test', connection_recovery_min_interval: 60,
    connection_recovery_max_interval: 60,
  };
  if (opts.password) cfg.password = opts.password;
  if (opts.authorization_user) cfg.authorization_user = opts.authorization_user;
  if (opts.authorization_jwt) cfg.authorization_jwt = opts.authorization_jwt;
  if (opts.instance) cfg.instance_id = opts.instance;
  if (opts.contact_uri) cfg.contact_uri = opts.contact_uri;
  const ua = new JsSIP.UA(cfg);
  const n = sockets.length;
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); resolve({ ua, socket: sockets[n], ...r }); };
    const timer = setTimeout(() => done({ ok: false, cause: 'timeout' }), opts.timeoutMs || 5000);
    ua.once('registered', (e) => done({ ok: true, status: e.response.status_code, response: e.response }));
    ua.once('registrationFailed', (e) => done({
      ok: false, cause: e.cause, status: e.response && e.response.status_code,
      reason: e.response && e.response.reason_phrase, response: e.response,
    }));
    ua.start();
  });
}

// Sends a refreshing REGISTER on the UA's flow (JsSIP emits no event for a
// refresh of a live registration, so the answer is read off the socket).
// Resolves with { ok, status, response: { status_code, data } }.
function refresh(ua, socket, timeoutMs = 5000) {
  const seen = socket.received.length;
  ua.register();
  return new Promise((resolve) => {
    const t0 = Date.now();
    const poll = () => {
      const rsp = socket.received.slice(seen).find((t) =>
        /^SIP\/2\.0 [2-6]\d\d /.test(t) && /\r\nCSeq: \d+ REGISTER\r\n/i.test(t));
      if (rsp) {
        const status = Number(rsp.slice(8, 11));
        return resolve({ ok: status < 300, status, response: { status_code: status, data: rsp } });
      }
      if (Date.now() - t0 > timeoutMs) return resolve({ ok: false, cause: 'timeout' });
      setTimeout(poll, 10);
    };
    poll();
  });
}

// Un-registers (REGISTER with expires 0); resolves with the response.
function unregister(ua, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, cause: 'timeout' }), timeoutMs);
    ua.once('unregistered', (e) => {
      clearTimeout(timer);
      resolve({ ok: !e.cause, cause: e.cause, status: e.response && e.response.status_code,
                response: e.response });
    });
    ua.unregister();
  });
}

function stop(ua) {
  return new Promise((resolve) => {
    if (!ua) return resolve();
    const t = setTimeout(resolve, 2000);
    if (!ua.isConnected()) { ua.stop(); clearTimeout(t); return resolve(); }
    ua.on('disconnected', () => { clearTimeout(t); resolve(); });
    ua.stop();
  });
}

module.exports = { JsSIP, register, refresh, unregister, stop, useOrigin, sockets };

// JsSIP in Node over the `ws` package: a real SIP-over-WebSocket client for
// the integration tests. JsSIP expects a browser WebSocket; this gives it one
// that sends the Origin header a browser would send.
'use strict';
const WebSocket = require('ws');

function useOrigin(origin, extra = {}) {
  global.WebSocket = class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { origin, rejectUnauthorized: false, ...extra });
    }
  };
}

// Silence JsSIP's debug module unless asked for.
if (!process.env.DEBUG) process.env.DEBUG = '';
const JsSIP = require('jssip');

// Creates a UA and resolves when it is registered or failed.
// opts: { ws, uri, origin, password, authorization_jwt, instance, expires, register }
function register(opts) {
  useOrigin(opts.origin);
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
  const ua = new JsSIP.UA(cfg);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ua, ok: false, cause: 'timeout' }), opts.timeoutMs || 5000);
    ua.on('registered', (e) => { clearTimeout(timer); resolve({ ua, ok: true, status: e.response.status_code, response: e.response }); });
    ua.on('registrationFailed', (e) => {
      clearTimeout(timer);
      resolve({ ua, ok: false, cause: e.cause, status: e.response && e.response.status_code,
                reason: e.response && e.response.reason_phrase, response: e.response });
    });
    ua.start();
  });
}

function stop(ua) {
  return new Promise((resolve) => {
    if (!ua) return resolve();
    const t = setTimeout(resolve, 2000);
    ua.on('disconnected', () => { clearTimeout(t); resolve(); });
    ua.stop();
  });
}

module.exports = { JsSIP, register, stop, useOrigin };

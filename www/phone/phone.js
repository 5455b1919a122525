// wtpf softphone: JsSIP (loaded from /vendor/jssip.min.js) over the
// gateway's WebSocket. Signs in with a password (SIP digest) or a Bearer
// token, registers, places and answers audio calls.
//
// The state shown in #state (its data-state attribute, and its text):
//   logged-out  "logged out"
//   connecting  "connecting"      WebSocket opening, REGISTER on its way
//   registered  "registered"      ready to call; no call in progress
//   calling     "calling"         outgoing INVITE sent, nothing back yet
//   ringing     "ringing"         the other side rings (outgoing, 18x), or
//                                 a call comes in (incoming, Answer shown)
//   in-call     "in call"
//   error       "error: ..."      what went wrong, in words
// Every change is also listed, with its time, under Activity.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $('state'), form: $('login'), server: $('server'), identity: $('identity'),
    password: $('password'), token: $('token'), passwordField: $('password-field'),
    tokenField: $('token-field'), login: $('login-btn'), logout: $('logout-btn'),
    aor: $('aor'), number: $('number'), incoming: $('incoming'), caller: $('caller'),
    info: $('call-info'), target: $('target'), pad: $('pad'), call: $('call-btn'),
    answer: $('answer-btn'), decline: $('decline-btn'), hangup: $('hangup-btn'),
    audio: $('remote-audio'), activity: $('activity'),
  };

  const LABELS = {
    'logged-out': 'logged out', connecting: 'connecting', registered: 'registered',
    calling: 'calling', ringing: 'ringing', 'in-call': 'in call', error: 'error',
  };
  // Audio only; no STUN or TURN server: the gateway's side anchors media.
  const MEDIA = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } };
  const SAVED = 'wtpf-phone';

  let ua = null;          // the JsSIP.UA while signed in
  let session = null;     // the call in progress
  let registered = false; // registered at least once since signing in
  let leaving = false;    // the user signed out: disconnections are expected

  // ---- what the page shows --------------------------------------------

  function note(text, cls, state) {
    const li = document.createElement('li');
    const t = document.createElement('time');
    t.textContent = new Date().toLocaleTimeString();
    const s = document.createElement('span');
    s.textContent = text;
    li.append(t, s);
    if (cls) li.className = cls;
    if (state) li.dataset.state = state;
    ui.activity.prepend(li);
    while (ui.activity.children.length > 100) ui.activity.lastChild.remove();
  }

  function setState(state, detail) {
    const text = state === 'error' ? `error: ${detail}` : LABELS[state];
    if (ui.state.dataset.state === state && ui.state.textContent === text) return;
    ui.state.dataset.state = state;
    ui.state.textContent = text;
    note(detail && state !== 'error' ? `${text}: ${detail}` : text,
      state === 'error' ? 'error' : '', state);
    refresh();
  }

  // The state when no call is in progress.
  function idleState() {
    if (!ua) return 'logged-out';
    return ua.isRegistered() ? 'registered' : 'connecting';
  }

  function show(node, on) { node.hidden = !on; }

  // Buttons and fields that fit the current state.
  function refresh() {
    const incoming = session && session.direction === 'incoming' && !session.isEstablished();
    show(ui.login, !ua);
    show(ui.logout, !!ua);
    for (const f of [ui.server, ui.identity, ui.password, ui.token]) f.disabled = !!ua;
    show(ui.call, !session);
    ui.call.disabled = !ua || !ua.isRegistered();
    show(ui.answer, !!incoming);
    show(ui.decline, !!incoming);
    show(ui.hangup, !!session && !incoming);
    show(ui.incoming, !!incoming);
  }

  function authMode() {
    return ui.form.querySelector('input[name="auth"]:checked').value;
  }

  function showAuthFields() {
    show(ui.passwordField, authMode() === 'password');
    show(ui.tokenField, authMode() === 'token');
  }

  // ---- signing in and out -----------------------------------------------

  // The number the gateway assigned, from the 200's P-Associated-URI
  // (<sip:NUMBER@DOMAIN>, <tel:NUMBER>), or null.
  function assignedNumber(response) {
    const uris = response.getHeaders('P-Associated-URI').join(',').match(/<[^>]+>/g) || [];
    for (const u of uris) {
      const m = /^<tel:([^;>]+)/.exec(u);
      if (m) return m[1];
    }
    for (const u of uris) {
      const m = /^<sips?:(\+?[0-9]+)@/.exec(u);
      if (m) return m[1];
    }
    return null;
  }

  function normalizeIdentity(v) {
    v = v.trim();
    return /^sips?:/i.test(v) ? v : `sip:${v}`;
  }

  function uaConfig() {
    const cfg = {
      sockets: [new JsSIP.WebSocketInterface(ui.server.value.trim())],
      uri: normalizeIdentity(ui.identity.value),
      register: true, register_expires: 600, session_timers: false,
      user_agent: 'wtpf-softphone',
      connection_recovery_min_interval: 2, connection_recovery_max_interval: 30,
    };
    if (authMode() === 'token') {
      const t = ui.token.value.trim();
      cfg.authorization_jwt = /^Bearer /i.test(t) ? t : `Bearer ${t}`;
    } else {
      cfg.password = ui.password.value;
    }
    return cfg;
  }

  function signIn(ev) {
    ev.preventDefault();
    if (typeof JsSIP === 'undefined') {
      setState('error', 'JsSIP is missing (/vendor/jssip.min.js): run scripts/deps --web on the gateway');
      return;
    }
    let next;
    try {
      next = new JsSIP.UA(uaConfig());
    } catch (e) {
      setState('error', `check the settings: ${e.message}`);
      return;
    }
    ua = next;
    registered = false;
    leaving = false;
    wireUa(ua);
    localStorage.setItem(SAVED, JSON.stringify({ identity: ui.identity.value, auth: authMode() }));
    ui.aor.textContent = normalizeIdentity(ui.identity.value);
    ui.number.textContent = '—';
    setState('connecting', ui.server.value.trim());
    ua.start();
  }

  // Stops the UA (un-REGISTER, then the WebSocket closes); @p why, when
  // given, is shown as the error that made it stop.
  function signOut(why) {
    if (ua) {
      leaving = true;
      const old = ua;
      ua = null;
      try { old.stop(); } catch (e) { /* already stopped */ }
    }
    session = null;
    ui.aor.textContent = '—';
    ui.number.textContent = '—';
    if (why) setState('error', why);
    else setState('logged-out');
  }

  function wireUa(u) {
    u.on('connected', () => { if (u === ua) note(`connected to ${ui.server.value.trim()}`); });
    u.on('disconnected', (e) => {
      if (u !== ua || leaving) return;
      if (!registered) {
        signOut(`cannot connect to ${ui.server.value.trim()}: the WebSocket was refused ` +
          `or the server is unreachable${e && e.code ? ` (code ${e.code})` : ''}`);
      } else if (!session) {
        setState('connecting', 'connection lost, reconnecting');
      }
    });
    u.on('registered', (e) => {
      if (u !== ua) return;
      registered = true;
      const n = assignedNumber(e.response);
      ui.number.textContent = n || '—';
      if (n) ui.number.dataset.number = n;
      if (!session) setState('registered', n ? `number ${n}` : '');
      else refresh();
    });
    u.on('registrationFailed', (e) => {
      if (u !== ua) return;
      const r = e.response;
      const what = r ? `${r.status_code} ${r.reason_phrase}` : e.cause;
      const hint = r && (r.status_code === 401 || r.status_code === 403)
        ? ' (check the identity and the password or token)' : '';
      signOut(`registration refused: ${what}${hint}`);
    });
    u.on('newRTCSession', (e) => { if (u === ua && e.originator === 'remote') onIncoming(e); });
  }

  // ---- calls ------------------------------------------------------------

  function playRemote(pc) {
    pc.addEventListener('track', (e) => {
      ui.audio.srcObject = e.streams[0] || new MediaStream([e.track]);
      ui.audio.play().catch(() => { /* autoplay refused: the stream stays attached */ });
    });
  }

  function partyOf(req) {
    const from = req.from;
    const who = from.uri.user || from.uri.toString();
    return from.display_name ? `${from.display_name} (${who})` : who;
  }

  function endCall(s, text, cls) {
    if (s !== session) return;
    session = null;
    ui.audio.srcObject = null;
    ui.info.textContent = text;
    note(text, cls);
    setState(idleState());
    refresh();
  }

  function wireSession(s) {
    s.on('peerconnection', (e) => playRemote(e.peerconnection));
    s.on('progress', (e) => {
      if (s !== session || s.direction !== 'outgoing') return;
      const code = e.response ? e.response.status_code : 0;
      ui.info.textContent = code === 183 ? 'the other side is being reached' : 'the other side rings';
      setState('ringing', code ? `${code} ${e.response.reason_phrase}` : '');
    });
    s.on('accepted', () => {
      if (s !== session) return;
      ui.info.textContent = `in call with ${ui.caller.textContent || ui.target.value}`;
      setState('in-call');
    });
    s.on('ended', (e) => endCall(s, e.originator === 'remote'
      ? 'call ended by the other side' : 'call ended'));
    s.on('failed', (e) => {
      const m = e.message && e.message.status_code ? ` (${e.message.status_code} ${e.message.reason_phrase})` : '';
      let text = `call failed: ${e.cause}${m}`;
      if (e.originator === 'local' && e.cause === JsSIP.C.causes.CANCELED) text = 'call cancelled';
      else if (e.originator === 'local' && e.cause === JsSIP.C.causes.REJECTED) text = 'call declined';
      else if (e.originator === 'remote' && e.cause === JsSIP.C.causes.CANCELED) text = 'missed call: the caller gave up';
      endCall(s, text, /failed/.test(text) ? 'error' : '');
    });
  }

  function onIncoming(e) {
    if (session) {   // one call at a time
      e.session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
      note(`busy: refused a call from ${partyOf(e.request)}`);
      return;
    }
    session = e.session;
    wireSession(session);
    ui.caller.textContent = partyOf(e.request);
    ui.info.textContent = '';
    setState('ringing', `incoming call from ${ui.caller.textContent}`);
  }

  // What was typed, as a SIP URI: a number or name in the user's domain,
  // or an address as it is.
  function targetUri() {
    const v = ui.target.value.trim();
    if (/^sips?:/i.test(v)) return v;
    if (v.includes('@')) return `sip:${v}`;
    const domain = ua.configuration.uri.host;
    return `sip:${/^[+0-9()\s.-]+$/.test(v) ? v.replace(/[()\s.-]/g, '') : v}@${domain}`;
  }

  function placeCall() {
    if (!ua || session || !ui.target.value.trim()) return;
    const uri = targetUri();
    try {
      session = ua.call(uri, MEDIA);
    } catch (e) {
      ui.info.textContent = `cannot call ${uri}: ${e.message}`;
      note(ui.info.textContent, 'error');
      return;
    }
    ui.caller.textContent = '';
    wireSession(session);
    if (session.connection) playRemote(session.connection);
    ui.info.textContent = `calling ${uri}`;
    setState('calling', uri);
  }

  function answer() {
    if (session && session.direction === 'incoming' && !session.isEstablished()) session.answer(MEDIA);
  }

  function decline() {
    if (session) session.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
  }

  function hangUp() {
    if (session) session.terminate();
  }

  // A digit: into the number field, or as DTMF during a call.
  function digit(d) {
    if (session && session.isEstablished()) {
      session.sendDTMF(d);
      note(`DTMF ${d}`);
    } else {
      ui.target.value += d;
    }
  }

  // ---- start --------------------------------------------------------------

  function init() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ui.server.value = location.host ? `${scheme}://${location.host}` : '';
    const saved = JSON.parse(localStorage.getItem(SAVED) || '{}');
    const q = new URLSearchParams(location.search);
    ui.identity.value = q.get('identity') || saved.identity || '';
    if (q.get('server')) ui.server.value = q.get('server');
    if (saved.auth === 'token') ui.form.querySelector('input[value="token"]').checked = true;
    showAuthFields();

    ui.form.addEventListener('submit', signIn);
    ui.form.addEventListener('change', showAuthFields);
    ui.logout.addEventListener('click', () => signOut());
    ui.call.addEventListener('click', placeCall);
    ui.target.addEventListener('keydown', (e) => { if (e.key === 'Enter') placeCall(); });
    ui.answer.addEventListener('click', answer);
    ui.decline.addEventListener('click', decline);
    ui.hangup.addEventListener('click', hangUp);
    ui.pad.addEventListener('click', (e) => { if (e.target.dataset.digit) digit(e.target.dataset.digit); });
    window.addEventListener('beforeunload', () => { if (ua) ua.stop(); });

    refresh();
    if (typeof JsSIP === 'undefined')
      setState('error', 'JsSIP is missing (/vendor/jssip.min.js): run scripts/deps --web on the gateway');
    else
      note(`ready; JsSIP ${JsSIP.version}`);
  }

  init();
})();

// wtpf operations console: polls the gateway's JSON API (same origin, the
// admin listener) every 2 seconds and shows trunks, identities per tenant,
// registrations, calls, ring groups with their members' states, and the
// allocated numbers. Calls can be hung up and agents paused or resumed.
//
// The admin token is asked for once and kept in sessionStorage; a link may
// carry it as /console/#token=TOKEN (taken out of the address at once).
// A refused token (401) stops the polling and shows the error banner.
'use strict';

(() => {
  const KEY = 'wtpf-admin-token';
  const POLL_MS = 2000;
  const $ = (id) => document.getElementById(id);

  let token = null;
  let timer = null;
  let generation = 0;   // a new token starts a new generation of polls

  // ---- building the tables ----------------------------------------------

  function h(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') n.className = v;
      else if (k.startsWith('data-')) n.dataset[k.slice(5).replace(/-(.)/g, (_, c) => c.toUpperCase())] = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) n.append(k instanceof Node ? k : String(k));
    return n;
  }

  const badge = (text, kind) => h('span', { class: `badge ${kind}` }, text);

  // Replaces the rows of table #id with rows(item) for each item.
  function fill(id, items, row, empty) {
    const body = $(id).tBodies[0];
    const cols = $(id).tHead.rows[0].cells.length;
    body.replaceChildren(...(items.length ? items.map(row)
      : [h('tr', { class: 'empty' }, h('td', { colspan: cols }, empty))]));
  }

  function seconds(s) {
    if (s === null || s === undefined || s < 0) return '—';
    const d = Math.floor(s / 86400), hh = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    if (d) return `${d} d ${hh} h`;
    if (hh) return `${hh} h ${m} min`;
    if (m) return `${m} min ${s % 60} s`;
    return `${s} s`;
  }

  const stateKind = (s) => s.replace(/[^a-z]+/g, '-');

  // ---- the API ----------------------------------------------------------

  async function api(path, method = 'GET') {
    const r = await fetch(path, { method, cache: 'no-store', headers: { Authorization: `Bearer ${token}` } });
    let body = null;
    try { body = await r.json(); } catch (e) { /* no JSON */ }
    if (!r.ok) {
      const err = new Error((body && body.error) || `HTTP ${r.status}`);
      err.status = r.status;
      throw err;
    }
    return body;
  }

  async function act(path, method, what) {
    try {
      await api(path, method);
    } catch (e) {
      showBanner(`${what} failed: ${e.message}`, 'error');
    }
    poll();
  }

  // ---- rendering ----------------------------------------------------------

  function renderHealth(hl) {
    $('sum-connections').textContent = hl.connections;
    $('sum-registrations').textContent = hl.registrations;
    $('sum-calls').textContent = hl.calls;
    $('sum-uptime').textContent = seconds(hl.uptime);
  }

  function renderTrunks(list) {
    fill('trunks', list, (t) => h('tr', { 'data-name': t.name, 'data-state': t.state },
      h('td', null, h('strong', null, t.name)), h('td', null, t.mode),
      h('td', null, badge(t.state, t.up ? 'ok' : 'bad')),
      h('td', { class: 'mono' }, t.pcscf || '—'), h('td', null, t.last_error || '—')), 'no trunk configured');
  }

  function usage(t) {
    if (!t.max_identities) return h('span', { class: 'muted' }, 'no limit beyond the ranges');
    const pct = Math.min(100, Math.round((100 * (t.identities_in_use + t.identities_held)) / t.max_identities));
    const bar = h('div', { class: `meter${pct >= 90 ? ' full' : ''}` }, h('span'));
    bar.firstChild.style.width = `${pct}%`;
    return h('div', { class: 'usage' }, bar, h('span', null, `${pct} %`));
  }

  function renderTenants(list) {
    fill('tenants', list, (t) => h('tr', { 'data-tenant': t.name },
      h('td', null, h('strong', null, t.name)), h('td', null, t.domain),
      h('td', { class: 'num', 'data-field': 'in-use' }, t.identities_in_use),
      h('td', { class: 'num', 'data-field': 'held' }, t.identities_held),
      h('td', { class: 'num', 'data-field': 'limit' }, t.max_identities || '—'),
      h('td', null, usage(t)),
      h('td', { class: 'num', 'data-field': 'refused' }, t.identities_refused)), 'no tenant');
  }

  function renderRegistrations(list) {
    fill('registrations', list, (r) => h('tr', { 'data-number': r.number || '', 'data-aor': r.aor },
      h('td', { class: 'mono' }, r.number || '—'), h('td', { class: 'mono' }, r.aor),
      h('td', null, r.tenant), h('td', { class: 'mono small' }, r.impi || '—'),
      h('td', { class: 'mono' }, r.peer), h('td', null, r.tls ? 'wss' : 'ws'),
      h('td', { class: 'num' }, seconds(r.expires_in))), 'no device registered');
  }

  function renderCalls(list) {
    const now = Math.floor(Date.now() / 1000);
    fill('calls', list, (c) => h('tr', { 'data-id': c.id, 'data-state': c.state },
      h('td', { class: 'num' }, c.id), h('td', null, c.direction),
      h('td', null, badge(c.state, c.state === 'answered' ? 'ok' : 'warn')),
      h('td', { class: 'mono' }, c.user), h('td', { class: 'mono' }, c.remote || '—'),
      h('td', null, c.tenant || '—'),
      h('td', { class: 'num' }, c.answered ? seconds(now - c.answered) : `ringing ${seconds(now - c.started)}`),
      h('td', null, h('button', { type: 'button', class: 'small danger',
        onclick: () => act(`/api/calls/${c.id}`, 'DELETE', `hanging up call ${c.id}`) }, 'Hang up'))),
    'no call in progress');
  }

  function memberRow(g, m) {
    const path = `/api/agents/${encodeURIComponent(g.tenant)}/${encodeURIComponent(m.number)}`;
    const kind = { available: 'ok', 'on a call': 'busy', 'wrap-up': 'warn', paused: 'off' }[m.state] || 'warn';
    return h('tr', { 'data-number': m.number, 'data-state': m.state },
      h('td', { class: 'mono' }, m.number), h('td', null, badge(m.state, kind)),
      h('td', { class: 'num' }, m.devices), h('td', { class: 'num' }, m.calls),
      h('td', { class: 'num' }, seconds(m.idle_seconds)),
      h('td', null, m.paused
        ? h('button', { type: 'button', class: 'small', onclick: () => act(`${path}/resume`, 'POST', `resuming ${m.number}`) }, 'Resume')
        : h('button', { type: 'button', class: 'small', onclick: () => act(`${path}/pause`, 'POST', `pausing ${m.number}`) }, 'Pause')));
  }

  function renderGroups(list) {
    const box = $('groups');
    if (!list.length) {
      box.replaceChildren(h('p', { class: 'muted' }, 'no ring group configured'));
      return;
    }
    box.replaceChildren(...list.map((g) => h('div', { class: 'group', 'data-number': g.number, 'data-tenant': g.tenant },
      h('div', { class: 'group-head' },
        h('strong', null, g.name || g.number), h('span', { class: 'mono' }, g.number),
        h('span', { class: 'muted' }, `${g.tenant} · ${g.strategy.replace('_', ' ')} · ring ${g.timeout} s` +
          `${g.wrap_up ? ` · wrap-up ${g.wrap_up} s` : ''}${g.overflow ? ` · overflow ${g.overflow}` : ''}`)),
      h('table', { class: 'members' },
        h('thead', null, h('tr', null, ...['Member', 'State', 'Devices', 'Calls', 'Idle', ''].map((x) => h('th', null, x)))),
        h('tbody', null, ...g.members.map((m) => memberRow(g, m)))))));
  }

  function renderIdentities(list) {
    fill('identities', list, (a) => h('tr', { 'data-number': a.number, 'data-state': a.state },
      h('td', { class: 'mono' }, a.number), h('td', null, a.tenant), h('td', null, a.set),
      h('td', { class: 'mono' }, a.subject), h('td', null, badge(a.state, a.state === 'in use' ? 'ok' : 'off'))),
    'no number allocated');
  }

  // ---- polling ------------------------------------------------------------

  function showBanner(text, kind) {
    const b = $('banner');
    b.hidden = !text;
    b.textContent = text || '';
    b.dataset.kind = kind || '';
  }

  function setLive(state, text) {
    $('live').dataset.state = state;
    $('live').textContent = text;
  }

  async function poll() {
    const gen = generation;
    clearTimeout(timer);
    if (!token) return;
    try {
      const [health, trunks, tenants, regs, calls, groups, idents] = await Promise.all([
        api('/api/health'), api('/api/trunks'), api('/api/tenants'), api('/api/registrations'),
        api('/api/calls'), api('/api/groups'), api('/api/identities')]);
      if (gen !== generation) return;
      renderHealth(health);
      renderTrunks(trunks);
      renderTenants(tenants);
      renderRegistrations(regs);
      renderCalls(calls);
      renderGroups(groups);
      renderIdentities(idents);
      $('views').hidden = false;
      $('token-card').hidden = true;
      if ($('banner').dataset.kind !== 'error') showBanner(null);
      setLive('live', `live · ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      if (gen !== generation) return;
      if (e.status === 401) {
        showBanner('The admin token was refused (401 Unauthorized). Enter the token of admin.token_file.', 'auth');
        setLive('error', 'token refused');
        askToken();
        return;   // no more polling with this token
      }
      if (e.status === 403)
        showBanner(`The API is closed (403): ${e.message}`, 'auth');
      else
        showBanner(`Cannot reach the gateway: ${e.message}. Retrying.`, 'network');
      setLive('error', 'not connected');
    }
    timer = setTimeout(poll, POLL_MS);
  }

  function askToken() {
    clearTimeout(timer);
    $('views').hidden = true;
    $('token-card').hidden = false;
    $('forget-btn').hidden = true;
    $('token-input').focus();
  }

  function useToken(t) {
    generation += 1;
    token = t || null;
    if (!token) {
      sessionStorage.removeItem(KEY);
      setLive('idle', 'not connected');
      askToken();
      return;
    }
    sessionStorage.setItem(KEY, token);
    $('forget-btn').hidden = false;
    setLive('idle', 'connecting');
    poll();
  }

  // #token=... in the address: taken, then removed from it.
  function tokenFromHash() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (!m) return null;
    history.replaceState(null, '', location.pathname + location.search);
    return decodeURIComponent(m[1]);
  }

  function init() {
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      showBanner(null);
      useToken($('token-input').value.trim());
      $('token-input').value = '';
    });
    $('forget-btn').addEventListener('click', () => { showBanner(null); useToken(null); });
    window.addEventListener('hashchange', () => {
      const t = tokenFromHash();
      if (t !== null) { showBanner(null); useToken(t); }
    });
    const t = tokenFromHash();
    useToken(t !== null ? t : sessionStorage.getItem(KEY));
  }

  init();
})();

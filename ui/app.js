// app.js - the lbipam dashboard. Plain browser JavaScript, no framework, no build step.
//
// Everything comes from the /v1 API with the token kept in sessionStorage (this tab only);
// a 401 from any call forgets it and asks again. Routes a server may not have yet (the event
// feed, reachability checks) degrade to a visible note when they answer 404. All text from
// the API goes into the page through textContent, never innerHTML.
'use strict';

const TOKEN_KEY = 'lbipam.token';
const LIST_LIMIT = 1000;
const SEARCH_PAGES_MAX = 20; // client-side filters scan at most this many pages
const EVENTS_KEPT = 100;
const EVENT_WAIT_S = 30;
const POOL_REFRESH_MS = 15000;
const WARN_AT = 0.8; // keep in sync with ops/prometheus/lbipam-rules.yml
const CRIT_AT = 0.95;

const $ = (id) => document.getElementById(id);

class Unauthorized extends Error {}
class NotFound extends Error {}

// ----------------------------------------------------------------------------- the API

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const resp = await fetch(path, { headers, signal: opts.signal, cache: 'no-store' });
  if (resp.status === 401) {
    askToken('The server refused the token (401). Sign in again.');
    throw new Unauthorized('401');
  }
  if (resp.status === 404 && opts.notFoundOk) throw new NotFound(path);
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    body = null;
  }
  if (!resp.ok) {
    const why = body && (body.detail || body.title) ? body.detail || body.title : resp.statusText;
    const err = new Error(resp.status + ' ' + why);
    err.status = resp.status;
    err.problem = body;
    throw err;
  }
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

// Every item of a list, following nextCursor; stops after maxPages (truncated = true).
async function listAll(path, params, maxPages) {
  const items = [];
  let cursor = '';
  for (let page = 0; page < maxPages; page++) {
    const body = await api(path + query({ ...params, limit: LIST_LIMIT, cursor }));
    items.push(...(body.items || []));
    if (!body.nextCursor) return { items, truncated: false };
    cursor = body.nextCursor;
  }
  return { items, truncated: true };
}

// ----------------------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// Exact decimal strings (IPv6 counts exceed 2^53) with thousands separators.
function count(s) {
  try {
    return BigInt(s).toLocaleString('en-US');
  } catch (e) {
    return String(s);
  }
}

function percent(u) {
  const p = u * 100;
  return (p > 0 && p < 10 ? p.toFixed(2) : p.toFixed(1)) + ' %';
}

function level(u) {
  if (u >= CRIT_AT) return 'crit';
  if (u >= WARN_AT) return 'warn';
  return '';
}

function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

function note(id, text) {
  $(id).textContent = text || '';
}

function failed(id, err) {
  if (err instanceof Unauthorized) return;
  note(id, 'Could not load: ' + err.message);
}

// ----------------------------------------------------------------------------- sign in

function askToken(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $('session-state').textContent = 'Not signed in';
  $('login-error').textContent = message || '';
  const dlg = $('login');
  if (!dlg.open) dlg.showModal();
  $('token').focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const t = $('token').value.trim();
  if (!t) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  try {
    await api('/v1/pools?limit=1');
  } catch (err) {
    if (!(err instanceof Unauthorized)) $('login-error').textContent = err.message;
    return;
  }
  $('token').value = '';
  $('login').close();
  $('session-state').textContent = 'Signed in';
  start();
}

// ----------------------------------------------------------------------------- pools

function familyRow(name, st) {
  const u = Number(st.utilization) || 0;
  const lvl = level(u);
  const bar = el('div', {
    class: 'bar ' + lvl,
    role: 'progressbar',
    'aria-label': name + ' utilization',
    'aria-valuemin': '0',
    'aria-valuemax': '100',
    'aria-valuenow': (u * 100).toFixed(2),
  }, el('span'));
  // A sliver stays visible for a used address in a huge (IPv6) range.
  bar.firstChild.style.width = (u > 0 ? Math.min(100, Math.max(0.5, u * 100)) : 0) + '%';
  return el('div', { class: 'family', 'data-family': name },
    el('strong', { text: name }),
    bar,
    el('span', { class: 'pct', text: percent(u) }),
    el('span', {
      class: 'counts',
      text: count(st.used) + ' used of ' + count(st.total) + ' \u00b7 ' +
        count(st.available) + ' available',
    }));
}

function poolCard(p) {
  const st = p.status || {};
  const badges = [];
  let worst = 0;
  for (const f of ['ipv4', 'ipv6']) if (st[f]) worst = Math.max(worst, Number(st[f].utilization) || 0);
  if (p.disabled) badges.push(el('span', { class: 'badge off', text: 'disabled' }));
  if (worst >= CRIT_AT) badges.push(el('span', { class: 'badge crit', text: 'critical: above 95 %' }));
  else if (worst >= WARN_AT) badges.push(el('span', { class: 'badge warn', text: 'warning: above 80 %' }));
  const meta = ['priority ' + (p.priority || 0)];
  if (p.autoAssign === false) meta.push('manual only (autoAssign off)');
  meta.push((p.blocks || []).length + ' block' + ((p.blocks || []).length === 1 ? '' : 's'));
  const card = el('article', { class: 'pool', 'data-pool': p.name, 'aria-label': 'pool ' + p.name },
    el('h3', {}, el('span', { text: p.name }), ...badges),
    el('p', { class: 'meta', text: meta.join(' \u00b7 ') + (p.description ? ' \u00b7 ' + p.description : '') }));
  if (st.ipv4) card.append(familyRow('IPv4', st.ipv4));
  if (st.ipv6) card.append(familyRow('IPv6', st.ipv6));
  const warnings = st.warnings || [];
  if (warnings.length) {
    const ul = el('ul', { class: 'warnings', 'aria-label': 'warnings of ' + p.name });
    for (const w of warnings) ul.append(el('li', { text: w.detail || w.reason }));
    card.append(ul);
  }
  return card;
}

async function loadPools() {
  try {
    const { items, truncated } = await listAll('/v1/pools', {}, SEARCH_PAGES_MAX);
    const list = $('pool-list');
    list.replaceChildren(...items.map(poolCard));
    note('pools-note', items.length === 0 ? 'No pools yet.' :
      truncated ? 'Showing the first ' + items.length + ' pools.' : '');
  } catch (err) {
    failed('pools-note', err);
  }
}

// ----------------------------------------------------------------------------- allocations

function looksLikeFullIp(s) {
  return s.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

function allocRow(a) {
  const addrs = (a.addresses || []).map((x) => x.ip + ' (' + x.pool + ')').join(', ');
  const c = a.condition || {};
  const cond = c.status === 'True' ? 'satisfied' : (c.reason || '') + (c.message ? ': ' + c.message : '');
  return el('tr', { 'data-service': a.service },
    el('td', { text: a.cluster }),
    el('td', { text: a.namespace }),
    el('td', { text: a.service }),
    el('td', { class: 'mono', text: addrs || '\u2014' }),
    el('td', { class: c.status === 'True' ? '' : 'error', text: cond }),
    el('td', { text: a.externalRef || '' }),
    el('td', { text: a.managedBy || '' }));
}

async function searchAllocations(ev) {
  if (ev) ev.preventDefault();
  const ip = $('q-ip').value.trim();
  const service = $('q-service').value.trim().toLowerCase();
  // The API filters by cluster, namespace, exact IP and external ref; a partial IP and the
  // service are matched here, over the pages the API returns.
  const params = {
    cluster: $('q-cluster').value.trim(),
    namespace: $('q-namespace').value.trim(),
    externalRef: $('q-ref').value.trim(),
  };
  if (ip && looksLikeFullIp(ip)) params.ip = ip;
  note('alloc-note', 'Searching\u2026');
  try {
    const { items, truncated } = await listAll('/v1/allocations', params, SEARCH_PAGES_MAX);
    const hits = items.filter((a) =>
      (!service || a.service.toLowerCase().includes(service)) &&
      (!ip || params.ip || (a.addresses || []).some((x) => x.ip.includes(ip))));
    $('alloc-rows').replaceChildren(...hits.map(allocRow));
    note('alloc-note', hits.length + ' allocation' + (hits.length === 1 ? '' : 's') + ' found' +
      (truncated ? ' (only the first ' + items.length + ' were searched)' : '') + '.');
  } catch (err) {
    $('alloc-rows').replaceChildren();
    failed('alloc-note', err);
  }
}

// ----------------------------------------------------------------------------- lookup

async function lookupAddress(ev) {
  ev.preventDefault();
  const ip = $('lookup-ip').value.trim();
  const out = $('lookup-result');
  if (!ip) return;
  try {
    const a = await api('/v1/addresses/' + encodeURIComponent(ip));
    const holders = (a.holders || []).map((h) => h.cluster + '/' + h.namespace + '/' + h.service);
    const dl = el('dl', { class: 'kv' });
    const row = (k, v) => dl.append(el('dt', { text: k }), el('dd', { text: v }));
    row('Address', a.ip + ' (' + a.family + ')');
    row('State', a.state);
    row('Pool', a.pool || 'outside every pool');
    row('Held by', holders.length ? holders.join(', ') : 'nobody');
    if (a.lastCheck) row('Last check', (a.lastCheck.state || '') + ' ' + when(a.lastCheck.finishedAt));
    out.replaceChildren(dl);
  } catch (err) {
    if (err instanceof Unauthorized) return;
    out.replaceChildren(el('p', { class: 'error', text: err.message }));
  }
}

// ----------------------------------------------------------------------------- checks

async function loadChecks() {
  try {
    const body = await api('/v1/reachability-checks?limit=100', { notFoundOk: true });
    const items = (body.items || []).slice(-20).reverse();
    $('check-list').replaceChildren(...items.map((c) => {
      const target = c.target ? c.target.ip || c.target.allocation : '';
      const bad = (c.results || []).filter((r) => !r.ok).map((r) => r.type + (r.port ? ':' + r.port : '') + ' ' + (r.error || ''));
      const cls = c.state === 'passed' ? 'ok' : c.state === 'failed' ? 'crit' : 'off';
      return el('li', {},
        el('span', { class: 'badge ' + cls, text: c.state }), ' ',
        el('span', { class: 'mono', text: target }), ' ',
        el('span', { class: 'time', text: when(c.finishedAt || c.createdAt) }),
        bad.length ? el('div', { class: 'error', text: bad.join('; ') }) : null);
    }));
    note('checks-note', items.length ? '' : 'No checks yet.');
  } catch (err) {
    if (err instanceof NotFound) {
      note('checks-note', 'This server has no reachability checks (GET /v1/reachability-checks answered 404).');
      return;
    }
    failed('checks-note', err);
  }
}

// ----------------------------------------------------------------------------- events

let eventsAbort = null;
let lastSeq = 0;

function eventItem(e) {
  const data = e.data && typeof e.data === 'object' ? JSON.stringify(e.data) : '';
  return el('li', { 'data-seq': String(e.seq) },
    el('span', { class: 'time', text: '#' + e.seq + ' ' + when(e.time) }), ' ',
    el('strong', { text: e.action || '' }), ' ',
    el('span', { class: 'mono', text: e.resource || '' }),
    e.actor ? el('span', { class: 'time', text: ' by ' + e.actor }) : null,
    data ? el('div', { class: 'mono time', text: data.length > 200 ? data.slice(0, 200) + '\u2026' : data }) : null);
}

function addEvents(items) {
  const list = $('event-list');
  for (const e of items) {
    if (e.seq <= lastSeq) continue;
    lastSeq = e.seq;
    list.prepend(eventItem(e));
  }
  while (list.children.length > EVENTS_KEPT) list.lastChild.remove();
}

function live(text, cls) {
  const b = $('events-live');
  b.textContent = text;
  b.className = 'badge ' + (cls || '');
}

// Catches up from the start, then long-polls: each answer comes when an event exists after
// lastSeq, or after EVENT_WAIT_S with none.
async function followEvents() {
  if (eventsAbort) eventsAbort.abort();
  const ctl = new AbortController();
  eventsAbort = ctl;
  let failures = 0;
  let caughtUp = false; // the first call answers at once with what exists
  while (!ctl.signal.aborted) {
    try {
      const wait = caughtUp ? EVENT_WAIT_S : '';
      const body = await api('/v1/events' + query({ after: lastSeq, limit: LIST_LIMIT, wait }),
        { notFoundOk: true, signal: ctl.signal });
      const items = (body && body.items) || [];
      caughtUp = items.length < LIST_LIMIT;
      addEvents(items);
      live('live', 'ok');
      note('events-note', $('event-list').children.length ? '' : 'No events yet.');
      failures = 0;
      if (items.length) loadPools();
    } catch (err) {
      if (ctl.signal.aborted || err instanceof Unauthorized) return;
      if (err instanceof NotFound) {
        live('unavailable', 'off');
        note('events-note', 'This server has no event feed (GET /v1/events answered 404): refresh to see changes.');
        return;
      }
      failures++;
      live('reconnecting', 'warn');
      note('events-note', 'Event feed interrupted (' + err.message + '); retrying.');
      await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** failures)));
    }
  }
}

// ----------------------------------------------------------------------------- wiring

let poolTimer = null;

function start() {
  loadPools();
  searchAllocations();
  loadChecks();
  followEvents();
  clearInterval(poolTimer);
  poolTimer = setInterval(() => {
    loadPools();
    loadChecks();
  }, POOL_REFRESH_MS);
}

function logout() {
  if (eventsAbort) eventsAbort.abort();
  clearInterval(poolTimer);
  askToken('');
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', signIn);
  $('login').addEventListener('cancel', (ev) => ev.preventDefault()); // no data without a token
  $('alloc-search').addEventListener('submit', searchAllocations);
  $('alloc-search').addEventListener('reset', () => setTimeout(searchAllocations, 0));
  $('lookup-form').addEventListener('submit', lookupAddress);
  $('logout').addEventListener('click', logout);
  $('refresh').addEventListener('click', start);
  if (token()) {
    $('session-state').textContent = 'Signed in';
    start();
  } else {
    askToken('');
  }
});

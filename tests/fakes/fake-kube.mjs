#!/usr/bin/env node
// fake-kube.mjs - a fake Kubernetes API server for lbipam-sync's tests (Node.js, stdlib only).
//
// Faithful where the worker depends on the real one: HTTPS with a certificate the tests make,
// bearer tokens (401 on mismatch), Services listed with limit/continue, watched as a chunked
// stream (events deliberately cut across chunks and packed several to a chunk) with bookmarks
// and timeoutSeconds, a resourceVersion bumped on every change and checked on merge-patch
// (409 when stale), strategic-merge-patch of status (conditions merge by type, `$patch:
// delete` removes one, ingress is replaced, null deletes), the ipMode: VIP default on ingress,
// no-op writes that change nothing (no new resourceVersion, no event), and finalizers that
// hold a deleted Service (deletionTimestamp) until the last one is removed.
//
// A control interface on plain HTTP (loopback only) lets tests create/edit/delete Services,
// inject faults (410 on watch, 429 with Retry-After, 500, dropped connections), rotate the
// token and read request counters. See the `control` function for the routes.
//
// Usage: node fake-kube.mjs --cert C --key K --token T [--port 0] [--ctl-port 0]
//        [--bookmark-ms 2000] [--max-watch-seconds N] [--client-ca CA]
// With --client-ca, a client certificate signed by that CA authenticates instead of a token.
// Prints one JSON line {"port": N, "ctlPort": M} on stdout once both listen.

import https from 'node:https';
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []));

let token = args.token || 'test-token';
const bookmarkMs = Number(args['bookmark-ms'] || 2000);
const maxWatchSeconds = Number(args['max-watch-seconds'] || 0);

// ---- state ----
const services = new Map(); // "ns/name" -> object
let rv = 100;
let compactedRV = 0; // a watch or continue token older than this gets 410
const history = [];  // {rv, type, object}
const watchers = new Set();
let frozen = false;
const faults = [];   // {match, status, retryAfter, count, drop}
let counters;
resetCounters();

function resetCounters() {
  counters = {
    requests: 0, lists: 0, watches: 0, gets: 0, unauthorized: 0, byStatus: {},
    patches: {}, statusPatches: {}, finalizerPatches: {}, noopPatches: 0, conflicts: 0,
    faultsServed: 0, certAuth: 0,
  };
}

function bump(map, key) { map[key] = (map[key] || 0) + 1; }
const clone = (o) => JSON.parse(JSON.stringify(o));
const keyOf = (o) => `${o.metadata.namespace}/${o.metadata.name}`;

function status(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function record(type, obj) {
  rv += 1;
  obj.metadata.resourceVersion = String(rv);
  const ev = { rv, type, object: clone(obj) };
  history.push(ev);
  for (const w of watchers) w.send(ev);
}

function defaultIngress(obj) {
  const ing = obj.status?.loadBalancer?.ingress;
  if (Array.isArray(ing)) for (const e of ing) if (e.ip && !e.ipMode) e.ipMode = 'VIP';
}

function normalize(obj, ns, name) {
  obj.apiVersion = 'v1';
  obj.kind = 'Service';
  obj.metadata = obj.metadata || {};
  obj.metadata.namespace = ns;
  obj.metadata.name = name;
  obj.spec = obj.spec || {};
  obj.spec.type = obj.spec.type || 'ClusterIP';
  obj.status = obj.status || { loadBalancer: {} };
  obj.status.loadBalancer = obj.status.loadBalancer || {};
  defaultIngress(obj);
  return obj;
}

function upsert(ns, name, body) {
  const key = `${ns}/${name}`;
  const old = services.get(key);
  const obj = normalize(clone(body), ns, name);
  if (old) {
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    if (!body.status) obj.status = old.status; // status is a subresource: kept unless given
    if (!body.metadata?.finalizers) obj.metadata.finalizers = old.metadata.finalizers;
    services.set(key, obj);
    record('MODIFIED', obj);
  } else {
    obj.metadata.uid = crypto.randomUUID();
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    services.set(key, obj);
    record('ADDED', obj);
  }
  return obj;
}

function remove(key, force) {
  const obj = services.get(key);
  if (!obj) return null;
  if (!force && (obj.metadata.finalizers || []).length > 0) {
    if (!obj.metadata.deletionTimestamp) {
      obj.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      record('MODIFIED', obj);
    }
    return obj;
  }
  services.delete(key);
  record('DELETED', obj);
  return obj;
}

// RFC 7386 JSON merge patch.
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Strategic merge patch for the fields of a Service status: lists with a merge key
// (conditions by type) merge element-wise and honour `$patch: delete`; every other list
// (ingress) is replaced; maps merge; null deletes.
const MERGE_KEYS = { conditions: 'type' };
function strategicPatch(target, patch, field) {
  if (Array.isArray(patch)) {
    const mk = MERGE_KEYS[field];
    if (!mk || !Array.isArray(target)) return clone(patch.filter((e) => !(e && e.$patch)));
    const out = clone(target);
    for (const item of patch) {
      const idx = out.findIndex((e) => e && e[mk] === item[mk]);
      if (item.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) {
        out[idx] = strategicPatch(out[idx], item, null);
      } else {
        out.push(clone(item));
      }
    }
    return out;
  }
  if (patch === null || typeof patch !== 'object') return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicPatch(out[k], v, k);
  }
  return out;
}

// ---- HTTP helpers ----
function reply(res, code, body, headers = {}) {
  bump(counters.byStatus, String(code));
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size > 3 << 20) reject(new Error('too large')); else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function classify(method, path, query) {
  if (method === 'GET' && path === '/api/v1/services') return query.get('watch') ? 'watch' : 'list';
  if (method === 'GET') return 'get';
  if (method === 'PATCH' && path.endsWith('/status')) return 'status';
  if (method === 'PATCH') return 'patch';
  return 'other';
}

function takeFault(kind) {
  const i = faults.findIndex((f) => f.count > 0 && (f.match === kind || f.match === 'any'));
  if (i < 0) return null;
  const f = faults[i];
  f.count -= 1;
  if (f.count === 0) faults.splice(i, 1);
  return f;
}

// ---- the API ----
async function api(req, res) {
  counters.requests += 1;
  const url = new URL(req.url, 'https://x');
  const path = url.pathname;
  const kind = classify(req.method, path, url.searchParams);
  // Every attempt counts, refused and faulted ones too: tests count retries with these.
  if (kind === 'list') counters.lists += 1;
  if (kind === 'watch') counters.watches += 1;
  // A client certificate signed by --client-ca authenticates like a token does.
  const byCert = req.socket.authorized === true;
  if (byCert) counters.certAuth += 1;
  if (!byCert && req.headers.authorization !== `Bearer ${token}`) {
    counters.unauthorized += 1;
    return reply(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
  }
  const fault = takeFault(kind);
  if (fault) {
    counters.faultsServed += 1;
    if (fault.drop) return req.socket.destroy();
    const headers = fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {};
    const reason = fault.status === 429 ? 'TooManyRequests' : 'InternalError';
    return reply(res, fault.status, status(fault.status, reason, 'injected fault'), headers);
  }
  if (kind === 'list') return list(res, url.searchParams);
  if (kind === 'watch') return watch(req, res, url.searchParams);
  const m = path.match(/^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)(\/status)?$/);
  if (!m) return reply(res, 404, status(404, 'NotFound', `no route ${path}`));
  const key = `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
  const obj = services.get(key);
  if (!obj) return reply(res, 404, status(404, 'NotFound', `services "${m[2]}" not found`));
  if (req.method === 'GET') {
    counters.gets += 1;
    return reply(res, 200, obj);
  }
  if (req.method !== 'PATCH') return reply(res, 405, status(405, 'MethodNotAllowed', req.method));
  const ctype = (req.headers['content-type'] || '').split(';')[0].trim();
  let patch;
  try {
    patch = JSON.parse(await readBody(req));
  } catch (e) {
    return reply(res, 400, status(400, 'BadRequest', String(e)));
  }
  return m[3] ? patchStatus(res, key, obj, ctype, patch) : patchObject(res, key, obj, ctype, patch);
}

function patchStatus(res, key, obj, ctype, patch) {
  if (ctype !== 'application/strategic-merge-patch+json' && ctype !== 'application/merge-patch+json')
    return reply(res, 415, status(415, 'UnsupportedMediaType', ctype));
  bump(counters.statusPatches, key);
  const newStatus = ctype === 'application/merge-patch+json'
    ? mergePatch(obj.status, patch.status || {})
    : strategicPatch(obj.status, patch.status || {}, 'status');
  const next = clone(obj);
  next.status = newStatus;
  next.status.loadBalancer = next.status.loadBalancer || {};
  defaultIngress(next);
  for (const c of next.status.conditions || []) {
    if (!c.type || !c.status || !c.lastTransitionTime || c.reason === undefined)
      return reply(res, 422, status(422, 'Invalid', 'condition needs type, status, reason, lastTransitionTime'));
  }
  return commit(res, key, obj, next);
}

function patchObject(res, key, obj, ctype, patch) {
  if (ctype !== 'application/merge-patch+json')
    return reply(res, 415, status(415, 'UnsupportedMediaType', ctype));
  bump(counters.patches, key);
  if (patch.metadata && 'finalizers' in patch.metadata) bump(counters.finalizerPatches, key);
  const wantRV = patch.metadata?.resourceVersion;
  if (wantRV !== undefined && wantRV !== obj.metadata.resourceVersion) {
    counters.conflicts += 1;
    return reply(res, 409, status(409, 'Conflict',
      'Operation cannot be fulfilled on services: the object has been modified; please apply your changes to the latest version and try again'));
  }
  const p = clone(patch);
  delete p.status; // the main resource ignores status
  if (p.metadata) delete p.metadata.resourceVersion;
  const next = mergePatch(obj, p);
  next.status = obj.status;
  if (obj.metadata.deletionTimestamp) next.metadata.deletionTimestamp = obj.metadata.deletionTimestamp;
  return commit(res, key, obj, next);
}

// Stores next unless it equals obj (a no-op write bumps nothing, like the real API server),
// and lets a deleted Service go once its last finalizer is removed.
function commit(res, key, obj, next) {
  const strip = (o) => { const c = clone(o); delete c.metadata.resourceVersion; return JSON.stringify(c); };
  if (strip(next) === strip(obj)) {
    counters.noopPatches += 1;
    return reply(res, 200, obj);
  }
  if (next.metadata.deletionTimestamp && (next.metadata.finalizers || []).length === 0) {
    services.delete(key);
    record('DELETED', next);
    return reply(res, 200, next);
  }
  services.set(key, next);
  record('MODIFIED', next);
  return reply(res, 200, next);
}

function list(res, q) {
  const limit = Math.max(1, Math.min(Number(q.get('limit') || 500), 10000));
  let after = '';
  let listRV = rv;
  if (q.get('continue')) {
    let tok;
    try {
      tok = JSON.parse(Buffer.from(q.get('continue'), 'base64').toString('utf8'));
    } catch {
      return reply(res, 400, status(400, 'BadRequest', 'bad continue token'));
    }
    if (tok.rv < compactedRV)
      return reply(res, 410, status(410, 'Expired', 'The provided continue parameter is too old'));
    after = tok.after;
    listRV = tok.rv;
  }
  const keys = [...services.keys()].sort().filter((k) => k > after);
  const page = keys.slice(0, limit);
  const more = keys.length > limit;
  const metadata = { resourceVersion: String(listRV) };
  if (more)
    metadata.continue = Buffer.from(JSON.stringify({ rv: listRV, after: page[page.length - 1] })).toString('base64');
  return reply(res, 200, { kind: 'ServiceList', apiVersion: 'v1', metadata, items: page.map((k) => services.get(k)) });
}

// Writes events as the real server's chunked stream may: sometimes one cut across two chunks,
// sometimes several in one chunk.
function watch(req, res, q) {
  const from = Number(q.get('resourceVersion') || 0);
  const timeout = Number(q.get('timeoutSeconds') || 1800);
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  bump(counters.byStatus, '200');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  if (from < compactedRV) {
    res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${compactedRV})`) }) + '\n');
    return;
  }
  let pending = '';
  let flip = 0;
  const flush = () => {
    if (!pending) return;
    const text = pending;
    pending = '';
    flip += 1;
    if (flip % 2 === 0 && text.length > 8) {
      const cut = 1 + (flip * 7919) % (text.length - 1);
      // Two writes are two HTTP chunks: the client sees a document cut in the middle.
      res.write(text.slice(0, cut));
      res.write(text.slice(cut));
    } else {
      res.write(text);
    }
  };
  const w = {
    send(ev) {
      if (frozen || res.writableEnded) return;
      pending += JSON.stringify({ type: ev.type, object: ev.object }) + '\n';
      setImmediate(flush);
    },
    end(errorEvent) {
      if (res.writableEnded) return;
      flush();
      if (errorEvent) res.write(JSON.stringify(errorEvent) + '\n');
      res.end();
      cleanup();
    },
  };
  const bm = bookmarks ? setInterval(() => {
    if (frozen) return;
    pending += JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: String(rv) } } }) + '\n';
    flush();
  }, bookmarkMs) : null;
  const limit = maxWatchSeconds > 0 ? Math.min(timeout, maxWatchSeconds) : timeout;
  const timer = setTimeout(() => w.end(), limit * 1000);
  const cleanup = () => { clearTimeout(timer); if (bm) clearInterval(bm); watchers.delete(w); };
  req.on('close', cleanup);
  watchers.add(w);
  for (const ev of history) if (ev.rv > from) w.send(ev);
}

// ---- control interface (plain HTTP, loopback) ----
async function control(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  const body = ['PUT', 'POST'].includes(req.method) ? JSON.parse((await readBody(req)) || '{}') : null;
  const send = (code, obj) => {
    const text = JSON.stringify(obj ?? {});
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(text);
  };
  let m;
  if ((m = p.match(/^\/services\/([^/]+)\/([^/]+)$/))) {
    const key = `${m[1]}/${m[2]}`;
    if (req.method === 'PUT') return send(200, upsert(m[1], m[2], body));
    if (req.method === 'GET') return services.has(key) ? send(200, services.get(key)) : send(404, { error: 'not found' });
    if (req.method === 'DELETE') {
      const o = remove(key, url.searchParams.get('force') === '1');
      return o ? send(200, o) : send(404, { error: 'not found' });
    }
  }
  if (p === '/services' && req.method === 'GET') return send(200, { rv, items: [...services.values()] });
  if (p === '/summary' && req.method === 'GET') {
    // Cheap progress for the benchmark: counts instead of 10,000 objects.
    let withIngress = 0;
    const conditions = {};
    for (const o of services.values()) {
      if ((o.status?.loadBalancer?.ingress || []).length) withIngress += 1;
      const c = (o.status?.conditions || []).find((x) => x.type === 'lbipam.io/IPAMRequestSatisfied');
      if (c) bump(conditions, `${c.status}/${c.reason}`);
    }
    return send(200, { total: services.size, withIngress, conditions });
  }
  if (p === '/bulk' && req.method === 'POST') {
    // {count, namespace, prefix, template}: many Services in one call (the benchmark).
    for (let i = 0; i < body.count; i++)
      upsert(body.namespace, `${body.prefix}${i}`, clone(body.template || { spec: { type: 'LoadBalancer' } }));
    return send(200, { rv });
  }
  if (p === '/faults' && req.method === 'POST') {
    faults.push({ match: body.match || 'any', status: body.status || 500, retryAfter: body.retryAfter, count: body.count || 1, drop: !!body.drop });
    return send(200, { faults });
  }
  if (p === '/faults' && req.method === 'DELETE') { faults.length = 0; return send(200, {}); }
  if (p === '/watch/expire' && req.method === 'POST') {
    // Every open watch gets ERROR 410 Expired and ends; history before now is compacted,
    // so a re-watch from an older resourceVersion gets 410 too.
    compactedRV = rv + 1;
    frozen = false;
    for (const w of [...watchers]) w.end({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') });
    return send(200, { compactedRV });
  }
  if (p === '/watch/freeze' && req.method === 'POST') { frozen = body.on !== false; return send(200, { frozen }); }
  if (p === '/watch/end' && req.method === 'POST') {
    const n = watchers.size;
    for (const w of [...watchers]) w.end();
    return send(200, { ended: n });
  }
  if (p === '/token' && req.method === 'POST') { token = body.token; return send(200, {}); }
  if (p === '/counters' && req.method === 'GET') return send(200, { ...counters, activeWatches: watchers.size, rv });
  if (p === '/counters/reset' && req.method === 'POST') { resetCounters(); return send(200, {}); }
  return send(404, { error: `no control route ${req.method} ${p}` });
}

const wrap = (fn) => (req, res) => fn(req, res).catch((e) => {
  if (!res.headersSent) { res.writeHead(500); res.end(String(e)); }
});

const tlsOptions = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key), keepAliveTimeout: 60000 };
if (args['client-ca']) Object.assign(tlsOptions, { ca: fs.readFileSync(args['client-ca']), requestCert: true, rejectUnauthorized: false });
const server = https.createServer(tlsOptions, wrap(api));
const ctl = http.createServer(wrap(control));
server.listen(Number(args.port || 0), '127.0.0.1', () => {
  ctl.listen(Number(args['ctl-port'] || 0), '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port, ctlPort: ctl.address().port }) + '\n');
  });
});
const stop = () => { for (const w of [...watchers]) w.end(); server.close(); ctl.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

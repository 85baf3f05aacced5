// e2e.mjs - end-to-end tests of lbipam-sync: real lbipamd ($LBIPAMD) + fake Kubernetes API
// (tests/fakes/fake-kube.mjs) + real lbipam-sync ($LBIPAM_SYNC). One test per behaviour of
// issue 4's "Done when" 1-5. Usage: node e2e.mjs [name-filter]. Prints "N passed, N failed".

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { condition, lb, runTests, sleep, waitFor } from './harness.mjs';

const CLASS = 'lbipam.io/central';

async function basic(env, syncArgs = []) {
  await env.startFake();
  await env.startCentral();
  await env.cluster_();
  await env.startSync(syncArgs);
}

// Waits until the worker has nothing left to do: no PATCH for `quietMs`.
async function settle(env, quietMs = 1500) {
  let last = JSON.stringify(await env.counters());
  for (let i = 0; i < 40; i++) {
    await sleep(quietMs);
    const c = await env.counters();
    const now = JSON.stringify({ ...c, requests: 0, byStatus: 0, rv: c.rv });
    const prev = JSON.parse(last);
    if (JSON.stringify({ ...prev, requests: 0, byStatus: 0, rv: prev.rv }) === now) return c;
    last = JSON.stringify(c);
  }
  throw new Error('worker never settled');
}

const sum = (m) => Object.values(m || {}).reduce((a, b) => a + b, 0);

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

// ---- Done when 1 ----

test('1 LoadBalancer Service gets IP and condition True; others never patched', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.20.0.0/28' }]);
  await env.svc('default', 'web', lb());
  await env.svc('default', 'ours', lb({ spec: { loadBalancerClass: CLASS } }));
  await env.svc('default', 'theirs', lb({ spec: { loadBalancerClass: 'example.com/other' } }));
  await env.svc('default', 'internal', { spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
  const ips = await env.waitIngress('default', 'web');
  assert.equal(ips.length, 1);
  assert.match(ips[0], /^10\.20\.0\.\d+$/);
  const s = await env.waitCondition('default', 'web', 'True', 'satisfied');
  const c = condition(s);
  assert.equal(c.observedGeneration, 0);
  assert.match(c.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(s.metadata.finalizers.includes('lbipam.io/release'));
  await env.waitCondition('default', 'ours', 'True', 'satisfied');
  const alloc = await env.allocation('default', 'web');
  assert.deepEqual(alloc.addresses.map((a) => a.ip), ips);
  assert.equal(alloc.managedBy, 'lbipam-sync');
  const cn = await settle(env);
  for (const key of ['default/theirs', 'default/internal']) {
    assert.equal(cn.statusPatches[key] || 0, 0, `${key} status patched`);
    assert.equal(cn.patches[key] || 0, 0, `${key} patched`);
  }
  assert.equal(await env.allocation('default', 'theirs'), null);
});

test('1 with --require-class a class-less Service is never patched', async (env) => {
  await basic(env, ['--require-class']);
  await env.pool('p1', [{ cidr: '10.20.0.0/28' }]);
  await env.svc('default', 'classless', lb());
  await env.svc('default', 'ours', lb({ spec: { loadBalancerClass: CLASS } }));
  await env.waitCondition('default', 'ours', 'True', 'satisfied');
  const cn = await settle(env);
  assert.equal(cn.statusPatches['default/classless'] || 0, 0);
  assert.equal(cn.patches['default/classless'] || 0, 0);
  assert.equal(await env.allocation('default', 'classless'), null);
});

test('1 TLS: a kubeconfig trusting another CA is refused, insecure needs --allow-insecure', async (env) => {
  await env.startFake();
  await env.startCentral();
  await env.cluster_();
  await env.pool('p1', [{ cidr: '10.20.0.0/28' }]);
  await env.svc('default', 'web', lb());
  const wrongCa = env.writeKubeconfig({ ca: env.pki.otherCa });
  await env.startSync([], { kubeconfig: wrongCa });
  await sleep(2000);
  assert.equal((await env.counters()).requests, 0, 'no request may pass TLS with the wrong CA');
  await env.stopSync();
  const insecure = env.writeKubeconfig({ insecure: true });
  const bin = process.env.LBIPAM_SYNC;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(bin, ['--server', env.centralUrl, '--cluster', 'c1', '--kubeconfig', insecure], { encoding: 'utf8', timeout: 10000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /insecure-skip-tls-verify/);
});

test('1 kubeconfig with inline CA and client certificate (no token) works', async (env) => {
  await env.startFake(['--client-ca', env.pki.ca]);
  await env.startCentral();
  await env.cluster_();
  await env.pool('p1', [{ cidr: '10.21.0.0/28' }]);
  await env.svc('default', 'web', lb());
  await env.startSync([], { kubeconfig: env.writeInlineKubeconfig() });
  await env.waitCondition('default', 'web', 'True', 'satisfied');
  const c = await env.counters();
  assert.equal(c.unauthorized, 0);
  assert.ok(c.certAuth >= 3, 'list, watch and writes authenticated by certificate');
});

// ---- Done when 2 ----

test('2 requested IPs from spec.loadBalancerIP and each annotation name', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.30.0.0/24' }]);
  const names = ['lbipam.io/ips', 'lbipam.cilium.io/ips', 'io.cilium/lb-ipam-ips',
    'metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'];
  for (const [i, n] of names.entries())
    await env.svc('ann', `s${i}`, lb({ annotations: { [n]: ` 10.30.0.${10 + i} ` } }));
  await env.svc('ann', 'spec', lb({ spec: { loadBalancerIP: '10.30.0.50' } }));
  await env.svc('ann', 'both', lb({ spec: { loadBalancerIP: '10.30.0.60' }, annotations: { 'lbipam.io/ips': '10.30.0.61, 10.30.0.60' } }));
  for (const [i] of names.entries())
    assert.deepEqual(await env.waitIngress('ann', `s${i}`), [`10.30.0.${10 + i}`], names[i]);
  assert.deepEqual(await env.waitIngress('ann', 'spec'), ['10.30.0.50']);
  await env.waitCondition('ann', 'both', 'True');
  const both = await env.allocation('ann', 'both');
  assert.deepEqual(both.requestedIPs, ['10.30.0.60', '10.30.0.61']);
});

test('2 pool pinning, sharing key with ports, dual stack', async (env) => {
  await basic(env);
  await env.pool('a', [{ cidr: '10.40.0.0/28' }], { priority: 10 });
  await env.pool('b', [{ cidr: '10.41.0.0/28' }, { cidr: 'fd00:41::/120' }]);
  await env.svc('x', 'pinned', lb({ annotations: { 'metallb.universe.tf/address-pool': 'b' } }));
  assert.match((await env.waitIngress('x', 'pinned'))[0], /^10\.41\./);
  await env.svc('x', 'dns-udp', lb({ annotations: { 'lbipam.io/sharing-key': 'dns' }, spec: { ports: [{ port: 53, protocol: 'UDP' }] } }));
  const [shared] = await env.waitIngress('x', 'dns-udp');
  await env.svc('x', 'dns-tcp', lb({ annotations: { 'metallb.io/allow-shared-ip': 'dns' }, spec: { ports: [{ port: 53, protocol: 'TCP' }] } }));
  assert.deepEqual(await env.waitIngress('x', 'dns-tcp'), [shared], 'same key, disjoint ports: one IP');
  await env.svc('x', 'dual', lb({ annotations: { 'lbipam.io/pool': 'b' }, spec: { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' } }));
  const dual = await env.waitIngress('x', 'dual');
  assert.equal(dual.length, 2);
  assert.ok(dual.some((ip) => ip.includes(':')) && dual.some((ip) => ip.includes('.')));
  const alloc = await env.allocation('x', 'dual');
  assert.deepEqual(dual, alloc.addresses.map((a) => a.ip), 'ingress in server order');
});

test('2 a Service showing an IP from a previous controller keeps it', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.50.0.0/28' }]);
  await env.svc('m', 'migrated', lb({ status: { loadBalancer: { ingress: [{ ip: '10.50.0.9' }] } } }));
  await env.waitCondition('m', 'migrated', 'True');
  assert.deepEqual(await env.waitIngress('m', 'migrated'), ['10.50.0.9']);
  const a = await env.allocation('m', 'migrated');
  assert.deepEqual(a.preferredIPs, ['10.50.0.9']);
});

// ---- Done when 3 ----

test('3 refusals become condition False with reason, then the IP comes once a pool exists', async (env) => {
  await basic(env);
  await env.svc('r', 'nopool', lb());
  let s = await env.waitCondition('r', 'nopool', 'False', 'no_pool');
  assert.ok(condition(s).message.length > 0, 'message from the server');
  assert.equal(s.status.loadBalancer.ingress, undefined);
  assert.ok(!(s.metadata.finalizers || []).includes('lbipam.io/release'), 'no finalizer on a refused request');
  await env.pool('tiny', [{ start: '10.60.0.1' }]);
  s = await env.waitCondition('r', 'nopool', 'True', 'satisfied', 40000);
  assert.deepEqual(s.status.loadBalancer.ingress.map((e) => e.ip), ['10.60.0.1']);
  await env.svc('r', 'second', lb());
  await env.waitCondition('r', 'second', 'False', 'out_of_ips');
  await env.svc('r', 'taken', lb({ annotations: { 'lbipam.io/ips': '10.60.0.1' } }));
  await env.waitCondition('r', 'taken', 'False', 'already_allocated');
  assert.deepEqual(await env.waitIngress('r', 'nopool'), ['10.60.0.1'], 'the holder keeps its IP');
});

// ---- Done when 4 ----

test('4 delete with the finalizer releases the IP and lets the Service go', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.70.0.0/28' }]);
  await env.svc('d', 'gone', lb());
  await env.waitCondition('d', 'gone', 'True');
  await env.delSvc('d', 'gone');
  await waitFor('Service removed', async () => (await env.getSvc('d', 'gone')) === null);
  assert.equal(await env.allocation('d', 'gone'), null);
});

test('4 a Service deleted while the worker was stopped is released at the next start', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.71.0.0/28' }]);
  await env.svc('d', 'kept', lb());
  await env.svc('d', 'orphan', lb());
  await env.waitCondition('d', 'orphan', 'True');
  await env.waitCondition('d', 'kept', 'True');
  // A reservation made by hand (no managedBy) must survive garbage collection.
  const r = await env.api('PUT', `/v1/allocations/${env.cluster}/d/byhand`, { requestedIPs: ['10.71.0.14'] });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
  assert.equal(await env.stopSync(), 0, 'clean exit on SIGTERM');
  await env.delSvc('d', 'orphan', true); // finalizer bypassed, as if removed by hand
  assert.notEqual(await env.allocation('d', 'orphan'), null);
  await env.startSync();
  await waitFor('orphan released', async () => (await env.allocation('d', 'orphan')) === null);
  assert.notEqual(await env.allocation('d', 'kept'), null);
  assert.notEqual(await env.allocation('d', 'byhand'), null, 'hand-made reservation kept');
});

test('4 a type change away from LoadBalancer releases and cleans up', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.72.0.0/28' }]);
  const spec = lb();
  await env.svc('t', 'flip', spec);
  await env.waitCondition('t', 'flip', 'True');
  await env.svc('t', 'flip', { ...spec, spec: { ...spec.spec, type: 'ClusterIP' } });
  const s = await waitFor('cleaned up', async () => {
    const x = await env.getSvc('t', 'flip');
    return !condition(x) && !(x.metadata.finalizers || []).length ? x : null;
  });
  assert.equal((s.status.loadBalancer.ingress || []).length, 0);
  assert.equal(await env.allocation('t', 'flip'), null);
});

// ---- Done when 5 ----

test('5 ERROR 410 on the watch relists and catches a deletion made in the gap', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.80.0.0/28' }]);
  await env.svc('f', 'a', lb());
  await env.svc('f', 'b', lb());
  await env.waitCondition('f', 'a', 'True');
  await env.waitCondition('f', 'b', 'True');
  await settle(env, 700);
  const before = await env.counters();
  await env.ctl('POST', '/watch/freeze', { on: true });
  await env.delSvc('f', 'b', true); // the worker never sees this DELETED event
  await env.ctl('POST', '/watch/expire');
  await waitFor('b released after relist', async () => (await env.allocation('f', 'b')) === null);
  const after = await env.counters();
  assert.ok(after.lists > before.lists, 'relisted');
  assert.notEqual(await env.allocation('f', 'a'), null);
});

test('5 a clean end of the watch re-watches without relisting', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.81.0.0/28' }]);
  await env.svc('f', 'a', lb());
  await env.waitCondition('f', 'a', 'True');
  await settle(env, 700);
  const before = await env.counters();
  for (let i = 0; i < 3; i++) {
    await env.ctl('POST', '/watch/end');
    await waitFor('re-watch', async () => (await env.counters()).activeWatches === 1 && (await env.counters()).watches > before.watches + i);
  }
  await env.svc('f', 'late', lb());
  await env.waitCondition('f', 'late', 'True');
  const after = await env.counters();
  assert.equal(after.lists, before.lists, 'no relist');
  assert.ok(after.watches >= before.watches + 3);
});

test('5 list: 429 Retry-After and 500s are backed off, one call per attempt', async (env) => {
  await env.startFake();
  await env.startCentral();
  await env.cluster_();
  await env.ctl('POST', '/faults', { match: 'list', status: 429, retryAfter: 2, count: 1 });
  await env.ctl('POST', '/faults', { match: 'list', status: 500, count: 2 });
  const t0 = Date.now();
  await env.startSync();
  await waitFor('list through', async () => (await env.counters()).activeWatches === 1, 20000);
  const elapsed = (Date.now() - t0) / 1000;
  const c = await env.counters();
  assert.equal(c.lists, 4, 'one list call per attempt');
  // Retry-After 2 s, then 1.6 + 3.2 s of backoff (jitter only adds).
  assert.ok(elapsed >= 2 + 1.6 + 3.2 - 0.3, `waited ${elapsed}s`);
  assert.ok(elapsed < 2 + 1.6 * 1.25 + 3.2 * 1.25 + 6, `waited ${elapsed}s`);
});

test('5 watch: a persistent 500 is backed off, then the watch resumes', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.82.0.0/28' }]);
  await waitFor('watching', async () => (await env.counters()).activeWatches === 1);
  await env.ctl('POST', '/counters/reset');
  await env.ctl('POST', '/faults', { match: 'watch', status: 500, count: 1000 });
  await env.ctl('POST', '/watch/end');
  await sleep(6000);
  const w = await env.counters();
  // Attempts at about 0, 0.8, 2.4, 5.6 s; a tight loop would make hundreds.
  assert.ok(w.watches >= 2 && w.watches <= 5, `${w.watches} watch attempts in 6 s`);
  assert.equal(w.lists, 0, 'a failing watch is retried from the same resourceVersion');
  await env.ctl('DELETE', '/faults');
  await env.svc('f', 'x', lb());
  await env.waitCondition('f', 'x', 'True', 'satisfied', 20000);
});

test('5 a status PATCH answered 500 is retried with backoff', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.82.0.0/28' }]);
  await env.ctl('POST', '/faults', { match: 'status', status: 500, count: 2 });
  await env.svc('f', 'x', lb());
  await env.waitCondition('f', 'x', 'True', 'satisfied', 20000);
  const c = await settle(env, 1000);
  assert.equal(c.faultsServed, 2);
  assert.equal(c.statusPatches['f/x'], 1, 'one successful status write');
});

test('5 central unreachable: nothing is written to the cluster, the IP comes when it is back', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.87.0.0/28' }]);
  await env.svc('f', 'before', lb());
  await env.waitCondition('f', 'before', 'True');
  await settle(env, 700);
  await env.stopCentral();
  await env.ctl('POST', '/counters/reset');
  await env.svc('f', 'x', lb());
  await env.svc('f', 'before', { ...lb(), metadata: { labels: { changed: 'yes' }, annotations: {} } });
  await sleep(3000);
  const c = await env.counters();
  assert.equal(sum(c.statusPatches) + sum(c.patches), 0, 'no write while central is down');
  assert.ok((await env.metrics()).central_errors >= 2);
  await env.startCentral({ restart: true });
  await env.waitCondition('f', 'x', 'True', 'satisfied', 40000);
  await waitFor('the edit made while central was down reaches it', async () =>
    (await env.allocation('f', 'before'))?.labels?.changed === 'yes', 40000);
});

test('5 a 409 on the finalizer patch re-reads the Service and retries', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.88.0.0/28' }]);
  await env.ctl('POST', '/faults', { match: 'patch', status: 409, count: 1 });
  await env.svc('f', 'x', lb({ metadata: { finalizers: ['example.com/keep'] } }));
  const s = await env.waitCondition('f', 'x', 'True', 'satisfied');
  assert.deepEqual(s.metadata.finalizers, ['example.com/keep', 'lbipam.io/release'], 'others kept');
  const c = await env.counters();
  assert.ok(c.gets >= 1, 'read again after the conflict');
  // A real stale resourceVersion: the fake answers 409 by itself.
  await env.delSvc('f', 'x');
  await waitFor('our finalizer removed, the other one holds', async () => {
    const x = await env.getSvc('f', 'x');
    return x && x.metadata.deletionTimestamp && x.metadata.finalizers.join() === 'example.com/keep';
  });
  assert.equal(await env.allocation('f', 'x'), null);
});

test('5 a dropped connection is survived', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.83.0.0/28' }]);
  await env.ctl('POST', '/faults', { match: 'status', drop: true, count: 1 });
  await env.svc('f', 'x', lb());
  await env.waitCondition('f', 'x', 'True', 'satisfied', 20000);
});

test('5 a rotated token file is picked up after a 401', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.84.0.0/28' }]);
  await env.svc('f', 'a', lb());
  await env.waitCondition('f', 'a', 'True');
  await env.ctl('POST', '/token', { token: 'kube-token-2' });
  fs.writeFileSync(env.kubeTokenFile, 'kube-token-2\n');
  await env.ctl('POST', '/watch/end'); // the re-watch meets the new token
  await env.svc('f', 'b', lb());
  await env.waitCondition('f', 'b', 'True');
  const c = await env.counters();
  assert.ok(c.unauthorized >= 1, 'the old token was refused at least once');
});

test('5 another controller\'s condition survives, and the ipMode default causes no writes', async (env) => {
  await basic(env);
  await env.pool('p1', [{ cidr: '10.85.0.0/28' }]);
  const other = { type: 'example.com/Other', status: 'True', reason: 'Fine', message: 'mine', lastTransitionTime: '2025-01-01T00:00:00Z' };
  await env.svc('f', 'x', lb({ status: { loadBalancer: {}, conditions: [other] } }));
  let s = await env.waitCondition('f', 'x', 'True');
  assert.deepEqual(s.status.conditions.find((c) => c.type === other.type), other);
  assert.equal(s.status.loadBalancer.ingress[0].ipMode, 'VIP', 'the fake defaults ipMode');
  await settle(env, 1000);
  await env.ctl('POST', '/counters/reset');
  // Edits that do not change the request, bookmarks, re-watches, a 410 relist and a resync:
  await env.svc('f', 'x', { ...lb({ status: undefined }), metadata: { labels: {}, annotations: { note: 'unrelated' } } });
  await env.ctl('POST', '/watch/end');
  await sleep(1500);
  await env.ctl('POST', '/watch/expire');
  await sleep(2500);
  const c = await env.counters();
  assert.equal(sum(c.statusPatches), 0, `status PATCHes after steady state: ${JSON.stringify(c.statusPatches)}`);
  assert.equal(sum(c.patches), 0, 'no finalizer PATCH either');
  s = await env.getSvc('f', 'x');
  assert.deepEqual(s.status.conditions.find((c2) => c2.type === other.type), other);
});

test('5 periodic resync relists and re-asks central, writing nothing when nothing changed', async (env) => {
  await basic(env, ['--resync-seconds', '2']);
  await env.pool('p1', [{ cidr: '10.86.0.0/28' }]);
  await env.svc('f', 'ok', lb());
  await env.waitCondition('f', 'ok', 'True');
  await settle(env, 1000);
  await env.ctl('POST', '/counters/reset');
  const m0 = await env.metrics();
  await sleep(5000);
  const c = await env.counters();
  const m1 = await env.metrics();
  assert.ok(c.lists >= 2, `resync lists: ${c.lists}`);
  assert.ok(m1.central_puts >= m0.central_puts + 2, 'resync re-PUTs every Service');
  assert.equal(sum(c.statusPatches) + sum(c.patches), 0);
});

const base = process.env.LBIPAM_TEST_TMP || os.tmpdir();
fs.mkdirSync(base, { recursive: true });
const root = fs.mkdtempSync(path.join(base, 'sync-e2e-'));
const ok = await runTests(tests, { root, only: process.argv[2] });
process.exit(ok ? 0 : 1);

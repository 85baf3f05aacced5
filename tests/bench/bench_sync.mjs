// bench_sync.mjs - scale benchmark of lbipam-sync (not a test): N LoadBalancer Services
// (default 10,000) reconciled from a cold start against real lbipamd and the fake Kubernetes
// API. Prints the seconds until every Service has its IP and the requests made per Service.
// Usage: LBIPAMD=... LBIPAM_SYNC=... node tests/bench/bench_sync.mjs [N] [workers]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Env, makePki, sleep } from '../sync/harness.mjs';

const n = Number(process.argv[2] || 10000);
const workers = Number(process.argv[3] || 4);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sync-'));
const env = new Env(root, makePki(root), 'bench');
try {
  await env.startFake(['--bookmark-ms', '60000']);
  await env.startCentral();
  await env.cluster_();
  await env.pool('bench', [{ cidr: '10.128.0.0/16' }]);
  const per = 1000;
  for (let i = 0; i < n; i += per) {
    const count = Math.min(per, n - i);
    await env.ctl('POST', '/bulk', {
      count, namespace: `ns${Math.floor(i / per)}`, prefix: 'svc-',
      template: { metadata: { labels: { app: 'bench' } }, spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }], selector: { app: 'bench' } } },
    });
  }
  await env.ctl('POST', '/counters/reset');
  const t0 = Date.now();
  await env.startSync(['--workers', String(workers)]);
  let sum;
  for (;;) {
    sum = (await env.ctl('GET', '/summary')).body;
    if (sum.withIngress >= n) break;
    if (Date.now() - t0 > 30 * 60 * 1000) throw new Error(`gave up: ${JSON.stringify(sum)}`);
    await sleep(250);
  }
  const secs = (Date.now() - t0) / 1000;
  await sleep(3000); // let the echo events of our own writes drain
  const c = await env.counters();
  const m = await env.metrics();
  const kube = c.requests;
  const central = m.central_puts + m.central_releases + m.central_lists;
  console.log(`services: ${n}, workers: ${workers}`);
  console.log(`seconds until every Service had its IP: ${secs.toFixed(1)}`);
  console.log(`Kubernetes requests: ${kube} (${(kube / n).toFixed(2)} per Service; lists ${c.lists}, watches ${c.watches}, status PATCHes ${Object.values(c.statusPatches).reduce((a, b) => a + b, 0)}, finalizer PATCHes ${Object.values(c.finalizerPatches).reduce((a, b) => a + b, 0)})`);
  console.log(`central requests: ${central} (${(central / n).toFixed(2)} per Service; PUTs ${m.central_puts})`);
  console.log(`requests per Service, both servers: ${((kube + central) / n).toFixed(2)}`);
  console.log(`conditions: ${JSON.stringify(sum.conditions)}`);
  await env.stopSync();
} finally {
  await env.close();
}

// harness.mjs - starts the three real processes of an end-to-end sync test and drives them:
// lbipamd (binary from $LBIPAMD), the fake Kubernetes API (tests/fakes/fake-kube.mjs) and
// lbipam-sync (binary from $LBIPAM_SYNC). Loopback only. Every test gets fresh processes
// and a fresh folder; logs stay in that folder for a failing test.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FAKE = path.join(here, '..', 'fakes', 'fake-kube.mjs');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function waitFor(what, fn, timeoutMs = 15000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

// A CA and a server certificate for 127.0.0.1, made once per run with the openssl CLI.
export function makePki(dir) {
  const run = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=fake-kube-ca');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
  // A client certificate for kubeconfig's client-certificate(-data) / client-key(-data).
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=lbipam-sync');
  fs.writeFileSync(path.join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'client.crt', '-days', '2', '-extfile', 'client.cnf');
  // A second, unrelated CA: a worker trusting only it must refuse the fake.
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=other-ca');
  return {
    ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key'),
    otherCa: path.join(dir, 'other.crt'), clientCert: path.join(dir, 'client.crt'), clientKey: path.join(dir, 'client.key'),
  };
}

function firstLine(child) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`exited ${code} before it was ready`)));
  });
}

export class Env {
  constructor(root, pki, name) {
    this.dir = path.join(root, name);
    fs.mkdirSync(this.dir, { recursive: true });
    this.pki = pki;
    this.children = [];
    this.cluster = 'c1';
    this.kubeToken = 'kube-token-1';
    this.centralToken = '';
  }

  log(name) {
    return fs.openSync(path.join(this.dir, name), 'a');
  }

  async startFake(extra = []) {
    const child = spawn(process.execPath, [FAKE, '--cert', this.pki.cert, '--key', this.pki.key,
      '--token', this.kubeToken, '--bookmark-ms', '500', ...extra],
    { stdio: ['ignore', 'pipe', this.log('fake.log')] });
    this.children.push(child);
    const { port, ctlPort } = await firstLine(child);
    this.kubePort = port;
    this.ctlPort = ctlPort;
    this.fake = child;
  }

  async ctl(method, p, body) {
    const r = await fetch(`http://127.0.0.1:${this.ctlPort}${p}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  async svc(ns, name, obj) { return (await this.ctl('PUT', `/services/${ns}/${name}`, obj)).body; }
  async getSvc(ns, name) { const r = await this.ctl('GET', `/services/${ns}/${name}`); return r.status === 200 ? r.body : null; }
  async delSvc(ns, name, force = false) { return this.ctl('DELETE', `/services/${ns}/${name}${force ? '?force=1' : ''}`); }
  async counters() { return (await this.ctl('GET', '/counters')).body; }

  async stopCentral() {
    const child = this.central;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await done;
  }

  // A restart keeps the port and the database.
  async startCentral({ restart = false } = {}) {
    const bin = process.env.LBIPAMD;
    if (!bin) throw new Error('LBIPAMD is not set (path to the lbipamd binary)');
    if (!restart) this.centralPort = await freePort();
    const db = path.join(this.dir, 'lbipam.db');
    const child = spawn(bin, ['--listen', `127.0.0.1:${this.centralPort}`, '--db', db],
      { stdio: ['ignore', this.log('lbipamd.log'), this.log('lbipamd.log')] });
    this.children.push(child);
    this.central = child;
    this.centralUrl = `http://127.0.0.1:${this.centralPort}`;
    await waitFor('lbipamd /healthz', async () => (await fetch(`${this.centralUrl}/healthz`)).ok);
    // Once authentication lands, the first start writes an admin token beside the database.
    const tokenFile = path.join(this.dir, 'admin.token');
    if (restart) return;
    if (fs.existsSync(tokenFile)) this.centralToken = fs.readFileSync(tokenFile, 'utf8').trim();
    this.centralTokenFile = path.join(this.dir, 'central.token');
    fs.writeFileSync(this.centralTokenFile, this.centralToken + '\n');
  }

  async api(method, p, body) {
    const headers = { 'content-type': 'application/json' };
    if (this.centralToken) headers.authorization = `Bearer ${this.centralToken}`;
    const r = await fetch(`${this.centralUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  async cluster_(name = this.cluster) {
    const r = await this.api('POST', '/v1/clusters', { name });
    if (r.status !== 201) throw new Error(`create cluster: ${r.status} ${JSON.stringify(r.body)}`);
  }

  async pool(name, blocks, extra = {}) {
    const r = await this.api('POST', '/v1/pools', { name, blocks, ...extra });
    if (r.status !== 201) throw new Error(`create pool: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async allocation(ns, name) {
    const r = await this.api('GET', `/v1/allocations/${this.cluster}/${ns}/${name}`);
    return r.status === 200 ? r.body : null;
  }

  // Everything inline (certificate-authority-data, client-certificate-data, client-key-data):
  // the worker hands these to libcurl as blobs, never as files.
  writeInlineKubeconfig() {
    const b64 = (f) => fs.readFileSync(f).toString('base64');
    const kc = path.join(this.dir, 'kubeconfig-inline');
    fs.writeFileSync(kc, [
      'apiVersion: v1', 'kind: Config', 'current-context: inline',
      'contexts: [{name: inline, context: {cluster: fake, user: cert}}]',
      'clusters:', '- name: fake', '  cluster:', `    server: https://127.0.0.1:${this.kubePort}`,
      `    certificate-authority-data: ${b64(this.pki.ca)}`,
      'users:', '- name: cert', '  user:',
      `    client-certificate-data: ${b64(this.pki.clientCert)}`,
      `    client-key-data: ${b64(this.pki.clientKey)}`, '',
    ].join('\n'));
    return kc;
  }

  writeKubeconfig({ ca = this.pki.ca, insecure = false } = {}) {
    this.kubeTokenFile = path.join(this.dir, 'kube.token');
    fs.writeFileSync(this.kubeTokenFile, this.kubeToken + '\n');
    const kc = path.join(this.dir, 'kubeconfig');
    // Relative paths on purpose: they resolve against the kubeconfig's folder.
    fs.copyFileSync(ca, path.join(this.dir, 'ca.crt'));
    fs.writeFileSync(kc, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'contexts:', '- name: test', '  context: {cluster: fake, user: sync}',
      'clusters:', '- name: fake', '  cluster:', `    server: https://127.0.0.1:${this.kubePort}`,
      '    certificate-authority: ca.crt',
      ...(insecure ? ['    insecure-skip-tls-verify: true'] : []),
      'users:', '- name: sync', '  user:', '    tokenFile: kube.token', '',
    ].join('\n'));
    return kc;
  }

  async startSync(args = [], { kubeconfig } = {}) {
    const bin = process.env.LBIPAM_SYNC;
    if (!bin) throw new Error('LBIPAM_SYNC is not set (path to the lbipam-sync binary)');
    const kc = kubeconfig || this.writeKubeconfig();
    this.metricsPort = await freePort();
    const child = spawn(bin, ['--server', this.centralUrl, '--cluster', this.cluster,
      '--kubeconfig', kc, '--token-file', this.centralTokenFile,
      '--metrics-listen', `127.0.0.1:${this.metricsPort}`, ...args],
    { stdio: ['ignore', this.log('sync.log'), this.log('sync.log')] });
    this.children.push(child);
    this.sync = child;
    child.exitCode_ = null;
    child.on('exit', (code) => { child.exitCode_ = code; });
    await waitFor('lbipam-sync /healthz', async () => (await fetch(`http://127.0.0.1:${this.metricsPort}/healthz`)).ok);
    return child;
  }

  async metrics() {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const out = {};
    for (const line of text.split('\n')) {
      const m = line.match(/^lbipam_sync_(\w+?)(?:_total)? (\d+)$/);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  }

  async stopSync() {
    const child = this.sync;
    if (!child || child.exitCode_ !== null) return child?.exitCode_;
    const done = new Promise((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([done, sleep(10000).then(() => 'timeout')]);
    if (code === 'timeout') {
      child.kill('SIGKILL');
      throw new Error('lbipam-sync did not stop within 10 s of SIGTERM');
    }
    return code;
  }

  // Waits until the Service shows our condition; returns the Service.
  async waitCondition(ns, name, status, reason, timeoutMs = 15000) {
    return waitFor(`${ns}/${name} condition ${status}/${reason ?? '*'}`, async () => {
      const s = await this.getSvc(ns, name);
      const c = (s?.status?.conditions || []).find((x) => x.type === 'lbipam.io/IPAMRequestSatisfied');
      return c && c.status === status && (!reason || c.reason === reason) ? s : null;
    }, timeoutMs);
  }

  async waitIngress(ns, name, timeoutMs = 15000) {
    const s = await waitFor(`${ns}/${name} ingress`, async () => {
      const x = await this.getSvc(ns, name);
      return x?.status?.loadBalancer?.ingress?.length ? x : null;
    }, timeoutMs);
    return s.status.loadBalancer.ingress.map((e) => e.ip);
  }

  async close() {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }

  readLog(name) {
    try { return fs.readFileSync(path.join(this.dir, name), 'utf8'); } catch { return ''; }
  }
}

export const lb = (extra = {}) => ({
  metadata: { labels: extra.labels || {}, annotations: extra.annotations || {}, ...(extra.metadata || {}) },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'x' }, ...(extra.spec || {}) },
  ...(extra.status ? { status: extra.status } : {}),
});

export const condition = (svc) => (svc?.status?.conditions || []).find((x) => x.type === 'lbipam.io/IPAMRequestSatisfied');

// A tiny sequential runner: `N passed, N failed` as the closing line, exit status 1 on failure.
export async function runTests(tests, { root, only } = {}) {
  let passed = 0;
  let failed = 0;
  const pki = makePki(fs.mkdtempSync(path.join(root, 'pki-')));
  for (const [name, fn] of tests) {
    if (only && !name.includes(only)) continue;
    const env = new Env(root, pki, name.replace(/[^a-z0-9]+/gi, '_'));
    const t0 = Date.now();
    try {
      await fn(env);
      // A sanitizer report in the worker's log fails the test even if the behaviour passed.
      await env.stopSync().catch(() => {});
      for (const name of ['sync.log', 'lbipamd.log']) {
        const log = env.readLog(name);
        if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(log)) throw new Error(`sanitizer report in ${name}`);
      }
      passed += 1;
      console.log(`PASS ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name} (${Date.now() - t0} ms): ${e.stack || e}`);
      console.log(`     logs: ${env.dir}`);
    } finally {
      await env.close();
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

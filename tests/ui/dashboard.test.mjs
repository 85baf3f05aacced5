// dashboard.test.mjs - the dashboard end to end in headless Chromium (Debian's chromium,
// driven by playwright-core; no browser is ever downloaded).
//
// Starts the built lbipamd (env LBIPAMD) on a free loopback port with a fresh database, loads
// /, signs in with the admin token (admin.token beside the database when the server writes
// one, else any token), creates a pool and allocations through the API, and checks what a
// person would see: the pool with its utilization, the allocation found by IP and by service,
// the address lookup. Keeps a screenshot: $LBIPAM_TEST_TMP/ui/dashboard.png and
// tests/artifacts/dashboard.png (gitignored); LBIPAM_UPDATE_SCREENSHOT=1 also refreshes
// docs/dashboard.png, the README's picture. Prints "N passed, N failed"; exits 1 on any failure.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.resolve(here, '../..');
const { chromium } = await import(path.join(source, 'node_modules/playwright-core/index.mjs'));

const LBIPAMD = process.env.LBIPAMD;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const tmpRoot = process.env.LBIPAM_TEST_TMP || os.tmpdir();
const UI_TIMEOUT = 15000;

let passed = 0;
let failed = 0;
const failures = [];

async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log('ok - ' + name);
  } catch (err) {
    failed++;
    failures.push(name);
    console.log('not ok - ' + name + '\n    ' + String(err && err.stack ? err.stack : err).split('\n').slice(0, 6).join('\n    '));
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(dir) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const log = fs.openSync(path.join(dir, 'lbipamd.' + attempt + '.log'), 'w');
    const child = spawn(LBIPAMD, ['--listen', '127.0.0.1:' + port, '--db', path.join(dir, 'lbipam.db'),
      '--log-level', 'info'], { stdio: ['ignore', log, log] });
    let exited = false;
    child.on('exit', () => { exited = true; });
    for (let i = 0; i < 100 && !exited; i++) {
      try {
        const r = await fetch('http://127.0.0.1:' + port + '/readyz');
        if (r.ok) return { child, port, logFile: path.join(dir, 'lbipamd.' + attempt + '.log') };
      } catch (e) { /* not listening yet */ }
      await sleep(100);
    }
    if (!exited) child.kill('SIGKILL');
  }
  throw new Error('lbipamd did not start (see ' + dir + ')');
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
    child.kill('SIGTERM');
  });
}

if (!LBIPAMD || !fs.existsSync(LBIPAMD)) {
  console.log('not ok - LBIPAMD is not set to the built lbipamd (run through ctest)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log('not ok - ' + CHROMIUM + ' is missing: run scripts/deps.sh test (Debian package chromium)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

fs.mkdirSync(tmpRoot, { recursive: true });
const dir = fs.mkdtempSync(path.join(tmpRoot, 'ui-dashboard-'));
const { child, port, logFile } = await startServer(dir);
const base = 'http://127.0.0.1:' + port;
const tokenFile = path.join(dir, 'admin.token');
const hasAuth = fs.existsSync(tokenFile);
const token = hasAuth ? fs.readFileSync(tokenFile, 'utf8').trim() : 'dashboard-test-token';

async function call(method, p, body) {
  const r = await fetch(base + p, {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(method + ' ' + p + ' -> ' + r.status + ' ' + text);
  return text ? JSON.parse(text) : null;
}

const userDataDir = fs.mkdtempSync(path.join(dir, 'chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(UI_TIMEOUT);

// What the page asks for must stay on lbipamd (no CDN); console errors other than the
// documented 404s of routes a server may lack are failures.
const foreign = [];
const consoleErrors = [];
page.on('request', (req) => {
  const u = req.url();
  if (!u.startsWith(base + '/') && !u.startsWith('data:')) foreign.push(u);
});
page.on('console', (msg) => {
  if (msg.type() === 'error' && !/404 \(Not Found\)/.test(msg.text())) consoleErrors.push(msg.text());
});
page.on('pageerror', (err) => consoleErrors.push(String(err)));

let ipFront = '';
let ipBack = '';

try {
  await step('static files: types, cache headers, ETag revalidation, CSP', async () => {
    const want = { '/': 'text/html', '/ui/app.js': 'text/javascript', '/ui/style.css': 'text/css',
      '/ui/favicon.svg': 'image/svg+xml' };
    for (const [p, type] of Object.entries(want)) {
      const r = await fetch(base + p);
      assert(r.status === 200, p + ' status ' + r.status);
      assert((r.headers.get('content-type') || '').startsWith(type), p + ' content-type ' + r.headers.get('content-type'));
      assert(r.headers.get('cache-control') === 'no-cache', p + ' cache-control ' + r.headers.get('cache-control'));
      assert(r.headers.get('x-request-id'), p + ' has no X-Request-Id');
      const etag = r.headers.get('etag');
      assert(etag, p + ' has no ETag');
      const again = await fetch(base + p, { headers: { 'If-None-Match': etag } });
      assert(again.status === 304, p + ' with If-None-Match: ' + again.status);
    }
    const html = await fetch(base + '/');
    assert(/default-src 'self'/.test(html.headers.get('content-security-policy') || ''), 'no CSP on /');
    const missing = await fetch(base + '/ui/no-such-file.js');
    assert(missing.status === 404, '/ui/no-such-file.js: ' + missing.status);
  });

  await step('load / and sign in with the token', async () => {
    await page.goto(base + '/');
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login').waitFor({ state: 'hidden' });
    await page.locator('#session-state', { hasText: 'Signed in' }).waitFor();
    const kept = await page.evaluate(() => sessionStorage.getItem('lbipam.token'));
    assert(kept === token, 'token not kept in sessionStorage');
  });

  await step('a pool created through the API appears with 0 % used', async () => {
    await call('POST', '/v1/pools', { name: 'web-pool', description: 'dashboard test',
      blocks: [{ cidr: '10.0.10.0/28' }, { cidr: '2001:db8:10::/120' }] });
    await page.getByRole('button', { name: 'Refresh' }).click();
    const card = page.locator('article[data-pool="web-pool"]');
    await card.waitFor();
    const v4 = card.locator('[data-family="IPv4"]');
    await v4.locator('.pct', { hasText: '0.0 %' }).waitFor();
    const counts = await v4.locator('.counts').textContent();
    assert(counts.includes('0 used of 16'), 'IPv4 counts: ' + counts);
    const v6 = await card.locator('[data-family="IPv6"] .counts').textContent();
    assert(v6.includes('0 used of 256'), 'IPv6 counts: ' + v6);
  });

  await step('after two allocations the pool shows 12.5 % of IPv4 used', async () => {
    await call('POST', '/v1/clusters', { name: 'prod-eu-1', announcement: 'none' });
    const a = await call('PUT', '/v1/allocations/prod-eu-1/shop/frontend', { externalRef: 'CHG-1234' });
    const b = await call('PUT', '/v1/allocations/prod-eu-1/shop/backend', {});
    ipFront = a.addresses[0].ip;
    ipBack = b.addresses[0].ip;
    await page.getByRole('button', { name: 'Refresh' }).click();
    const v4 = page.locator('article[data-pool="web-pool"] [data-family="IPv4"]');
    await v4.locator('.pct', { hasText: '12.5 %' }).waitFor();
    const now = await v4.getByRole('progressbar').getAttribute('aria-valuenow');
    assert(now === '12.50', 'aria-valuenow ' + now);
    const counts = await v4.locator('.counts').textContent();
    assert(counts.includes('2 used of 16') && counts.includes('14 available'), 'counts: ' + counts);
  });

  await step('search an allocation by IP', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('IP address').fill(ipBack);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#alloc-note', { hasText: '1 allocation found' }).waitFor();
    const rows = page.locator('#alloc-rows tr');
    assert(await rows.count() === 1, 'rows: ' + await rows.count());
    assert(await rows.first().getAttribute('data-service') === 'backend', 'wrong row for ' + ipBack);
  });

  await step('search an allocation by service (part of the name) and by external ref', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Service').fill('front');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#alloc-note', { hasText: '1 allocation found' }).waitFor();
    const row = page.locator('#alloc-rows tr').first();
    assert(await row.getAttribute('data-service') === 'frontend', 'wrong row');
    assert((await row.textContent()).includes(ipFront), 'row lacks ' + ipFront);
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('External ref').fill('CHG-1234');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#alloc-note', { hasText: '1 allocation found' }).waitFor();
    assert(await page.locator('#alloc-rows tr').first().getAttribute('data-service') === 'frontend',
      'externalRef search');
  });

  await step('address lookup names the holder', async () => {
    await page.getByLabel('Who holds this IP?').fill(ipFront);
    await page.getByRole('button', { name: 'Look up' }).click();
    const out = page.locator('#lookup-result');
    await out.locator('dd', { hasText: 'prod-eu-1/shop/frontend' }).waitFor();
    assert((await out.textContent()).includes('allocated'), 'state not shown');
  });

  await step('events and reachability sections show data or a visible note', async () => {
    // Either the live feed lists the changes made above, or the route is missing and the page
    // says so; the same for reachability checks.
    await page.waitForFunction(() => {
      const ev = document.querySelectorAll('#event-list li').length > 0 ||
        document.getElementById('events-note').textContent.length > 0;
      const ck = document.querySelectorAll('#check-list li').length > 0 ||
        document.getElementById('checks-note').textContent.length > 0;
      return ev && ck;
    });
    const evNote = await page.locator('#events-note').textContent();
    const evCount = await page.locator('#event-list li').count();
    console.log('    events: ' + (evCount ? evCount + ' shown' : evNote));
    if (evCount) {
      // The feed is live: the allocations made through the API arrive without a reload.
      await page.locator('#event-list li', { hasText: 'prod-eu-1/shop/frontend' }).first().waitFor();
    }
    console.log('    checks: ' + ((await page.locator('#checks-note').textContent()) || 'listed'));
  });

  await step('screenshot kept as an artifact', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('#alloc-note', { hasText: '2 allocations found' }).waitFor();
    const shotDir = path.join(tmpRoot, 'ui');
    fs.mkdirSync(shotDir, { recursive: true });
    const shot = path.join(shotDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert(fs.statSync(shot).size > 10000, 'screenshot too small');
    const artifacts = path.join(source, 'tests/artifacts');
    fs.mkdirSync(artifacts, { recursive: true });
    fs.copyFileSync(shot, path.join(artifacts, 'dashboard.png'));
    if (process.env.LBIPAM_UPDATE_SCREENSHOT === '1') {
      fs.mkdirSync(path.join(source, 'docs'), { recursive: true });
      fs.copyFileSync(shot, path.join(source, 'docs/dashboard.png'));
    }
    console.log('    screenshot: ' + shot);
  });

  // Before the 401 step: Chromium logs the 401 it provokes as a console error.
  await step('nothing loaded from elsewhere, no script errors', async () => {
    assert(foreign.length === 0, 'requests outside lbipamd: ' + foreign.join(', '));
    assert(consoleErrors.length === 0, 'console errors: ' + consoleErrors.join(' | '));
  });

  if (hasAuth) {
    await step('a rejected token brings the sign-in prompt back', async () => {
      await page.evaluate(() => sessionStorage.setItem('lbipam.token', 'not-a-valid-token'));
      await page.reload();
      await page.locator('#login').waitFor({ state: 'visible' });
      await page.locator('#login-error', { hasText: '401' }).waitFor();
    });
  } else {
    console.log('    (no admin.token: this server has no authentication, so no 401 to provoke)');
  }

} finally {
  await context.close().catch(() => {});
  const code = await stopServer(child);
  const log = fs.readFileSync(logFile, 'utf8');
  if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(log)) {
    failed++;
    console.log('not ok - sanitizer report in the lbipamd log:\n' + log);
  } else if (code !== 0) {
    failed++;
    console.log('not ok - lbipamd exited with ' + code + ' after SIGTERM');
  }
  if (failed) console.log('--- lbipamd log ---\n' + log.split('\n').slice(-40).join('\n'));
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(passed + ' passed, ' + failed + ' failed');
process.exit(failed ? 1 : 0);

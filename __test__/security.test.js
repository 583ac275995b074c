'use strict';
// Who may use /api/memory (README "Security"), over real Express and real HTTP on
// 127.0.0.1: loopback mode only in local development (other platforms in child
// processes, reached through a same-host proxy that adds no header), every
// client-IP header as proxy evidence, cross-site and DNS-rebinding requests (also from
// a real headless chromium), detailed reads private by default, the webhook URL
// redacted in configuration errors, and only the token's digest kept in memory.
//
// In-process specs run as local development by starting the manager with
// NODE_ENV=development (startLocalManager): whether a platform is local development
// is read from the configuration initialize() resolves.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { ROOT, SUPPORT, childEnv, runNode } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, startLocalManager, listen } = require('./support/http');

cleanEnv();
const memwarden = require(ROOT);
const { createMemoryRouter, MemwardenConfigError } = memwarden;
const { CLIENT_ADDRESS_HEADERS, PROXY_HEADERS } = require(path.join(ROOT, 'lib', 'access'));

const express = EXPRESS_VERSIONS[0][1];
const TOKEN = 'security-test-token-0123456789abcdef';
const bearer = { authorization: `Bearer ${TOKEN}` };

/** One request with any headers (Host included), as curl would send it: { status, headers, json, text }. */
function send(port, urlPath, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An app with the router at /api/memory (rate limit off); returns its port. */
async function appWith(t, routerOptions = {}, extra) {
  const app = express();
  if (extra) extra(app);
  app.use('/api/memory', createMemoryRouter({ express, adminRateLimitMs: 0, ...routerOptions }));
  const { server } = await listen(app, t);
  return server.address().port;
}

/**
 * A same-host reverse proxy as nginx's default proxy_pass: it forwards to the app
 * on 127.0.0.1 with Host set to the upstream address and adds no forwarding header.
 */
async function sameHostProxy(t, targetPort) {
  const proxy = http.createServer((req, res) => {
    const headers = { ...req.headers, host: `127.0.0.1:${targetPort}` };
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent: false }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(up);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  t.after(() => new Promise((resolve) => proxy.close(resolve)));
  return proxy.address().port;
}

/** The server fixture in a child process with `env`; resolves to { port, info, stop }. */
async function serverChild(t, env, routerOptions = {}) {
  const child = spawn(process.execPath, [path.join(SUPPORT, 'server-child.js'), JSON.stringify(routerOptions)], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.stdin.end();
  };
  t.after(async () => {
    stop();
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'close');
      clearTimeout(timer);
    }
  });
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(out.slice(0, nl));
    });
    child.on('close', (code) => reject(new Error(`server child exited with ${code} before listening: ${stderr}`)));
  });
  const info = JSON.parse(line);
  return { port: info.port, info };
}

// ---------------------------------------------------------------------------
// Point 1: loopback mode only in local development; client-IP headers.

test('without a token, a same-host proxy adding no header gets 403 outside local development (and reaches the app in it)', async (t) => {
  const cases = [
    { env: { NODE_ENV: 'production' }, local: false },
    { env: { RENDER: 'true' }, local: false },
    { env: { NODE_ENV: 'development', KUBERNETES_SERVICE_HOST: '10.96.0.1' }, local: false },
    { env: { NODE_ENV: 'development', DYNO: 'web.1' }, local: false },
    { env: { NODE_ENV: 'development' }, local: true },
  ];
  await Promise.all(
    cases.map(async ({ env, local }) => {
      const label = JSON.stringify(env);
      const { port, info } = await serverChild(t, env);
      assert.equal(info.localDevelopment, local, `${label}: ${info.platformReason}`);
      const proxyPort = await sameHostProxy(t, port);
      for (const p of [port, proxyPort]) {
        const gc = await send(p, '/api/memory/gc', { method: 'POST' });
        const metrics = await send(p, '/api/memory/metrics');
        const health = await send(p, '/api/memory/health');
        assert.equal(health.status, 200, `${label}: /health is public`);
        if (local) {
          assert.equal(gc.status, 200, `${label}: ${gc.text}`);
          assert.equal(metrics.status, 200, `${label}: ${metrics.text.slice(0, 200)}`);
        } else {
          for (const r of [gc, metrics]) {
            assert.equal(r.status, 403, `${label}: ${r.text}`);
            assert.equal(r.json.error.code, 'ERR_FORBIDDEN');
            assert.match(r.json.error.message, /not local development/);
            assert.match(r.json.error.message, /set MEMORY_ADMIN_TOKEN/);
          }
          assert.ok(gc.json.error.message.includes(info.platformReason), gc.json.error.message);
        }
      }
    }),
  );
});

test('outside local development a token opens the admin routes and reads, through the same proxy', async (t) => {
  const { port, info } = await serverChild(t, { NODE_ENV: 'production', MEMORY_ADMIN_TOKEN: TOKEN });
  assert.equal(info.localDevelopment, false);
  const proxyPort = await sameHostProxy(t, port);
  assert.equal((await send(proxyPort, '/api/memory/gc', { method: 'POST' })).status, 401);
  assert.equal((await send(proxyPort, '/api/memory/metrics')).status, 401);
  assert.equal((await send(proxyPort, '/api/memory/gc', { method: 'POST', headers: bearer })).status, 200);
  assert.equal((await send(proxyPort, '/api/memory/metrics', { headers: bearer })).status, 200);
});

test('in local development, every client-IP and proxy header is proxy evidence: 403 without trustProxy', async (t) => {
  await startLocalManager(t, levelOptions('healthy'));
  const port = await appWith(t);
  assert.equal((await send(port, '/api/memory/gc', { method: 'POST' })).status, 200, 'control: no header');
  const headers = ['x-forwarded-for', 'forwarded', ...CLIENT_ADDRESS_HEADERS, ...PROXY_HEADERS];
  for (const h of ['cf-connecting-ip', 'true-client-ip', 'x-client-ip', 'fastly-client-ip', 'via', 'x-forwarded-host', 'x-forwarded-proto', 'x-cluster-client-ip']) {
    assert.ok(headers.includes(h), h);
  }
  for (const name of headers) {
    const value = name === 'forwarded' ? 'for=127.0.0.1' : name === 'via' ? '1.1 127.0.0.1' : '127.0.0.1';
    for (const [method, p] of [['POST', '/api/memory/gc'], ['GET', '/api/memory/metrics']]) {
      const r = await send(port, p, { method, headers: { [name]: value } });
      assert.equal(r.status, 403, `${name} ${method} ${p}: ${r.text}`);
      assert.match(r.json.error.message, new RegExp(`through a proxy \\(${name}\\)`));
    }
  }
});

test('in local development with trustProxy, every hop a proxy names must be loopback, and it must name one', async (t) => {
  await startLocalManager(t, levelOptions('healthy'));
  const port = await appWith(t, { trustProxy: true });
  const gc = (headers) => send(port, '/api/memory/gc', { method: 'POST', headers });
  for (const name of ['x-forwarded-for', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip', 'fastly-client-ip', 'x-cluster-client-ip']) {
    assert.equal((await gc({ [name]: '203.0.113.7' })).status, 403, `${name}: remote`);
    assert.equal((await gc({ [name]: '127.0.0.1' })).status, 200, `${name}: loopback`);
  }
  assert.equal((await gc({ forwarded: 'for="[2001:db8::1]:4711"' })).status, 403);
  assert.equal((await gc({ forwarded: 'for="[::1]:4711";proto=http' })).status, 200);
  assert.equal((await gc({ forwarded: 'for=' })).status, 403, 'a malformed Forwarded header is not loopback');
  // Loopback in one header does not cover a remote client in another.
  assert.equal((await gc({ 'x-forwarded-for': '127.0.0.1', 'cf-connecting-ip': '198.51.100.4' })).status, 403);
  const silent = await gc({ via: '1.1 nginx' });
  assert.equal(silent.status, 403);
  assert.match(silent.json.error.message, /does not say which client/);
});

// ---------------------------------------------------------------------------
// Point 2: cross-site requests and DNS rebinding in loopback mode.

test('in loopback mode, cross-site requests and foreign Host names get 403; curl-like and same-origin requests pass', async (t) => {
  await startLocalManager(t, levelOptions('healthy'));
  const port = await appWith(t);
  const self = `127.0.0.1:${port}`;
  for (const [method, p] of [['POST', '/api/memory/emergency-cleanup'], ['GET', '/api/memory/metrics']]) {
    const call = (headers) => send(port, p, { method, headers });
    const refused = [
      [{ origin: 'http://evil.example' }, /Origin \(http:\/\/evil\.example\) is not this host/],
      [{ origin: 'null' }, /Origin \(null\)/],
      [{ origin: `http://localhost:${port}` }, /is not this host/],
      [{ 'sec-fetch-site': 'cross-site' }, /Sec-Fetch-Site: cross-site/],
      [{ 'sec-fetch-site': 'same-site' }, /Sec-Fetch-Site: same-site/],
      [{ host: 'evil.example' }, /DNS rebinding/],
      [{ host: `evil.example:${port}`, origin: `http://evil.example:${port}`, 'sec-fetch-site': 'same-origin' }, /DNS rebinding/],
      [{ host: `127.0.0.1.nip.io:${port}` }, /DNS rebinding/],
    ];
    for (const [headers, message] of refused) {
      const r = await call(headers);
      assert.equal(r.status, 403, `${method} ${p} ${JSON.stringify(headers)}: ${r.text}`);
      assert.equal(r.json.error.code, 'ERR_FORBIDDEN');
      assert.match(r.json.error.message, message);
    }
    const allowed = [
      {},
      { host: `localhost:${port}` },
      { host: 'localhost' },
      { host: `[::1]:${port}` },
      { host: `app.localhost:${port}` },
      { origin: `http://${self}`, 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
    ];
    for (const headers of allowed) {
      const r = await call(headers);
      assert.equal(r.status, 200, `${method} ${p} ${JSON.stringify(headers)}: ${r.text.slice(0, 300)}`);
    }
  }
  assert.equal((await send(port, '/api/memory/health', { headers: { host: 'evil.example', origin: 'http://evil.example' } })).status, 200, '/health is public');
});

test('with a token, the bearer header is what protects: a cross-site Origin with the token is served', async (t) => {
  await startLocalManager(t, levelOptions('healthy'));
  const port = await appWith(t, { adminToken: TOKEN });
  const headers = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
  assert.equal((await send(port, '/api/memory/gc', { method: 'POST', headers })).status, 401);
  assert.equal((await send(port, '/api/memory/gc', { method: 'POST', headers: { ...headers, ...bearer } })).status, 200);
});

test('headless chromium: a page on another site, and a page under a rebound name, cannot run the cleanup; the same origin can', async (t) => {
  const chromiumPath = '/usr/bin/chromium';
  assert.ok(fs.existsSync(chromiumPath), 'chromium is installed (apt-get install chromium; .ci/run does it)');
  const { chromium } = require('playwright-core');
  await startLocalManager(t, levelOptions('healthy'));
  const seen = [];
  const page = (target) => `<!doctype html><script>
    fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors' })
      .then((r) => { document.title = 'sent ' + r.type; }, (e) => { document.title = 'failed ' + e; });
  </script>`;
  const port = await appWith(t, {}, (app) => {
    app.use('/api/memory', (req, res, next) => {
      res.on('finish', () => seen.push({ host: req.headers.host, site: req.headers['sec-fetch-site'], origin: req.headers.origin, status: res.statusCode }));
      next();
    });
    app.get('/page', (req, res) => res.type('html').send(page('/api/memory/emergency-cleanup')));
  });
  // The attacker's site: another origin and another site (localhost is not 127.0.0.1).
  const attacker = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(page(`http://127.0.0.1:${port}/api/memory/emergency-cleanup`));
  });
  attacker.listen(0, '127.0.0.1');
  await once(attacker, 'listening');
  t.after(
    () =>
      new Promise((resolve) => {
        attacker.closeAllConnections(); // chromium keeps idle connections open
        attacker.close(resolve);
      }),
  );
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-chromium-'));
  t.after(() => fs.rmSync(userDataDir, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // DNS rebinding without DNS: evil.example resolves to this machine.
      '--host-resolver-rules=MAP evil.example 127.0.0.1',
      // Let the page reach the loopback API (Private Network Access would block it before the server decides).
      '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks',
    ],
  });
  t.after(() => browser.close());
  const visit = async (url) => {
    const before = seen.length;
    const tab = await browser.newPage();
    await tab.goto(url);
    await tab.waitForFunction(() => document.title.startsWith('sent') || document.title.startsWith('failed'), null, { timeout: 15_000 });
    const title = await tab.title();
    await tab.close();
    const deadline = Date.now() + 5000;
    while (seen.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return { title, requests: seen.slice(before) };
  };
  const cross = await visit(`http://localhost:${attacker.address().port}/`);
  assert.equal(cross.requests.length, 1, `${cross.title} ${JSON.stringify(seen)}`);
  assert.equal(cross.requests[0].status, 403, JSON.stringify(cross.requests[0]));
  assert.equal(cross.requests[0].site, 'cross-site');

  const rebound = await visit(`http://evil.example:${port}/page`);
  assert.equal(rebound.requests.length, 1, `${rebound.title} ${JSON.stringify(seen)}`);
  assert.equal(rebound.requests[0].status, 403, JSON.stringify(rebound.requests[0]));
  assert.equal(rebound.requests[0].host, `evil.example:${port}`);

  const same = await visit(`http://127.0.0.1:${port}/page`);
  assert.equal(same.requests.length, 1, `${same.title} ${JSON.stringify(seen)}`);
  assert.equal(same.requests[0].status, 200, JSON.stringify(same.requests[0]));
  assert.equal(same.requests[0].site, 'same-origin');
});

// ---------------------------------------------------------------------------
// Point 5: detailed reads private by default.

test('detailed reads are closed by default, open with publicReads or MEMORY_PUBLIC_READS; /health is always open; admin stays closed', async (t) => {
  await startManager(t, levelOptions('healthy'));
  const reads = ['/api/memory/metrics', '/api/memory/leak-detection'];
  const closed = await appWith(t, { adminToken: TOKEN });
  for (const p of reads) {
    const r = await send(closed, p);
    assert.equal(r.status, 401, p);
    assert.equal(r.json.error.code, 'ERR_UNAUTHORIZED');
    assert.equal((await send(closed, p, { headers: bearer })).status, 200, p);
  }
  assert.equal((await send(closed, '/api/memory/health')).status, 200);

  const open = await appWith(t, { adminToken: TOKEN, publicReads: true });
  process.env.MEMORY_PUBLIC_READS = 'true';
  let fromEnv;
  try {
    fromEnv = await appWith(t, { adminToken: TOKEN });
  } finally {
    delete process.env.MEMORY_PUBLIC_READS;
  }
  process.env.MEMORY_PUBLIC_READS = 'true';
  let optionWins;
  try {
    optionWins = await appWith(t, { adminToken: TOKEN, publicReads: false });
  } finally {
    delete process.env.MEMORY_PUBLIC_READS;
  }
  for (const port of [open, fromEnv]) {
    for (const p of [...reads, '/api/memory/health']) {
      const r = await send(port, p, { headers: { origin: 'http://elsewhere.example', 'x-forwarded-for': '203.0.113.7' } });
      assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 200)}`);
    }
    assert.equal((await send(port, '/api/memory/gc', { method: 'POST' })).status, 401, 'publicReads does not open admin routes');
  }
  assert.equal((await send(optionWins, '/api/memory/metrics')).status, 401, 'the option wins over the variable');
});

test('outside local development without a token, reads are 403 with a message naming MEMORY_PUBLIC_READS; /health stays 200', async (t) => {
  process.env.NODE_ENV = 'production';
  try {
    await startManager(t, levelOptions('healthy'));
  } finally {
    delete process.env.NODE_ENV;
  }
  const port = await appWith(t);
  const r = await send(port, '/api/memory/metrics');
  assert.equal(r.status, 403);
  assert.match(r.json.error.message, /MEMORY_PUBLIC_READS=true/);
  assert.equal((await send(port, '/api/memory/health')).status, 200);
  const open = await appWith(t, { publicReads: true });
  assert.equal((await send(open, '/api/memory/metrics')).status, 200);
  assert.equal((await send(open, '/api/memory/gc', { method: 'POST' })).status, 403);
});

test('publicReads and MEMORY_PUBLIC_READS are validated with errors naming them', () => {
  for (const raw of ['maybe', 'tru', '2']) {
    process.env.MEMORY_PUBLIC_READS = raw;
    try {
      assert.throws(
        () => createMemoryRouter({ express }),
        (err) => {
          assert.ok(err instanceof MemwardenConfigError);
          assert.equal(err.code, 'ERR_MEMWARDEN_CONFIG');
          assert.equal(err.problems[0].setting, 'MEMORY_PUBLIC_READS');
          assert.equal(err.problems[0].value, JSON.stringify(raw));
          assert.match(err.message, /MEMORY_PUBLIC_READS=".*" is invalid; accepted: true or false/);
          return true;
        },
      );
    } finally {
      delete process.env.MEMORY_PUBLIC_READS;
    }
  }
  for (const raw of ['TRUE', '1', 'yes', 'on', 'false', '0', 'off']) {
    process.env.MEMORY_PUBLIC_READS = raw;
    try {
      createMemoryRouter({ express });
    } finally {
      delete process.env.MEMORY_PUBLIC_READS;
    }
  }
  assert.throws(
    () => createMemoryRouter({ express, publicReads: 'yes' }),
    (err) => err instanceof MemwardenConfigError && err.problems[0].setting === 'publicReads' && /accepted: true or false/.test(err.message),
  );
});

// ---------------------------------------------------------------------------
// Point 3: secrets in errors and in memory.

test('a bad webhook URL is redacted in the configuration error (option and MEMORY_ALERT_WEBHOOK_URL)', async () => {
  const m = memwarden.MemoryManagerService.getInstance();
  await m.shutdown();
  const secret = 'T0000/B0000/XXXXsecretXXXX';
  const check = (err, setting, shown) => {
    assert.ok(err instanceof MemwardenConfigError, String(err));
    const p = err.problems.find((x) => x.setting === setting);
    assert.ok(p, JSON.stringify(err.problems));
    assert.ok(!err.message.includes('XXXXsecret') && !p.value.includes('XXXXsecret') && !p.message.includes('XXXXsecret'), err.message);
    assert.equal(p.value, JSON.stringify(shown));
    return true;
  };
  await assert.rejects(m.initialize({ alertWebhookUrl: `ftp://hooks.slack.com/services/${secret}` }), (err) => check(err, 'alertWebhookUrl', 'ftp://hooks.slack.com/…'));
  process.env.MEMORY_ALERT_WEBHOOK_URL = `hooks.slack.com/services/${secret}`;
  try {
    await assert.rejects(m.initialize(), (err) => check(err, 'MEMORY_ALERT_WEBHOOK_URL', 'hooks.slack.com/…'));
  } finally {
    delete process.env.MEMORY_ALERT_WEBHOOK_URL;
  }
  await assert.rejects(m.initialize({ alertWebhookUrl: 'xoxb-not-a-url-secret' }), (err) => check(err, 'alertWebhookUrl', '(hidden, 21 characters)'));
  assert.equal(m.initialized, false);
});

test('only the digest of adminToken is kept (createMemoryRouter, express(), attach()): the token is absent from a heap snapshot (and found when something keeps it)', async () => {
  const fixture = path.join(SUPPORT, 'token-heap-child.js');
  const [dropped, kept] = await Promise.all([runNode([fixture, 'drop'], { timeoutMs: 60_000 }), runNode([fixture, 'keep'], { timeoutMs: 60_000 })]);
  for (const run of [dropped, kept]) assert.equal(run.code, 0, run.stderr);
  const result = (run) => JSON.parse(run.stdout.trim().split('\n').pop());
  assert.deepEqual(result(kept), { found: true, status: 200 }, 'control: a kept token is found in the snapshot');
  assert.deepEqual(result(dropped), { found: false, status: 200 });
});

// ---------------------------------------------------------------------------
// Point 4: /metrics from the native tail, once per sample.

test('GET /metrics at full history shows the trace\'s tail and totals, rebuilt only when a sample arrives', async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  const port = await appWith(t, { adminToken: TOKEN, historySamples: 60 });
  for (let before = -1; m.exportTrace().samples.length !== before; ) {
    before = m.exportTrace().samples.length;
    for (let i = 0; i < 200; i++) await m.checkMemoryPressure();
  }
  const whole = m.exportTrace();
  assert.equal(whole.samples.length, 2400, 'the trace is full');
  const tail = m.traceTail(60, 20);
  assert.deepEqual(tail.samples, whole.samples.slice(-60));
  assert.equal(tail.totalSamples, 2400);
  assert.equal(tail.firstSampleAt, whole.samples[0].t);
  // Full GCs are recorded whenever V8 runs one: only bounds can be checked against another read.
  assert.ok(tail.totalGc >= whole.gc.length && tail.gc.length === Math.min(20, tail.totalGc), JSON.stringify({ totalGc: tail.totalGc, exported: whole.gc.length }));

  const metrics = async () => (await send(port, '/api/memory/metrics', { headers: bearer })).json.history;
  const h = await metrics();
  assert.equal(h.samples, 2400);
  assert.equal(h.firstSampleAt, whole.samples[0].t);
  assert.equal(h.lastSampleAt, whole.samples[2399].t);
  assert.deepEqual(h.recentSamples, whole.samples.slice(-60));
  assert.ok(h.fullGcEvents >= whole.gc.length && h.fullGcEvents <= m.exportTrace().gc.length);
  assert.equal(h.recentFullGc.length, Math.min(20, h.fullGcEvents));
  const again = await metrics();
  assert.deepEqual([again.samples, again.recentSamples], [h.samples, h.recentSamples], 'no new sample: the same history');
  await m.checkMemoryPressure();
  const next = await metrics();
  assert.deepEqual(next.recentSamples, m.exportTrace().samples.slice(-60), 'a new sample: the new tail');
  assert.notDeepEqual(next.recentSamples, h.recentSamples);
});

test('admin bodies through express.json(): a chunked body over 4 KB gets 413 and its errors keep their codes', async (t) => {
  await startLocalManager(t, levelOptions('healthy'));
  const port = await appWith(t);
  const json = { 'content-type': 'application/json' };
  const chunked = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/api/memory/gc', method: 'POST', headers: json, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.write(`{"reason":"${'x'.repeat(3000)}`);
    req.end(`${'y'.repeat(3000)}"}`);
  });
  assert.equal(chunked.status, 413);
  assert.equal(chunked.json.error.code, 'ERR_PAYLOAD_TOO_LARGE');
  assert.equal(chunked.connection, 'close');
  const plus = await send(port, '/api/memory/gc', { method: 'POST', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"reason":"plus_json"}' });
  assert.equal(plus.status, 200, plus.text);
  assert.equal(plus.json.reason, 'plus_json');
  const charset = await send(port, '/api/memory/gc', { method: 'POST', headers: { 'content-type': 'application/json; charset=klingon' }, body: '{}' });
  assert.equal(charset.status, 415, charset.text);
  assert.equal(charset.json.error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  const scalar = await send(port, '/api/memory/gc', { method: 'POST', headers: json, body: '"gc"' });
  assert.equal(scalar.status, 400);
  assert.match(scalar.json.error.code, /^ERR_(MALFORMED_JSON|INVALID_BODY)$/);
});

test('config.localDevelopment follows the detection, not the platform option, and no hosting platform counts', () => {
  const local = (options, env) => {
    const r = memwarden.resolveConfig(options, env);
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    return [r.config.platform, r.config.localDevelopment];
  };
  assert.deepEqual(local({}, { NODE_ENV: 'development' }), ['local', true]);
  assert.deepEqual(local({ platform: 'local' }, { NODE_ENV: 'production' }), ['local', false], 'forcing the preset does not make it local development');
  assert.deepEqual(local({}, { NODE_ENV: 'production' }), ['other', false]);
  assert.deepEqual(local({}, { RENDER: 'true', NODE_ENV: 'development' }), ['render', false]);
  for (const name of ['DYNO', 'FLY_APP_NAME', 'KUBERNETES_SERVICE_HOST']) {
    assert.deepEqual(local({}, { NODE_ENV: 'development', [name]: 'x' })[1], false, name);
  }
});

'use strict';
// The developer-tools routes on createMemoryRouter() over real Express 4 and 5 and real
// HTTP: GET /dashboard (a self-contained page with a CSP), GET /live (?since=), and
// POST /simulate (admin: token, body checks, the size checked against the room left,
// off under NODE_ENV=production unless MEMORY_ALLOW_SIMULATION=true).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { ROOT, waitFor } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, startManager, listen, request } = require('./support/http');

cleanEnv();
const memwarden = require(ROOT);
const TOKEN = 'devtools-routes-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}` };
const json = { 'Content-Type': 'application/json' };

async function app(t, express) {
  const a = express();
  a.use('/api/memory', memwarden.createMemoryRouter({ express, adminToken: TOKEN, adminRateLimitMs: 0 }));
  return listen(a, t);
}

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: GET /dashboard is one self-contained page`, async (t) => {
    await startManager(t, { monitoringIntervalMs: 100, memoryLimitMb: 100_000 });
    const { base } = await app(t, express);
    const r = await request(base, '/api/memory/dashboard');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /^default-src 'none'; script-src ('sha256-[A-Za-z0-9+/=]+' ?){3}; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self';.*frame-ancestors 'none'$/);
    const uplot = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    assert.ok(r.text.includes(uplot.slice(0, 200)) && r.text.length > uplot.length, 'uPlot is inlined');
    assert.ok(!/<script[^>]+src=|<link[^>]+href="(?!data:)/.test(r.text), 'nothing loaded from elsewhere');
    const head = await request(base, '/api/memory/dashboard', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const post = await request(base, '/api/memory/dashboard', { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test(`${name}: GET /live gives the figures, and only newer samples with ?since=`, async (t) => {
    const m = await startManager(t, { monitoringIntervalMs: 100, memoryLimitMb: 100_000 });
    const { base } = await app(t, express);
    await waitFor(() => m.exportTrace().samples.length >= 4, { timeoutMs: 5000, what: 'samples' });
    const r = await request(base, '/api/memory/live', { headers: auth });
    assert.equal(r.status, 200, r.text);
    const d = r.json;
    for (const k of ['status', 'thresholds', 'limitBytes', 'heapSizeLimit', 'residentBytes', 'heapUsed', 'pressurePercentage', 'trend', 'leak', 'gcStats', 'samples', 'gc', 'alerts', 'recommendations', 'cleanup']) assert.ok(k in d, k);
    assert.ok(d.samples.length >= 4);
    for (const s of d.samples) for (const k of ['t', 'heapUsed', 'heapTotal', 'rss', 'external']) assert.equal(typeof s[k], 'number', k);
    const cut = d.samples[d.samples.length - 2].t;
    const newer = (await request(base, `/api/memory/live?since=${cut}`, { headers: auth })).json;
    assert.ok(newer.samples.length >= 1 && newer.samples.every((s) => s.t > cut), 'only samples after since');
    assert.ok(newer.samples.length < d.samples.length + 5);
    const junk = (await request(base, '/api/memory/live?since=abc', { headers: auth })).json;
    assert.ok(junk.samples.length >= d.samples.length, 'a bad since is ignored');
  });

  test(`${name}: POST /simulate: admin, checked, runs to the end`, async (t) => {
    await startManager(t, { monitoringIntervalMs: 100, memoryLimitMb: 100_000 });
    const { base } = await app(t, express);
    const path = '/api/memory/simulate';
    assert.equal((await request(base, path, { method: 'POST', headers: json, body: '{"mb":1}' })).status, 401);
    const bad = await request(base, path, { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":-3}' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^mb=-3 is invalid; accepted: a number of MB greater than 0$/);
    const unknown = await request(base, path, { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":1,"gb":2}' });
    assert.match(unknown.json.error.message, /unknown field gb; accepted fields: mb, stepMs, holdMs, recoverMs/);
    const big = await request(base, path, { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":10000000}' });
    assert.equal(big.status, 400);
    assert.match(big.json.error.message, /^mb=10000000 is invalid; accepted: at most \d+ MB here: \d+ MB are left below the 100000 MB limit \(override\)/);

    const ok = await request(base, path, { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":20,"holdMs":0,"stepMs":10}' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.started, true);
    const id = ok.json.simulation.id;
    const again = await request(base, path, { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":20}' });
    assert.equal(again.json.started, false, 'one simulation at a time');
    const done = await waitFor(
      async () => {
        const s = (await request(base, '/api/memory/live', { headers: auth })).json.simulation;
        return s && s.id === id && s.finishedAt !== null ? s : null;
      },
      { timeoutMs: 20_000, everyMs: 100, what: 'the simulation to end' },
    );
    assert.equal(done.phase, 'done');
    assert.equal(done.recovered, true);
    // At the peak the 20 MB were live on the heap (the growth from `before` can be smaller:
    // a collection during the ramp may free garbage the previous test left).
    assert.ok(done.peak.heapUsed > 20 * 1048576, `heap at the peak ${done.peak.heapUsed / 1048576} MB`);
  });
}

test('POST /simulate is off under NODE_ENV=production unless MEMORY_ALLOW_SIMULATION=true', async (t) => {
  const [, express] = EXPRESS_VERSIONS[0];
  await startManager(t, { monitoringIntervalMs: 100, memoryLimitMb: 100_000 });
  const { base } = await app(t, express);
  const saved = process.env.NODE_ENV;
  t.after(() => {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
    delete process.env.MEMORY_ALLOW_SIMULATION;
  });
  process.env.NODE_ENV = 'production';
  const off = await request(base, '/api/memory/simulate', { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":1}' });
  assert.equal(off.status, 400);
  assert.match(off.json.error.message, /simulations are off under NODE_ENV=production \(set MEMORY_ALLOW_SIMULATION=true to allow them\)/);
  process.env.MEMORY_ALLOW_SIMULATION = 'true';
  const on = await request(base, '/api/memory/simulate', { method: 'POST', headers: { ...auth, ...json }, body: '{"mb":1,"holdMs":0,"stepMs":10,"recoverMs":0}' });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.started, true);
  await waitFor(async () => (await request(base, '/api/memory/live', { headers: auth })).json.simulation.finishedAt !== null, { timeoutMs: 10_000, what: 'the end' });
});

'use strict';
// createMemoryRouter() over real Express 4 and 5 apps and real HTTP: the shape of
// every endpoint, the admin rules (token, loopback, proxies), the rate limit, and
// JSON errors for wrong methods, unknown paths and bad bodies.
//
// Loopback mode (no token) is open only in local development, so the tests of it
// start the manager with NODE_ENV=development (startLocalManager); the rule itself
// (other platforms, same-host proxies, browsers) is in security.test.js.
//
// The non-loopback case: every 127.x address is loopback, so a test client cannot
// connect from elsewhere. It is exercised through the proxy rules instead: with
// trustProxy true, X-Forwarded-For: 203.0.113.7 makes the request non-local (403);
// with trustProxy false, any forwarding header refuses the request (it came
// through a proxy, whose own address is loopback).

const test = require('node:test');
const assert = require('node:assert/strict');
const { ROOT } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, startLocalManager, listen, request, noStack } = require('./support/http');

cleanEnv();
const memwarden = require(ROOT);
const { createMemoryRouter, MemwardenConfigError } = memwarden;

const TOKEN = 'test-token-0123456789abcdef0123456789';
const STATUSES = ['healthy', 'warning', 'critical', 'emergency'];

async function appWith(t, express, routerOptions) {
  const app = express();
  app.use('/api/memory', createMemoryRouter({ express, ...routerOptions }));
  app.get('/work', (req, res) => res.send('ok'));
  return listen(app, t);
}

const post = (base, p, { headers = {}, body } = {}) => request(base, p, { method: 'POST', headers, body });
const bearer = { Authorization: `Bearer ${TOKEN}` };


for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: GET /health, /metrics and /leak-detection have the documented shape`, async (t) => {
    const m = await startManager(t, levelOptions('healthy'));
    const app = express();
    app.use(memwarden.express({ express, router: { adminToken: TOKEN } }));
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    await request(base, '/work');

    const h = await request(base, '/api/memory/health');
    assert.equal(h.status, 200);
    assert.match(h.headers.get('content-type'), /application\/json/);
    assert.equal(h.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(h.json).slice(0, 5), ['status', 'currentUsage', 'trend', 'gcStats', 'recommendations'], 'SPEC.md order');
    assert.ok(STATUSES.includes(h.json.status));
    for (const k of ['heapUsed', 'heapTotal', 'usagePercentage', 'platform', 'limitBytes', 'pressurePercentage']) assert.ok(k in h.json.currentUsage, k);
    for (const k of ['timeWindow', 'averageUsage', 'peakUsage', 'growthRate', 'isIncreasing', 'leakSuspected']) assert.ok(k in h.json.trend, k);
    for (const k of ['totalCollections', 'efficiency', 'averageDuration']) assert.ok(k in h.json.gcStats, k);
    assert.ok(Array.isArray(h.json.recommendations));
    assert.equal(h.json.currentUsage.limitBytes, m.getHealthMetrics().currentUsage.limitBytes);
    assert.ok('thresholds' in h.json && 'gcAvailable' in h.json, 'the rest of getHealthMetrics()');

    const x = (await request(base, '/api/memory/metrics', { headers: bearer })).json;
    assert.ok(STATUSES.includes(x.status));
    assert.ok(x.history.samples >= 1 && Array.isArray(x.history.recentSamples) && x.history.recentSamples.length >= 1);
    assert.equal(typeof x.history.intervalMs, 'number');
    assert.ok(Array.isArray(x.requests.routes));
    assert.ok(x.requests.routes.some((r) => r.route === 'GET /work'), JSON.stringify(x.requests.routes.map((r) => r.route)));
    assert.ok(Array.isArray(x.alerts.active) && Array.isArray(x.alerts.history));
    assert.equal(typeof x.alertDelivery.delivered.alerts, 'number');
    assert.deepEqual(
      x.cleanup.strategies.filter((s) => s.builtin).map((s) => [s.name, s.priority, s.thresholdPercent]),
      [
        ['force_gc', 100, 70],
        ['clear_performance_metrics', 80, 80],
        ['clear_memory_snapshots', 60, 85],
      ],
    );
    assert.equal(typeof x.gcStats.totalCollections, 'number');
    assert.equal(typeof x.leak.leakSuspected, 'boolean');
    assert.ok('correlation' in x.requests);

    const l = (await request(base, '/api/memory/leak-detection', { headers: bearer })).json;
    assert.equal(typeof l.leakSuspected, 'boolean');
    assert.ok(l.confidence >= 0 && l.confidence <= 100);
    assert.ok('heap' in l && 'external' in l && 'resident' in l && Array.isArray(l.recommendations));
  });

  test(`${name}: in local development, admin actions from loopback without a token are allowed, and rate-limited (429 + Retry-After)`, async (t) => {
    await startLocalManager(t, levelOptions('healthy'));
    const { base } = await appWith(t, express, { adminRateLimitMs: 60_000 });
    const gc = await post(base, '/api/memory/gc');
    assert.equal(gc.status, 200, gc.text);
    assert.equal(gc.json.type, 'gc');
    assert.equal(gc.json.reason, 'api_request');
    assert.equal(typeof gc.json.success, 'boolean');
    const again = await post(base, '/api/memory/emergency-cleanup');
    assert.equal(again.status, 429);
    const retry = Number(again.headers.get('retry-after'));
    assert.ok(retry >= 55 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(again.json.error.code, 'ERR_RATE_LIMITED');
    assert.equal(again.json.error.retryAfterSeconds, retry);
    assert.ok(noStack(again.text));
  });

  test(`${name}: a proxied request is refused without a token; with trustProxy, a non-loopback client gets 403`, async (t) => {
    await startLocalManager(t, levelOptions('healthy'));
    const plain = await appWith(t, express, { adminRateLimitMs: 0 });
    const viaProxy = await post(plain.base, '/api/memory/gc', { headers: { 'X-Forwarded-For': '127.0.0.1' } });
    assert.equal(viaProxy.status, 403);
    assert.equal(viaProxy.json.error.code, 'ERR_FORBIDDEN');
    assert.match(viaProxy.json.error.message, /through a proxy/);
    assert.equal((await post(plain.base, '/api/memory/gc', { headers: { Forwarded: 'for=127.0.0.1' } })).status, 403);

    const trusted = await appWith(t, express, { adminRateLimitMs: 0, trustProxy: true });
    const remote = await post(trusted.base, '/api/memory/gc', { headers: { 'X-Forwarded-For': '203.0.113.7' } });
    assert.equal(remote.status, 403);
    assert.equal(remote.json.error.code, 'ERR_FORBIDDEN');
    assert.match(remote.json.error.message, /non-loopback/);
    // A spoofed loopback entry in front of the real client does not help: every hop must be local.
    assert.equal((await post(trusted.base, '/api/memory/gc', { headers: { 'X-Forwarded-For': '127.0.0.1, 203.0.113.7' } })).status, 403);
    const local = await post(trusted.base, '/api/memory/gc', { headers: { 'X-Forwarded-For': '127.0.0.1, ::1' } });
    assert.equal(local.status, 200, local.text);
    assert.equal((await post(trusted.base, '/api/memory/emergency-cleanup', { headers: { 'X-Forwarded-For': '203.0.113.7' } })).status, 403);
  });

  test(`${name}: with a token, admin actions need Authorization: Bearer <token> (401 otherwise), from anywhere`, async (t) => {
    await startManager(t, levelOptions('healthy'));
    const { base } = await appWith(t, express, { adminToken: TOKEN, adminRateLimitMs: 60_000, trustProxy: true });
    const remote = { 'X-Forwarded-For': '203.0.113.7' };
    const none = await post(base, '/api/memory/gc', { headers: remote });
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'ERR_UNAUTHORIZED');
    assert.match(none.headers.get('www-authenticate'), /^Bearer/);
    for (const auth of [`Bearer ${TOKEN}x`, 'Bearer short', `Basic ${TOKEN}`, `Bearer ${TOKEN.toUpperCase()}`]) {
      const wrong = await post(base, '/api/memory/gc', { headers: { ...remote, Authorization: auth } });
      assert.equal(wrong.status, 401, auth);
      assert.equal(wrong.json.error.code, 'ERR_INVALID_TOKEN');
      assert.ok(!wrong.text.includes(TOKEN), 'the token is never echoed');
    }
    // Loopback does not bypass a configured token.
    assert.equal((await post(base, '/api/memory/gc')).status, 401);
    // Refusals do not use up the rate limit.
    const ok = await post(base, '/api/memory/gc', { headers: { ...remote, Authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200, ok.text);
    const cleanup = await post(base, '/api/memory/emergency-cleanup', { headers: { ...remote, Authorization: `bearer ${TOKEN}` } });
    assert.equal(cleanup.status, 429, 'one admin action per adminRateLimitMs across both routes');
  });

  test(`${name}: wrong methods get 405 + Allow, unknown paths 404, bad bodies 400/413/415, all as JSON`, async (t) => {
    await startLocalManager(t, levelOptions('healthy'));
    const { base } = await appWith(t, express, { adminRateLimitMs: 0 });
    const put = await request(base, '/api/memory/gc', { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'POST');
    assert.equal(put.json.error.code, 'ERR_METHOD_NOT_ALLOWED');
    const postHealth = await post(base, '/api/memory/health');
    assert.equal(postHealth.status, 405);
    assert.equal(postHealth.headers.get('allow'), 'GET, HEAD');
    const head = await request(base, '/api/memory/health', { method: 'HEAD' });
    assert.equal(head.status, 200);
    const options = await request(base, '/api/memory/metrics', { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, HEAD');
    const missing = await request(base, '/api/memory/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'ERR_NOT_FOUND');

    const json = { 'Content-Type': 'application/json' };
    const malformed = await post(base, '/api/memory/gc', { headers: json, body: '{"reason": ' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, 'ERR_MALFORMED_JSON');
    const array = await post(base, '/api/memory/gc', { headers: json, body: '[1]' });
    assert.equal(array.json.error.code, 'ERR_INVALID_BODY');
    const unknown = await post(base, '/api/memory/gc', { headers: json, body: '{"colour":"red"}' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /unknown field colour; accepted fields: reason/);
    const badReason = await post(base, '/api/memory/gc', { headers: json, body: '{"reason":""}' });
    assert.match(badReason.json.error.message, /reason="" is invalid/);
    const text = await post(base, '/api/memory/gc', { headers: { 'Content-Type': 'text/plain' }, body: 'gc please' });
    assert.equal(text.status, 415);
    assert.equal(text.json.error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    const big = await post(base, '/api/memory/gc', { headers: json, body: JSON.stringify({ reason: 'x'.repeat(10_000) }) });
    assert.equal(big.status, 413);
    for (const r of [put, postHealth, missing, malformed, array, unknown, badReason, text, big]) assert.ok(noStack(r.text), r.text);

    const reason = await post(base, '/api/memory/gc', { headers: json, body: '{"reason":"deploy_check"}' });
    assert.equal(reason.status, 200);
    assert.equal(reason.json.reason, 'deploy_check');
    const cleanup = await post(base, '/api/memory/emergency-cleanup', { headers: json, body: '{"force":false}' });
    assert.equal(cleanup.status, 200);
    assert.equal(cleanup.json.force, false);
    assert.deepEqual(cleanup.json.actions, [], 'healthy: nothing is eligible without force');
    const forced = await post(base, '/api/memory/emergency-cleanup');
    assert.equal(forced.json.force, true);
    assert.deepEqual(
      forced.json.actions.map((a) => a.strategy),
      ['force_gc', 'clear_performance_metrics', 'clear_memory_snapshots'],
    );
  });

  test(`${name}: a body parsed by express.json() is used as is`, async (t) => {
    await startLocalManager(t, levelOptions('healthy'));
    const app = express();
    app.use(express.json());
    app.use('/api/memory', createMemoryRouter({ express, adminRateLimitMs: 0 }));
    const { base } = await listen(app, t);
    const r = await post(base, '/api/memory/gc', { headers: { 'Content-Type': 'application/json' }, body: '{"reason":"parsed"}' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.reason, 'parsed');
  });
}

test('MEMORY_ADMIN_TOKEN is read when the router is created; a bad one is refused without being shown', async (t) => {
  await startManager(t, levelOptions('healthy'));
  const express = EXPRESS_VERSIONS[0][1];
  process.env.MEMORY_ADMIN_TOKEN = TOKEN;
  let router;
  try {
    router = createMemoryRouter({ express, adminRateLimitMs: 0 });
  } finally {
    delete process.env.MEMORY_ADMIN_TOKEN;
  }
  const app = express();
  app.use('/api/memory', router);
  const { base } = await listen(app, t);
  const denied = await post(base, '/api/memory/gc');
  assert.equal(denied.status, 401);
  assert.match(denied.json.error.message, /MEMORY_ADMIN_TOKEN/);
  assert.equal((await post(base, '/api/memory/gc', { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);

  process.env.MEMORY_ADMIN_TOKEN = 'short-secret';
  try {
    assert.throws(
      () => createMemoryRouter({ express }),
      (err) => {
        assert.ok(err instanceof MemwardenConfigError);
        assert.equal(err.problems[0].setting, 'MEMORY_ADMIN_TOKEN');
        assert.equal(err.problems[0].value, '(hidden, 12 characters)');
        assert.ok(!err.message.includes('short-secret'));
        assert.match(err.message, /16 to 1024 printable ASCII characters/);
        return true;
      },
    );
  } finally {
    delete process.env.MEMORY_ADMIN_TOKEN;
  }
  assert.throws(() => createMemoryRouter({ express, adminToken: 12345 }), (err) => err.problems[0].setting === 'adminToken');
});

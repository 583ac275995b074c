'use strict';
// Pure logic of the Express integration, with an injected clock: per-route request
// statistics (histogram quantiles, cardinality cap, memory samples), correlation
// windows and Pearson's r (never NaN), the loopback classifier, forwarded-address
// parsing, and webhook URL validation.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT } = require('./support/child');

const { RequestStats, pearson, bucketOf, bucketUpperMs, histogramQuantile, BUCKETS, UNMATCHED, OTHER } = require(path.join(ROOT, 'lib', 'requestStats'));
const { isLoopbackAddress } = require(path.join(ROOT, 'lib', 'address'));
const { forwardedAddresses } = require(path.join(ROOT, 'lib', 'router'));
const { webhookUrlProblem, redactUrl } = require(path.join(ROOT, 'lib', 'webhook'));

const route = (p) => ({ path: p });

test('histogram buckets are monotonic and 2^(1/4) wide; quantiles land in the right bucket', () => {
  let last = -1;
  for (let i = 0; i < BUCKETS; i++) {
    const up = bucketUpperMs(i);
    assert.ok(up > last, `bucket ${i}`);
    if (i > 0) assert.ok(Math.abs(up / bucketUpperMs(i - 1) - 2 ** 0.25) < 1e-9);
    last = up;
    // A value just below a bucket's upper bound falls into that bucket.
    if (i > 0) assert.equal(bucketOf(up * 0.999), i);
  }
  assert.equal(bucketOf(0), 0);
  assert.equal(bucketOf(-5), 0);
  assert.equal(bucketOf(NaN), 0);
  assert.equal(bucketOf(1e12), BUCKETS - 1);

  const counts = new Uint32Array(BUCKETS);
  for (let ms = 1; ms <= 100; ms++) counts[bucketOf(ms)]++;
  const p50 = histogramQuantile(counts, 100, 0.5, 100);
  const p95 = histogramQuantile(counts, 100, 0.95, 100);
  assert.ok(p50 >= 50 && p50 <= 50 * 2 ** 0.25 + 1e-9, `p50 ${p50}`);
  assert.ok(p95 >= 95 && p95 <= 100, `p95 ${p95} (capped at the max)`);
  assert.equal(histogramQuantile(counts, 0, 0.5, 0), null);
});

test('per-route stats: counts, errors, latency percentiles, keys from route pattern and base URL', () => {
  const s = new RequestStats({ now: 0 });
  const users = route('/users/:id');
  for (let i = 1; i <= 100; i++) s.record(s.entryForRoute(users, '', 'GET'), i, i <= 90 ? 200 : i <= 95 ? 404 : 500, NaN, i);
  s.record(s.entryForRoute(users, '/v2', 'GET'), 3, 200, NaN, 101);
  s.record(s.entryForRoute(users, '', 'DELETE'), 3, 204, NaN, 102);
  s.record(s.entryForRoute(undefined, '', 'GET'), 1, 404, NaN, 103);
  s.record(s.entryForRoute(route(['/a', '/b']), '', 'GET'), 1, 200, NaN, 104);
  const r = s.report(200);
  const byKey = Object.fromEntries(r.routes.map((x) => [x.route, x]));
  assert.deepEqual(Object.keys(byKey).sort(), ['(unmatched)', 'DELETE /users/:id', 'GET /a,/b', 'GET /users/:id', 'GET /v2/users/:id']);
  const u = byKey['GET /users/:id'];
  assert.equal(u.count, 100);
  assert.equal(u.clientErrors, 5);
  assert.equal(u.serverErrors, 5);
  assert.equal(u.method, 'GET');
  assert.equal(u.path, '/users/:id');
  assert.equal(u.latencyMs.mean, 50.5);
  assert.equal(u.latencyMs.max, 100);
  assert.ok(u.latencyMs.p50 >= 50 && u.latencyMs.p50 <= 60, JSON.stringify(u.latencyMs));
  assert.ok(u.latencyMs.p95 >= 95 && u.latencyMs.p95 <= 100, JSON.stringify(u.latencyMs));
  assert.equal(r.totalRequests, 104);
  assert.equal(r.routes[0].route, 'GET /users/:id', 'sorted by count');
  // The same (route, baseUrl, method) is one entry, found again through the cache.
  assert.equal(s.entryForRoute(users, '', 'GET'), s.routes.get('GET /users/:id'));
});

test('cardinality is capped: routes past maxRoutes share (other); unmatched requests never count against it', () => {
  const s = new RequestStats({ maxRoutes: 3, now: 0 });
  for (let i = 0; i < 10; i++) s.record(s.entryForRoute(route(`/r${i}`), '', 'GET'), 1, 200, NaN, i);
  s.record(s.entryForRoute(null, '', 'GET'), 1, 404, NaN, 11);
  const r = s.report(12);
  const keys = r.routes.map((x) => x.route);
  assert.equal(keys.filter((k) => k.startsWith('GET /r')).length, 3);
  assert.ok(keys.includes(OTHER));
  assert.ok(keys.includes(UNMATCHED));
  assert.equal(r.routes.find((x) => x.route === OTHER).count, 7);
  assert.equal(r.overflowedRequests, 7);
  assert.equal(r.totalRequests, 11);
});

test('memory samples: positive deltas averaged, negative ones (a GC ran) counted as interrupted; heavy routes ranked', () => {
  const s = new RequestStats({ now: 0, minMemorySamples: 2 });
  const a = s.entry('GET /a');
  const b = s.entry('GET /b');
  const c = s.entry('GET /c');
  s.record(a, 1, 200, 1000, 1);
  s.record(a, 1, 200, 3000, 2);
  s.record(a, 1, 200, -50_000, 3);
  s.record(b, 1, 200, 100_000, 4);
  s.record(b, 1, 200, 300_000, 5);
  s.record(c, 1, 200, 9_999_999, 6); // one sample: below minMemorySamples
  s.record(c, 1, 200, NaN, 7); // not sampled
  const r = s.report(10);
  const ra = r.routes.find((x) => x.route === 'GET /a');
  assert.deepEqual(ra.memory, { samples: 2, interruptedByGc: 1, meanHeapDeltaBytes: 2000, maxHeapDeltaBytes: 3000 });
  assert.deepEqual(
    r.memoryHeavyRoutes.map((x) => [x.route, x.meanHeapDeltaBytes]),
    [
      ['GET /b', 200_000],
      ['GET /a', 2000],
    ],
  );
});

test('windows: closed when the clock passes their end, empty ones skipped, at most maxWindows kept', () => {
  const s = new RequestStats({ windowMs: 1000, maxWindows: 3, now: 0 });
  const e = s.entry('GET /x');
  s.record(e, 10, 200, NaN, 100);
  s.record(e, 30, 200, NaN, 900);
  s.recordGcPause(5, 500);
  s.recordHeap(1000, 200);
  s.recordHeap(3000, 800);
  assert.equal(s.windows.length, 0, 'the first window is still open');
  s.record(e, 20, 200, NaN, 1500); // closes [0, 1000)
  assert.equal(s.windows.length, 1);
  assert.deepEqual(s.windows[0], {
    start: 0,
    durationMs: 1000,
    requests: 2,
    meanLatencyMs: 20,
    p95LatencyMs: 30,
    gcPauseMs: 5,
    gcCount: 1,
    gcPauseShare: 0.005,
    heapUsedBytes: 2000,
  });
  // Idle for 10 windows: nothing recorded for them.
  s.record(e, 20, 200, NaN, 12_300);
  assert.equal(s.windows.length, 2);
  assert.equal(s.windows[1].start, 1000);
  assert.equal(s.windows[1].heapUsedBytes, null, 'no heap reading in that window');
  for (let t = 13_000; t < 20_000; t += 1000) s.record(e, 1, 200, NaN, t);
  assert.equal(s.windows.length, 3, 'capped at maxWindows');
  assert.equal(s.windows[2].start, 18_000);
  // configure() with a new window length restarts the windows.
  s.configure({ windowMs: 2000 }, 20_000);
  assert.equal(s.windows.length, 0);
  assert.equal(s.windowMs, 2000);
});

test('correlation: not enough data below minWindows, exact r on known series, null (never NaN) without variation', () => {
  const lat = [1, 3, 5, 7, 9, 11];
  const gc = [0, 0.01, 0.02, 0.03, 0.04, 0.05];
  assert.deepEqual(pearson(gc.slice(0, 5), lat.slice(0, 5), 6, 'GC pause share'), {
    coefficient: null,
    strength: null,
    windows: 5,
    enoughData: false,
    reason: 'not enough data: 5 of 6 windows with requests and GC pause share',
  });
  const up = pearson(gc, lat, 6);
  assert.equal(up.coefficient, 1);
  assert.equal(up.strength, 'strong');
  assert.equal(up.enoughData, true);
  assert.equal(pearson(gc, lat.slice().reverse(), 6).coefficient, -1);
  const flat = pearson([0, 0, 0, 0, 0, 0], lat, 6, 'GC pause share');
  assert.equal(flat.coefficient, null);
  assert.match(flat.reason, /no variation in GC pause share/);
  assert.equal(pearson(gc, [2, 2, 2, 2, 2, 2], 6).coefficient, null);
  // Uncorrelated: r = 0.
  const zero = pearson([1, 2, 3, 4, 5, 6], [1, 2, 3, 3, 2, 1], 6);
  assert.equal(zero.coefficient, 0);
  assert.equal(zero.strength, 'none');

  // Randomized: never NaN, always within [-1, 1] or null.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = 0; k < 2000; k++) {
    const n = 1 + Math.floor(rand() * 12);
    const xs = Array.from({ length: n }, () => (rand() < 0.3 ? 0 : rand() * (rand() < 0.1 ? 1e12 : 1)));
    const ys = Array.from({ length: n }, () => (rand() < 0.3 ? 5 : rand() * 100));
    const r = pearson(xs, ys, 3);
    assert.ok(r.coefficient === null || (Number.isFinite(r.coefficient) && r.coefficient >= -1 && r.coefficient <= 1), JSON.stringify({ xs, ys, r }));
  }
});

test('the correlation analysis runs over closed windows: GC pause share vs latency, heap vs latency', () => {
  const s = new RequestStats({ windowMs: 1000, minWindows: 4, now: 0 });
  const e = s.entry('GET /x');
  for (let w = 0; w < 6; w++) {
    const t0 = w * 1000;
    s.recordGcPause(w * 10, t0 + 10); // more GC pause ...
    s.recordHeap(1e6 * (6 - w), t0 + 20); // ... less heap ...
    s.record(e, 5 + w, 200, NaN, t0 + 30); // ... slower requests
  }
  const c = s.report(6500).correlation;
  assert.equal(c.windows, 6);
  assert.equal(c.gcPauseVsLatency.coefficient, 1);
  assert.equal(c.heapUsedVsLatency.coefficient, -1);
  const fresh = new RequestStats({ now: 0 }).report(0).correlation;
  assert.equal(fresh.gcPauseVsLatency.enoughData, false);
  assert.equal(fresh.gcPauseVsLatency.coefficient, null);
});

test('reset() drops everything and says what it dropped', () => {
  const s = new RequestStats({ windowMs: 1000, now: 0 });
  s.record(s.entry('GET /a'), 1, 200, NaN, 1);
  s.record(s.entry('GET /b'), 1, 200, NaN, 1500);
  s.recordAborted(1600);
  assert.equal(s.report(1700).abortedRequests, 1);
  assert.deepEqual(s.reset(2000), { routesDropped: 2, windowsDropped: 1, requestsDropped: 2 });
  const r = s.report(2100);
  assert.equal(r.routes.length, 0);
  assert.equal(r.totalRequests, 0);
  assert.equal(r.windows.length, 0);
  assert.equal(r.since, 2000);
  assert.equal(r.abortedRequests, 0);
});

test('isLoopbackAddress: 127.0.0.0/8, ::1 and IPv4-mapped loopback only', () => {
  const yes = ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.1.2.3', '::ffff:7f00:1', '[::1]', '::1%lo'];
  const no = ['10.0.0.1', '203.0.113.7', '128.0.0.1', '::', '::2', 'fe80::1', '::ffff:10.0.0.1', '::127.0.0.1', '1::1', '::ffff:0:127.0.0.1', '', 'localhost', 'unknown', undefined, null, 127, '127.0.0.1.5', '127.0.0.256'];
  for (const a of yes) assert.equal(isLoopbackAddress(a), true, String(a));
  for (const a of no) assert.equal(isLoopbackAddress(a), false, String(a));
});

test('forwardedAddresses reads X-Forwarded-For (proxy-addr), Forwarded (forwarded-parse) and the client-IP headers', () => {
  const req = (headers) => ({ headers, socket: { remoteAddress: '127.0.0.1' } });
  assert.equal(forwardedAddresses(req({})), null);
  assert.deepEqual(forwardedAddresses(req({ 'x-forwarded-for': '203.0.113.7, 127.0.0.1' })), ['203.0.113.7', '127.0.0.1']);
  assert.deepEqual(forwardedAddresses(req({ forwarded: 'for=192.0.2.60;proto=http, for="[::1]:4711"' })), ['192.0.2.60', '::1']);
  assert.deepEqual(forwardedAddresses(req({ 'x-real-ip': '127.0.0.1:8080' })), ['127.0.0.1']);
  assert.deepEqual(forwardedAddresses(req({ forwarded: 'proto=https' })), ['unknown']);
  assert.deepEqual(forwardedAddresses(req({ forwarded: 'for=' })), ['unknown'], 'malformed: not loopback');
  assert.deepEqual(forwardedAddresses(req({ 'cf-connecting-ip': '198.51.100.4' })), ['198.51.100.4']);
  assert.deepEqual(forwardedAddresses(req({ via: '1.1 proxy' })), [], 'proxy evidence without an address');
});

test('webhook URLs: http and https only; shown without path, query or credentials', () => {
  assert.equal(webhookUrlProblem('https://hooks.example.com/services/T0/B0/secret'), null);
  assert.equal(webhookUrlProblem('http://127.0.0.1:9/x'), null);
  assert.match(webhookUrlProblem('ftp://example.com/'), /http:\/\/ or https:\/\/ URL \(not ftp:\)/);
  assert.match(webhookUrlProblem('not a url'), /absolute/);
  assert.match(webhookUrlProblem(''), /URL/);
  assert.match(webhookUrlProblem(42), /URL/);
  assert.equal(redactUrl('https://user:pw@hooks.example.com/services/secret?token=x'), 'https://hooks.example.com');
});

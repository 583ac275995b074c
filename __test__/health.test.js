'use strict';
// getHealthMetrics(): shape and values, the limit override, freezing, and the
// initialize()/shutdown() lifecycle of the singleton.
//
// node --test runs this file in its own process; the variables memwarden reads
// are removed from it first so the in-process tests see only defaults. Anything
// that needs an environment variable runs in a child process.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const {
  ROOT,
  SUPPORT,
  MiB,
  MEMWARDEN_ENV,
  runNode,
  resultOf,
  describeRun,
  canCountThreads,
  countSamplerThreads,
  waitFor,
} = require('./support/child');

for (const name of MEMWARDEN_ENV) delete process.env[name];

const { MemoryManagerService } = require(ROOT);

const STATUSES = ['healthy', 'warning', 'critical', 'emergency'];
const LIMIT_SOURCES = ['override', 'cgroup-v2', 'cgroup-v1', 'render-default', 'heroku', 'physical'];

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
// The sampler names itself once it runs, so a count right after initialize() polls.
const samplerThreadsBecome = (n) =>
  waitFor(() => countSamplerThreads() === n, { timeoutMs: 2_000, what: `${n} sampler thread(s)` });
const close = (a, b, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

/** Initializes the singleton for one test and shuts it down afterwards. */
async function started(t, options) {
  const m = MemoryManagerService.getInstance();
  t.after(() => m.shutdown());
  await m.initialize(options);
  return m;
}

// Must run before anything initializes the singleton in this process.
test('methods that need initialize() throw ERR_MEMWARDEN_NOT_INITIALIZED before it', async () => {
  const m = MemoryManagerService.getInstance();
  assert.equal(m.initialized, false);
  assert.equal(m.config, null);
  assert.equal(m.limit, null);
  assert.throws(
    () => m.getHealthMetrics(),
    (err) => {
      assert.equal(err.code, 'ERR_MEMWARDEN_NOT_INITIALIZED');
      assert.equal(err.name, 'MemwardenNotInitializedError');
      assert.match(err.message, /getHealthMetrics\(\)/);
      assert.match(err.message, /initialize\(\)/);
      return true;
    },
  );
  await assert.rejects(m.checkMemoryPressure(), { code: 'ERR_MEMWARDEN_NOT_INITIALIZED' });
  await assert.rejects(m.forceGarbageCollection('x'), { code: 'ERR_MEMWARDEN_NOT_INITIALIZED' });
});

test('getHealthMetrics() has the documented shape and consistent values', async (t) => {
  const m = await started(t);
  const before = Date.now();
  await m.checkMemoryPressure();
  const h = m.getHealthMetrics();
  const after = Date.now();

  assert.ok(STATUSES.includes(h.status), h.status);
  assert.ok(isNum(h.timestamp) && h.timestamp >= before - 1000 && h.timestamp <= after + 1000, String(h.timestamp));
  assert.equal(typeof h.gcAvailable, 'boolean');
  assert.equal(h.gcAvailable, typeof globalThis.gc === 'function');

  const u = h.currentUsage;
  for (const key of [
    'heapUsed',
    'heapTotal',
    'usagePercentage',
    'platform',
    'rss',
    'external',
    'limitBytes',
    'limitSource',
    'heapSizeLimit',
    'heapUsagePercentage',
  ]) {
    assert.ok(Object.hasOwn(u, key), `currentUsage.${key} is missing: ${Object.keys(u)}`);
  }
  for (const key of ['heapUsed', 'heapTotal', 'rss', 'limitBytes', 'heapSizeLimit']) {
    assert.ok(isNum(u[key]) && u[key] > 0, `currentUsage.${key}=${u[key]}`);
  }
  assert.ok(isNum(u.external) && u.external >= 0);
  assert.ok(u.heapTotal >= u.heapUsed, `heapTotal ${u.heapTotal} < heapUsed ${u.heapUsed}`);
  assert.ok(u.heapSizeLimit >= u.heapTotal);
  assert.ok(['render', 'local', 'other'].includes(u.platform), u.platform);
  assert.equal(u.platform, m.config.platform);
  assert.ok(LIMIT_SOURCES.includes(u.limitSource), u.limitSource);
  assert.equal(u.limitSource, m.limit.source);
  assert.equal(u.limitBytes, m.limit.bytes);
  // The percentages are the documented ratios.
  assert.ok(close(u.usagePercentage, (u.residentBytes / u.limitBytes) * 100), `${u.usagePercentage}`);
  // The heap side: the larger of heapUsed / heapSizeLimit and the old generation
  // (at most heapUsed) over the old generation's room (heapSizeLimit minus 48 MiB of young generation).
  const byLimit = (u.heapUsed / u.heapSizeLimit) * 100;
  const byRoom = (u.heapUsed / (u.heapSizeLimit - 48 * 1024 * 1024)) * 100;
  assert.ok(u.heapUsagePercentage >= byLimit - 1e-9 && u.heapUsagePercentage <= byRoom + 1e-9, `${u.heapUsagePercentage} not in [${byLimit}, ${byRoom}]`);
  assert.ok(u.usagePercentage > 0 && u.heapUsagePercentage > 0);

  const tr = h.trend;
  for (const key of ['timeWindow', 'averageUsage', 'peakUsage', 'growthRate', 'isIncreasing', 'leakSuspected']) {
    assert.ok(Object.hasOwn(tr, key), `trend.${key} is missing: ${Object.keys(tr)}`);
  }
  assert.ok(isNum(tr.timeWindow) && tr.timeWindow >= 0);
  assert.ok(isNum(tr.averageUsage) && tr.averageUsage > 0);
  assert.ok(isNum(tr.peakUsage) && tr.peakUsage >= tr.averageUsage);
  assert.ok(tr.peakUsage >= u.usagePercentage - 1e-9, 'the latest sample is part of the window');
  assert.ok(isNum(tr.growthRate));
  assert.equal(typeof tr.isIncreasing, 'boolean');
  assert.equal(typeof tr.leakSuspected, 'boolean');

  const g = h.gcStats;
  for (const key of ['totalCollections', 'efficiency', 'averageDuration']) {
    assert.ok(Object.hasOwn(g, key), `gcStats.${key} is missing: ${Object.keys(g)}`);
  }
  assert.ok(Number.isInteger(g.totalCollections) && g.totalCollections >= 0);
  assert.ok(g.efficiency === null || isNum(g.efficiency));
  assert.ok(isNum(g.averageDuration) && g.averageDuration >= 0);

  assert.ok(Array.isArray(h.recommendations) && h.recommendations.length > 0);
  for (const r of h.recommendations) assert.ok(typeof r === 'string' && r.length > 0, JSON.stringify(r));
});

test('currentUsage.rss matches process.memoryUsage.rss() within 5 %', async (t) => {
  const m = await started(t);
  await m.checkMemoryPressure();
  const reported = m.getHealthMetrics().currentUsage.rss;
  const actual = process.memoryUsage.rss();
  const diff = Math.abs(reported - actual) / actual;
  assert.ok(diff <= 0.05, `reported rss ${reported} vs process.memoryUsage.rss() ${actual} (${(diff * 100).toFixed(2)} %)`);
});

test('MEMORY_LIMIT_MB=512: usagePercentage is residentBytes of 512 MiB, limitSource "override"', async () => {
  const run = await runNode([path.join(SUPPORT, 'init-child.js')], { env: { MEMORY_LIMIT_MB: '512' } });
  assert.equal(run.code, 0, describeRun(run));
  const result = resultOf(run);
  assert.equal(result.ok, true, JSON.stringify(result.error));
  const u = result.health.currentUsage;
  const limit = 512 * MiB;
  assert.equal(u.limitSource, 'override');
  assert.equal(u.limitBytes, limit);
  assert.ok(u.limitDetail.includes('MEMORY_LIMIT_MB'), u.limitDetail);
  assert.equal(result.config.sources.memoryLimitMb, 'env MEMORY_LIMIT_MB');
  // Under an override the resident figure is the process's rss.
  assert.equal(u.residentBytes, u.rss);
  assert.ok(u.residentBytes > 0);
  const expected = (u.residentBytes / limit) * 100;
  assert.ok(close(u.usagePercentage, expected), `usagePercentage ${u.usagePercentage}, expected ${expected}`);
  // The child's own rss right after the sample agrees with the report.
  assert.ok(Math.abs(u.rss - result.rssNow) / result.rssNow <= 0.05, `${u.rss} vs ${result.rssNow}`);
  assert.ok(u.pressurePercentage >= u.usagePercentage);
});

test('the report is a deeply frozen snapshot', async (t) => {
  const m = await started(t);
  const h = m.getHealthMetrics();
  for (const [name, obj] of [
    ['report', h],
    ['currentUsage', h.currentUsage],
    ['trend', h.trend],
    ['gcStats', h.gcStats],
    ['thresholds', h.thresholds],
    ['recommendations', h.recommendations],
  ]) {
    assert.ok(Object.isFrozen(obj), `${name} is not frozen`);
  }
  // This file is strict mode: writes to frozen objects throw.
  assert.throws(() => {
    h.status = 'emergency';
  }, TypeError);
  assert.throws(() => {
    h.currentUsage.rss = 0;
  }, TypeError);
  assert.throws(() => h.recommendations.push('x'), TypeError);
  const rss = h.currentUsage.rss;
  // A new sample gives a new object and leaves the old one as it was.
  await m.checkMemoryPressure();
  const h2 = m.getHealthMetrics();
  assert.notEqual(h2, h);
  assert.ok(Object.isFrozen(h2));
  assert.equal(h.currentUsage.rss, rss);
  // Without a new sample the same snapshot is returned.
  assert.equal(m.getHealthMetrics(), m.getHealthMetrics());
});

test('initialize() is idempotent: concurrent and repeated calls resolve to the same manager', async (t) => {
  const m = MemoryManagerService.getInstance();
  t.after(() => m.shutdown());
  const [a, b] = await Promise.all([m.initialize(), m.initialize()]);
  assert.equal(a, m);
  assert.equal(b, m);
  assert.equal(MemoryManagerService.getInstance(), m);
  const config = m.config;
  // Later options are ignored while running.
  const c = await m.initialize({ warningThreshold: 10 });
  assert.equal(c, m);
  assert.equal(m.config, config);
  assert.notEqual(m.config.warningThreshold, 10);
  if (canCountThreads) await samplerThreadsBecome(1); // one manager, one sampler thread
});

test('shutdown() is idempotent and initialize() works again after it', async (t) => {
  const m = MemoryManagerService.getInstance();
  t.after(() => m.shutdown());
  await m.initialize();
  assert.equal(m.initialized, true);

  await m.shutdown();
  await m.shutdown();
  assert.equal(m.initialized, false);
  assert.throws(() => m.getHealthMetrics(), { code: 'ERR_MEMWARDEN_NOT_INITIALIZED' });
  if (canCountThreads) assert.equal(countSamplerThreads(), 0, 'shutdown() joins the sampler thread');

  const again = await m.initialize({ warningThreshold: 42 });
  assert.equal(again, m);
  assert.equal(m.initialized, true);
  assert.equal(m.config.warningThreshold, 42, 'new options apply after a shutdown');
  assert.ok(STATUSES.includes(m.getHealthMetrics().status));
  if (canCountThreads) await samplerThreadsBecome(1);

  // shutdown() during initialize() waits for it and leaves the manager stopped.
  await m.shutdown();
  const pending = m.initialize();
  await m.shutdown();
  await pending;
  assert.equal(m.initialized, false);
  if (canCountThreads) assert.equal(countSamplerThreads(), 0);
});

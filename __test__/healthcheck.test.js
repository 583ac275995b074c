'use strict';
// Health checks: performEnhancedHealthCheck() (SPEC.md's shape) and the
// @godaddy/terminus-style adapter, called directly and mounted in a small Express
// route that maps a throw to 503 the way terminus does (terminus itself is not a
// dependency).

const test = require('node:test');
const assert = require('node:assert/strict');
const { ROOT } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, listen, request } = require('./support/http');

cleanEnv();
const memwarden = require(ROOT);
const { performEnhancedHealthCheck, healthCheckService, terminusHealthCheck, MemwardenHealthCheckError, MemoryManagerService } = memwarden;
const quiet = { logger: { info() {}, warn() {}, error() {} } };

test('performEnhancedHealthCheck() has SPEC.md shape: { status, metrics: { memoryUsage, ... } }', async (t) => {
  const m = await startManager(t, levelOptions('healthy', quiet));
  const h = await healthCheckService.performEnhancedHealthCheck();
  const report = m.getHealthMetrics();
  assert.equal(h.status, 'healthy');
  assert.equal(h.healthy, true);
  assert.equal(h.failAt, 'critical');
  assert.equal(h.metrics.memoryUsage.status, 'healthy');
  for (const k of ['heapUsed', 'heapTotal', 'rss', 'residentBytes', 'limitBytes', 'usagePercentage', 'heapUsagePercentage', 'pressurePercentage', 'platform']) {
    assert.equal(h.metrics.memoryUsage[k], report.currentUsage[k], k);
  }
  assert.equal(h.metrics.gc.totalCollections, report.gcStats.totalCollections);
  assert.equal(typeof h.metrics.leak.suspected, 'boolean');
  assert.equal(typeof h.metrics.alerts.active, 'number');
  assert.ok(Array.isArray(h.recommendations));
  assert.ok(Number.isInteger(h.uptimeSeconds));

  await startManager(t, levelOptions('critical', quiet));
  const c = await performEnhancedHealthCheck();
  assert.equal(c.status, 'critical');
  assert.equal(c.healthy, false, 'fails at critical by default');
  assert.equal((await performEnhancedHealthCheck({ failAt: 'emergency' })).healthy, true);
});

test('performEnhancedHealthCheck() rejects before initialize()', async () => {
  await MemoryManagerService.getInstance().shutdown();
  await assert.rejects(performEnhancedHealthCheck(), { code: 'ERR_MEMWARDEN_NOT_INITIALIZED' });
});

test('terminusHealthCheck(): resolves below failAt, throws with causes at or above it, and before initialize()', async (t) => {
  const check = terminusHealthCheck();
  const lenient = terminusHealthCheck({ failAt: 'emergency' });
  await MemoryManagerService.getInstance().shutdown();
  await assert.rejects(check(), (err) => err instanceof MemwardenHealthCheckError && err.causes.memory.status === 'unknown');

  await startManager(t, levelOptions('healthy', quiet));
  const ok = await check();
  assert.equal(ok.memory.status, 'healthy');
  assert.equal(ok.memory.failAt, 'critical');
  assert.equal(typeof ok.memory.pressurePercentage, 'number');

  await startManager(t, levelOptions('critical', quiet));
  await assert.rejects(check(), (err) => {
    assert.ok(err instanceof MemwardenHealthCheckError);
    assert.equal(err.code, 'ERR_MEMWARDEN_UNHEALTHY');
    assert.equal(err.causes.memory.status, 'critical');
    assert.match(err.message, /memory status is critical .* fails at critical/);
    return true;
  });
  assert.equal((await lenient()).memory.status, 'critical');

  await startManager(t, levelOptions('emergency', quiet));
  await assert.rejects(lenient(), (err) => err.causes.memory.status === 'emergency');
});

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: a terminus-style route answers 200 while healthy and 503 with the causes at emergency`, async (t) => {
    const check = terminusHealthCheck();
    const app = express();
    // What terminus does with a healthChecks function.
    app.get('/healthcheck', async (req, res) => {
      try {
        const info = await check();
        res.status(200).json({ status: 'ok', info, details: info });
      } catch (error) {
        res.status(503).json({ status: 'error', error: error.causes, details: error.causes });
      }
    });
    const { base } = await listen(app, t);
    await startManager(t, levelOptions('healthy', quiet));
    const ok = await request(base, '/healthcheck');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.info.memory.status, 'healthy');
    await startManager(t, levelOptions('emergency', quiet));
    const bad = await request(base, '/healthcheck');
    assert.equal(bad.status, 503);
    assert.equal(bad.json.status, 'error');
    assert.equal(bad.json.error.memory.status, 'emergency');
    assert.ok(bad.json.error.memory.pressurePercentage > 95);
  });
}

'use strict';
// Cleanup strategies: registration (each bad field named), priority order, the
// threshold rule and force, isolation (throwing, rejecting and hanging strategies),
// measured action records, concurrent calls, the built-ins' effects, and proactive
// mode in the periodic check with its cooldown.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, SUPPORT, MiB, runNode, resultOf, describeRun, waitFor } = require('./support/child');
const { cleanEnv, levelOptions, startManager } = require('./support/http');

cleanEnv();
const { MemoryManagerService } = require(ROOT);
const quietLogger = { info() {}, warn() {}, error() {} };

/** Registers strategies for one test and removes them afterwards. */
function register(t, m, ...strategies) {
  for (const s of strategies) m.registerCleanupStrategy(s);
  t.after(() => {
    for (const s of strategies) m.unregisterCleanupStrategy(s.name);
  });
}

test('registerCleanupStrategy() validates each field and names the bad one', () => {
  const m = MemoryManagerService.getInstance();
  const ok = { name: 'ok_one', priority: 50, thresholdPercent: 50, run() {} };
  const cases = [
    [null, /strategy=null is invalid; accepted: an object/],
    [{ ...ok, name: '' }, /strategy.name="" is invalid/],
    [{ ...ok, name: 'has space' }, /strategy.name="has space" is invalid/],
    [{ ...ok, priority: 'high' }, /strategy.priority="high" is invalid; accepted: a number from 0 to 1000/],
    [{ ...ok, priority: NaN }, /strategy.priority=NaN is invalid/],
    [{ ...ok, thresholdPercent: 150 }, /strategy.thresholdPercent=150 is invalid; accepted: a number from 0 to 100/],
    [{ ...ok, run: 'gc' }, /strategy.run="gc" is invalid; accepted: a function/],
    [{ ...ok, colour: 'red' }, /strategy.colour="red" is invalid; accepted: no such field/],
    [{ ...ok, timeoutMs: 0 }, /strategy.timeoutMs=0 is invalid/],
    [{ ...ok, name: 'force_gc' }, /strategy.name="force_gc" is invalid; accepted: a name not registered yet/],
  ];
  for (const [s, pattern] of cases) {
    assert.throws(() => m.registerCleanupStrategy(s), (err) => err.code === 'ERR_MEMWARDEN_INVALID_ARG' && pattern.test(err.message), String(pattern));
  }
  const d = m.registerCleanupStrategy(ok);
  assert.deepEqual(d, { name: 'ok_one', priority: 50, thresholdPercent: 50, builtin: false, description: '', timeoutMs: 10_000 });
  assert.equal(m.unregisterCleanupStrategy('ok_one'), true);
  assert.equal(m.unregisterCleanupStrategy('ok_one'), false);
});

test('strategies run in priority order; a throwing, rejecting or hanging one fails alone and the others still run', async (t) => {
  const m = await startManager(t, levelOptions('healthy', { logger: quietLogger }));
  const ran = [];
  register(
    t,
    m,
    { name: 'throws', priority: 95, thresholdPercent: 0, run: () => { ran.push('throws'); throw new Error('boom'); } },
    { name: 'rejects', priority: 90, thresholdPercent: 0, run: async () => { ran.push('rejects'); throw new Error('async boom'); } },
    { name: 'hangs', priority: 85, thresholdPercent: 0, timeoutMs: 100, run: () => { ran.push('hangs'); return new Promise(() => {}); } },
    { name: 'reports', priority: 50, thresholdPercent: 0, run: () => { ran.push('reports'); return 1234; } },
    { name: 'fails_softly', priority: 40, thresholdPercent: 0, run: () => ({ success: false, error: 'cache busy', details: { tries: 1 } }) },
    { name: 'late', priority: 10, thresholdPercent: 0, run: async () => { ran.push('late'); return { freedBytes: 99, details: 'ok' }; } },
  );
  const events = [];
  m.on('cleanup', (e) => events.push(e));
  const actions = await m.performEmergencyCleanup({ force: true, reason: 'test_isolation' });
  assert.deepEqual(
    actions.map((a) => a.strategy),
    ['force_gc', 'throws', 'rejects', 'hangs', 'clear_performance_metrics', 'clear_memory_snapshots', 'reports', 'fails_softly', 'late'],
  );
  assert.deepEqual(ran, ['throws', 'rejects', 'hangs', 'reports', 'late']);
  const by = Object.fromEntries(actions.map((a) => [a.strategy, a]));
  assert.equal(by.throws.success, false);
  assert.equal(by.throws.error, 'boom');
  assert.equal(by.rejects.success, false);
  assert.equal(by.rejects.error, 'async boom');
  assert.equal(by.hangs.success, false);
  assert.match(by.hangs.error, /timed out after 100 ms/);
  assert.ok(by.hangs.durationMs >= 90 && by.hangs.durationMs < 2000, String(by.hangs.durationMs));
  assert.equal(by.reports.success, true);
  assert.equal(by.reports.reportedFreedBytes, 1234);
  assert.deepEqual([by.fails_softly.success, by.fails_softly.error, by.fails_softly.details], [false, 'cache busy', { tries: 1 }]);
  assert.deepEqual([by.late.success, by.late.reportedFreedBytes, by.late.details], [true, 99, 'ok']);
  assert.equal(by.clear_memory_snapshots.success, true);
  // force_gc without --expose-gc: a failed action with the reason, not an exception.
  assert.equal(by.force_gc.success, typeof globalThis.gc === 'function');
  if (!by.force_gc.success) assert.match(by.force_gc.error, /--expose-gc/);
  for (const a of actions) {
    assert.equal(a.type, 'cleanup');
    assert.equal(a.reason, 'test_isolation');
    assert.ok(Number.isFinite(a.durationMs) && a.durationMs >= 0);
    assert.ok(Number.isInteger(a.timestamp));
    assert.ok(a.heapBefore > 0 && a.heapAfter > 0);
    assert.equal(a.freedBytes, Math.max(0, a.heapBefore - a.heapAfter), 'measured, not claimed');
    assert.equal(typeof a.priority, 'number');
  }
  assert.equal(events.length, 1);
  assert.equal(events[0].actions, actions);
  assert.equal(m.getLastCleanup().reason, 'test_isolation');
});

test('without force, only strategies whose threshold is at or below the current pressure run', async (t) => {
  const m = await startManager(t, levelOptions('critical', { logger: quietLogger }));
  const pressure = m.getHealthMetrics().currentUsage.pressurePercentage;
  assert.ok(pressure > 20 && pressure < 60, `pressure ${pressure}`);
  register(
    t,
    m,
    { name: 'low', priority: 1, thresholdPercent: 10, run() {} },
    { name: 'high', priority: 2, thresholdPercent: 95, run() {} },
  );
  const actions = await m.performEmergencyCleanup();
  assert.deepEqual(actions.map((a) => a.strategy), ['low']);
  assert.equal(actions[0].reason, 'emergency_cleanup');
  await assert.rejects(m.performEmergencyCleanup({ force: 'yes' }), /options.force="yes" is invalid; accepted: true or false/);
  await assert.rejects(m.performEmergencyCleanup({ level: 1 }), /options.level=1 is invalid; accepted: no such option/);
});

test('at emergency every built-in is eligible; concurrent calls share one run', async (t) => {
  const m = await startManager(t, levelOptions('emergency', { logger: quietLogger }));
  let runs = 0;
  register(t, m, { name: 'slow', priority: 1, thresholdPercent: 0, run: () => new Promise((r) => setTimeout(() => r(runs++), 50)) });
  const [a, b] = await Promise.all([m.performEmergencyCleanup(), m.performEmergencyCleanup({ force: true })]);
  assert.equal(a, b, 'the second call got the first run');
  assert.equal(runs, 1);
  assert.deepEqual(a.map((x) => x.strategy), ['force_gc', 'clear_performance_metrics', 'clear_memory_snapshots', 'slow']);
});

test('the built-ins: clearing performance metrics drops the request statistics; clearing snapshots keeps the detector window', async (t) => {
  const m = await startManager(t, levelOptions('healthy', { logger: quietLogger }));
  const stats = m.requestStats;
  stats.record(stats.entry('GET /a'), 1, 200, NaN, 1);
  stats.record(stats.entry('GET /b'), 1, 200, NaN, 2);
  await m.checkMemoryPressure();
  await m.checkMemoryPressure();
  const samplesBefore = m.getHealthMetrics().trend.samples;
  assert.ok(samplesBefore >= 2, `samples ${samplesBefore}`);
  const actions = await m.performEmergencyCleanup({ force: true });
  const by = Object.fromEntries(actions.map((a) => [a.strategy, a]));
  assert.deepEqual(by.clear_performance_metrics.details, { routesDropped: 2, windowsDropped: 0, requestsDropped: 2 });
  assert.equal(m.requestStats.report().routes.length, 0);
  // Snapshots are trimmed to the leak detector's longest window (at least 5 min; the trim
  // itself is tested in Rust): a history of a few seconds is kept whole.
  assert.ok(by.clear_memory_snapshots.success && by.clear_memory_snapshots.reportedFreedBytes >= 0, JSON.stringify(by.clear_memory_snapshots));
  assert.ok(m.getHealthMetrics().trend.samples >= samplesBefore, `${m.getHealthMetrics().trend.samples} >= ${samplesBefore}`);
});

test('force_gc measures the heap it freed (child process with --expose-gc)', async () => {
  const run = await runNode(['--expose-gc', path.join(SUPPORT, 'cleanup-child.js')], { timeoutMs: 30_000 });
  assert.equal(run.code, 0, describeRun(run));
  const r = resultOf(run);
  assert.equal(r.retained, true);
  assert.deepEqual(r.actions.map((a) => a.strategy), ['drop_cache', 'force_gc', 'clear_performance_metrics', 'clear_memory_snapshots']);
  const gc = r.actions[1];
  assert.equal(gc.success, true, JSON.stringify(gc));
  assert.ok(gc.freedBytes > 20 * MiB, `force_gc freed ${(gc.freedBytes / MiB).toFixed(1)} MB`);
  assert.equal(gc.freedBytes, gc.heapBefore - gc.heapAfter);
  assert.ok(gc.reportedFreedBytes > 20 * MiB, 'the GC record agrees');
  assert.equal(r.actions[0].details.arrays, 400);
});

test('proactive mode: at critical the periodic check runs eligible strategies, at most once per cleanupCooldownMs', async (t) => {
  let runs = 0;
  const m = MemoryManagerService.getInstance();
  register(t, m, { name: 'proactive_probe', priority: 1, thresholdPercent: 0, run: () => void runs++ });
  const events = [];
  m.on('cleanup', (e) => events.push(e));
  t.after(() => m.removeAllListeners('cleanup'));
  const m2 = await startManager(t, levelOptions('critical', { logger: quietLogger, proactiveCleanup: true, cleanupCooldownMs: 60_000, monitoringIntervalMs: 100 }));
  await waitFor(() => runs >= 1, { timeoutMs: 3000, what: 'a proactive cleanup' });
  const samples = m2.getHealthMetrics().debug.heapSamples;
  await waitFor(() => m2.getHealthMetrics().debug.heapSamples >= samples + 5, { timeoutMs: 5000, what: 'five more samples' });
  // The cooldown itself (when the next run may start) is decided by the engine on a
  // monotonic clock and unit-tested there with a mock clock (src/engine/cooldown.rs).
  assert.equal(runs, 1, 'the cooldown holds although the check runs after every sample at critical');
  assert.equal(events[0].reason, 'proactive_pressure');
  assert.equal(events[0].trigger, 'proactive');
  assert.equal(events[0].force, false);

  // Control: with proactiveCleanup off, nothing runs.
  const before = runs;
  await startManager(t, levelOptions('critical', { logger: quietLogger, proactiveCleanup: false, monitoringIntervalMs: 100 }));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(runs, before);
});

test('initialize() validates the cleanup options', async () => {
  const m = MemoryManagerService.getInstance();
  await m.shutdown();
  await assert.rejects(m.initialize({ cleanupCooldownMs: 10 }), (err) => {
    assert.equal(err.code, 'ERR_MEMWARDEN_CONFIG');
    assert.equal(err.problems[0].setting, 'cleanupCooldownMs');
    assert.match(err.message, /cleanupCooldownMs=10 is invalid; accepted: a whole number of ms from 1000 to 86400000/);
    return true;
  });
  await assert.rejects(m.initialize({ proactiveCleanup: 'on', warningThreshold: 500 }), (err) => {
    const settings = err.problems.map((p) => p.setting);
    assert.ok(settings.includes('proactiveCleanup') && settings.includes('warningThreshold'), settings.join());
    return true;
  });
  assert.equal(m.initialized, false);
});

test('the built-in strategies use only the narrow cleanup interface they are given', async () => {
  const { builtinStrategies } = require(path.join(ROOT, 'lib', 'cleanup'));
  const calls = [];
  const actions = {
    proactiveGcAllowed: () => (calls.push('proactiveGcAllowed'), false),
    noteProactiveGc: () => calls.push('noteProactiveGc'),
    forceGc: async (reason) => (calls.push(`forceGc:${reason}`), { success: true, freedBytes: 7, durationMs: 1 }),
    clearRequestStats: () => (calls.push('clearRequestStats'), { routesDropped: 2, windowsDropped: 1, requestsDropped: 9 }),
    clearMemorySnapshots: () => (calls.push('clearMemorySnapshots'), 4096),
  };
  const [gc, metrics, snapshots] = builtinStrategies(Object.freeze(actions));
  assert.deepEqual(await gc.run({ trigger: 'proactive', reason: 'p' }), { skipped: true, details: 'a proactive collection ran within gcCooldownMs, or proactive GC is off' });
  assert.deepEqual(await gc.run({ trigger: 'manual', reason: 'm' }), { freedBytes: 7, details: { gcDurationMs: 1 } });
  assert.deepEqual(metrics.run(), { details: { routesDropped: 2, windowsDropped: 1, requestsDropped: 9 } });
  assert.deepEqual(snapshots.run(), { freedBytes: 4096, details: { nativeBytesReleased: 4096 } });
  assert.deepEqual(calls, ['proactiveGcAllowed', 'forceGc:m', 'clearRequestStats', 'clearMemorySnapshots']);
});

test('the manager exposes no _-prefixed members; the router reads cleanupSettings and requestStatsEnabled', async (t) => {
  const m = await startManager(t, levelOptions('healthy', { logger: quietLogger, cleanupCooldownMs: 5000, proactiveCleanup: false }));
  // EventEmitter's own bookkeeping (_events, _eventsCount, _maxListeners) is not ours.
  const emitterOwn = new Set(Object.keys(new (require('node:events').EventEmitter)()));
  const ours = [...Object.getOwnPropertyNames(MemoryManagerService.prototype), ...Object.keys(m).filter((k) => !emitterOwn.has(k))];
  assert.deepEqual(ours.filter((k) => k.startsWith('_')), []);
  const settings = m.cleanupSettings;
  assert.deepEqual(settings, { proactiveCleanup: false, cleanupCooldownMs: 5000 });
  settings.cleanupCooldownMs = 1; // a copy: changing it changes nothing
  assert.equal(m.cleanupSettings.cleanupCooldownMs, 5000);
  assert.equal(typeof m.requestStatsEnabled, 'boolean');
  m.requestStats.record(m.requestStats.entryForRoute(undefined, '', 'GET'), 1, 200, NaN, require('node:perf_hooks').performance.now());
  assert.equal(m.requestStatsEnabled, true);
  const dropped = m.clearRequestStats();
  assert.ok(dropped.requestsDropped >= 1, `dropped ${JSON.stringify(dropped)}`);
  assert.equal(m.requestStats.totalRequests, 0);
});

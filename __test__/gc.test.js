'use strict';
// Forced and proactive garbage collection, with and without --expose-gc. Each
// case runs support/gc-child.js in a child process so the flag can differ.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { SUPPORT, runNode, resultOf, describeRun } = require('./support/child');

const CHILD = path.join(SUPPORT, 'gc-child.js');

async function gcChild(mode, { exposeGc }) {
  const args = exposeGc ? ['--expose-gc', CHILD, mode] : [CHILD, mode];
  const run = await runNode(args, { timeoutMs: 30_000 });
  assert.equal(run.timedOut, false, describeRun(run));
  assert.equal(run.code, 0, describeRun(run));
  const r = resultOf(run);
  assert.equal(r.gcExposed, exposeGc);
  return r;
}

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

test('forceGarbageCollection() under --expose-gc frees the garbage and records it', { timeout: 30_000 }, async () => {
  const r = await gcChild('force', { exposeGc: true });
  const a = r.result;
  for (const key of ['type', 'reason', 'success', 'memoryBefore', 'memoryAfter', 'freedBytes', 'durationMs', 'timestamp']) {
    assert.ok(Object.hasOwn(a, key), `the result has no ${key}: ${JSON.stringify(a)}`);
  }
  assert.ok(!('error' in a) && !('recommendation' in a), JSON.stringify(a));
  assert.equal(a.type, 'gc');
  assert.equal(a.reason, 'test');
  assert.equal(a.success, true, JSON.stringify(a));
  for (const key of ['memoryBefore', 'memoryAfter', 'freedBytes', 'durationMs', 'timestamp']) {
    assert.ok(isNum(a[key]) && a[key] >= 0, `${key}=${a[key]}`);
  }
  assert.ok(a.timestamp >= r.t0 && a.timestamp <= r.t1, `timestamp ${a.timestamp}`);
  assert.ok(a.durationMs > 0, `durationMs ${a.durationMs}`);
  // The garbage was still in the heap before the collection and is gone after it.
  assert.equal(r.garbageWasHeld, true);
  assert.ok(r.allocatedBytes > 0);
  assert.ok(a.memoryBefore >= r.allocatedBytes, `memoryBefore ${a.memoryBefore} < allocated ${r.allocatedBytes}`);
  assert.ok(a.memoryAfter < a.memoryBefore);
  assert.equal(a.freedBytes, a.memoryBefore - a.memoryAfter);
  assert.ok(
    a.freedBytes >= 0.8 * r.allocatedBytes,
    `freed ${a.freedBytes} bytes of ${r.allocatedBytes} allocated (${r.objects} objects)`,
  );

  // The collection is counted.
  const g = r.health.gcStats;
  assert.equal(r.before.forced, 0);
  assert.ok(g.forced >= 1, JSON.stringify(g));
  assert.ok(g.major >= 1, JSON.stringify(g));
  assert.ok(g.totalCollections >= g.forced);
  assert.ok(isNum(g.efficiency) && g.efficiency > 0 && g.efficiency <= 100, `efficiency ${g.efficiency}`);
  assert.ok(isNum(g.averageDuration) && g.averageDuration > 0);
  assert.equal(g.lastMajor.forced, true);
  assert.equal(g.lastMajor.heapBefore, a.memoryBefore);
  assert.equal(g.lastMajor.heapAfter, a.memoryAfter);
  assert.equal(r.health.gcAvailable, true);
  assert.ok(!r.health.recommendations.some((s) => s.includes('--expose-gc')), JSON.stringify(r.health.recommendations));

  // It is announced as a 'gc' event.
  assert.deepEqual(r.gcEvents[0], a);
});

test('forceGarbageCollection() without --expose-gc explains how to enable it', { timeout: 30_000 }, async () => {
  const r = await gcChild('force', { exposeGc: false });
  const a = r.result;
  assert.equal(a.type, 'gc');
  assert.equal(a.reason, 'test');
  assert.equal(a.success, false);
  assert.equal(typeof a.error, 'string');
  assert.ok(a.error.length > 0);
  assert.equal(typeof a.recommendation, 'string');
  assert.ok(a.recommendation.includes('--expose-gc'), a.recommendation);
  assert.equal(a.freedBytes, 0);
  assert.equal(a.memoryAfter, a.memoryBefore);
  assert.equal(r.health.gcAvailable, false);
  assert.equal(r.health.gcStats.forced, 0);
  assert.ok(
    r.health.recommendations.some((s) => s.includes('--expose-gc')),
    JSON.stringify(r.health.recommendations),
  );
  assert.deepEqual(r.gcEvents[0], a, "the failed attempt is still a 'gc' event");
});

test('forceGarbageCollection() rejects a reason that is not a short non-empty string', { timeout: 30_000 }, async () => {
  const r = await gcChild('force', { exposeGc: true });
  assert.equal(r.badReasons.length, 4);
  for (const b of r.badReasons) {
    assert.equal(b.rejected, true, `reason ${b.reason} was accepted`);
    assert.equal(b.code, 'ERR_MEMWARDEN_INVALID_ARG', b.message);
    assert.equal(b.isTypeError, true);
    assert.ok(b.message.includes('reason'), b.message);
  }
  assert.ok(r.badReasons[0].message.includes('123'), r.badReasons[0].message);
  assert.equal(r.defaultReason, 'manual');
});

test('checkMemoryPressure() runs a proactive GC above gcThreshold, then waits for the cooldown', { timeout: 30_000 }, async () => {
  const r = await gcChild('proactive', { exposeGc: true });
  assert.equal(r.config.gcThreshold, 1);
  assert.equal(r.config.proactiveGc, true);
  const { first, second } = r;
  assert.ok(first.pressurePercentage >= 1, `pressure ${first.pressurePercentage}`);
  assert.equal(first.gcAvailable, true);
  assert.equal(first.proactiveGcEnabled, true);
  const gcs = first.actions.filter((x) => x.type === 'gc');
  assert.equal(gcs.length, 1, JSON.stringify(first.actions));
  assert.equal(gcs[0].success, true);
  assert.equal(gcs[0].reason, 'proactive_pressure');
  // Immediately again: the cooldown (30 s by default) holds it back.
  assert.ok(second.pressurePercentage >= 1);
  assert.deepEqual(second.actions, [], JSON.stringify(second.actions));
  assert.equal(r.health.gcStats.forced, 1);
  assert.equal(r.gcEvents.length, 1);
});

test('checkMemoryPressure() runs no proactive GC without --expose-gc', { timeout: 30_000 }, async () => {
  const r = await gcChild('proactive', { exposeGc: false });
  assert.ok(r.first.pressurePercentage >= 1, `pressure ${r.first.pressurePercentage}`);
  assert.equal(r.first.gcAvailable, false);
  assert.deepEqual(r.first.actions, []);
  assert.deepEqual(r.second.actions, []);
  assert.equal(r.health.gcStats.forced, 0);
});

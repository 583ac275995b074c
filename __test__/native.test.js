'use strict';
// The addon's own side (issue 9 §1, issue 12 points 6 and 7): it reads V8's figures
// through the N-API env on a schedule its sampler thread drives, analyses them on
// that thread, reports a blocked event loop, moves the status at each full
// collection, and survives a panicking sampler thread.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const v8 = require('node:v8');
const { constants } = require('node:perf_hooks');
const { ROOT, SUPPORT, runNode, resultOf, describeRun, waitFor } = require('./support/child');

const native = require(path.join(ROOT, 'lib/native'));
const fixture = path.join(SUPPORT, 'native-child.js');

test('the leak analysis runs on the sampler thread, and the heap figures come through the addon', async (t) => {
  const { MemoryManagerService } = require(ROOT);
  const m = new MemoryManagerService();
  await m.initialize({ monitoringIntervalMs: 200 });
  t.after(() => m.shutdown());
  // From here on, nothing in lib/ may read the heap through these on the sampling path.
  const calls = { memoryUsage: 0, getHeapStatistics: 0, getHeapSpaceStatistics: 0 };
  const fake = { rss: 1, heapTotal: 2, heapUsed: 3, external: 4, arrayBuffers: 5 };
  const original = { memoryUsage: process.memoryUsage, getHeapStatistics: v8.getHeapStatistics, getHeapSpaceStatistics: v8.getHeapSpaceStatistics };
  process.memoryUsage = () => (calls.memoryUsage++, fake);
  v8.getHeapStatistics = () => (calls.getHeapStatistics++, { used_heap_size: 3, heap_size_limit: 7 });
  v8.getHeapSpaceStatistics = () => (calls.getHeapSpaceStatistics++, []);
  t.after(() => Object.assign(process, { memoryUsage: original.memoryUsage }) && Object.assign(v8, { getHeapStatistics: original.getHeapStatistics, getHeapSpaceStatistics: original.getHeapSpaceStatistics }));
  const first = m.getHealthMetrics();
  const keep = [];
  const seen = new Set([first.currentUsage.heapUsed]);
  await waitFor(
    () => {
      keep.push(new Array(50_000).fill(keep.length));
      seen.add(m.getHealthMetrics().currentUsage.heapUsed);
      return seen.size >= 4 && m.getHealthMetrics().debug.heapSamples >= first.debug.heapSamples + 4;
    },
    { timeoutMs: 10_000, everyMs: 50, what: 'four heap samples with different heapUsed' },
  );
  const r = m.getHealthMetrics();
  assert.deepEqual(calls, { memoryUsage: 0, getHeapStatistics: 0, getHeapSpaceStatistics: 0 }, 'the stubs were never called');
  assert.ok(r.currentUsage.heapUsed > 1_000_000, `real heap figures: ${r.currentUsage.heapUsed}`);
  assert.ok(r.currentUsage.heapSizeLimit > 100_000_000, `real heap limit: ${r.currentUsage.heapSizeLimit}`);
  assert.notEqual(r.currentUsage.heapUsed, fake.heapUsed);
  assert.equal(r.debug.analysisThread, 'memwarden', 'the newest heap sample was analysed on the sampler thread');
  assert.ok(r.heapSampleAgeMs !== null && r.heapSampleAgeMs < 2_000, `heap sample age ${r.heapSampleAgeMs}`);
  assert.equal(r.sampler, 'running');
  assert.equal(r.eventLoop.blocked, false);
  // An explicit check analyses on the calling (JS) thread: the field tells them apart.
  await m.checkMemoryPressure();
  assert.notEqual(m.getHealthMetrics().debug.analysisThread, 'memwarden');
  keep.length = 0;
});

test('the native configuration error carries code ERR_MEMWARDEN_CONFIG', () => {
  const noop = () => {};
  assert.throws(
    () => new native.Monitor({ warningThreshold: 'lots' }, {}, v8, noop, noop),
    (err) => {
      assert.equal(err.code, 'ERR_MEMWARDEN_CONFIG');
      assert.match(err.message, /warningThreshold/);
      return true;
    },
  );
  assert.throws(
    () => new native.Monitor({}, { MEMORY_MONITORING_INTERVAL: '5' }, v8, noop, noop),
    (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && /MEMORY_MONITORING_INTERVAL/.test(err.message),
  );
});

test('one GC kind table: the addon names each kind and the perf_hooks constant Node reports it with', () => {
  const kinds = native.gcKinds();
  assert.deepEqual(kinds.map((k) => k.name), ['minor', 'major', 'incremental', 'weakCallbacks']);
  assert.deepEqual(kinds.map((k) => k.index), [0, 1, 2, 3]);
  const values = kinds.map((k) => constants[k.nodeConstant]);
  for (const v of values) assert.equal(typeof v, 'number');
  assert.equal(new Set(values).size, 4, 'four distinct Node constants');
  assert.equal(constants[kinds[1].nodeConstant], constants.NODE_PERFORMANCE_GC_MAJOR);
});

test('a 3 s busy loop on the JS thread is reported as a blocked event loop (real child process)', async () => {
  const run = await runNode([fixture, 'blocked'], { env: { MEMORY_MONITORING_INTERVAL: '250' }, timeoutMs: 30_000 });
  const r = resultOf(run);
  assert.equal(run.code, 0, describeRun(run));
  assert.ok(r.loopMs >= 3000);
  const raised = r.history.find((a) => !a.resolved);
  assert.ok(raised, `an event_loop_blocked alert in the history: ${JSON.stringify(r.history)}`);
  assert.ok(raised.data.blockedForMs >= 1000, JSON.stringify(raised));
  assert.ok(r.history.some((a) => a.resolved), 'resolved once the loop answered');
  assert.ok(r.alerts.some((a) => a.type === 'event_loop_blocked'), 'delivered as an alert event');
  assert.ok(r.eventLoop.longestBlockedMs >= 2000 && r.eventLoop.longestBlockedMs <= 4000, JSON.stringify(r.eventLoop));
  assert.equal(r.eventLoop.blocked, false, 'not blocked any more');
  // The sampler thread kept sampling resident memory through the loop: the history
  // holds about one resident sample per 250 ms although no heap reading came for 3 s.
  assert.ok(r.residentSamplesInWindow >= 12, `resident samples: ${r.residentSamplesInWindow}`);
});

test('a process filling its heap at ~40 MB/s under --max-old-space-size=96 emits critical or emergency before V8 aborts, at the default interval', async () => {
  const run = await runNode(['--max-old-space-size=96', fixture, 'oom'], { timeoutMs: 60_000 });
  assert.notEqual(run.code, 0, `the child must die of heap exhaustion\n${describeRun(run)}`);
  assert.match(run.stderr, /heap out of memory|Reached heap limit/i, describeRun(run));
  const lines = run.stdout.split('\n');
  const start = JSON.parse(lines.find((l) => l.startsWith('@@start ')).slice(8));
  const statuses = lines.filter((l) => l.startsWith('@@status ')).map((l) => JSON.parse(l.slice(9)));
  assert.ok(start.interval >= 15_000, `the default interval: ${start.interval}`);
  const severe = statuses.find((s) => s.current === 'critical' || s.current === 'emergency');
  assert.ok(severe, `a critical or emergency status before the abort: ${JSON.stringify(statuses)}\n${describeRun(run)}`);
  assert.equal(severe.pressureSource, 'heap');
  assert.ok(['fullGc', 'gc', 'heapWatch'].includes(severe.trigger), `moved between samples: ${severe.trigger}`);
  assert.ok(severe.at - start.at < start.interval, 'before the first periodic sample');
});

test('a panicking sampler thread is reported and restarted, at most three times', async () => {
  const run = await runNode([fixture, 'panic'], { env: { MEMORY_MONITORING_INTERVAL: '200' }, timeoutMs: 30_000 });
  const r = resultOf(run);
  assert.equal(run.code, 0, describeRun(run));
  assert.deepEqual(
    r.states.map((s) => s.sampler),
    ['restarted', 'restarted', 'restarted', 'stopped', 'stopped'],
  );
  assert.deepEqual(r.states.map((s) => s.sampledAgain), [true, true, true, false, false]);
  // Each restart is a new thread (a new thread id), one at a time; none after the fourth panic or after shutdown().
  for (const s of r.states.slice(0, 3)) {
    assert.equal(s.tidsBefore.length, 1, JSON.stringify(s));
    assert.equal(s.tidsAfter.length, 1, JSON.stringify(s));
    assert.notEqual(s.tidsAfter[0], s.tidsBefore[0], 'a new sampler thread');
  }
  assert.deepEqual(r.states[3].tidsAfter, []);
  assert.deepEqual(r.tidsAfterShutdown, []);
  assert.equal(r.errors.length, 4, JSON.stringify(r.errors));
  assert.ok(r.errors.every((e) => e.code === 'ERR_MEMWARDEN_SAMPLER'));
  assert.deepEqual(r.errors.map((e) => e.restarts), [1, 2, 3, 4]);
  assert.equal(r.errors[3].sampler, 'stopped');
  assert.match(r.errors[0].message, /panicked \(sampler panic requested by the test hook\); restarted on a new thread \(1 of 3\)/);
  assert.match(r.errors[3].message, /stopped after 3 restarts/);
  assert.equal(r.warnings.filter((w) => /sampler thread panicked/.test(w)).length, 4);
  assert.match(run.stderr, /panicked/, 'Rust prints the panic');
});

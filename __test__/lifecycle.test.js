'use strict';
// Process lifecycle: memwarden never keeps a process alive, its sampler threads
// go away with the worker threads that started them, and a native panic is a JS
// error rather than an abort. Every case is a child process, timed from spawn
// to exit.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { SUPPORT, runNode, resultOf, describeRun } = require('./support/child');

const EXIT_BY_ITSELF_MS = 2_000;

/** Runs a fixture that must end by itself: exit code 0, no signal, within `withinMs`. */
async function exitsByItself(args, { env, withinMs = EXIT_BY_ITSELF_MS } = {}) {
  // The kill timeout is far above the bound, so a slow exit is measured and a
  // hang is reported rather than left running.
  const run = await runNode(args, { env, timeoutMs: Math.max(6_000, withinMs * 3) });
  assert.equal(run.timedOut, false, `the child did not exit by itself\n${describeRun(run)}`);
  assert.equal(run.signal, null, describeRun(run));
  assert.equal(run.code, 0, describeRun(run));
  assert.ok(run.durationMs < withinMs, `the child took ${run.durationMs.toFixed(0)} ms to exit\n${describeRun(run)}`);
  return { run, result: resultOf(run) };
}

test('a script that initializes (default interval) and ends exits by itself within 2 s', async () => {
  const { result } = await exitsByItself([path.join(SUPPORT, 'idle-child.js'), 'plain']);
  assert.equal(result.initialized, true);
  assert.equal(result.status, 'healthy');
  // The default interval is seconds long: the heap timer would hold the process if it were ref'd.
  assert.ok(result.monitoringIntervalMs > EXIT_BY_ITSELF_MS, String(result.monitoringIntervalMs));
});

test("a script with 'alert'/'status' listeners that never calls shutdown() exits by itself within 2 s", async () => {
  const { result } = await exitsByItself([path.join(SUPPORT, 'idle-child.js'), 'listeners']);
  assert.equal(result.initialized, true);
  assert.equal(result.listeners, 2);
});

test('the same holds with a 100 ms interval and usage over every threshold', async () => {
  // The sampler thread is busy here (status emergency from the first sample).
  const { result } = await exitsByItself([path.join(SUPPORT, 'idle-child.js'), 'listeners'], {
    env: { MEMORY_MONITORING_INTERVAL: '100', MEMORY_LIMIT_MB: '16' },
  });
  assert.equal(result.monitoringIntervalMs, 100);
  assert.equal(result.status, 'emergency');
});

test('worker threads: each runs its own sampler thread, terminate() ends them, the process exits', { timeout: 30_000 }, async (t) => {
  const { result } = await exitsByItself([path.join(SUPPORT, 'workers-child.js')], { withinMs: 10_000 });
  assert.equal(result.reports.length, 4);
  for (const r of result.reports) {
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(['healthy', 'warning', 'critical', 'emergency'].includes(r.status), r.status);
    assert.ok(Number.isFinite(r.rss) && r.rss > 0, String(r.rss));
    assert.equal(r.monitoringIntervalMs, 250);
    assert.equal(r.intervalSource, 'env MEMORY_MONITORING_INTERVAL');
  }
  assert.equal(result.exitCodes.length, 4);
  if (!result.canCountThreads) {
    t.skip('cannot list threads on this platform (no /proc/self/task)');
    return;
  }
  // The count sees the sampler threads while the workers run...
  assert.ok(result.whileRunning >= 4, `saw ${result.whileRunning} sampler threads while 4 workers ran`);
  // ...and none once they are terminated.
  assert.equal(result.afterTerminate, 0, `${result.afterTerminate} sampler threads left after terminate()`);
});

test('a native panic becomes a JS error instead of aborting the process', async () => {
  const run = await runNode([path.join(SUPPORT, 'panic-child.js')], { timeoutMs: 15_000 });
  assert.equal(run.signal, null, `the process was killed by a signal\n${describeRun(run)}`);
  assert.equal(run.code, 0, describeRun(run));
  const r = resultOf(run);
  assert.equal(r.threw, true);
  assert.equal(r.isError, true);
  assert.match(r.message, /memwarden test panic/);
  assert.equal(typeof r.statusAfter, 'string', 'the monitor still answers after the panic');
});

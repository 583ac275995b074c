'use strict';
// Fixture for native.test.js: the addon's own side of sampling, in a real process.
//
//   node native-child.js blocked
//     MEMORY_MONITORING_INTERVAL=250: runs a 3 s synchronous busy loop on the JS
//     thread, then waits for the sampler thread's deliveries; reports the alerts
//     delivered, the alert history and the health report's eventLoop.
//   node --max-old-space-size=96 native-child.js oom
//     default interval: fills the heap at ~40 MB/s until V8 aborts; prints each
//     'status' event as it is emitted (a line per event; the parent reads them after
//     the process died).
//   node native-child.js panic
//     MEMORY_MONITORING_INTERVAL=200: makes the sampler thread panic five times
//     through the test hook; reports the 'error' events, warnings, the report's
//     sampler state and whether heap samples kept arriving between panics.

const fs = require('node:fs');
const { ROOT, emitResult, waitFor, runMain } = require('./child');

/** Thread ids of this process's threads named memwarden (the sampler). */
function samplerTids() {
  return fs.readdirSync('/proc/self/task').filter((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'memwarden';
    } catch {
      return false;
    }
  });
}
const native = require(`${ROOT}/lib/native`);

// Captures the native Monitor the manager creates (for the test hook).
let monitor = null;
const Original = native.Monitor;
native.Monitor = function CapturingMonitor(...args) {
  monitor = new Original(...args);
  return monitor;
};

const { MemoryManagerService } = require(ROOT);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function blocked() {
  const m = MemoryManagerService.getInstance();
  const alerts = [];
  m.on('alert', (a) => alerts.push({ type: a.type, level: a.level, data: a.data, at: Date.now() }));
  await m.initialize();
  await sleep(600);
  const before = m.getHealthMetrics().debug.heapSamples;
  const start = Date.now();
  let spins = 0;
  while (Date.now() - start < 3000) spins++;
  const loopEnd = Date.now();
  await waitFor(() => alerts.some((a) => a.type === 'event_loop_blocked'), { timeoutMs: 3000, what: 'the event_loop_blocked alert' });
  await sleep(600);
  const r = m.getHealthMetrics();
  emitResult({
    spins,
    loopMs: loopEnd - start,
    alerts,
    alertDeliveredAfterLoop: alerts.filter((a) => a.type === 'event_loop_blocked').every((a) => a.at >= loopEnd),
    history: m.getAlerts().history.filter((a) => a.type === 'event_loop_blocked'),
    eventLoop: r.eventLoop,
    heapSamplesBefore: before,
    heapSamplesAfter: r.debug.heapSamples,
    residentSamplesInWindow: r.trend.samples,
  });
  await m.shutdown();
}

async function oom() {
  const m = MemoryManagerService.getInstance();
  m.on('status', (e) => process.stdout.write(`@@status ${JSON.stringify({ ...e, at: Date.now() })}\n`));
  await m.initialize();
  process.stdout.write(`@@start ${JSON.stringify({ interval: m.config.monitoringIntervalMs, at: Date.now() })}\n`);
  const keep = [];
  // ~1 MB of retained heap (arrays of doubles) every 25 ms: ~40 MB/s.
  setInterval(() => {
    for (let i = 0; i < 8; i++) keep.push(new Array(16384).fill(i + keep.length + 0.5));
  }, 25);
}

async function panic() {
  const m = MemoryManagerService.getInstance();
  const errors = [];
  const warnings = [];
  m.on('error', (e) => errors.push({ message: e.message, code: e.code, sampler: e.sampler, restarts: e.restarts }));
  process.on('warning', (w) => {
    if (w.name === 'MemwardenWarning') warnings.push(w.message);
  });
  await m.initialize();
  const states = [];
  for (let i = 1; i <= 5; i++) {
    const samples = m.getHealthMetrics().debug.heapSamples;
    const tidsBefore = samplerTids();
    monitor.__panicSamplerForTest();
    await waitFor(() => errors.length >= Math.min(i, 4), { timeoutMs: 3000, what: `error event ${i}` });
    const r = m.getHealthMetrics();
    let sampledAgain = false;
    if (r.sampler !== 'stopped') {
      await waitFor(() => m.getHealthMetrics().debug.heapSamples > samples + 1, { timeoutMs: 3000, what: `samples after restart ${i}` });
      sampledAgain = true;
    } else {
      await sleep(800);
      sampledAgain = m.getHealthMetrics().debug.heapSamples > r.debug.heapSamples;
    }
    // The panicking thread has ended (or is ending) once its successor samples.
    await waitFor(() => samplerTids().length <= 1, { timeoutMs: 3000, what: 'the old thread to end' });
    const tidsAfter = samplerTids();
    states.push({
      sampler: m.getHealthMetrics().sampler,
      restarts: m.getHealthMetrics().debug.samplerRestarts,
      sampledAgain,
      tidsBefore,
      tidsAfter,
    });
  }
  await m.shutdown();
  emitResult({ errors, warnings, states, tidsAfterShutdown: samplerTids() });
}

runMain({ blocked, oom, panic }[process.argv[2]]);

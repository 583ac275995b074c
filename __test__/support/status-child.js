'use strict';
// Fixture (run with --expose-gc): drives status changes with real resident memory.
// The limit is derived from this process's own RSS at start and handed to
// memwarden through MEMORY_LIMIT_MB before initialize(); the background sampler
// (MEMORY_MONITORING_INTERVAL=250) must notice the changes by itself.
//
//   node --expose-gc status-child.js crossing
//     baseline ~40 % of the limit, warning at 50 %: fill a Buffer up to ~75 %,
//     wait for healthy→warning, free it, wait for →healthy.
//   node --expose-gc status-child.js crossing throwing
//     the same with a second 'status' listener that throws every time.
//   node --expose-gc status-child.js hysteresis <hysteresisPercent>
//     baseline ~15 %, warning at 50 %: buffer A lifts usage to ~45 %, buffer B to
//     ~62 % (→ warning); freeing B drops usage to ~45 %, just below the warning
//     threshold; after several more samples, freeing A drops it to the baseline.
//   node --expose-gc status-child.js initial
//     MEMORY_LIMIT_MB=16 (below any Node process's RSS): the status is emergency
//     from the first sample; records the 'status' events of the first samples.
//
// Prints the events and measurements; the spec asserts on them.

const { ROOT, MiB, emitResult, waitFor, runMain } = require('./child');
const { MemoryManagerService } = require(ROOT);

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

const mode = process.argv[2];
const INTERVAL_MS = 250;
const WARNING = 50;
// glibc serves allocations above 32 MiB (its largest mmap threshold) with their own
// mapping and unmaps them on free, so a freed buffer of at least this size really
// leaves the resident set.
const MIN_CHUNK = 40 * MiB;

const rss = () => process.memoryUsage.rss();
const t0 = Date.now();

/** A Buffer whose pages are all resident (filled with non-zero data). */
function residentBuffer(bytes) {
  return Buffer.alloc(Math.max(0, Math.round(bytes))).fill(0x5a);
}

async function initial() {
  Object.assign(process.env, { MEMORY_LIMIT_MB: '16', MEMORY_MONITORING_INTERVAL: String(INTERVAL_MS) });
  const m = MemoryManagerService.getInstance();
  const events = [];
  m.on('status', (e) => events.push(e));
  await m.initialize();
  const out = { mode, t0, statusAfterInit: m.getHealthMetrics().status, eventsAfterInit: events.length };
  const start = m.getHealthMetrics().trend.samples;
  await waitFor(() => m.getHealthMetrics().trend.samples >= start + 3, { timeoutMs: 5_000, what: '3 samples' });
  out.status = m.getHealthMetrics().status;
  out.statusSince = m.getHealthMetrics().statusSince;
  out.events = events;
  out.t1 = Date.now();
  emitResult(out);
  await m.shutdown();
}

async function main() {
  if (mode === 'initial') return initial();
  const baselineRss = rss();
  let limitBytes;
  if (mode === 'crossing') {
    // Baseline ~40 %; the buffer lifting 40 % → 75 % must be at least MIN_CHUNK.
    limitBytes = Math.max(baselineRss / 0.4, MIN_CHUNK / 0.35);
  } else if (mode === 'hysteresis') {
    // Baseline ~15 %; buffer B (45 % → 62 %) must be at least MIN_CHUNK.
    limitBytes = Math.max(baselineRss / 0.15, MIN_CHUNK / 0.17);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const hysteresis = mode === 'hysteresis' ? Number(process.argv[3]) : undefined;
  const limitMb = Math.ceil((limitBytes / MiB) * 1000) / 1000;
  Object.assign(process.env, {
    MEMORY_LIMIT_MB: String(limitMb),
    MEMORY_MONITORING_INTERVAL: String(INTERVAL_MS),
    MEMORY_WARNING_THRESHOLD: String(WARNING),
    MEMORY_CRITICAL_THRESHOLD: '90',
    MEMORY_EMERGENCY_THRESHOLD: '98',
    PROACTIVE_GC_ENABLED: 'false',
  });

  const m = MemoryManagerService.getInstance();
  const events = [];
  m.on('status', (e) => events.push({ ...e, at: Date.now() }));
  const warnings = [];
  if (mode === 'crossing' && process.argv[3] === 'throwing') {
    process.on('warning', (w) => warnings.push({ name: w.name, message: w.message }));
    m.on('status', () => {
      throw new Error('listener boom');
    });
  }
  await m.initialize(hysteresis === undefined ? undefined : { hysteresisPercent: hysteresis });
  const limit = m.limit.bytes;
  const usageNow = () => (rss() / limit) * 100;
  const report = () => m.getHealthMetrics();
  const out = {
    mode,
    baselineRss,
    limitMb,
    limitBytes: limit,
    limitSource: m.limit.source,
    config: m.config,
    startStatus: report().status,
    startUsage: report().currentUsage.usagePercentage,
    t0,
  };
  const waitForEvent = (pred, what, timeoutMs = 10_000) =>
    waitFor(() => events.find(pred), { timeoutMs, what }).catch((err) => {
      out.error = `${err.message}; events so far: ${JSON.stringify(events)}; usage now ${usageNow().toFixed(1)} %`;
      return null;
    });
  // Waits until the background sampler has taken `n` more samples.
  const samplesFrom = () => report().trend.samples;
  const waitSamples = async (n) => {
    const start = samplesFrom();
    await waitFor(() => samplesFrom() >= start + n, { timeoutMs: INTERVAL_MS * n * 4 + 2_000, what: `${n} samples` });
  };

  if (mode === 'crossing') {
    let big = residentBuffer((0.75 * limit) - rss());
    out.bufferBytes = big.length;
    out.usageAfterFill = usageNow();
    const up = await waitForEvent((e) => e.current !== 'healthy', 'a status event out of healthy');
    out.statusAfterUp = report().status;
    out.eventsAfterUp = events.length;
    if (up) {
      big = null;
      globalThis.gc();
      await waitForEvent((e) => e.at >= up.at && e.current === 'healthy' && e !== up, 'a status event back to healthy');
      out.usageAfterFree = usageNow();
      out.statusAfterDown = report().status;
    }
    void big;
  } else {
    let a = residentBuffer((0.45 * limit) - rss());
    out.usageAfterA = usageNow();
    let b = residentBuffer((0.62 * limit) - rss());
    out.bufferBytes = [a.length, b.length];
    out.usageAfterB = usageNow();
    const up = await waitForEvent((e) => e.current !== 'healthy', 'a status event out of healthy');
    out.statusAfterUp = report().status;
    out.eventsAfterUp = events.length;
    if (up) {
      b = null;
      globalThis.gc();
      // The sampler sees the drop below the warning threshold...
      await waitFor(() => report().currentUsage.usagePercentage < WARNING, {
        timeoutMs: 10_000,
        what: 'usage below the warning threshold',
      });
      out.usageBelowWarning = report().currentUsage.usagePercentage;
      // ...and a few more samples at that level.
      await waitSamples(4);
      out.usageInBand = report().currentUsage.usagePercentage;
      out.statusInBand = report().status;
      out.eventsInBand = events.length;
      a = null;
      globalThis.gc();
      await waitForEvent((e) => e.current === 'healthy', 'a status event back to healthy');
      out.usageAfterFree = usageNow();
      out.statusAfterDown = report().status;
    }
    void a;
    void b;
  }
  out.events = events;
  // 'warning' events are emitted on the next tick.
  await new Promise((r) => setImmediate(r));
  out.warnings = warnings;
  out.t1 = Date.now();
  emitResult(out);
  await m.shutdown();
}

runMain(main);

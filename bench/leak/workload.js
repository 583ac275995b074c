'use strict';
// One leak-detection scenario in a real Node process: server-like garbage churn
// plus a benign or leaking pattern. Polls getHealthMetrics().trend.leakSuspected
// every monitoring interval and prints one JSON line per change, then a summary.
//
//   node --max-old-space-size=384 bench/leak/workload.js SCENARIO [--warmup S] [--duration S] [--trace FILE]
//
// Times in the output are seconds since the pattern started (after the warm-up).
const path = require('node:path');
const fs = require('node:fs');
const { EventEmitter } = require('node:events');
const { MemoryManagerService } = require(path.join(__dirname, '..', '..'));
const { seededRandom, requestLike, REQUEST_LIKE_BYTES } = require('../support');

const args = process.argv.slice(2);
const scenario = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1];
};
const warmupS = Number(opt('warmup', 20));
const durationS = Number(opt('duration', 90));
const traceFile = opt('trace', null);

// Deterministic pseudo-random numbers, seeded per scenario; request-like garbage (~10 KB each).
const random = seededRandom(scenario);
const request = requestLike;
const REQUEST_BYTES = REQUEST_LIKE_BYTES;
const TICK_MS = 10;

let counter = 0;
const inFlight = [];
// Seconds since the previous tick: every rate below is per second of wall time, so a
// loaded machine that runs fewer ticks still produces the nominal rates.
let dt = TICK_MS / 1000;
const carry = new Map();
/** How many events at `perSecond` fall in this tick (fractions carried over). */
function per(key, perSecond) {
  const x = (carry.get(key) || 0) + perSecond * dt;
  const n = Math.floor(x);
  carry.set(key, x - n);
  return n;
}

/** Garbage churn at `mbPerSec`: requests that live ~100 ms. */
function churn(mbPerSec) {
  const n = Math.round((mbPerSec * 1048576 * dt) / REQUEST_BYTES);
  const batch = [];
  for (let i = 0; i < n; i++) batch.push(request(counter++));
  inFlight.push(batch);
  if (inFlight.length > 10) inFlight.shift();
}

/** Per-tick behaviour of each scenario; `t` is seconds since the pattern started (<0 in warm-up). */
const retained = [];
const sessions = [];
const cache = new Map();
const emitter = new EventEmitter();
emitter.setMaxListeners(0);
let burstHigh = true;
let burstUntil = 0;
let fixed = false;
let bufferBudget = 0;

function leakObjects(bytesPerSec) {
  for (let i = per('leak', bytesPerSec / 1024); i > 0; i--) {
    retained.push({ key: `leak-${counter++}`, payload: 'x'.repeat(900) + counter });
  }
}

const scenarios = {
  // Benign: steady churn plus medium-lived sessions (2-10 s) that get promoted and
  // die in the old generation: a saw-tooth of heavy transient garbage.
  sawtooth: { leak: false, tick(t, now) {
    churn(25);
    for (let i = per('sessions', 300); i > 0; i--) sessions.push({ until: now + 2000 + random() * 8000, data: request(counter++) });
    while (sessions.length && sessions[0].until < now) sessions.shift();
  } },
  // Benign: an LRU cache of 1 KB entries that fills for ~45 s, then plateaus (entries replaced).
  cache: { leak: false, tick(t) {
    churn(25);
    if (t < 0) return;
    for (let i = per('cache', 667); i > 0; i--) {
      const key = `k${Math.floor(random() * 1e9)}`;
      cache.set(key, { key, value: 'v'.repeat(1000) });
      if (cache.size > 30000) cache.delete(cache.keys().next().value);
    }
  } },
  // Benign: one large allocation that stays, then flat.
  step: { leak: false, tick(t) {
    churn(25);
    if (t >= 0 && retained.length === 0) for (let i = 0; i < 80 * 1024; i++) retained.push({ i, s: 'y'.repeat(900) + i });
  } },
  // Benign: bursty traffic, garbage rate swinging 10x (2.5 <-> 25 MB/s) every 3-12 s.
  bursty: { leak: false, tick(t, now) {
    if (now > burstUntil) {
      burstHigh = !burstHigh;
      burstUntil = now + 3000 + random() * 9000;
    }
    churn(burstHigh ? 25 : 2.5);
  } },
  // Benign: off-heap churn, Buffers of 64 KB allocated and dropped (~10 MB/s).
  'buffer-churn': { leak: false, tick() {
    churn(20);
    for (let i = per('buffers', 160); i > 0; i--) inFlight[inFlight.length - 1].push(Buffer.alloc(64 * 1024, 1));
  } },
  // Leak: ~1 MB/s of retained objects under heavy churn.
  'heap-leak': { leak: true, tick(t) {
    churn(25);
    if (t >= 0) leakObjects(1024 * 1024);
  } },
  // Leak: ~150 KB/s under noisy churn (rate varies 10-30 MB/s).
  'slow-leak': { leak: true, tick(t) {
    churn(10 + random() * 20);
    if (t >= 0) leakObjects(150 * 1024);
  } },
  // Leak: off-heap, ~1 MB/s of 16 KB Buffers kept in an array (heapUsed barely moves).
  'buffer-leak': { leak: true, tick(t) {
    churn(25);
    if (t < 0) return;
    bufferBudget += 1024 * 1024 * dt;
    for (; bufferBudget >= 16 * 1024; bufferBudget -= 16 * 1024) retained.push(Buffer.alloc(16 * 1024, 3));
  } },
  // Leak: a listener (closure over ~1 KB) added per request and never removed (~500 KB/s).
  'listener-leak': { leak: true, tick(t) {
    churn(25);
    if (t >= 0) for (let i = per('listeners', 500); i > 0; i--) {
      const ctx = { id: counter++, blob: 'z'.repeat(1000) };
      emitter.on('config-change', () => ctx.id);
    }
  } },
  // Leak fixed: ~1 MB/s for 45 s, then the leak stops and its memory is released.
  'leak-fixed': { leak: true, fixAt: 45, tick(t) {
    churn(25);
    if (t >= 45 && !fixed) {
      fixed = true;
      retained.length = 0;
    }
    if (t >= 0 && !fixed) leakObjects(1024 * 1024);
  } },
};

async function main() {
  const s = scenarios[scenario];
  if (!s) {
    console.error(`unknown scenario ${scenario}; accepted: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  const m = MemoryManagerService.getInstance();
  await m.initialize({ logger: { info() {}, warn() {}, error() {} } });
  const interval = m.config.monitoringIntervalMs;
  const t0 = Date.now() + warmupS * 1000;
  const since = () => (Date.now() - t0) / 1000;
  const changes = [];
  const events = [];
  // Confidence right when the flag is raised, and the attribution that follows.
  m.on('leak', (e) => events.push({ event: 'leak', t: since(), signal: e.signal, confidence: m.getLeakDetection().confidence }));
  m.on('leakAttributed', (r) => {
    const top = r.sites[0];
    events.push({ event: 'leakAttributed', t: since(), top: top ? { functionName: top.functionName, url: top.url, lineNumber: top.lineNumber, share: top.shareOfGrowth } : null, summary: r.summary });
  });
  m.on('leakResolved', () => events.push({ event: 'leakResolved', t: since() }));
  let confirmations = 0;
  m.on('gc', (a) => { if (a.reason === 'leak_confirmation') confirmations++; });

  let last = Date.now();
  const work = setInterval(() => {
    const now = Date.now();
    dt = Math.min(1, (now - last) / 1000);
    last = now;
    s.tick(since(), now);
  }, TICK_MS);
  let flagged = false;
  // Highest confidence while not flagged, once the pattern has started.
  let maxUnflagged = 0;
  const poll = setInterval(() => {
    const trend = m.getHealthMetrics().trend;
    if (!trend.leakSuspected && since() >= 0) maxUnflagged = Math.max(maxUnflagged, trend.confidence);
    if (trend.leakSuspected !== flagged) {
      flagged = trend.leakSuspected;
      const c = { t: Number(since().toFixed(2)), leakSuspected: flagged, confidence: Math.round(trend.confidence) };
      changes.push(c);
      console.log(JSON.stringify({ scenario, ...c }));
    }
  }, interval);

  await new Promise((r) => setTimeout(r, (warmupS + durationS) * 1000));
  clearInterval(work);
  clearInterval(poll);
  const health = m.getHealthMetrics();
  if (traceFile) fs.writeFileSync(traceFile, JSON.stringify(m.exportTrace()));
  const summary = {
    scenario,
    leak: s.leak,
    fixAt: s.fixAt ?? null,
    changes,
    events,
    confirmations,
    maxUnflaggedConfidence: maxUnflagged,
    final: { leakSuspected: health.trend.leakSuspected, confidence: health.trend.confidence },
    gc: { total: health.gcStats.totalCollections, major: health.gcStats.major, pausePercent: health.gcStats.pauseTimePercent },
    heapUsedMb: health.currentUsage.heapUsed / 1048576,
    retained: retained.length,
  };
  console.log(JSON.stringify({ summary }));
  await m.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

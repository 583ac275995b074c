'use strict';
// Fixture for trace.test.js: a trace as another tool records it, without memwarden:
// process.memoryUsage() every 250 ms and GC entries from a PerformanceObserver (no
// readings after collections). `leak`: garbage churn plus a ~2 MB/s live-set leak;
// `benign`: churn plus short-lived sessions. Runs `SECONDS` (default 30) and prints the
// trace as one JSON line.
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');

const mode = process.argv[2];
const seconds = Number(process.env.SECONDS_TO_RUN || 30);
const KINDS = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks' };
const now = () => performance.timeOrigin + performance.now();
const samples = [];
const gc = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = KINDS[e.detail ? e.detail.kind : e.kind];
    if (kind) gc.push({ t: performance.timeOrigin + e.startTime + e.duration, kind, duration: e.duration });
  }
}).observe({ entryTypes: ['gc'] });

const inFlight = [];
const kept = [];
const sessions = [];
let n = 0;
setInterval(() => {
  const batch = [];
  for (let i = 0; i < 20; i++) batch.push({ i: n++, body: Array.from({ length: 30 }, (_, k) => ({ k, s: `item ${k} ${n}` })) });
  inFlight.push(batch);
  if (inFlight.length > 10) inFlight.shift();
  if (mode === 'leak') for (let i = 0; i < 20; i++) kept.push(Buffer.alloc(1000, 97 + (n++ % 26)).toString('latin1') + n); // ~20 KB per 10 ms: ~2 MB/s
  else {
    const t = Date.now();
    sessions.push({ until: t + 2000 + Math.random() * 3000, data: batch[0] });
    while (sessions.length && sessions[0].until < t) sessions.shift();
  }
}, 10);
setInterval(() => {
  const m = process.memoryUsage();
  samples.push({ t: now(), heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers });
}, 250);
setTimeout(() => {
  gc.sort((a, b) => a.t - b.t);
  process.stdout.write(`${JSON.stringify({ samples, gc, intervalMs: 250 })}\n`);
  process.exit(0);
}, seconds * 1000);

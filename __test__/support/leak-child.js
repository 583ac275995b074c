'use strict';
// Fixture for leak.test.js: a real process with garbage churn and a pattern.
//   node leak-child.js leak       churn; from 3 s a ~2 MB/s heap leak until flagged,
//                                 then the leak is fixed (memory released); waits for
//                                 the 'leakResolved' event
//   node leak-child.js benign     churn plus medium-lived sessions: 8 s of warm-up, then
//                                 25 s monitored
//   node leak-child.js attribute  a leak, and attributeLeak() over 3 s
//   node leak-child.js cleanup    a ~2 MB/s heap leak until flagged, then an emergency
//                                 cleanup (all strategies): what the record keeps
//   node leak-child.js gcfail     fills the old generation, then forced GCs that free nothing
// Prints one result line (see support/child.js).
const v8 = require('node:v8');
const { ROOT, emitResult, runMain } = require('./child');
const { MemoryManagerService } = require(ROOT);

const mode = process.argv[2];
const quiet = { info() {}, warn() {}, error() {} };

function request(i) {
  const body = [];
  for (let k = 0; k < 40; k++) body.push({ id: k, name: `item-${k}-${i}`, tags: ['a', 'b'] });
  return { url: `/api/${i}`, body, json: JSON.stringify(body) };
}

let counter = 0;
const inFlight = [];
function churn(perTick) {
  const batch = [];
  for (let i = 0; i < perTick; i++) batch.push(request(counter++));
  inFlight.push(batch);
  if (inFlight.length > 10) inFlight.shift();
}

const leaked = [];
function leakyCache(n) {
  for (let i = 0; i < n; i++) leaked.push({ key: `k${counter++}`, value: 'v'.repeat(1000) });
}

const sessions = [];
function sessionChurn() {
  churn(20);
  const now = Date.now();
  sessions.push({ until: now + 2000 + Math.random() * 3000, data: request(counter++) });
  while (sessions.length && sessions[0].until < now) sessions.shift();
}

async function main() {
  let warmup = null;
  if (mode === 'benign') {
    // The session store fills for ~5 s (a cache warming up may be flagged while it
    // fills): start monitoring at its steady state.
    warmup = setInterval(sessionChurn, 10);
    await new Promise((r) => setTimeout(r, 8_000));
  }
  const m = MemoryManagerService.getInstance();
  await m.initialize({ monitoringIntervalMs: 250, memoryLimitMb: 512, logger: quiet, leakAttribution: false });
  const t0 = Date.now();
  const since = () => (Date.now() - t0) / 1000;

  if (mode === 'leak') {
    let flaggedAt = null;
    let fixedAt = null;
    let resolvedAt = null;
    const alerts = [];
    m.on('alert', (a) => alerts.push({ type: a.type, level: a.level, resolved: a.resolved }));
    m.on('alertResolved', (a) => alerts.push({ type: a.type, level: a.level, resolved: a.resolved }));
    m.on('leak', () => {
      if (flaggedAt === null) flaggedAt = since();
    });
    m.on('leakResolved', () => {
      if (resolvedAt === null) resolvedAt = since();
    });
    const work = setInterval(() => {
      churn(20);
      if (since() >= 3 && flaggedAt === null) leakyCache(20); // ~2 MB/s
      if (flaggedAt !== null && fixedAt === null && since() >= flaggedAt + 5) {
        fixedAt = since();
        leaked.length = 0;
      }
    }, 10);
    const deadline = Date.now() + 60_000;
    while (resolvedAt === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    clearInterval(work);
    emitResult({ flaggedAt, fixedAt, resolvedAt, alerts, report: m.getLeakDetection() });
  } else if (mode === 'benign') {
    let flags = 0;
    m.on('leak', () => flags++);
    await new Promise((r) => setTimeout(r, 25_000));
    clearInterval(warmup);
    const health = m.getHealthMetrics();
    emitResult({ flags, leakSuspected: health.trend.leakSuspected, majors: health.gcStats.major, trace: m.exportTrace() });
  } else if (mode === 'cleanup') {
    let flaggedAt = null;
    m.on('leak', () => {
      if (flaggedAt === null) flaggedAt = Date.now();
    });
    const work = setInterval(() => {
      churn(20);
      if (since() >= 3) leakyCache(20); // ~2 MB/s
    }, 10);
    const deadline = Date.now() + 60_000;
    while (flaggedAt === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2_000));
    const before = { trend: m.getHealthMetrics().trend, traceSamples: m.exportTrace().samples.length };
    const actions = await m.performEmergencyCleanup({ force: true, reason: 'test' });
    const trace = m.exportTrace();
    const after = { trend: m.getHealthMetrics().trend, leak: m.getLeakDetection() };
    clearInterval(work);
    emitResult({ t0, flaggedAt, before, after, actions: actions.map((a) => ({ name: a.strategy, success: a.success, error: a.error })), trace: { samples: trace.samples.length, first: trace.samples[0].t, last: trace.samples[trace.samples.length - 1].t, gc: trace.gc.length } });
  } else if (mode === 'attribute') {
    const work = setInterval(() => {
      churn(5);
      leakyCache(20);
    }, 10);
    const result = await m.attributeLeak({ durationMs: 3000, windows: 3, samplingIntervalBytes: 32 * 1024 });
    clearInterval(work);
    emitResult({ result, report: m.getLeakDetection() });
  } else if (mode === 'gcfail') {
    const alerts = [];
    m.on('alert', (a) => alerts.push(a));
    const keep = [];
    const room = v8.getHeapStatistics().heap_size_limit - 48 * 1048576;
    const old = () => v8.getHeapSpaceStatistics().filter((s) => !s.space_name.startsWith('new')).reduce((a, s) => a + s.space_used_size, 0);
    // Large arrays go straight to the old generation's large-object space: no promotion
    // through a nearly full heap (which V8 may abort on before the check runs).
    while (old() < room * 0.85) keep.push(new Array(32 * 1024).fill(0.5));
    const freed = [];
    for (let i = 0; i < 3; i++) freed.push((await m.forceGarbageCollection('test')).freedBytes);
    emitResult({ freed, alerts, kept: keep.length, active: m.getAlerts().active.map((a) => a.type) });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  await m.shutdown();
}

runMain(main, { exit: true });

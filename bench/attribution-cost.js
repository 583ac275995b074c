'use strict';
// Throughput cost of leak-site attribution: `npm run bench:attribution`.
//
// A real Express 5 app (memwarden.express.attach(app), MEMORY_MONITORING_INTERVAL=1000)
// runs in a child process with a leaking route, as in issue 13: `/sessions` answers
// with some JSON (a user, 20 items) and keeps a record of each request (~1.3 KB) in a
// module-level array, at most 400 records a second (~0.5 MB/s of live growth whatever
// the request rate, so the heap stays within reach on a max-throughput run). The app's
// automatic attribution is off (`leakAttribution: false`) so that only the rounds
// below sample.
//
// Rounds alternate between arms: A, nothing extra running; B, one attribution as the
// automatic one ran before the 'auto' interval (manager.attributeLeak(): 30 s,
// samplingIntervalBytes 524288, one profile read at the end, which forces a full GC),
// started 0.5 s into the round's load; B-auto, as it runs now (2 s measuring the
// allocation rate, then 28 s at the interval chosen from it); the load lasts the attribution's duration + 1 s
// in every arm, so B's profile read falls inside it. Other arms (ARMS) run an
// attribution with another sampling interval, the sampler alone, or nothing (an A/A
// check), for a before/after view in the same run. Six measurements, each in its own
// set of fresh server processes:
//   1. max throughput: autocannon, CONNECTIONS connections, no rate limit; req/s.
//   2. fixed rate (RATE, 400 req/s as in the issue): the server's CPU time per request
//      (process.cpuUsage() in the child: every thread, GC helpers included) and
//      latency p99 / max.
//   3. the sampler alone, finely interleaved (MEASURE=slots): in one more server under
//      max-throughput load, the child itself runs groups of SLOT_MS slots in random
//      order, `off`, `off-again` (an A/A check) and the sampler at each of
//      SLOT_INTERVALS (started at the slot's start, stopped at its end; no profile
//      reads), counting requests served and CPU time per slot. Adjacent one-second
//      slots share the machine's moment, so this resolves far smaller differences
//      than whole rounds on a noisy machine; the reads' share is then measured apart.
//   4. whole attributions, interleaved (MEASURE=paired): in one more server under
//      max-throughput load (its leak at PAIRED_LEAK_PER_S records a second, 100 by
//      default, so that its heap stays far from the limit for the whole measurement),
//      PAIRED_GROUPS groups (default 6) of ROUND_S + 1 s slots in random order: `off`,
//      `off-again`, `attribution` (manager.attributeLeak() at its defaults: the 'auto'
//      interval) and
//      `attribution@3145728` (samplingIntervalBytes 3145728: ~6x fewer samples), each
//      attribution lasting the slot less 1 s. Whole rounds in fresh
//      processes (1, 2) differ by ±3 % from one process to the next, even A against A,
//      more than the 1 % at stake; slots of one process, adjacent in time, do not.
//   5. where the CPU goes (MEASURE=profile, needs Linux perf): in one more server under
//      max-throughput load, PROFILE_PAIRS groups (default 12) of ROUND_S + 1 s windows
//      in random order, `off` and each arm of PROFILE_ARMS (default
//      attribution,attribution@524288: the 'auto' interval and the old fixed 512 KB; also
//      off-again, or attribution@<bytes>); perf
//      records the server's every thread with call graphs and each sample is charged by
//      its stack to the inspector, the sampler, slow-path allocation, GC, the kernel or
//      the app (bench/perf-profile.js): the attribution's own work counted directly,
//      to ±0.05 %, next to what throughput ratios show (±1.5 % noise).
//   6. work per request (MEASURE=instructions, needs valgrind): the server with the
//      sampler on from its start at each of INSTR_ARMS (default 524288,8388608: the
//      old fixed interval and what 'auto' picks for this app under max load) and off,
//      under callgrind with its cache simulation: instructions, simulated cache misses
//      and the cycles they model, per request over a counted window of one process,
//      nearly deterministic where req/s moves by ±2-8 % on a shared machine (see
//      measureInstructions).
// Each round runs in a fresh server process (--max-old-space-size=HEAP_MB, 384 as in
// bench:leak: a small instance; V8 sizes its heap from the machine's memory otherwise,
// and on a large machine it let garbage pile up to ~1 GB between full collections,
// which the attribution's forced full GCs then cut short), warmed up for WARMUP_S, so
// every arm starts from the same state and the leak holds ~20 MB when the round ends.
// Within each cycle the arms' order rotates (AB, BA, ...), so each arm takes each
// position equally often and the machine's drift hits all alike. Ratios are taken
// per cycle (B over the A of the same cycle); the table gives their median, min and max.
// The cost of the profile reads is shown apart: the wall time the JS thread spent in
// HeapProfiler.getSamplingProfile (timed in the child around the inspector call) as a
// share of the round.
//
// Where `taskset` exists and there are at least 2 CPUs, the server is pinned to the
// last CPU and autocannon to the others (as bench:overhead does).
//
// Environment: MEASURE (default paired,throughput; any of throughput, rate, slots,
// paired, profile, instructions), CYCLES (per measurement; default the multiple of the number of arms
// from 4 up: 4 for the default 4 arms), ROUND_S (default 30: the
// attribution's durationMs; 10 makes B's reads 3x denser than production),
// CONNECTIONS (default 10), RATE (default 400), WARMUP_S (default 5), LEAK_PER_S
// (records a second, default 400), LEAK_CAP (records kept, default 48000, ~64 MB; past
// it each new record replaces the oldest), HEAP_MB (default 384; 0: V8's default),
// ARMS (default A,B,B-3reads,A-again; A first, then any of: B; B-auto; B-3reads, attributeLeak()
// as it was before the single read: a read at the end of each of 3 windows (3 forced full
// GCs) at 524288; B-previous, attributeLeak() as
// it was before this benchmark: samplingIntervalBytes 131072, a read at the start and
// the sampler stopped with stopSampling (5 forced full GCs instead of 3); A-again, nothing running, an A/A check;
// session-only, an inspector session connected for the round and nothing else;
// sampling-only, the sampler at 524288 for the round with no profile reads; a sampling
// interval in bytes such as 524288, attributeLeak() with it), SLOT_MS (default 1000),
// SLOT_GROUPS (default 60), SLOT_INTERVALS (default 131072,524288), PAIRED_GROUPS,
// PAIRED_LEAK_PER_S, PROFILE_PAIRS, PROFILE_ARMS, INSTR_ARMS, INSTR_N (default 4000),
// INSTR_W (1500), INSTR_REPEAT (8), INSTR_JOBS (2), INSTR_LEAK_PER_S (2),
// REPORT_FROM (a saved profile output: its robust paired figures, nothing measured),
// PIN=0 to not pin.
// It is a benchmark, not a test: the exit code is 0 whatever the verdict.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const { childEnv, envInteger, median, meanCi95, percentShift, pairedShiftCi95, runBench, pinning, shuffle, callgrindWindow, pool, listeningPort } = require('./support');
const { CATEGORY_NAMES, stackCounter } = require('./perf-profile');
const { RATE_MEASURE_MS } = require('../lib/attribution');

const ROOT = path.resolve(__dirname, '..');
const TARGET = 0.01;
// Arms that run nothing: A/A checks of a method, given no verdict against the target.
const AA_ARMS = new Set(['off-again', 'A-again']);

// ---------------------------------------------------------------------------
// Child: the app.

/**
 * Options for an attribution that ends when the round's load does: an 'auto' interval
 * (no samplingIntervalBytes given) first measures the allocation rate for
 * RATE_MEASURE_MS, so it samples that much less.
 */
function fitted(options) {
  const o = { durationMs: 30_000, ...options };
  return typeof o.samplingIntervalBytes === 'number' ? o : { ...o, durationMs: o.durationMs - RATE_MEASURE_MS };
}

async function serve(leakPerSecond) {
  // Time the inspector calls the attribution makes (it opens its own Session).
  const inspector = require('node:inspector');
  const reads = { count: 0, ms: 0, maxMs: 0 };
  const origPost = inspector.Session.prototype.post;
  inspector.Session.prototype.post = function post(method, params, cb) {
    // getSamplingProfile and stopSampling both force a full GC and build a profile.
    if ((method !== 'HeapProfiler.getSamplingProfile' && method !== 'HeapProfiler.stopSampling') || typeof cb !== 'function') return origPost.call(this, method, params, cb);
    const t0 = process.hrtime.bigint();
    return origPost.call(this, method, params, (err, res) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      reads.count++;
      reads.ms += ms;
      reads.maxMs = Math.max(reads.maxMs, ms);
      cb(err, res);
    });
  };
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const gc = { major: 0, majorMs: 0, allMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.allMs += e.duration;
      if (e.detail && e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.major++;
        gc.majorMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });

  const express = require(path.join(ROOT, 'node_modules', 'express'));
  const memwarden = require(ROOT);
  const m = memwarden.MemoryManagerService.getInstance();
  await m.initialize({ leakAttribution: false, logger: { info() {}, warn() {}, error() {} } });
  const app = express();
  memwarden.express.attach(app);

  const perSecond = Number(leakPerSecond);
  const sessions = [];
  // The newest LEAK_CAP records are kept (~1.3 KB each: 48,000 are ~64 MB); past that
  // each new one replaces the oldest, so that a server that runs for an hour (profile,
  // paired) does not fill its heap and slow down as it nears the limit. Within any
  // window shorter than the cap's span the records still only accumulate.
  const cap = envInteger('LEAK_CAP', 48_000, 1, 100_000_000);
  let recorded = 0;
  const since = Date.now();
  function rememberSession(req, user) {
    // At most `perSecond` records a second since the start: ~0.5 MB/s at 400.
    if (recorded >= ((Date.now() - since) * perSecond) / 1000) return null;
    sessions[recorded % cap] = { id: recorded, at: Date.now(), url: req.url, user: user.name, note: Buffer.alloc(1200, 97 + (recorded % 26)).toString('latin1') };
    return ++recorded;
  }
  let served = 0;
  // MEASURE=instructions: the sampler on from the start (under valgrind).
  if (process.env.SERVE_SAMPLER) {
    const session = new inspector.Session();
    session.connect();
    await new Promise((resolve, reject) => session.post('HeapProfiler.startSampling', { samplingInterval: Number(process.env.SERVE_SAMPLER) }, (err) => (err ? reject(err) : resolve())));
  }
  app.get('/sessions', function sessionsRoute(req, res) {
    served++;
    const n = served;
    const user = { id: n % 1000, name: `user-${n % 1000}`, roles: ['reader', n % 7 === 0 ? 'admin' : 'member'], prefs: { theme: n % 2 ? 'dark' : 'light', lang: 'en' } };
    const items = [];
    for (let i = 0; i < 20; i++) items.push({ id: i, title: `item ${i} of ${user.name}`, price: Math.round(((i * 37 + n) % 1000) * 1.07) / 100, tags: ['a', `t${i % 5}`] });
    const total = items.reduce((s, x) => s + x.price, 0);
    res.json({ user, items, total: Math.round(total * 100) / 100, session: rememberSession(req, user) });
  });

  let cpu0 = null;
  let served0 = 0;
  let reads0 = null;
  let gc0 = null;
  process.on('message', (msg) => {
    if (msg.op === 'start') {
      cpu0 = process.cpuUsage();
      served0 = served;
      reads0 = { ...reads };
      gc0 = { ...gc };
      process.send({ op: 'started' });
    } else if (msg.op === 'stop') {
      const c = process.cpuUsage(cpu0);
      const n = served - served0;
      process.send({
        op: 'stopped',
        requests: n,
        cpuUsPerRequest: n > 0 ? (c.user + c.system) / n : null,
        reads: reads.count - reads0.count,
        readMs: reads.ms - reads0.ms,
        maxReadMs: reads.maxMs,
        majorGcs: gc.major - gc0.major,
        majorGcMs: gc.majorMs - gc0.majorMs,
        gcMs: gc.allMs - gc0.allMs,
        heapUsedMB: process.memoryUsage().heapUsed / 1048576,
        sessions: recorded,
      });
      reads.maxMs = 0;
    } else if (msg.op === 'slots') {
      runSlots(msg).then(
        (slots) => process.send({ op: 'slotted', slots }),
        (err) => process.send({ op: 'slotted', error: String(err && err.message) }),
      );
    } else if (msg.op === 'attribute') {
      const done = (result, error) => process.send({ op: 'attributed', result, error });
      if (msg.mode === 'previous' || msg.mode === 'reads') {
        const how = msg.mode === 'previous' ? { readAtStart: true, stopSampling: true } : { readAtStart: false, stopSampling: false };
        readsAttribution(msg.options, how).then((r) => done(r), (err) => done(null, String(err && err.message)));
        return;
      }
      if (msg.mode === 'session-only') {
        // An inspector session connected for the same span, nothing asked of it.
        const session = new inspector.Session();
        session.connect();
        setTimeout(() => (session.disconnect(), done({ sites: [] })), msg.options.durationMs || 30_000);
        return;
      }
      if (msg.mode === 'sampling-only') {
        // The sampler alone, for the same span, with no profile reads.
        const session = new inspector.Session();
        session.connect();
        session.post('HeapProfiler.startSampling', { samplingInterval: 524288 }, () => {
          setTimeout(() => session.post('HeapProfiler.disable', () => (session.disconnect(), done({ sites: [] }))), msg.options.durationMs || 30_000);
        });
        return;
      }
      m.attributeLeak(fitted(msg.options)).then(
        (r) => done({ durationMs: r.durationMs, samplingIntervalBytes: r.samplingIntervalBytes, allocationRateBytesPerSec: r.allocationRateBytesPerSec, sites: r.sites.slice(0, 1).map((s) => ({ functionName: s.functionName, url: s.url, lineNumber: s.lineNumber, shareOfGrowth: s.shareOfGrowth })) }),
        (err) => done(null, String(err && err.message)),
      );
    }
  });
  // Attributions as lib/attribution.js made them before, for a before/after in the same
  // run, with the same processing of each read: a profile read at the end of each
  // window (each forcing a full GC), and for `previous` (before this benchmark, at
  // 131072, passed by the arm) also a read right after starting and
  // HeapProfiler.stopSampling at the end, which forces one more full GC to build a
  // profile that was thrown away: 5 forced full GCs; for `reads` (December 2 2026, at
  // 524288) the 3 reads alone, the sampler stopped with HeapProfiler.disable.
  async function readsAttribution(options, { readAtStart, stopSampling }) {
    const { bytesBySite, rankGrowingSites, checkOptions } = require(path.join(ROOT, 'lib', 'attribution'));
    const o = checkOptions(options);
    const session = new inspector.Session();
    session.connect();
    const call = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
    const startedAt = Date.now();
    try {
      await call('HeapProfiler.startSampling', { samplingInterval: o.samplingIntervalBytes });
      const snapshots = [readAtStart ? bytesBySite((await call('HeapProfiler.getSamplingProfile')).profile) : new Map()];
      const step = Math.floor(o.durationMs / o.windows);
      for (let i = 0; i < o.windows; i++) {
        await new Promise((r) => setTimeout(r, step));
        snapshots.push(bytesBySite((await call('HeapProfiler.getSamplingProfile')).profile));
      }
      const sites = rankGrowingSites(snapshots, Date.now() - startedAt, o.top);
      return { sites: sites.slice(0, 1).map((x) => ({ functionName: x.functionName, url: path.relative(ROOT, x.url.replace(/^file:\/\//, '')), lineNumber: x.lineNumber, shareOfGrowth: x.shareOfGrowth })) };
    } finally {
      await call(stopSampling ? 'HeapProfiler.stopSampling' : 'HeapProfiler.disable').catch(() => {});
      session.disconnect();
    }
  }

  // Fine-grained interleaving of the sampler alone: groups of slots of `slotMs` in a
  // random order, one slot per arm ('off', 'off-again', and the sampler at each
  // interval), each slot's requests served and CPU time; the sampler is started at the
  // slot's beginning and stopped at its end (no profile reads).
  async function runSlots({ slotMs, groups, intervals, attributions = {} }) {
    const session = new inspector.Session();
    session.connect();
    const call = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const arms = ['off', 'off-again', ...intervals.map(String), ...Object.keys(attributions)];
    const out = [];
    try {
      for (let g = 0; g < groups; g++) {
        const group = {};
        for (const arm of shuffle([...arms])) {
          const c0 = process.cpuUsage();
          const n0 = served;
          const t0 = process.hrtime.bigint();
          if (attributions[arm]) {
            // A whole attribution inside the slot (its own inspector session), then the
            // rest of the slot with nothing running.
            await m.attributeLeak(fitted({ ...attributions[arm], durationMs: slotMs - 1000 }));
            await wait(Math.max(0, slotMs - Number(process.hrtime.bigint() - t0) / 1e6));
          } else {
            const sampler = arm !== 'off' && arm !== 'off-again';
            if (sampler) await call('HeapProfiler.startSampling', { samplingInterval: Number(arm) });
            await wait(slotMs);
            if (sampler) await call('HeapProfiler.disable');
          }
          const c = process.cpuUsage(c0);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          const n = served - n0;
          group[arm] = { rps: (n * 1000) / ms, cpuUs: n > 0 ? (c.user + c.system) / n : null };
        }
        out.push(group);
      }
    } finally {
      session.disconnect();
    }
    return out;
  }
  process.on('disconnect', () => process.exit(0));
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
}

// ---------------------------------------------------------------------------
// Parent.

function startServer({ leakPerSecond, pin, heapMB, nodeFlags = [] }) {
  const args = [...(heapMB ? [`--max-old-space-size=${heapMB}`] : []), ...nodeFlags, __filename, '--serve', String(leakPerSecond)];
  const [cmd, argv] = pin ? ['taskset', ['-c', pin.server, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, {
    env: childEnv({ MEMORY_MONITORING_INTERVAL: '1000' }),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return listeningPort(child, 'the attribution benchmark server').then((port) => ({ child, port }));
}

function ask(child, msg, reply) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.op === reply) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

/**
 * autocannon against /sessions for `seconds` (at `rate` req/s overall; 0: max load). The
 * run is awaitable (its result) and can be cut short with stop().
 */
function load(port, seconds, connections, rate) {
  const autocannon = require('autocannon');
  const opts = { url: `http://127.0.0.1:${port}/sessions`, connections, duration: seconds, pipelining: 1 };
  if (rate) opts.overallRate = rate;
  return autocannon(opts);
}

/** An arm of ARMS: A (nothing), A-again, B (production attribution), sampling-only or an interval. */
function parseArm(spec) {
  if (spec === 'A') return { name: 'A', what: 'no attribution running' };
  if (spec === 'A-again') return { name: 'A-again', what: 'no attribution running either (an A/A check of the method)' };
  if (spec === 'B') return { name: 'B', what: 'attributeLeak() at 512 KB, the default before the auto interval (30 s, samplingIntervalBytes 524288, one profile read at the end)', options: { samplingIntervalBytes: 524288 } };
  if (spec === 'B-auto') return { name: 'B-auto', what: "attributeLeak() at its defaults (samplingIntervalBytes 'auto': 2 s measuring the allocation rate, 28 s sampling, one profile read at the end)", options: {} };
  if (spec === 'B-previous') return { name: 'B-previous', what: 'attributeLeak() as it was before this benchmark (samplingIntervalBytes 131072, windows + 1 reads, then stopSampling: 5 forced full GCs)', mode: 'previous', options: { samplingIntervalBytes: 131072 } };
  if (spec === 'B-3reads') return { name: 'B-3reads', what: 'attributeLeak() as it was before the single read (samplingIntervalBytes 524288, a read at the end of each of 3 windows: 3 forced full GCs)', mode: 'reads', options: { samplingIntervalBytes: 524288 } };
  if (spec === 'session-only') return { name: 'session-only', what: 'an inspector session connected for the round, no sampling', mode: 'session-only', options: {} };
  if (spec === 'sampling-only') return { name: 'sampling-only', what: 'HeapProfiler sampling at 524288 with no profile reads', mode: 'sampling-only', options: {} };
  const n = Number(spec);
  if (!Number.isInteger(n) || n < 1024 || n > 16 * 1048576) {
    throw new Error(`ARMS: ${JSON.stringify(spec)} is not accepted; accepted: A first, then B, B-auto, B-3reads, B-previous, A-again, session-only, sampling-only or a sampling interval in bytes (a whole number from 1024 to 16777216), comma-separated`);
  }
  return { name: `B@${n}`, what: `attributeLeak({ samplingIntervalBytes: ${n} })`, options: { samplingIntervalBytes: n } };
}

async function measure(kind, arms, cfg) {
  const rate = kind === 'rate' ? cfg.rate : 0;
  const rows = [];
  for (let c = 0; c < cfg.cycles; c++) {
    const k = c % arms.length;
    const order = [...arms.slice(k), ...arms.slice(0, k)];
    const row = { cycle: c + 1 };
    for (const arm of order) {
      // A fresh server per round, so every arm starts from the same state: the leak has
      // held ~20 MB when the round ends (as when a leak is flagged ~20 s in and
      // attributed). With one server per cycle, its V8 ran 240 major GCs in the cycle's
      // first round and 100 in its last as the heap grew: a swing larger than the costs
      // measured here.
      const server = await startServer(cfg);
      try {
        if (cfg.warmup > 0) await load(server.port, cfg.warmup, cfg.connections, rate);
        await ask(server.child, { op: 'start' }, 'started');
        const running = load(server.port, cfg.roundS + 1, cfg.connections, rate);
        let attributed = null;
        if (arm.options) {
          await new Promise((r) => setTimeout(r, 500));
          const options = cfg.roundS === 30 ? arm.options : { ...arm.options, durationMs: cfg.roundS * 1000 };
          attributed = ask(server.child, { op: 'attribute', mode: arm.mode, options }, 'attributed');
        }
        const res = await running;
        const st = await ask(server.child, { op: 'stop' }, 'stopped');
        const at = attributed ? await attributed : null;
        if (at && at.error) throw new Error(`${arm.name}: attribution failed: ${at.error}`);
        if (res.errors || res.non2xx || res.timeouts) throw new Error(`${arm.name}: ${res.errors} errors, ${res.non2xx} non-2xx, ${res.timeouts} timeouts`);
        const top = at && at.result.sites[0];
        row[arm.name] = {
          rps: res.requests.total / res.duration,
          p99: res.latency.p99,
          max: res.latency.max,
          cpuUs: st.cpuUsPerRequest,
          reads: st.reads,
          readMs: st.readMs,
          maxReadMs: st.maxReadMs,
          readShare: st.readMs / (res.duration * 1000),
          majorGcs: st.majorGcs,
          gcMs: st.gcMs,
          heapMB: st.heapUsedMB,
          top: top ? `${top.functionName} (${top.url}:${top.lineNumber}) ${Math.round(top.shareOfGrowth * 100)} %` : at ? '(none)' : '',
          interval: at && at.result.samplingIntervalBytes ? `, interval ${at.result.samplingIntervalBytes}` : '',
        };
        const x = row[arm.name];
        console.log(
          `  ${kind} cycle ${c + 1} ${arm.name.padEnd(13)} ${x.rps.toFixed(0).padStart(5)} req/s, ${x.cpuUs.toFixed(1)} µs CPU/req, p99 ${x.p99} ms, max ${x.max} ms, ` +
            `${x.majorGcs} major GCs (${x.gcMs.toFixed(0)} ms in GC), heap ${x.heapMB.toFixed(0)} MB` +
            (at ? `, ${x.reads} reads ${x.readMs.toFixed(1)} ms (max ${x.maxReadMs.toFixed(1)})${x.interval}, top: ${x.top}` : ''),
        );
      } finally {
        server.child.kill();
      }
    }
    rows.push(row);
  }
  return rows;
}

/**
 * The sampler alone, interleaved finely inside one server under max-throughput load
 * (slots of SLOT_MS in random order within each group): less exposed to the machine's
 * drift than whole 30 s rounds.
 */
async function measureSlots(cfg, { slotMs, groups, intervals, attributions = {}, leakPerSecond = cfg.leakPerSecond }) {
  const server = await startServer({ ...cfg, leakPerSecond });
  try {
    if (cfg.warmup > 0) await load(server.port, cfg.warmup, cfg.connections, 0);
    const arms = 2 + intervals.length + Object.keys(attributions).length;
    const seconds = Math.ceil((groups * arms * (slotMs + 200)) / 1000) + 10;
    const running = load(server.port, seconds, cfg.connections, 0);
    await new Promise((r) => setTimeout(r, 1000));
    const { slots, error } = await ask(server.child, { op: 'slots', slotMs, groups, intervals, attributions }, 'slotted');
    if (error) throw new Error(`slots: ${error}`);
    running.stop();
    const res = await running;
    if (res.errors || res.non2xx || res.timeouts) throw new Error(`slots: ${res.errors} errors, ${res.non2xx} non-2xx, ${res.timeouts} timeouts`);
    return slots;
  } finally {
    server.child.kill();
  }
}

/**
 * Where the server's CPU goes while an attribution runs (MEASURE=profile): one server
 * under max load (started with --perf-basic-prof, so that perf names JIT frames),
 * PROFILE_PAIRS groups of ROUND_S + 1 s windows, `off` and the arms of PROFILE_ARMS in
 * random order within each group; Linux perf records every thread of the server (call
 * graphs, 999 Hz) for each window, and an arm's attribution (attributeLeak() with the
 * arm's options, started 0.5 s into its window) ends inside it, its profile read
 * included. Each sample is charged to
 * a category by its stack (bench/perf-profile.js).
 */
async function measureProfile(cfg) {
  try {
    execFileSync('perf', ['version'], { stdio: 'ignore' });
  } catch {
    console.log('\nMEASURE=profile needs Linux perf on the PATH (Debian: apt-get install linux-perf) and permission to record another process (root, or kernel.perf_event_paranoid <= 1); skipped.');
    return null;
  }
  console.log(`\nprofile: one server (leak ${cfg.pairedLeakPerSecond} records/s), ${cfg.profilePairs} groups of ${cfg.roundS + 1} s windows: off, ${Object.keys(cfg.profileArms).join(', ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-perf-'));
  const server = await startServer({ ...cfg, leakPerSecond: cfg.pairedLeakPerSecond, nodeFlags: ['--perf-basic-prof'] });
  const windowS = cfg.roundS + 1;
  const windows = [];
  let running = null;
  try {
    if (cfg.warmup > 0) await load(server.port, cfg.warmup, cfg.connections, 0);
    const arms = ['off', ...Object.keys(cfg.profileArms)];
    running = load(server.port, cfg.profilePairs * arms.length * (windowS + 5) + 30, cfg.connections, 0);
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < cfg.profilePairs; i++) {
      for (const arm of shuffle([...arms])) {
        const file = path.join(dir, `${arm}-${i}.data`);
        await ask(server.child, { op: 'start' }, 'started');
        const t0 = performance.now();
        const recorded = new Promise((resolve, reject) => {
          const rec = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(server.child.pid), '-o', file, '--', 'sleep', String(windowS)], { stdio: 'ignore' });
          rec.on('error', reject);
          rec.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`perf record exited with ${code}`))));
        });
        let attributed = null;
        if (arm !== 'off' && cfg.profileArms[arm] !== null) {
          await new Promise((r) => setTimeout(r, 500));
          const options = { ...cfg.profileArms[arm], ...(cfg.roundS === 30 ? {} : { durationMs: cfg.roundS * 1000 }) };
          attributed = ask(server.child, { op: 'attribute', options }, 'attributed');
        }
        await recorded;
        const st = await ask(server.child, { op: 'stop' }, 'stopped');
        const seconds = (performance.now() - t0) / 1000;
        if (!st.requests) throw new Error(`profile group ${i + 1}, ${arm}: the server answered no request in its ${windowS} s window (heap ${st.heapUsedMB.toFixed(0)} MB used)`);
        const at = attributed ? await attributed : null;
        if (at && at.error) throw new Error(`attribution failed: ${at.error}`);
        const top = at && at.result.sites[0];
        windows.push({ pair: i, arm, file, requests: st.requests, rps: st.requests / seconds, cpuUs: st.cpuUsPerRequest, readMs: st.readMs, majorGcs: st.majorGcs });
        console.log(
          `  profile group ${i + 1} ${arm.padEnd(20)} ${(st.requests / seconds).toFixed(0).padStart(5)} req/s, ${st.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${st.majorGcs} major GCs` +
            (at ? `, at ${(at.result.samplingIntervalBytes / 1048576).toFixed(2)} MB, read ${st.readMs.toFixed(1)} ms, top: ${top ? `${top.functionName} ${Math.round(top.shareOfGrowth * 100)} %` : '(none)'}` : ''),
        );
      }
    }
  } finally {
    if (running) running.stop();
    server.child.kill();
    fs.rmSync(path.join(os.tmpdir(), `perf-${server.child.pid}.map`), { force: true });
  }
  try {
    for (const w of windows) {
      const counter = stackCounter();
      const script = spawn('perf', ['script', '-F', 'comm,tid,ip,sym,dso', '-i', w.file], { stdio: ['ignore', 'pipe', 'ignore'] });
      const lines = readline.createInterface({ input: script.stdout });
      lines.on('line', (l) => counter.line(l));
      await new Promise((resolve, reject) => {
        script.on('error', reject);
        lines.on('close', resolve);
      });
      w.counts = counter.end();
      if (w.counts.total === 0) throw new Error(`perf script found no samples in ${w.file} (${w.arm}, group ${w.pair + 1})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return windows;
}

/** The report of MEASURE=profile: CPU by category, per group, then means ± 95 %, per arm. */
function reportProfile(windows) {
  const groups = [];
  for (const w of windows) (groups[w.pair] ||= {})[w.arm] = w;
  const arms = Object.keys(groups[0]).filter((a) => a !== 'off');
  const per = (w, k) => w.counts[k] / w.requests;
  const share = (arm, k) => {
    const ws = windows.filter((w) => w.arm === arm);
    return ws.reduce((a, w) => a + w.counts[k], 0) / ws.reduce((a, w) => a + w.counts.total, 0);
  };
  const f = (x) => `${(x * 100).toFixed(2)} %`;
  const fd = ({ mean, ci }) => `${mean >= 0 ? '+' : ''}${(mean * 100).toFixed(2)} ± ${(ci * 100).toFixed(2)} %`;
  console.log('');
  console.log(`### Where the server's CPU went (perf, every thread, 999 Hz), ${groups.length} groups of windows (off, ${arms.join(', ')}) in random order, max throughput`);
  console.log("Share: of the samples in the arm's windows; difference: the arm − off per request, as % of off's CPU per request (mean ± 95 % over groups).");
  console.log(`| category | off: share | ${arms.map((a) => `${a}: share | difference`).join(' | ')} |`);
  console.log(`|---|---:|${arms.map(() => '---:|---:').join('|')}|`);
  for (const k of [...CATEGORY_NAMES, 'total']) {
    const cells = arms.map((a) => `${f(share(a, k))} | ${fd(meanCi95(groups.map((g) => (per(g[a], k) - per(g.off, k)) / per(g.off, 'total'))))}`);
    console.log(`| ${k} | ${f(share('off', k))} | ${cells.join(' | ')} |`);
  }
  const lines = [];
  for (const arm of arms) {
    // The attribution's own work: the samples under the inspector, the sampler and
    // slow-path allocation beyond off's share of each (off has some: the leak
    // detector's confirmation collections go through the inspector when Node runs
    // without --expose-gc, and JIT code leaves for the runtime now and then).
    const OWN = ['read', 'sampler', 'slow-path allocation', 'rate measure'];
    const own = meanCi95(groups.map((g) => OWN.reduce((sum, k) => sum + g[arm].counts[k] / g[arm].counts.total - g.off.counts[k] / g.off.counts.total, 0)));
    const rest = meanCi95(groups.map((g) => {
      const a = g[arm];
      const o = g.off;
      const ownPerReq = OWN.reduce((sum, k) => sum + per(a, k) - per(o, k), 0);
      return (per(a, 'total') - per(o, 'total') - ownPerReq) / per(o, 'total');
    }));
    const rps = meanCi95(groups.map((g) => 1 - g[arm].rps / g.off.rps));
    const cpu = meanCi95(groups.map((g) => g[arm].cpuUs / g.off.cpuUs - 1));
    lines.push(
      `${arm}: its own work (inspector, sampler, extra slow-path allocations, rate measure) ${fd(own)} of the server's CPU while it ran; ` +
        `everything else per request ${fd(rest)}; req/s cost ${fd(rps)}, CPU per request ${fd(cpu)} (${groups.length} groups); ` +
        (AA_ARMS.has(arm)
          ? 'an A/A check: how far the method is from exact'
          : `target <= 1 % of throughput: ${rps.mean + rps.ci <= TARGET ? 'MET' : rps.mean - rps.ci > TARGET ? 'NOT MET' : 'not resolved at this noise'} (req/s, 95 % interval)`),
    );
    lines.push(robustPaired(groups, arm));
  }
  for (const l of lines) console.log(l);
  return lines;
}

function reportSlots(title, groups) {
  console.log('');
  console.log(`### ${title}`);
  console.log('| arm | req/s ratio to off: median | mean ± 95 % | CPU/req ratio: median | mean ± 95 % |');
  console.log('|---|---:|---:|---:|---:|');
  const lines = [];
  const stats = (xs) => ({ med: median(xs), ...meanCi95(xs) });
  for (const arm of Object.keys(groups[0]).filter((a) => a !== 'off')) {
    const r = stats(groups.map((g) => g[arm].rps / g.off.rps));
    const c = stats(groups.filter((g) => g[arm].cpuUs && g.off.cpuUs).map((g) => g[arm].cpuUs / g.off.cpuUs));
    const name = arm === 'off-again' ? 'off-again (A/A check)' : /^\d+$/.test(arm) ? `sampler at ${arm} B` : arm;
    console.log(`| ${name} | ${r.med.toFixed(4)} | ${r.mean.toFixed(4)} ± ${r.ci.toFixed(4)} | ${c.med.toFixed(4)} | ${c.mean.toFixed(4)} ± ${c.ci.toFixed(4)} |`);
    lines.push(
      `${name}: req/s ratio median ${r.med.toFixed(4)} (mean ${r.mean.toFixed(4)} ± ${r.ci.toFixed(4)}), CPU/req ratio median ${c.med.toFixed(4)} (mean ${c.mean.toFixed(4)} ± ${c.ci.toFixed(4)}); ` +
        (arm === 'off-again' ? 'how far the method is from exact' : `cost ${pct(1 - r.med)} of throughput (mean ${pct(1 - r.mean)}), ${pct(c.med - 1)} CPU/req`),
    );
    lines.push(robustPaired(groups, arm));
  }
  for (const l of lines) console.log(l);
  return lines;
}

const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;

/**
 * An arm against its group's `off`, robustly: the Hodges–Lehmann centre of the
 * per-group log ratios with its distribution-free 95 % interval (pairedShiftCi95), for
 * req/s (as a cost, 1 - ratio) and CPU per request (ratio - 1). A window that a burst
 * of the machine's other work slowed moves it by one Walsh average, where it moves the
 * mean ± t by its whole size over the number of groups.
 */
function robustPaired(groups, arm) {
  const interval = (xs, toCost) => {
    const r = pairedShiftCi95(xs);
    const [a, b] = [toCost(r.lo), toCost(r.hi)].sort((x, y) => x - y);
    return { est: toCost(r.shift), lo: a, hi: b, text: `${pct(toCost(r.shift))} [${Number.isNaN(a) ? '?' : (a * 100).toFixed(2)}, ${Number.isNaN(b) ? '?' : (b * 100).toFixed(2)}]` };
  };
  const rps = interval(groups.map((g) => Math.log(g[arm].rps / g.off.rps)), (x) => 1 - Math.exp(x));
  const cpu = interval(groups.filter((g) => g[arm].cpuUs && g.off.cpuUs).map((g) => Math.log(g[arm].cpuUs / g.off.cpuUs)), (x) => Math.exp(x) - 1);
  const verdict = AA_ARMS.has(arm)
    ? 'an A/A check: how far the method is from exact'
    : `target <= 1 % of throughput: ${rps.hi <= TARGET ? 'MET' : rps.lo > TARGET ? 'NOT MET' : 'not resolved at this noise'}`;
  return `${arm}, paired Hodges–Lehmann over ${groups.length} groups [95 %]: req/s cost ${rps.text}, CPU per request ${cpu.text}; ${verdict}`;
}

/**
 * REPORT_FROM: the robust paired figures (robustPaired) of a saved MEASURE=profile
 * output, from its per-window lines ("profile group N arm X req/s, Y µs CPU/req").
 */
function reportFrom(file) {
  const groups = [];
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^ {2}profile group (\d+) (\S+)\s+(\d+) req\/s, ([\d.]+) µs CPU\/req/gm)) {
    (groups[Number(m[1]) - 1] ||= {})[m[2]] = { rps: Number(m[3]), cpuUs: Number(m[4]) };
  }
  const whole = groups.filter((g) => g && g.off);
  if (whole.length === 0) throw new Error(`REPORT_FROM=${JSON.stringify(file)}: no "profile group" lines with an off window`);
  const arms = Object.keys(whole[0]).filter((a) => a !== 'off');
  const complete = whole.filter((g) => arms.every((a) => g[a]));
  console.log(`${file}: ${complete.length} complete groups (off, ${arms.join(', ')})`);
  for (const arm of arms) console.log(robustPaired(complete, arm));
}

function report(kind, arms, rows) {
  const base = arms[0].name;
  const metric = kind === 'throughput' ? 'rps' : 'cpuUs';
  const costOf = kind === 'throughput' ? (r) => 1 - r : (r) => r - 1;
  console.log('');
  console.log(kind === 'throughput' ? '### Max throughput: req/s (server CPU µs per request); ratios of req/s' : '### Fixed rate: server CPU µs per request, p99 ms');
  const head = ['cycle', ...arms.map((a) => a.name), ...arms.slice(1).map((a) => `${a.name}/${base}`)];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---:').join('|')}|`);
  for (const row of rows) {
    const cells = arms.map((a) => {
      const x = row[a.name];
      return kind === 'throughput' ? `${x.rps.toFixed(0)} (${x.cpuUs.toFixed(1)} µs)` : `${x.cpuUs.toFixed(1)} µs, p99 ${x.p99}`;
    });
    const ratios = arms.slice(1).map((a) => (row[a.name][metric] / row[base][metric]).toFixed(4));
    console.log(`| ${row.cycle} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  const verdicts = [];
  for (const a of arms.slice(1)) {
    const rs = rows.map((row) => row[a.name][metric] / row[base][metric]);
    const med = median(rs);
    const cost = costOf(med);
    const readShares = rows.map((row) => row[a.name].readShare);
    const p99r = rows.map((row) => row[a.name].p99 / row[base].p99);
    // At max throughput the server's CPU per request is the steadier figure: req/s
    // also moves with how much of its CPU the machine's other work leaves it.
    const cpuRs = rows.map((row) => row[a.name].cpuUs / row[base].cpuUs);
    const cpuLine =
      kind === 'throughput'
        ? `; CPU/req ratio median ${median(cpuRs).toFixed(4)} (min ${Math.min(...cpuRs).toFixed(4)}, max ${Math.max(...cpuRs).toFixed(4)}): throughput cost from CPU ${pct(1 - 1 / median(cpuRs))}`
        : '';
    const line =
      `${a.name} (${a.what}): ${kind === 'throughput' ? 'req/s' : 'CPU/req'} ratio ${a.name}/${base} median ${med.toFixed(4)} ` +
      `(min ${Math.min(...rs).toFixed(4)}, max ${Math.max(...rs).toFixed(4)}, ${rs.length} cycles); cost ${pct(cost)}; ` +
      (a.name === 'A-again' ? 'the same app with nothing running: how far the method is from exact' : `target <= 1 %: ${cost <= TARGET ? 'MET' : 'NOT MET'}`) +
      cpuLine +
      (a.options && !a.mode?.endsWith('-only') ? `; profile reads: median ${pct(median(readShares))} of the round's time (max read ${Math.max(...rows.map((row) => row[a.name].maxReadMs)).toFixed(1)} ms)` : '') +
      (kind === 'rate'
        ? `; extra server CPU median ${median(rows.map((row) => ((row[a.name].cpuUs - row[base].cpuUs) * row[a.name].rps) / 1e4)).toFixed(2)} % of one core`
        : '') +
      (kind === 'rate' ? `; p99 ratio median ${median(p99r).toFixed(3)} (min ${Math.min(...p99r).toFixed(3)}, max ${Math.max(...p99r).toFixed(3)})` : '');
    verdicts.push(line);
  }
  for (const v of verdicts) console.log(v);
  return verdicts;
}

// A rough cycle model for the simulated counts: each first-level miss costs ~10 cycles
// and each last-level miss ~100 (valgrind's manual: ~10 for an L1 miss, up to ~200 for
// an LL miss), every instruction 1.
const L1_MISS_CYCLES = 10;
const LL_MISS_CYCLES = 100;
// The last-level cache simulated: this machine's L3 (32 MB, 16-way, 64 B lines, as
// lscpu shows it). Left to itself valgrind reads a 512 MB 2-way cache from this VM's
// CPUID, where nothing but a first touch would miss.
const LL_CACHE = '33554432,16,64';

/**
 * One request's work on average over a window of INSTR_N requests, after INSTR_W, in a
 * server of arm `sampler` ('' or bytes): instructions, first-level and last-level
 * misses (callgrind's cache simulation) and the cycles they make by the model above.
 */
async function countInstructions(sampler, cfg) {
  const argv = ['--cache-sim=yes', `--LL=${LL_CACHE}`, process.execPath, '--single-threaded', `--max-old-space-size=${cfg.heapMB || 384}`, __filename, '--serve', String(cfg.instrLeakPerSecond)];
  const env = childEnv({ MEMORY_MONITORING_INTERVAL: '3600000', ...(sampler ? { SERVE_SAMPLER: sampler } : {}) });
  // This process may be pinned to the load's CPU (pinning()); the runs may use them all.
  const taskset = cfg.pin ? `0-${os.cpus().length - 1}` : null;
  const t = await callgrindWindow(argv, { env, urlPath: '/sessions', warm: cfg.instrW, n: cfg.instrN, what: `sampler ${sampler || 'off'}`, taskset });
  const n = cfg.instrN;
  const ir = t.Ir / n;
  const l1 = (t.I1mr + t.D1mr + t.D1mw) / n;
  const ll = (t.ILmr + t.DLmr + t.DLmw) / n;
  return { ir, l1, ll, cycles: ir + L1_MISS_CYCLES * l1 + LL_MISS_CYCLES * ll };
}

/**
 * MEASURE=instructions: work per request, nearly deterministic where req/s is not. Each
 * arm's server (INSTR_ARMS: off and sampling intervals in bytes, the sampler on from
 * the start with no reads) runs under valgrind's callgrind with its cache simulation:
 * INSTR_W requests to warm up, then the counters are zeroed and INSTR_N more are
 * counted (callgrindWindow). INSTR_REPEAT repeats, each running every arm once in a
 * shuffled order, INSTR_JOBS servers at once. Each arm is compared with `off` by the
 * Hodges–Lehmann shift of its log-counts and its distribution-free 95 % interval
 * (shiftCi95): now and then one run is ~3 % above the rest (in an 8-run pass, one of
 * off's: 1,049,986 instructions a request against 1,007,139-1,015,196), which swung a
 * mean and its t interval to ±1.1 %. Under valgrind the
 * app runs ~50x slower, so its allocation rate is too, but a sampling interval is in
 * bytes: the samples per request, and their cost, are those of full speed. The leak
 * runs at INSTR_LEAK_PER_S records a second (default 2: about as many per request as
 * 100 a second at full speed).
 */
async function measureInstructions(cfg) {
  for (const tool of ['valgrind', 'callgrind_control']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      console.log(`\ninstructions: ${tool} is not installed (Debian: apt-get install valgrind); skipped.`);
      return [];
    }
  }
  const { instrN: n, instrW: w, instrRepeat: repeat } = cfg;
  const arms = ['off', ...cfg.instrArms.map(String)];
  console.log(
    `\ninstructions: ${arms.join(', ')}; per request = the counts over ${n} requests after ${w} to warm up, / ${n}; ` +
      `${repeat} repeats of every arm, ${cfg.instrJobs} servers at once (callgrind --cache-sim=yes, node --single-threaded); ` +
      `cycles modelled as instructions + ${L1_MISS_CYCLES} x L1 misses + ${LL_MISS_CYCLES} x LL misses`,
  );
  const jobs = [];
  for (let r = 0; r < repeat; r++) for (const arm of shuffle([...arms])) jobs.push({ arm, r });
  const results = await pool(
    jobs.map((job) => async () => {
      const x = await countInstructions(job.arm === 'off' ? '' : job.arm, cfg);
      console.log(`  repeat ${job.r + 1}, ${job.arm}: ${Math.round(x.ir)} instructions, ${x.l1.toFixed(0)} L1 misses, ${x.ll.toFixed(1)} LL misses, ${Math.round(x.cycles)} cycles per request`);
      return x;
    }),
    cfg.instrJobs,
  );
  const byArm = {};
  for (const arm of arms) byArm[arm] = [];
  jobs.forEach((job, i) => byArm[job.arm].push(results[i]));
  const values = (arm, k) => byArm[arm].map((x) => x[k]);
  const med = (arm, k) => median(values(arm, k));
  const range = (arm, k) => `${Math.round(Math.min(...values(arm, k)))}–${Math.round(Math.max(...values(arm, k)))}`;
  const signed = (x, digits) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)} %`;
  // vs off: the shift of the arm's log-counts over off's (Hodges–Lehmann, with its
  // distribution-free 95 % interval), as a percentage.
  const shift = (arm, k) => percentShift(values('off', k), values(arm, k));
  const show = (x) => `${signed(x.est, 2)} [${Number.isNaN(x.lo) ? '?' : x.lo.toFixed(2)}, ${Number.isNaN(x.hi) ? '?' : x.hi.toFixed(2)}]`;
  console.log('');
  console.log(`### Work per request (callgrind; medians and ranges of ${repeat} runs; vs off: the Hodges–Lehmann shift over off [95 % interval])`);
  console.log('| arm | instructions | range | vs off | cycles (model) | range | vs off | L1 misses | vs off | LL misses | vs off |');
  console.log('|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|');
  const lines = [];
  for (const arm of arms) {
    // The interval for instructions and cycles, the shift alone for the misses.
    const vs = (k, brief = false) => (arm === 'off' ? '' : brief ? signed(shift(arm, k).est, 1) : show(shift(arm, k)));
    const name = arm === 'off' ? 'off' : `sampler at ${arm} B`;
    console.log(
      `| ${name} | ${Math.round(med(arm, 'ir'))} | ${range(arm, 'ir')} | ${vs('ir')} | ${Math.round(med(arm, 'cycles'))} | ${range(arm, 'cycles')} | ${vs('cycles')} | ` +
        `${med(arm, 'l1').toFixed(0)} | ${vs('l1', true)} | ${med(arm, 'll').toFixed(1)} | ${vs('ll', true)} |`,
    );
    if (arm === 'off') continue;
    const c = shift(arm, 'cycles');
    const verdict = c.hi <= 1 ? "MET, the interval's upper end included" : c.lo > 1 ? 'NOT MET' : 'not resolved';
    lines.push(`${name}: per request, instructions ${show(shift(arm, 'ir'))}, modelled cycles ${show(c)} (${repeat} runs each; target <= 1 %: ${verdict}), L1 misses ${vs('l1', true)}, LL misses ${vs('ll', true)}`);
  }
  for (const l of lines) console.log(l);
  return lines;
}

/**
 * PROFILE_ARMS: comma-separated arms besides `off`: `off-again` (nothing: an A/A check),
 * `attribution` (attributeLeak() at its defaults) or `attribution@<bytes>` (with that
 * samplingIntervalBytes). Returns { name: options, or null for nothing }.
 */
function profileArms(text) {
  const arms = {};
  for (const spec of text.split(',').filter(Boolean)) {
    const m = /^attribution(?:@(\d+))?$/.exec(spec);
    const n = m && m[1] ? Number(m[1]) : null;
    if (spec === 'off-again') arms[spec] = null;
    else if (m && (n === null || (n >= 1024 && n <= 16 * 1048576))) arms[spec] = n === null ? {} : { samplingIntervalBytes: n };
    else throw new Error(`PROFILE_ARMS=${JSON.stringify(text)} is invalid: ${JSON.stringify(spec)} is not accepted; accepted: off-again, attribution or attribution@<samplingIntervalBytes from 1024 to 16777216>, comma-separated`);
  }
  if (Object.keys(arms).length === 0) throw new Error(`PROFILE_ARMS=${JSON.stringify(text)} is invalid; accepted: one or more of off-again, attribution, attribution@<bytes>, comma-separated`);
  return arms;
}

/** A comma-separated list of sampling intervals in bytes from environment variable `name`. */
function intervalList(name, fallback) {
  return (process.env[name] || fallback).split(',').filter(Boolean).map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1024 || n > 16 * 1048576) throw new Error(`${name}=${JSON.stringify(process.env[name])} is invalid; accepted: sampling intervals in bytes (whole numbers from 1024 to 16777216), comma-separated`);
    return n;
  });
}

async function main() {
  const cfg = {
    cycles: envInteger('CYCLES', 0, 1, 1000),
    roundS: envInteger('ROUND_S', 30, 2, 600),
    connections: envInteger('CONNECTIONS', 10, 1, 10_000),
    rate: envInteger('RATE', 400, 1, 1_000_000),
    warmup: envInteger('WARMUP_S', 5, 0, 3600),
    leakPerSecond: envInteger('LEAK_PER_S', 400, 0, 1_000_000),
    leakCap: envInteger('LEAK_CAP', 48_000, 1, 100_000_000),
    heapMB: envInteger('HEAP_MB', 384, 0, 1_000_000),
    slotMs: envInteger('SLOT_MS', 1000, 50, 60_000),
    slotGroups: envInteger('SLOT_GROUPS', 60, 2, 100_000),
    pairedGroups: envInteger('PAIRED_GROUPS', 6, 2, 100_000),
    pairedLeakPerSecond: envInteger('PAIRED_LEAK_PER_S', 100, 0, 1_000_000),
    profilePairs: envInteger('PROFILE_PAIRS', 12, 2, 100_000),
    profileArms: profileArms(process.env.PROFILE_ARMS || 'attribution,attribution@524288'),
    slotIntervals: intervalList('SLOT_INTERVALS', '131072,524288'),
    instrArms: intervalList('INSTR_ARMS', '524288,8388608'),
    instrN: envInteger('INSTR_N', 4000, 1),
    instrW: envInteger('INSTR_W', 1500, 1),
    instrRepeat: envInteger('INSTR_REPEAT', 8, 1, 100),
    instrJobs: envInteger('INSTR_JOBS', 2, 1, 64),
    instrLeakPerSecond: envInteger('INSTR_LEAK_PER_S', 2, 0, 1_000_000),
    pin: pinning(),
  };
  if (process.env.REPORT_FROM) return reportFrom(process.env.REPORT_FROM);
  const kinds = (process.env.MEASURE || 'paired,throughput').split(',').filter(Boolean);
  for (const k of kinds) if (!['throughput', 'rate', 'slots', 'paired', 'profile', 'instructions'].includes(k)) throw new Error(`MEASURE=${JSON.stringify(process.env.MEASURE)} is invalid; accepted: one or more of throughput, rate, slots, paired, profile, instructions, comma-separated`);
  const armSpecs = (process.env.ARMS || 'A,B,B-3reads,A-again').split(',').filter(Boolean);
  if (armSpecs[0] !== 'A' || armSpecs.length < 2) throw new Error(`ARMS=${JSON.stringify(process.env.ARMS)} is invalid; accepted: A first, then one or more of B, B-3reads, B-previous, A-again, session-only, sampling-only or a sampling interval in bytes, comma-separated`);
  const arms = armSpecs.map(parseArm);
  // By default each arm takes each position in a cycle equally often, at least 4 cycles.
  if (!cfg.cycles) cfg.cycles = Math.ceil(4 / arms.length) * arms.length;
  if (cfg.pin) execFileSync('taskset', ['-p', '-c', cfg.pin.load, String(process.pid)], { stdio: 'ignore' });
  const expressVersion = require(path.join(ROOT, 'node_modules', 'express', 'package.json')).version;
  console.log(
    `express ${expressVersion}, node ${process.version}, ${new Date().toISOString()}; ${cfg.cycles} cycles x ${arms.length} arms per measurement, ` +
      `${cfg.roundS + 1} s of load per round (attribution ${cfg.roundS} s, started 0.5 s in), ${cfg.warmup} s warm-up; ` +
      `server: a fresh process per round, ${cfg.heapMB ? `--max-old-space-size=${cfg.heapMB}` : "V8's default heap limit"}; ` +
      `${cfg.connections} connections; fixed rate ${cfg.rate} req/s; leak ${cfg.leakPerSecond} records/s (~${((cfg.leakPerSecond * 1300) / 1048576).toFixed(2)} MB/s, the newest ${cfg.leakCap} kept); ` +
      (cfg.pin ? `server pinned to CPU ${cfg.pin.server}, autocannon to CPU ${cfg.pin.load}` : 'not pinned'),
  );
  for (const a of arms) console.log(`  ${a.name}: ${a.what}`);
  const all = [];
  for (const kind of kinds) {
    if (kind === 'instructions') {
      all.push(...(await measureInstructions(cfg)));
      continue;
    }
    if (kind === 'profile') {
      const windows = await measureProfile(cfg);
      if (windows) all.push(...reportProfile(windows));
      continue;
    }
    if (kind === 'slots') {
      const groups = await measureSlots(cfg, { slotMs: cfg.slotMs, groups: cfg.slotGroups, intervals: cfg.slotIntervals });
      all.push(...reportSlots(`The sampler alone, ${groups.length} groups of ${cfg.slotMs} ms slots in random order, max throughput (no profile reads)`, groups));
      continue;
    }
    if (kind === 'paired') {
      const slotMs = (cfg.roundS + 1) * 1000;
      const attributions = { attribution: {}, 'attribution@3145728': { samplingIntervalBytes: 3145728 } };
      const groups = await measureSlots(cfg, { slotMs, groups: cfg.pairedGroups, intervals: [], attributions, leakPerSecond: cfg.pairedLeakPerSecond });
      all.push(
        ...reportSlots(
          `Whole attributions in one server, ${groups.length} groups of ${slotMs / 1000} s slots in random order (off, off-again, attribution: attributeLeak() at its defaults, ` +
            `attribution@3145728: with samplingIntervalBytes 3145728), max throughput, leak ${cfg.pairedLeakPerSecond} records/s`,
          groups,
        ),
      );
      continue;
    }
    const rows = await measure(kind, arms, cfg);
    all.push(...report(kind, arms, rows));
  }
  console.log('');
  console.log('Summary (cost = 1 - B/A for req/s, B/A - 1 for CPU per request; medians of per-cycle ratios):');
  for (const v of all) console.log(`  ${v}`);
}

runBench(serve, main);

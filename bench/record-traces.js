'use strict';
// npm run traces:record — records the traces of __test__/slow-leak-traces.test.js.
//
// Each pattern runs in its own real Node process (this file with `--child NAME`,
// --expose-gc --max-old-space-size=384) with memwarden initialized as a small
// production instance would have it, except for the interval: MEMORY_MONITORING_INTERVAL=250,
// MEMORY_LIMIT_MB=512, proactive GC on (the default), so the live detector's
// confirmation collections are in the trace. memwarden starts after a 15 s warm-up of
// the pattern's steady part (churn, sessions, the load), and the times below count from
// there. At the end the child writes
// `m.exportTrace()` plus a `recording` object (the pattern, when its leak or step
// began, the live detector's verdicts) to __test__/fixtures/traces/NAME.json.gz.
//
// The test replays these traces time-compressed by 60 (250 ms -> 15 s, the Render
// preset): a rate R recorded is R/60 replayed, 1 s recorded is 1 min replayed.
//
//   leak-20kb     churn; after 40 s, 1.2 MB/s of retained objects for 35 s (20 KB/s replayed)
//   leak-24h      churn; after 40 s, 0.3 MB/s retained for 85 s (5 KB/s replayed: 400 MB in ~22 h)
//   benign-lru    a real Express 5 app (memwarden.express.attach) serving from an lru-cache
//                 at capacity (filled before), autocannon at 200 requests/s, 130 s
//   benign-churn  request-like garbage plus medium-lived sessions (2-10 s): a saw-tooth, 130 s
//   benign-step   churn; after 40 s a one-time allocation of ~30 MB that stays, 130 s in all
//
//   node bench/record-traces.js [--only a,b] [--parallel N] [--out DIR]
//
// The rates are per second of wall time (a loaded machine that runs fewer ticks still
// produces them). It takes about 7 minutes with --parallel 2 (the default).
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const { seededRandom, requestLike, REQUEST_LIKE_BYTES } = require('./support');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, '__test__', 'fixtures', 'traces');
const COMPRESSION = 60;
const WARMUP_S = 15;

/**
 * The patterns. `baselineS`: seconds of churn before the leak or step (from the moment
 * memwarden is initialized); `seconds`: the whole recording.
 */
const PATTERNS = {
  'leak-20kb': { leak: true, baselineS: 40, seconds: 75, leakBytesPerSec: 1.2 * 1024 * 1024, churnMbPerSec: 15 },
  'leak-24h': { leak: true, baselineS: 40, seconds: 125, leakBytesPerSec: 0.3 * 1024 * 1024, churnMbPerSec: 15 },
  'benign-lru': { leak: false, baselineS: 0, seconds: 130, express: true, rate: 200 },
  'benign-churn': { leak: false, baselineS: 0, seconds: 130, churnMbPerSec: 15, sessionsPerSec: 200 },
  'benign-step': { leak: false, baselineS: 40, seconds: 130, churnMbPerSec: 15, stepBytes: 30 * 1024 * 1024 },
};

// ---------------------------------------------------------------------------------
// The child: one pattern in this process.

/** Deterministic pseudo-random numbers (mulberry32). */
const request = requestLike;
const REQUEST_BYTES = REQUEST_LIKE_BYTES;
// A retained entry: a fresh 900-character string (not 'x'.repeat(900), which V8 may fold
// into one shared constant), its key and the object: 1055 bytes of heap each, measured
// with --expose-gc over 100000 entries on Node 20.
const ENTRY_BYTES = 1055;
const entry = (i) => ({ key: `leak-${i}`, payload: Buffer.alloc(900, 97 + (i % 26)).toString('latin1') + i });

async function child(name) {
  const p = PATTERNS[name];
  const memwarden = require(ROOT);
  const m = memwarden.MemoryManagerService.getInstance();
  const random = seededRandom(name);
  const send = (o) => process.send(o);
  const live = [];
  let confirmations = 0;
  m.on('leak', (e) => live.push({ event: 'leak', t: Date.now(), signal: e.signal, confidence: m.getLeakDetection().confidence }));
  m.on('leakResolved', () => live.push({ event: 'leakResolved', t: Date.now(), confidence: m.getLeakDetection().confidence }));
  m.on('gc', (a) => {
    if (a.reason === 'leak_confirmation') confirmations++;
  });

  let server = null;
  let app = null;
  if (p.express) {
    const express = require('express');
    const { LRUCache } = require('lru-cache');
    app = express();
    memwarden.express.attach(app);
    // An lru-cache at capacity: 5000 entries of ~1 KB, filled before the load; keys
    // drawn from 20000, so three requests in four miss and replace an entry.
    const cache = new LRUCache({ max: 5000 });
    const cacheEntry = (k) => ({ k, value: Buffer.alloc(1000, 98).toString('latin1') + k, at: Date.now() });
    for (let i = 0; i < 5000; i++) cache.set(`warm-${i}`, cacheEntry(i));
    let misses = 0;
    app.get('/cache', function cacheRoute(req, res) {
      const key = `k${Math.floor(random() * 20000)}`;
      let v = cache.get(key);
      if (!v) {
        misses++;
        v = cacheEntry(key);
        cache.set(key, v);
      }
      res.json({ k: v.k, size: cache.size, misses, item: request(misses).body.slice(0, 10) });
    });
  }

  if (app) {
    await new Promise((resolve) => {
      server = app.listen(0, '127.0.0.1', resolve);
    });
    send({ port: server.address().port });
  }
  // Set after the warm-up, when memwarden starts recording.
  let t0 = Infinity;
  const since = () => (Date.now() - t0) / 1000;

  // Per-tick work, rates per second of wall time.
  const TICK_MS = 10;
  let dt = TICK_MS / 1000;
  const carry = new Map();
  const per = (key, perSecond) => {
    const x = (carry.get(key) || 0) + perSecond * dt;
    const n = Math.floor(x);
    carry.set(key, x - n);
    return n;
  };
  let counter = 0;
  const inFlight = [];
  const sessions = [];
  const retained = [];
  let patternStartedAt = null;
  let last = Date.now();
  const work = setInterval(() => {
    const now = Date.now();
    dt = Math.min(1, (now - last) / 1000);
    last = now;
    const t = since();
    if (p.churnMbPerSec) {
      const batch = [];
      for (let i = per('churn', (p.churnMbPerSec * 1048576) / REQUEST_BYTES); i > 0; i--) batch.push(request(counter++));
      inFlight.push(batch);
      if (inFlight.length > 10) inFlight.shift();
    }
    if (p.sessionsPerSec) {
      for (let i = per('sessions', p.sessionsPerSec); i > 0; i--) sessions.push({ until: now + 2000 + random() * 8000, data: request(counter++) });
      while (sessions.length && sessions[0].until < now) sessions.shift();
    }
    if (t < p.baselineS) return;
    if (patternStartedAt === null && (p.leakBytesPerSec || p.stepBytes)) patternStartedAt = now;
    if (p.leakBytesPerSec) {
      for (let i = per('leak', p.leakBytesPerSec / ENTRY_BYTES); i > 0; i--) retained.push(entry(counter++));
    }
    if (p.stepBytes && retained.length === 0) {
      for (let i = 0; i < p.stepBytes / ENTRY_BYTES; i++) retained.push(entry(counter++));
    }
  }, TICK_MS);

  // The warm-up: the load (or the churn and the sessions) runs WARMUP_S before memwarden
  // starts, so the trace begins at the pattern's steady state (sessions filled, the code
  // compiled), as in a process that has been serving for a while.
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  await m.initialize({ logger: { info() {}, warn() {}, error() {} } });
  t0 = Date.now();
  await new Promise((r) => setTimeout(r, p.seconds * 1000));
  clearInterval(work);
  const trace = m.exportTrace();
  const report = m.getLeakDetection();
  trace.recording = {
    name,
    leak: p.leak,
    compression: COMPRESSION,
    recordedIntervalMs: m.config.monitoringIntervalMs,
    warmupS: WARMUP_S,
    startedAt: t0,
    patternStartedAt,
    patternBytesPerSec: p.leakBytesPerSec || null,
    stepBytes: p.stepBytes || null,
    requestsPerSec: p.rate || null,
    retainedObjects: retained.length,
    live: { events: live, confirmations, final: { leakSuspected: report.leakSuspected, confidence: report.confidence } },
    node: process.version,
  };
  if (server) await new Promise((r) => server.close(r));
  await m.shutdown();
  send({ trace });
}

// ---------------------------------------------------------------------------------
// The parent: runs the patterns, writes the fixtures.

/** Numbers JSON carries with fewer digits: times to 0.1 ms, byte counts whole. */
function compact(trace) {
  const round = (o) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'number') continue;
      o[k] = k === 't' || k === 'duration' ? Math.round(v * 10) / 10 : Math.round(v);
    }
    return o;
  };
  trace.samples.forEach(round);
  trace.gc.forEach(round);
  return trace;
}

function record(name, outDir) {
  const p = PATTERNS[name];
  return new Promise((resolve, reject) => {
    const env = { ...process.env, MEMORY_MONITORING_INTERVAL: '250', MEMORY_LIMIT_MB: '512', MEMORY_ADMIN_TOKEN: crypto.randomBytes(24).toString('hex'), NODE_ENV: 'production' };
    const c = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=384', __filename, '--child', name], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let load = null;
    let got = null;
    c.on('message', (msg) => {
      if (msg.port) {
        const autocannon = require('autocannon');
        const remaining = WARMUP_S + p.seconds - 1;
        load = autocannon({ url: `http://127.0.0.1:${msg.port}/cache`, connections: 8, overallRate: p.rate, duration: remaining });
        load.on('done', (r) => (load.result = r));
      }
      if (msg.trace) got = msg.trace;
    });
    c.on('exit', (code) => {
      if (!got) return reject(new Error(`${name}: the child exited with ${code} and no trace`));
      const trace = compact(got);
      if (load && load.result) trace.recording.achievedRequestsPerSec = Math.round(load.result.requests.average);
      const file = path.join(outDir, `${name}.json.gz`);
      fs.writeFileSync(file, zlib.gzipSync(JSON.stringify(trace), { level: 9 }));
      const r = trace.recording;
      const flag = r.live.events.find((e) => e.event === 'leak');
      console.log(
        `${name}: ${trace.samples.length} samples, ${trace.gc.length} full GCs (${trace.gc.filter((g) => g.forced).length} forced), ` +
          `${(fs.statSync(file).size / 1024).toFixed(1)} KB; live: ${flag ? `flagged ${((flag.t - (r.patternStartedAt || r.startedAt)) / 1000).toFixed(1)} s after the pattern began (confidence ${flag.confidence.toFixed(0)})` : 'never flagged'}` +
          `, final confidence ${r.live.final.confidence.toFixed(0)}${r.achievedRequestsPerSec ? `, ${r.achievedRequestsPerSec} req/s` : ''}`,
      );
      resolve();
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (n, d) => {
    const i = args.indexOf(`--${n}`);
    return i === -1 ? d : args[i + 1];
  };
  if (opt('child', null)) return child(opt('child'));
  const only = opt('only', null);
  const names = only ? only.split(',') : Object.keys(PATTERNS);
  for (const n of names) if (!PATTERNS[n]) throw new Error(`unknown pattern ${n}; accepted: ${Object.keys(PATTERNS).join(', ')}`);
  const outDir = opt('out', OUT);
  fs.mkdirSync(outDir, { recursive: true });
  const parallel = Number(opt('parallel', 2));
  const queue = [...names];
  await Promise.all(
    Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      while (queue.length) await record(queue.shift(), outDir);
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

'use strict';
// Helpers shared by the benchmarks.
const path = require('node:path');
const os = require('node:os');
const http = require('node:http');
const { execFileSync } = require('node:child_process');

const native = require(path.join(__dirname, '..', 'lib', 'native'));

/** The middle value of `values` (the mean of the two middle ones for an even count). */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// Student's t, two-sided 95 %, for 1 to 30 degrees of freedom (then the normal's 1.96).
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Mean of `xs` and the half-width of its 95 % confidence interval (Student's t). */
function meanCi95(xs) {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci: NaN };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, ci: ((n - 1 <= T95.length ? T95[n - 2] : 1.96) * sd) / Math.sqrt(n) };
}

/**
 * P(U <= u) for u = 0..m*n, U the Mann–Whitney statistic of samples of sizes m and n
 * under the null hypothesis (no shift), exactly: the recurrence
 * p(m, n, u) = m/(m+n) p(m-1, n, u-n) + n/(m+n) p(m, n-1, u), in probabilities so it
 * stays finite for any size (its table is (m+1)(n+1)(mn+1) numbers).
 */
function mannWhitneyCdf(m, n) {
  const memo = new Map();
  const dist = (a, b) => {
    if (a === 0 || b === 0) return [1];
    const key = a * (n + 1) + b;
    if (memo.has(key)) return memo.get(key);
    const left = dist(a - 1, b);
    const right = dist(a, b - 1);
    const p = new Array(a * b + 1).fill(0);
    left.forEach((q, u) => (p[u + b] += (q * a) / (a + b)));
    right.forEach((q, u) => (p[u] += (q * b) / (a + b)));
    memo.set(key, p);
    return p;
  };
  let sum = 0;
  return dist(m, n).map((q) => (sum += q));
}

/**
 * How far `ys` lies above `xs`, robustly: the Hodges–Lehmann shift (the median of all
 * m*n differences y - x) and its distribution-free 95 % interval, [d(k), d(mn+1-k)] of
 * the sorted differences with k from the Mann–Whitney U's exact distribution (its
 * normal approximation beyond 40 x 40). One outlier moves a mean and its t interval;
 * here it moves one difference in m*n. `confidence` is the interval's exact coverage
 * (>= 0.95); lo and hi are NaN when the samples are too small for 95 % (4 + 4 values
 * are enough, 3 + 4 are not).
 */
function shiftCi95(xs, ys) {
  const m = xs.length;
  const n = ys.length;
  if (m === 0 || n === 0) throw new Error('shiftCi95: both samples need at least one value');
  const d = [];
  for (const x of xs) for (const y of ys) d.push(y - x);
  d.sort((a, b) => a - b);
  return orderInterval(d, m * n <= 1600 ? () => mannWhitneyCdf(m, n) : null, (m * n * (m + n + 1)) / 12);
}

/**
 * The Hodges–Lehmann estimate and its 95 % interval from `sorted` (the differences or
 * Walsh averages, ascending) and the null distribution of their rank statistic: its
 * exact CDF from `exactCdf()`, or with `exactCdf` null the normal approximation with
 * mean sorted.length / 2 and `variance`. The interval is [s(k), s(N+1-k)], k the
 * largest with P(stat <= k - 1) <= 0.025; lo and hi are NaN when no k >= 1 qualifies.
 */
function orderInterval(sorted, exactCdf, variance) {
  const total = sorted.length;
  const shift = median(sorted);
  let k = 0;
  let tail = 0;
  if (exactCdf) {
    const cdf = exactCdf();
    while (k < cdf.length && cdf[k] <= 0.025 + 1e-12) k++;
    tail = k > 0 ? cdf[k - 1] : 0;
  } else {
    k = Math.floor(total / 2 - 1.959964 * Math.sqrt(variance));
    tail = 0.025;
  }
  if (k < 1) return { shift, lo: NaN, hi: NaN, confidence: NaN };
  return { shift, lo: sorted[k - 1], hi: sorted[total - k], confidence: 1 - 2 * tail };
}

/**
 * P(T <= t) for t = 0..n(n+1)/2, T the Wilcoxon signed-rank statistic of n paired
 * differences under the null hypothesis (symmetric about 0), exactly: each rank 1..n
 * is in the positive sum or not with probability 1/2, so the distribution is the
 * number of subsets of {1..n} with each sum, over 2^n (computed in probabilities).
 */
function signedRankCdf(n) {
  let p = [1];
  for (let r = 1; r <= n; r++) {
    const next = new Array(p.length + r).fill(0);
    p.forEach((q, t) => {
      next[t] += q / 2;
      next[t + r] += q / 2;
    });
    p = next;
  }
  let sum = 0;
  return p.map((q) => (sum += q));
}

/**
 * The centre of paired differences `ds`, robustly: the Hodges–Lehmann estimate (the
 * median of the n(n+1)/2 Walsh averages (d_i + d_j) / 2, i <= j) and its
 * distribution-free 95 % interval, [w(k), w(N+1-k)] of the sorted averages with k from
 * the signed-rank statistic's exact distribution (its normal approximation beyond 60
 * pairs). Assumes only that the differences are symmetric about their centre; a window
 * that a neighbour's burst slowed by 20 % moves it by one Walsh average in N, where it
 * moves a mean by 20 % / n. lo and hi are NaN below 6 pairs.
 */
function pairedShiftCi95(ds) {
  const n = ds.length;
  if (n === 0) throw new Error('pairedShiftCi95: needs at least one difference');
  const w = [];
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) w.push((ds[i] + ds[j]) / 2);
  w.sort((a, b) => a - b);
  return orderInterval(w, n <= 60 ? () => signedRankCdf(n) : null, (n * (n + 1) * (2 * n + 1)) / 24);
}

/**
 * How much larger the counts `ys` are than `xs`, in %: the Hodges–Lehmann shift of
 * their logarithms (shiftCi95) and its 95 % interval, as { est, lo, hi } percentages
 * (lo and hi NaN when the samples are too small for one).
 */
function percentShift(xs, ys) {
  const r = shiftCi95(xs.map(Math.log), ys.map(Math.log));
  const pct = (logRatio) => (Math.exp(logRatio) - 1) * 100;
  return { est: pct(r.shift), lo: pct(r.lo), hi: pct(r.hi) };
}

/**
 * The environment for a benchmark's child process: this one's, without the
 * variables memwarden reads (except those named in `keep`) and without NODE_OPTIONS
 * (no preloads or flags from outside), plus `extra`.
 */
function childEnv(extra = {}, keep = new Set()) {
  const env = { ...process.env };
  for (const name of native.envVariableNames()) if (!keep.has(name)) delete env[name];
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

/**
 * A whole number from the environment variable `name`, `fallback` when it is unset or
 * empty; throws naming the variable, its value and the accepted range otherwise.
 */
function envInteger(name, fallback, min, max = 1_000_000) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name}=${JSON.stringify(raw)} is invalid; accepted: a whole number from ${min} to ${max}`);
  }
  return n;
}

// The Express apps of the overhead benchmarks. `use` and `attach` are the two
// documented ways to install memwarden's full stack; the others show what a part costs.
const ROOT = path.join(__dirname, '..');
const APPS = {
  bare: { memwarden: false, install: () => {}, what: 'Express hello world' },
  'bare-again': { memwarden: false, install: () => {}, what: 'a second, identical bare app (an A/A check of the method)' },
  noop: { memwarden: false, install: (app) => app.use((req, res, next) => next()), what: 'one empty app.use() (no memwarden)' },
  use: { memwarden: true, install: (app, express, mw) => app.use(mw.express({ express })), what: 'app.use(memwarden.express())' },
  attach: { memwarden: true, install: (app, express, mw) => mw.express.attach(app, { express }), what: 'memwarden.express.attach(app)' },
  'attach-no-headers': {
    memwarden: true,
    install: (app, express, mw) => mw.express.attach(app, { express, headers: false }),
    what: 'attach, headers: false',
  },
  'attach-no-monitor': {
    memwarden: true,
    install: (app, express, mw) => mw.express.attach(app, { express, monitor: false }),
    what: 'attach, monitor: false',
  },
  'use-no-headers': {
    memwarden: true,
    install: (app, express, mw) => app.use(mw.express({ express, headers: false })),
    what: 'use, headers: false',
  },
  'use-no-monitor': {
    memwarden: true,
    install: (app, express, mw) => app.use(mw.express({ express, monitor: false })),
    what: 'use, monitor: false',
  },
  'use-no-steps': {
    memwarden: true,
    install: (app, express, mw) => app.use(mw.express({ express, headers: false, monitor: false, pressure: false })),
    what: 'use with the memory routes only',
  },
  'attach-no-steps': {
    memwarden: true,
    install: (app, express, mw) => mw.express.attach(app, { express, headers: false, monitor: false, pressure: false }),
    what: 'attach with the memory routes only',
  },
};

/**
 * Starts the hello world app `name` of APPS on 127.0.0.1 (ephemeral port; prints
 * `{ port }` as a JSON line) with the express package `expressName` of node_modules,
 * memwarden initialized with `initOptions` where the app uses it. `onRequest(res)`
 * runs for each request to '/'.
 */
async function serveApp(name, expressName, initOptions, onRequest) {
  const express = require(path.join(ROOT, 'node_modules', expressName));
  const app = express();
  app.disable('x-powered-by');
  const spec = APPS[name];
  if (spec.memwarden) {
    const memwarden = require(ROOT);
    await memwarden.MemoryManagerService.getInstance().initialize(initOptions);
    spec.install(app, express, memwarden);
  } else {
    spec.install(app, express, null);
  }
  app.get('/', (req, res) => {
    res.send('hello world');
    onRequest(res);
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  return server;
}

/** The entry of a benchmark file: `serve(...args)` in a child started with --serve, else `main()`. */
function runBench(serve, main) {
  if (process.argv[2] === '--serve') {
    serve(...process.argv.slice(3)).catch((err) => {
      console.error(err);
      process.exit(1);
    });
  } else {
    main().catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
  }
}

/** Shuffles `items` in place (Fisher–Yates with `random`, Math.random by default) and returns it. */
function shuffle(items, random = Math.random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), seeded from a text. */
function seededRandom(seedText) {
  let seed = [...String(seedText)].reduce((a, c) => a * 31 + c.charCodeAt(0), 7) >>> 0;
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A request-like object graph: ~10 KB (headers, a parsed body, its JSON). */
function requestLike(i) {
  const headers = {};
  for (let h = 0; h < 12; h++) headers[`x-header-${h}`] = `value-${h}-${i}`;
  const body = [];
  for (let k = 0; k < 40; k++) body.push({ id: k, name: `item-${k}-${i}`, tags: ['a', 'b', 'c'], price: k * 1.5 });
  return { url: `/api/items/${i}`, headers, body, json: JSON.stringify(body) };
}
const REQUEST_LIKE_BYTES = 10 * 1024;

/** The CPU lists for servers and load generator (taskset), or null when not pinning (PIN=0, one CPU, no taskset). */
function pinning() {
  if (process.env.PIN === '0' || process.platform !== 'linux') return null;
  const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  if (cpus < 2) return null;
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return { server: String(cpus - 1), load: cpus === 2 ? '0' : `0-${cpus - 2}` };
}

/** Calls `fn(object)` for every line of JSON a child writes to `stream`. */
function onJsonLines(stream, fn) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const o = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      fn(o);
    }
  });
}

/**
 * Sends GET `urlPath` to the server on `port`, 4 at a time over keep-alive: `count`
 * requests (`done` resolves once all have been answered and rejects on the first
 * error), or, with `count` Infinity, until stop() or until the server goes away (`done`
 * then resolves). Returns { done, stop }.
 */
function drive(port, urlPath = '/', count = Infinity) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let started = 0;
  let answered = 0;
  let stopped = false;
  let end;
  const done = new Promise((resolve, reject) => {
    end = (err) => {
      if (stopped) return;
      stopped = true;
      agent.destroy();
      if (err && Number.isFinite(count)) reject(err);
      else resolve();
    };
  });
  const one = () => {
    if (stopped || started >= count) return;
    started++;
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
        res.resume();
        res.on('end', () => (++answered >= count ? end() : one()));
      })
      .on('error', end);
  };
  if (count <= 0) end();
  for (let i = 0; i < 4; i++) one();
  return { done, stop: () => end() };
}

/**
 * Resolves to the port of the `{ "port": n }` line a benchmark server (`child`)
 * prints on stdout; rejects naming `what`, and the end of `stderr()`, if it exits first.
 */
function listeningPort(child, what, stderr = () => '') {
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${what}: the server exited (${code}) before it listened\n${stderr().slice(-2000)}`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).port);
    });
  });
}

/**
 * Runs a benchmark server (`cmd` `argv`: valgrind ... node <bench> --serve ...) that
 * prints its `{ "port": n }` line on stdout, sends it GET `urlPath` (drive) until it
 * exits, and resolves to its stderr (valgrind's summary); rejects naming `what` and
 * the end of stderr when it exits with another code than 0.
 */
function serveUnderValgrind(cmd, argv, { env, ipc = false, urlPath = '/', what }) {
  const { spawn } = require('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])] });
    let err = '';
    let load = null;
    // An exit before listening is reported by the exit handler below.
    listeningPort(child, what).then((port) => (load = drive(port, urlPath)), () => {});
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (load) load.stop();
      if (code !== 0) reject(new Error(`${what}: exit ${code}\n${err.slice(-2000)}`));
      else resolve(err);
    });
  });
}

/**
 * The totals of a callgrind dump, per event: { Ir, I1mr, D1mr, ... } from its
 * `events:` line and its `totals:` line (or, without one, its `summary:` line). Throws when either is
 * missing or they do not match.
 */
function callgrindTotals(text) {
  const events = /^events:[ \t]*(.+)$/m.exec(text);
  const totals = /^totals:[ \t]*(.+)$/m.exec(text) || /^summary:[ \t]*(.+)$/m.exec(text);
  if (!events || !totals) throw new Error(`not a callgrind dump: no ${events ? 'totals' : 'events'} line`);
  const names = events[1].trim().split(/\s+/);
  const values = totals[1].trim().split(/\s+/).map(Number);
  if (values.length > names.length || values.some((v) => !Number.isFinite(v))) throw new Error(`callgrind totals ${JSON.stringify(totals[1])} do not match events ${JSON.stringify(events[1])}`);
  // A dump may leave trailing events out when they are zero.
  return Object.fromEntries(names.map((name, i) => [name, values[i] ?? 0]));
}

/**
 * Work of one window of requests, counted by valgrind's callgrind: runs `valgrind
 * --tool=callgrind <argv>` (argv: its options after the tool's, then node and a server
 * that prints `{ "port": n }` on stdout), sends it `warm` requests, zeroes callgrind's
 * counters (callgrind_control, while no request is in flight), sends `n` more, dumps
 * the counters and resolves to the dump's totals (callgrindTotals); then kills the
 * server. One process per window: no difference of two runs, so only the window's
 * own variation is left. `taskset` (a CPU list) runs it there. A window also holds a
 * fixed amount of work besides its requests (the bare hello world: ~0.5 billion
 * instructions, found from windows of 2000, 5000 and 10000 requests; not traced), which
 * dilutes differences between arms by its share of the window.
 */
async function callgrindWindow(argv, { env, urlPath = '/', warm, n, what, taskset = null }) {
  const { spawn, execFile } = require('node:child_process');
  const fs = require('node:fs');
  const control = (flag, pid) =>
    new Promise((resolve, reject) => execFile('callgrind_control', [flag, String(pid)], (err, stdout, stderr) => (err ? reject(new Error(`${what}: callgrind_control ${flag}: ${err.message} ${stderr}`)) : resolve())));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-callgrind-'));
  const vg = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${path.join(dir, 'out')}`, ...argv];
  const [cmd, args] = taskset ? ['taskset', ['-c', taskset, ...vg]] : [vg[0], vg.slice(1)];
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const port = await listeningPort(child, what, () => err);
    await drive(port, urlPath, warm).done;
    await control('--zero', child.pid);
    await drive(port, urlPath, n).done;
    await control('--dump', child.pid);
    const dump = fs.readdirSync(dir).find((f) => f !== 'out');
    if (!dump) throw new Error(`${what}: callgrind wrote no dump\n${err.slice(-2000)}`);
    return callgrindTotals(fs.readFileSync(path.join(dir, dump), 'utf8'));
  } finally {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `jobs` (functions returning promises), at most `limit` at once; resolves to their results in order. */
async function pool(jobs, limit) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

module.exports = { shiftCi95, percentShift, signedRankCdf, pairedShiftCi95, listeningPort, mannWhitneyCdf, pool, serveUnderValgrind, callgrindWindow, callgrindTotals, drive, median, meanCi95, shuffle, childEnv, envInteger, APPS, serveApp, runBench, seededRandom, requestLike, REQUEST_LIKE_BYTES, pinning, onJsonLines };

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

/** Sends GET `urlPath` on 4 keep-alive connections until the server goes away; returns stop(). */
function drive(port, urlPath = '/') {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let stopped = false;
  const one = () => {
    if (stopped) return;
    const r = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      res.resume();
      res.on('end', one);
    });
    r.on('error', () => {
      stopped = true;
      agent.destroy();
    });
  };
  for (let i = 0; i < 4; i++) one();
  return () => {
    stopped = true;
    agent.destroy();
  };
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
    let out = '';
    let err = '';
    let stop = null;
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && stop === null) stop = drive(JSON.parse(line).port, urlPath);
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (stop) stop();
      if (code !== 0) reject(new Error(`${what}: exit ${code}\n${err.slice(-2000)}`));
      else resolve(err);
    });
  });
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

module.exports = { pool, serveUnderValgrind, drive, median, meanCi95, shuffle, childEnv, envInteger, APPS, serveApp, runBench, seededRandom, requestLike, REQUEST_LIKE_BYTES, pinning, onJsonLines };

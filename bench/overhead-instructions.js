'use strict';
// Instructions per request: `npm run bench:overhead:instructions` (needs valgrind).
//
// bench:overhead measures throughput, which on a shared 2-core machine moves by
// several % from one 5 s run to the next: more than the 2 % this package may cost.
// This counts the instructions the server process executes per request instead,
// with valgrind's cachegrind (no cache simulation). Each variant's server runs
// twice under valgrind: once for W warm-up requests, once for W + N; the difference
// divided by N is the cost of one request once the JIT has settled, without start-up
// and warm-up. That pair runs REPEAT times; the median and the range are printed.
// The servers run with node --single-threaded, so that V8's compiler and GC work is
// on the main thread. Still, whether a window holds one full collection more or fewer
// (they fall by timers and heap growth) moves the figure of identical runs by up to
// ~15k instructions (~3 % of a hello world): differences smaller than the printed
// ranges mean nothing. Requests come from this process (keep-alive, 4 connections)
// on 127.0.0.1.
//
// Variants: bare (Express hello world), noop (plus one empty app.use: what any
// middleware layer costs), use (app.use(memwarden.express())), attach
// (memwarden.express.attach(app)), memwarden initialized with a 1 h sampling
// interval (see serve()).
// Options (environment): N (default 5000), W (default 2500), REPEAT (default 3),
// EXPRESS=express|express4, VARIANTS (default bare,noop,use,attach), JOBS (parallel
// valgrind runs, default 2), NODE_FLAGS (default --single-threaded).
// It is a benchmark, not a test: the exit code is 0 whatever the verdict.

const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const { median, childEnv, envInteger, APPS, serveApp, runBench, serveUnderValgrind, pool } = require('./support');
const BUDGET = 0.02; // >= 0.98 of bare throughput, in work per request

// ---------------------------------------------------------------------------
// Child: one server, exits after `total` requests.

async function serve(variant, expressName, total) {
  // Sampling is periodic, not per request: under valgrind (~50x slower) a run of
  // N requests spans minutes, and the ticks of the default interval would be
  // counted as per-request work. bench:overhead measures them at full speed.
  let served = 0;
  await serveApp(variant, expressName, { monitoringIntervalMs: 3_600_000 }, (res) => {
    if (++served === Number(total)) res.on('finish', () => process.exit(0));
  });
}

// ---------------------------------------------------------------------------
// Parent.

/** Instructions executed by a server of `variant` serving `total` requests. */
async function countRun(variant, expressName, total) {
  const argv = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, ...(process.env.NODE_FLAGS ?? '--single-threaded').split(' ').filter(Boolean), __filename, '--serve', variant, expressName, String(total)];
  const what = `${variant} (${total} requests)`;
  const err = await serveUnderValgrind('valgrind', argv, { env: childEnv(), what });
  const m = /I\s+refs:\s+([\d,]+)/.exec(err);
  if (!m) throw new Error(`${what}: no instruction count\n${err.slice(-2000)}`);
  return Number(m[1].replace(/,/g, ''));
}

async function main() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('valgrind is not installed (Debian: apt-get install valgrind); nothing measured.');
    return;
  }
  const n = envInteger('N', 5000, 1);
  const w = envInteger('W', 2500, 1);
  const repeat = envInteger('REPEAT', 3, 1, 100);
  const jobsLimit = envInteger('JOBS', 2, 1, 64);
  const expressName = process.env.EXPRESS || 'express';
  const expressVersion = require(path.join(ROOT, 'node_modules', expressName, 'package.json')).version;
  const variants = (process.env.VARIANTS || 'bare,noop,use,attach').split(',').filter(Boolean);
  if (!variants.includes('bare')) variants.unshift('bare');
  for (const v of variants) if (!Object.hasOwn(APPS, v)) throw new Error(`VARIANTS: ${v} is not one of ${Object.keys(APPS).join(', ')}`);
  console.log(
    `express ${expressVersion}, node ${process.version} ${process.env.NODE_FLAGS ?? '--single-threaded'}; ` +
      `instructions per request = (Ir after ${w + n} requests − Ir after ${w}) / ${n}, ${repeat} times`,
  );
  const jobs = [];
  for (let r = 0; r < repeat; r++) for (const v of variants) for (const total of [w, w + n]) jobs.push(() => countRun(v, expressName, total));
  const counts = await pool(jobs, jobsLimit);
  const runs = {};
  for (const v of variants) runs[v] = [];
  let k = 0;
  for (let r = 0; r < repeat; r++) {
    for (const v of variants) {
      runs[v].push((counts[k + 1] - counts[k]) / n);
      k += 2;
    }
  }
  const bare = median(runs.bare);
  console.log('');
  console.log('| variant | instructions / request (median) | range | added vs bare | added % | budget (2 %) |');
  console.log('|---|---:|---|---:|---:|---|');
  for (const v of variants) {
    const med = median(runs[v]);
    const added = med - bare;
    const range = `${Math.round(Math.min(...runs[v]))}–${Math.round(Math.max(...runs[v]))}`;
    const verdict = v === 'bare' ? '' : added <= BUDGET * bare ? 'within' : 'over';
    const addedText = v === 'bare' ? '' : String(Math.round(added));
    const pct = v === 'bare' ? '' : ((added / bare) * 100).toFixed(2);
    console.log(`| ${v} | ${Math.round(med)} | ${range} | ${addedText} | ${pct} | ${verdict} |`);
  }
}

runBench(serve, main);

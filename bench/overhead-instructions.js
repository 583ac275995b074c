'use strict';
// Instructions per request: `npm run bench:overhead:instructions` (needs valgrind).
//
// bench:overhead measures throughput, which on a shared 2-core machine moves by
// several % from one 5 s run to the next: more than the 2 % this package may cost.
// This counts the instructions the server process executes per request instead, with
// valgrind's callgrind (no cache simulation): each server gets W requests to warm up,
// then its counters are zeroed and N more are counted (callgrindWindow in
// support.js), so a figure is one window of one process, without start-up and
// warm-up. Every variant runs REPEAT times (in a shuffled order each repeat, JOBS at
// once); each is compared with bare by the Hodges–Lehmann shift of its log-counts and
// its distribution-free 95 % interval (percentShift). The servers run with node
// --single-threaded, so that V8's compiler and GC work is on the main thread; whether
// a window holds one full collection more or fewer still moves identical runs by a few
// %, which the interval takes in. Requests come from this process (keep-alive, 4 at a
// time) on 127.0.0.1.
//
// Variants: bare (Express hello world), noop (plus one empty app.use: what any
// middleware layer costs), use (app.use(memwarden.express())), attach
// (memwarden.express.attach(app)), memwarden initialized with a 1 h sampling
// interval (see serve()).
// Options (environment): N (default 5000), W (default 2500), REPEAT (default 6),
// EXPRESS=express|express4, VARIANTS (default bare,noop,use,attach), JOBS (parallel
// valgrind runs, default 2), NODE_FLAGS (default --single-threaded).
// It is a benchmark, not a test: the exit code is 0 whatever the verdict.

const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const { median, childEnv, envInteger, APPS, serveApp, runBench, callgrindWindow, percentShift, pool, shuffle } = require('./support');
const BUDGET = 0.02; // >= 0.98 of bare throughput, in work per request

// ---------------------------------------------------------------------------
// Child: one server, serving until it is killed.

async function serve(variant, expressName) {
  // Sampling is periodic, not per request: under valgrind (~50x slower) a run of
  // N requests spans minutes, and the ticks of the default interval would be
  // counted as per-request work. bench:overhead measures them at full speed.
  await serveApp(variant, expressName, { monitoringIntervalMs: 3_600_000 }, () => {});
}

// ---------------------------------------------------------------------------
// Parent.

/** Instructions per request of a server of `variant`: a window of `n` after `w`. */
async function countWindow(variant, expressName, w, n) {
  const argv = ['--cache-sim=no', process.execPath, ...(process.env.NODE_FLAGS ?? '--single-threaded').split(' ').filter(Boolean), __filename, '--serve', variant, expressName];
  const t = await callgrindWindow(argv, { env: childEnv(), warm: w, n, what: variant });
  return t.Ir / n;
}

async function main() {
  for (const tool of ['valgrind', 'callgrind_control']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      console.log(`${tool} is not installed (Debian: apt-get install valgrind); nothing measured.`);
      return;
    }
  }
  const n = envInteger('N', 5000, 1);
  const w = envInteger('W', 2500, 1);
  const repeat = envInteger('REPEAT', 6, 1, 100);
  const jobsLimit = envInteger('JOBS', 2, 1, 64);
  const expressName = process.env.EXPRESS || 'express';
  const expressVersion = require(path.join(ROOT, 'node_modules', expressName, 'package.json')).version;
  const variants = (process.env.VARIANTS || 'bare,noop,use,attach').split(',').filter(Boolean);
  if (!variants.includes('bare')) variants.unshift('bare');
  for (const v of variants) if (!Object.hasOwn(APPS, v)) throw new Error(`VARIANTS: ${v} is not one of ${Object.keys(APPS).join(', ')}`);
  console.log(
    `express ${expressVersion}, node ${process.version} ${process.env.NODE_FLAGS ?? '--single-threaded'}; ` +
      `instructions per request = Ir over ${n} requests after ${w} to warm up, / ${n}; ${repeat} runs of each variant, ${jobsLimit} at once`,
  );
  const jobs = [];
  for (let r = 0; r < repeat; r++) for (const v of shuffle([...variants])) jobs.push(v);
  const counts = await pool(
    jobs.map((v, i) => async () => {
      const x = await countWindow(v, expressName, w, n);
      console.log(`  run ${i + 1} of ${jobs.length}, ${v}: ${Math.round(x)} instructions per request`);
      return x;
    }),
    jobsLimit,
  );
  const runs = {};
  for (const v of variants) runs[v] = [];
  jobs.forEach((v, i) => runs[v].push(counts[i]));
  const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} %`;
  const bound = (x) => (Number.isNaN(x) ? '?' : x.toFixed(2));
  console.log('');
  console.log(`| variant | instructions / request (median of ${repeat}) | range | added vs bare (instructions) | vs bare [95 %] | budget (2 %) |`);
  console.log('|---|---:|---|---:|---:|---|');
  const bare = median(runs.bare);
  for (const v of variants) {
    const med = median(runs[v]);
    const range = `${Math.round(Math.min(...runs[v]))}–${Math.round(Math.max(...runs[v]))}`;
    if (v === 'bare') {
      console.log(`| ${v} | ${Math.round(med)} | ${range} | | | |`);
      continue;
    }
    const s = percentShift(runs.bare, runs[v]);
    const verdict = s.hi <= BUDGET * 100 ? 'within' : s.lo > BUDGET * 100 ? 'over' : 'not resolved';
    console.log(`| ${v} | ${Math.round(med)} | ${range} | ${Math.round(med - bare)} | ${signed(s.est)} [${bound(s.lo)}, ${bound(s.hi)}] | ${verdict} |`);
  }
}

runBench(serve, main);

'use strict';
// Overhead benchmark: `npm run bench:overhead`.
//
// An Express "hello world" bare, and the same app with memwarden's full stack
// (memory headers, per-route request monitoring, load shedding, and the /api/memory
// router) installed the two documented ways: `use` is app.use(memwarden.express()),
// `attach` is memwarden.express.attach(app); and `bare-again`, a second bare app, as
// an A/A check: its ratio to bare shows the error of the method in this run. Each
// app runs in its own child process on 127.0.0.1; autocannon (in this process) loads
// one at a time, in short interleaved runs whose order rotates per round, so drift
// of the machine hits all alike.
//
// What the method is built against, measured on a shared 2-core machine: a 5 s run's
// throughput moves by ±5-10 % from one run to the next; the first run of a round
// came out a few % faster whichever app it was (so each app takes each position
// equally often); and one server process stayed 1-2 % faster or slower than an
// identical one for its whole life (so the servers are started afresh for each of
// GENERATIONS generations). Many 1 s runs then give a mean that moves by about 1 %.
//
// Prints per generation the mean req/s, then per app: mean req/s, p99 latency, the
// server's own CPU time per request (process.cpuUsage() over the requests it
// served), the throughput ratio to bare (target >= 0.98) with a 95 % interval from
// the per-round ratios, and the CPU ratio.
//
// Where `taskset` exists and there are at least 2 CPUs, the servers are pinned to
// the last CPU and autocannon to the others: on a 2-core machine, a load generator
// and a server competing for both cores made the ratio swing by ±7 % per round.
//
// Options (environment): ROUNDS (default 60, in all), GENERATIONS (default 3),
// DURATION_S (default 1, per run), CONNECTIONS (default 10), WARMUP_S (default 3),
// EXPRESS=express|express4 (default express, i.e. 5), PIN=0 to not pin, VARIANTS
// (default bare-again,use,attach; also noop, attach-no-headers, attach-no-monitor,
// attach-no-steps: see APPS in support.js).
// It is a benchmark, not a test: the exit code is 0 whatever the verdict.

const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');

const { childEnv, envInteger, APPS, serveApp, runBench, pinning, listeningPort } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const TARGET_RATIO = 0.98;

// ---------------------------------------------------------------------------
// Child: one server.

async function serve(variant, expressName) {
  let served = 0;
  await serveApp(variant, expressName, undefined, () => void served++);
  // The parent asks for CPU time and requests served around each run.
  let cpu0 = null;
  let served0 = 0;
  process.on('message', (m) => {
    if (m === 'start') {
      cpu0 = process.cpuUsage();
      served0 = served;
      process.send({ ok: true });
    } else if (m === 'stop') {
      const c = process.cpuUsage(cpu0);
      const n = served - served0;
      process.send({ cpuUsPerRequest: n > 0 ? (c.user + c.system) / n : null, requests: n });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------
// Parent: run the rounds.

function startServer(variant, expressName, pin) {
  const args = [__filename, '--serve', variant, expressName];
  const [cmd, argv] = pin ? ['taskset', ['-c', pin.server, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return listeningPort(child, `the ${variant} server`).then((port) => ({ child, port, variant }));
}

function ask(child, message) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

function load(port, seconds, connections) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: seconds, pipelining: 1 }, (err, result) => {
      if (err) reject(err);
      else resolve(result);
    });
  });
}

async function main() {
  const seconds = envInteger('DURATION_S', 1, 1, 3600);
  const connections = envInteger('CONNECTIONS', 10, 1, 10_000);
  const warmup = envInteger('WARMUP_S', 3, 0, 3600);
  const generations = envInteger('GENERATIONS', 3, 1, 100);
  const expressName = process.env.EXPRESS || 'express';
  const expressVersion = require(path.join(ROOT, 'node_modules', expressName, 'package.json')).version;
  const measured = (process.env.VARIANTS || 'bare-again,use,attach').split(',').filter((v) => v && v !== 'bare');
  for (const v of measured) if (!Object.hasOwn(APPS, v)) throw new Error(`VARIANTS: ${v} is not one of ${Object.keys(APPS).join(', ')}`);
  const variants = ['bare', ...measured];
  // Each app runs in each position of a round equally often within a generation
  // (the first run of a round measured a few % faster than the others, whichever
  // app it was).
  const perGeneration = Math.ceil(envInteger('ROUNDS', 60, 1, 100_000) / generations / variants.length) * variants.length;
  const rounds = perGeneration * generations;
  const pin = pinning();
  if (pin) execFileSync('taskset', ['-p', '-c', pin.load, String(process.pid)], { stdio: 'ignore' });
  console.log(
    `express ${expressVersion}, node ${process.version}; ${generations} generations of server processes x ${perGeneration} rounds x ` +
      `${seconds} s per app, ${connections} connections, warm-up ${warmup} s per app and generation; order rotates per round; ` +
      (pin ? `servers pinned to CPU ${pin.server}, autocannon to CPU ${pin.load}` : 'not pinned'),
  );
  for (const v of variants) console.log(`  ${v}: ${APPS[v].what}`);
  const rows = [];
  for (let g = 1; g <= generations; g++) {
    const servers = {};
    try {
      for (const v of variants) servers[v] = await startServer(v, expressName, pin);
      for (const v of variants) if (warmup > 0) await load(servers[v].port, warmup, connections);
      const first = rows.length;
      for (let r = 0; r < perGeneration; r++) {
        const k = r % variants.length;
        const order = [...variants.slice(k), ...variants.slice(0, k)];
        const row = { generation: g };
        for (const v of order) {
          await ask(servers[v].child, 'start');
          const res = await load(servers[v].port, seconds, connections);
          const cpu = await ask(servers[v].child, 'stop');
          if (res.errors || res.non2xx) throw new Error(`${v}: ${res.errors} errors, ${res.non2xx} non-2xx responses`);
          row[v] = { rps: res.requests.average, p99: res.latency.p99, cpuUs: cpu.cpuUsPerRequest };
        }
        rows.push(row);
      }
      const mine = rows.slice(first);
      const avg = (v) => mine.reduce((sum, x) => sum + x[v].rps, 0) / mine.length;
      console.log(`generation ${g}: ${variants.map((v) => `${v} ${avg(v).toFixed(0)} req/s` + (v === 'bare' ? '' : ` (${(avg(v) / avg('bare')).toFixed(3)})`)).join(', ')}`);
    } finally {
      for (const child of Object.values(servers)) child.child.kill();
    }
  }

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const col = (v, f) => rows.map((x) => x[v][f]);
  const bareRps = mean(col('bare', 'rps'));
  const bareCpu = mean(col('bare', 'cpuUs'));
  console.log('');
  console.log('| app | req/s (mean) | p99 ms (mean) | p99 ms (max) | server CPU µs/req | req/s ratio to bare | ± (95 %) | CPU ratio bare/app |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const verdicts = [];
  for (const v of variants) {
    const rps = mean(col(v, 'rps'));
    const p99 = col(v, 'p99');
    const cpu = mean(col(v, 'cpuUs'));
    let ratio = '';
    let ci = '';
    if (v !== 'bare') {
      // Per-round ratios: their spread gives the interval of the mean ratio.
      const rs = rows.map((x) => x[v].rps / x.bare.rps);
      const m = mean(rs);
      const sd = Math.sqrt(rs.reduce((a, b) => a + (b - m) ** 2, 0) / (rs.length - 1));
      ci = (1.96 * sd) / Math.sqrt(rs.length);
      ratio = rps / bareRps;
      verdicts.push({ v, ratio, ci });
    }
    console.log(
      `| ${v} | ${rps.toFixed(0)} | ${mean(p99).toFixed(1)} | ${Math.max(...p99)} | ${cpu.toFixed(1)} | ` +
        `${v === 'bare' ? '' : ratio.toFixed(3)} | ${v === 'bare' ? '' : ci.toFixed(3)} | ${v === 'bare' ? '' : (bareCpu / cpu).toFixed(3)} |`,
    );
  }
  console.log('');
  console.log(`${rounds} rounds; ratio = mean req/s of the app / mean req/s of bare; ± is 1.96 standard errors of the per-round ratios.`);
  for (const { v, ratio, ci } of verdicts) {
    if (v === 'bare-again') {
      console.log(`bare-again (the same app as bare, another process): ${ratio.toFixed(3)}: how far this run's method is from exact`);
    } else {
      console.log(`${v}: ${ratio.toFixed(3)} ± ${ci.toFixed(3)}; target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'}`);
    }
  }
}

runBench(serve, main);

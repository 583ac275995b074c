'use strict';
// Overhead benchmark: `npm run bench:overhead`.
//
// An Express "hello world" bare, and the same app with memwarden's full stack
// (memwarden.express(): memory headers, per-route request monitoring, load
// shedding, and the /api/memory router), each in its own child process on
// 127.0.0.1. autocannon (in this process) loads one server at a time, in
// interleaved rounds whose order alternates (bare first, then full first, ...), so
// drift of the machine hits both alike. Prints req/s and p99 latency per round,
// the median throughput ratio (full / bare; target >= 0.98) and the median p99s,
// and each server's own CPU time per request (process.cpuUsage() over the run /
// requests served), which does not depend on how the load generator fares.
//
// Where `taskset` exists and there are at least 2 CPUs, the servers are pinned to
// the last CPU and autocannon to the others: on a 2-core machine, a load generator
// and a server competing for both cores made the ratio swing by ±7 % per round.
//
// Options (environment): ROUNDS (default 5), DURATION_S (default 5, per run),
// CONNECTIONS (default 10), EXPRESS=express|express4 (default express, i.e. 5),
// WARMUP_S (default 3), PIN=0 to not pin.
// It is a benchmark, not a test: the exit code is 0 whatever the verdict.

const { spawn, execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TARGET_RATIO = 0.98;

// ---------------------------------------------------------------------------
// Child: one server.

async function serve(variant, expressName) {
  const express = require(path.join(ROOT, 'node_modules', expressName));
  const app = express();
  app.disable('x-powered-by');
  if (variant === 'full') {
    const memwarden = require(ROOT);
    await memwarden.MemoryManagerService.getInstance().initialize();
    app.use(memwarden.express({ express }));
  }
  let served = 0;
  app.get('/', (req, res) => {
    served++;
    res.send('hello world');
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
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

function childEnv() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^MEMORY_|^PROACTIVE_GC/.test(name)) delete env[name];
  delete env.NODE_OPTIONS;
  return env;
}

/** The CPU lists for servers and load generator, or null when not pinning. */
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

function startServer(variant, expressName, pin) {
  return new Promise((resolve, reject) => {
    const args = [__filename, '--serve', variant, expressName];
    const [cmd, argv] = pin ? ['taskset', ['-c', pin.server, process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(cmd, argv, {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, port: JSON.parse(line).port, variant });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
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

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pad = (s, n) => String(s).padStart(n);

async function main() {
  const rounds = Number(process.env.ROUNDS || 5);
  const seconds = Number(process.env.DURATION_S || 5);
  const connections = Number(process.env.CONNECTIONS || 10);
  const warmup = Number(process.env.WARMUP_S || 3);
  const expressName = process.env.EXPRESS || 'express';
  const expressVersion = require(path.join(ROOT, 'node_modules', expressName, 'package.json')).version;
  const pin = pinning();
  if (pin) execFileSync('taskset', ['-p', '-c', pin.load, String(process.pid)], { stdio: 'ignore' });
  const servers = { bare: await startServer('bare', expressName, pin), full: await startServer('full', expressName, pin) };
  try {
    console.log(
      `express ${expressVersion}, node ${process.version}, ${rounds} rounds x ${seconds} s per app, ${connections} connections, ` +
        `warm-up ${warmup} s each; order alternates per round; ` +
        (pin ? `servers pinned to CPU ${pin.server}, autocannon to CPU ${pin.load}` : 'not pinned'),
    );
    for (const v of ['bare', 'full']) if (warmup > 0) await load(servers[v].port, warmup, connections);
    const rows = [];
    for (let r = 1; r <= rounds; r++) {
      const order = r % 2 === 1 ? ['bare', 'full'] : ['full', 'bare'];
      const row = { round: r, order: order.join('→') };
      for (const v of order) {
        await ask(servers[v].child, 'start');
        const res = await load(servers[v].port, seconds, connections);
        const cpu = await ask(servers[v].child, 'stop');
        if (res.errors || res.non2xx) throw new Error(`${v}: ${res.errors} errors, ${res.non2xx} non-2xx responses`);
        row[v] = { rps: res.requests.average, p99: res.latency.p99, p50: res.latency.p50, cpuUs: cpu.cpuUsPerRequest };
      }
      row.ratio = row.full.rps / row.bare.rps;
      row.cpuRatio = row.bare.cpuUs / row.full.cpuUs;
      rows.push(row);
      console.log(
        `round ${r} (${row.order}): bare ${row.bare.rps.toFixed(0)} req/s p99 ${row.bare.p99} ms ${row.bare.cpuUs.toFixed(1)} µs/req | ` +
          `full ${row.full.rps.toFixed(0)} req/s p99 ${row.full.p99} ms ${row.full.cpuUs.toFixed(1)} µs/req | ratio ${row.ratio.toFixed(3)}`,
      );
    }
    const ratio = median(rows.map((x) => x.ratio));
    console.log('');
    const cpuRatio = median(rows.map((x) => x.cpuRatio));
    console.log('| round | order | bare req/s | bare p99 ms | bare CPU µs/req | full req/s | full p99 ms | full CPU µs/req | full/bare req/s |');
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of rows) {
      console.log(
        `| ${x.round} | ${x.order} | ${pad(x.bare.rps.toFixed(0), 6)} | ${pad(x.bare.p99, 3)} | ${x.bare.cpuUs.toFixed(1)} | ` +
          `${pad(x.full.rps.toFixed(0), 6)} | ${pad(x.full.p99, 3)} | ${x.full.cpuUs.toFixed(1)} | ${x.ratio.toFixed(3)} |`,
      );
    }
    console.log(
      `| median | | ${median(rows.map((x) => x.bare.rps)).toFixed(0)} | ${median(rows.map((x) => x.bare.p99))} | ${median(rows.map((x) => x.bare.cpuUs)).toFixed(1)} | ` +
        `${median(rows.map((x) => x.full.rps)).toFixed(0)} | ${median(rows.map((x) => x.full.p99))} | ${median(rows.map((x) => x.full.cpuUs)).toFixed(1)} | ${ratio.toFixed(3)} |`,
    );
    console.log('');
    console.log(
      `throughput ratio (median of rounds): ${ratio.toFixed(3)}; target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'}`,
    );
    console.log(`server CPU per request, bare / full (median of rounds): ${cpuRatio.toFixed(3)}`);
  } finally {
    for (const s of Object.values(servers)) s.child.kill();
  }
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3], process.argv[4]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

'use strict';
// Overhead benchmark: `npm run bench:overhead`.
//
// An Express "hello world" bare, and the same app with memwarden's full stack
// (memory headers, per-route request monitoring, load shedding, and the /api/memory
// router) installed the two documented ways: `use` is
// app.use(memwarden.express()), `attach` is memwarden.express.attach(app). Each app
// runs in its own child process on 127.0.0.1. autocannon (in this process) loads one
// server at a time, in interleaved rounds whose order rotates (bare, use, attach;
// then use, attach, bare; ...), so drift of the machine hits all alike. Prints
// req/s and p99 latency per round, the median throughput ratio of each variant to
// bare (target >= 0.98) and the median p99s, and each server's own CPU time per
// request (process.cpuUsage() over the run / requests served), which does not
// depend on how the load generator fares.
//
// Where `taskset` exists and there are at least 2 CPUs, the servers are pinned to
// the last CPU and autocannon to the others: on a 2-core machine, a load generator
// and a server competing for both cores made the ratio swing by ±7 % per round.
//
// Options (environment): ROUNDS (default 5), DURATION_S (default 5, per run),
// CONNECTIONS (default 10), EXPRESS=express|express4 (default express, i.e. 5),
// WARMUP_S (default 3), PIN=0 to not pin, VARIANTS (default use,attach).
// It is a benchmark, not a test: the exit code is 0 whatever the verdict.

const { spawn, execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const { median, childEnv } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const TARGET_RATIO = 0.98;

// ---------------------------------------------------------------------------
// Child: one server.

async function serve(variant, expressName) {
  const express = require(path.join(ROOT, 'node_modules', expressName));
  const app = express();
  app.disable('x-powered-by');
  if (variant !== 'bare') {
    const memwarden = require(ROOT);
    await memwarden.MemoryManagerService.getInstance().initialize();
    if (variant === 'use') app.use(memwarden.express({ express }));
    else if (variant === 'attach') memwarden.express.attach(app, { express });
    else throw new Error(`unknown variant ${variant}`);
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

const pad = (s, n) => String(s).padStart(n);

async function main() {
  const rounds = Number(process.env.ROUNDS || 5);
  const seconds = Number(process.env.DURATION_S || 5);
  const connections = Number(process.env.CONNECTIONS || 10);
  const warmup = Number(process.env.WARMUP_S || 3);
  const expressName = process.env.EXPRESS || 'express';
  const expressVersion = require(path.join(ROOT, 'node_modules', expressName, 'package.json')).version;
  const measured = (process.env.VARIANTS || 'use,attach').split(',').filter(Boolean);
  for (const v of measured) if (v !== 'use' && v !== 'attach') throw new Error(`VARIANTS: ${v} is not use or attach`);
  const variants = ['bare', ...measured];
  const pin = pinning();
  if (pin) execFileSync('taskset', ['-p', '-c', pin.load, String(process.pid)], { stdio: 'ignore' });
  const servers = {};
  for (const v of variants) servers[v] = await startServer(v, expressName, pin);
  try {
    console.log(
      `express ${expressVersion}, node ${process.version}, ${rounds} rounds x ${seconds} s per app, ${connections} connections, ` +
        `warm-up ${warmup} s each; order rotates per round; ` +
        (pin ? `servers pinned to CPU ${pin.server}, autocannon to CPU ${pin.load}` : 'not pinned'),
    );
    console.log('use = app.use(memwarden.express()), attach = memwarden.express.attach(app)');
    for (const v of variants) if (warmup > 0) await load(servers[v].port, warmup, connections);
    const rows = [];
    for (let r = 1; r <= rounds; r++) {
      const k = (r - 1) % variants.length;
      const order = [...variants.slice(k), ...variants.slice(0, k)];
      const row = { round: r, order: order.join('→') };
      for (const v of order) {
        await ask(servers[v].child, 'start');
        const res = await load(servers[v].port, seconds, connections);
        const cpu = await ask(servers[v].child, 'stop');
        if (res.errors || res.non2xx) throw new Error(`${v}: ${res.errors} errors, ${res.non2xx} non-2xx responses`);
        row[v] = { rps: res.requests.average, p99: res.latency.p99, cpuUs: cpu.cpuUsPerRequest };
      }
      for (const v of measured) {
        row[v].ratio = row[v].rps / row.bare.rps;
        row[v].cpuRatio = row.bare.cpuUs / row[v].cpuUs;
      }
      rows.push(row);
      console.log(
        `round ${r} (${row.order}): ` +
          variants
            .map((v) => `${v} ${row[v].rps.toFixed(0)} req/s p99 ${row[v].p99} ms ${row[v].cpuUs.toFixed(1)} µs/req` + (v === 'bare' ? '' : ` ratio ${row[v].ratio.toFixed(3)}`))
            .join(' | '),
      );
    }
    console.log('');
    const cell = (x) => `${pad(x.rps.toFixed(0), 6)} | ${pad(x.p99, 3)} | ${x.cpuUs.toFixed(1)}`;
    console.log(`| round | order | ${variants.map((v) => `${v} req/s | ${v} p99 ms | ${v} CPU µs/req`).join(' | ')} | ${measured.map((v) => `${v}/bare req/s`).join(' | ')} |`);
    console.log(`|---:|---|${variants.map(() => '---:|---:|---:|').join('')}${measured.map(() => '---:|').join('')}`);
    for (const x of rows) {
      console.log(`| ${x.round} | ${x.order} | ${variants.map((v) => cell(x[v])).join(' | ')} | ${measured.map((v) => x[v].ratio.toFixed(3)).join(' | ')} |`);
    }
    const med = (v, f) => median(rows.map((x) => x[v][f]));
    console.log(
      `| median | | ${variants.map((v) => `${med(v, 'rps').toFixed(0)} | ${med(v, 'p99')} | ${med(v, 'cpuUs').toFixed(1)}`).join(' | ')} | ` +
        `${measured.map((v) => med(v, 'ratio').toFixed(3)).join(' | ')} |`,
    );
    console.log('');
    for (const v of measured) {
      const ratio = med(v, 'ratio');
      console.log(
        `${v}: throughput ratio to bare (median of rounds) ${ratio.toFixed(3)}; target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'}; ` +
          `server CPU per request, bare / ${v}: ${med(v, 'cpuRatio').toFixed(3)}`,
      );
    }
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

'use strict';
// npm run bench:endpoints: µs per call of each /api/memory read route with an empty
// history, with 60 samples (as many as /metrics shows: its output is then as large as
// it gets) and with a full one (the trace's 2,400 samples), side by side in one run.
//
// Three server processes (this file with --serve empty|tail|full), each an Express 5
// app with memwarden.express() in token mode, as in production. They fill their
// history with checkMemoryPressure() (one sample each) before they listen, instead of
// waiting. This process is the client: keep-alive HTTP on 127.0.0.1, one request at a
// time. `GET /ping` is the same app answering '{}': the HTTP floor every route pays.
// `metrics-export` is GET /metrics's history built the way it was before the native
// tail (the whole trace exported to keep the last 60 samples), for comparison.
// Each round also asks every server to time the router's handlers called directly
// (no HTTP, no Express dispatch: memwarden's own work per call), BENCH_HANDLER_CALLS
// calls per route (GET /bench/handlers); medians over the rounds.
// Each round runs every route BENCH_CALLS times on each server in turn (which server
// goes first rotates). Printed per route and server: the median over BENCH_ROUNDS
// rounds of the mean µs per call, and of its difference to the same round's /ping on
// the same server (the route's own cost; pairs within a round cancel most of the
// noise of a shared machine).
const http = require('node:http');
const path = require('node:path');
const { once } = require('node:events');
const { spawn } = require('node:child_process');
const { median, envInteger, childEnv, runBench } = require('./support');

const ROOT = path.join(__dirname, '..');
const ROUTES = ['/ping', '/api/memory/health', '/api/memory/metrics', '/api/memory/leak-detection', '/bench/metrics-export'];

/** µs per call of each read route's handler, called directly with a minimal req/res. */
function handlerTimes(router, token, calls) {
  const req = { method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: '127.0.0.1' } };
  const res = () => ({ statusCode: 0, setHeader() {}, end(text) { this.text = text; } });
  const out = {};
  for (const p of ['/health', '/metrics', '/leak-detection']) {
    const handle = router.stack.find((layer) => layer.route && layer.route.path === p).route.stack[0].handle;
    const check = res();
    handle(req, check);
    if (check.statusCode !== 200) throw new Error(`${p}: ${check.statusCode} ${check.text}`);
    for (let i = 0; i < 20; i++) handle(req, res());
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) handle(req, res());
    out[`/api/memory${p}`] = Number(process.hrtime.bigint() - t0) / 1e3 / calls;
  }
  return out;
}

async function serve(kind, token) {
  const memwarden = require(ROOT);
  const express = require(path.join(ROOT, 'node_modules', 'express'));
  const manager = memwarden.MemoryManagerService.getInstance();
  await manager.initialize({ memoryLimitMb: 100_000, proactiveGc: false, proactiveCleanup: false, monitoringIntervalMs: 3_600_000 });
  let fills = 0;
  const fillStart = process.hrtime.bigint();
  if (kind === 'tail') {
    // As many samples as /metrics shows (historySamples, 60): its output is as large as it gets.
    for (; manager.exportTrace().samples.length < 60; fills++) await manager.checkMemoryPressure();
  } else if (kind === 'full') {
    // Until the trace is full: more samples than it holds leave its length unchanged.
    for (let before = -1; manager.exportTrace().samples.length !== before; fills += 100) {
      before = manager.exportTrace().samples.length;
      for (let i = 0; i < 100; i++) await manager.checkMemoryPressure();
    }
  }
  const fillMs = Number(process.hrtime.bigint() - fillStart) / 1e6;
  const direct = memwarden.createMemoryRouter({ express, adminToken: token });
  const handlerCalls = envInteger('BENCH_HANDLER_CALLS', 500, 1, 1_000_000);
  handlerTimes(direct, token, handlerCalls); // warm-up
  const app = express();
  app.use(memwarden.express({ express, router: { adminToken: token } }));
  app.get('/ping', (req, res) => {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end('{}');
  });
  app.get('/bench/handlers', (req, res) => res.json(handlerTimes(direct, token, handlerCalls)));
  app.get('/bench/metrics-export', (req, res) => {
    const trace = manager.exportTrace();
    const leak = manager.getLeakDetection();
    res.json({ report: manager.getHealthMetrics(), recentSamples: trace.samples.slice(-60), gc: trace.gc.slice(-20), leak: leak.confidence });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const samples = manager.exportTrace().samples.length;
  process.stdout.write(`${JSON.stringify({ port: server.address().port, samples, fills, fillMs })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

function start(kind, token) {
  const child = spawn(process.execPath, [__filename, '--serve', kind], { env: childEnv({ BENCH_TOKEN: token }), stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ child, ...JSON.parse(out.slice(0, out.indexOf('\n'))) });
    });
    child.on('close', (code) => reject(new Error(`the ${kind} server exited with ${code}`)));
  });
}

function get(agent, port, urlPath, token) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${urlPath}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

const KINDS = ['empty', 'tail', 'full'];

async function main() {
  const rounds = envInteger('BENCH_ROUNDS', 15, 1, 1000);
  const calls = envInteger('BENCH_CALLS', 40, 1, 100_000);
  const token = require('node:crypto').randomBytes(24).toString('hex');
  const servers = {};
  const agents = {};
  const times = {};
  for (const k of KINDS) {
    servers[k] = await start(k, token);
    agents[k] = new http.Agent({ keepAlive: true, maxSockets: 1 });
    times[k] = Object.fromEntries(ROUTES.map((r) => [r, []]));
  }
  const handlerRuns = Object.fromEntries(KINDS.map((k) => [k, []]));
  for (let i = 0; i < 20; i++) for (const k of KINDS) for (const r of ROUTES) await get(agents[k], servers[k].port, r, token); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length]); // each server first equally often
    for (const r of ROUTES) {
      for (const k of order) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) await get(agents[k], servers[k].port, r, token);
        times[k][r].push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
      }
    }
    for (const k of order) handlerRuns[k].push(JSON.parse(await get(agents[k], servers[k].port, '/bench/handlers', token)));
  }
  const handler = (k, r) => median(handlerRuns[k].map((run) => run[r]));
  for (const k of KINDS) {
    agents[k].destroy();
    servers[k].child.stdin.end();
  }
  const total = (k, r) => median(times[k][r]);
  const net = (k, r) => median(times[k][r].map((x, i) => x - times[k]['/ping'][i]));

  console.log(`bench:endpoints: ${rounds} rounds x ${calls} calls per route and server, keep-alive HTTP on 127.0.0.1, token mode`);
  console.log(
    `history: ${KINDS.map((k) => `${k} ${servers[k].samples} sample(s)`).join(', ')} (full: ${servers.full.fills} checkMemoryPressure() calls in ${servers.full.fillMs.toFixed(0)} ms)`,
  );
  const w = Math.max(...ROUTES.map((r) => r.length));
  const cell = (x, n = 11) => String(x).padStart(n);
  const header = (what) => `${'route'.padEnd(w)}  ${KINDS.map((k) => cell(`${k} ${what}`)).join('  ')}  ${cell('full/tail')}`;
  console.log('');
  console.log('HTTP, µs per call:');
  console.log(header('µs'));
  for (const r of ROUTES) console.log(`${r.padEnd(w)}  ${KINDS.map((k) => cell(total(k, r).toFixed(1))).join('  ')}  ${cell((total('full', r) / total('tail', r)).toFixed(2))}`);
  console.log('');
  console.log("HTTP, the route's own µs per call (minus the same round's /ping on that server):");
  console.log(header('-ping'));
  for (const r of ROUTES.slice(1)) console.log(`${r.padEnd(w)}  ${KINDS.map((k) => cell(net(k, r).toFixed(1))).join('  ')}  ${cell((net('full', r) / net('tail', r)).toFixed(2))}`);
  console.log('');
  console.log('handlers called directly (no HTTP), µs per call:');
  console.log(header('µs'));
  for (const r of Object.keys(handlerRuns.full[0])) {
    console.log(`${r.padEnd(w)}  ${KINDS.map((k) => cell(handler(k, r).toFixed(1))).join('  ')}  ${cell((handler('full', r) / handler('tail', r)).toFixed(2))}`);
  }
}

runBench((kind) => serve(kind, process.env.BENCH_TOKEN), main);

'use strict';
// npm run bench:endpoints: µs per call of each /api/memory read route, with an empty
// history and with a full one (the trace's 2,400 samples), side by side in one run.
//
// One process: an Express 5 app with memwarden.express() (token mode, as in
// production), real HTTP on 127.0.0.1 with a keep-alive agent, requests one after the
// other. `GET /ping` is the same app answering '{}': the HTTP floor every route pays.
// `metrics-export` is GET /metrics built the way it was before the native tail (the
// whole trace exported to keep the last 60 samples), for comparison.
// The history is filled by checkMemoryPressure() (one sample each), not by waiting.
// Each round runs every route BENCH_CALLS times in turn. Printed per route: the median
// over BENCH_ROUNDS rounds of the mean µs per call, and of the same round's difference
// to /ping (the route's own cost; pairs within a round cancel most of the noise of a
// shared machine).
const http = require('node:http');
const path = require('node:path');
const { once } = require('node:events');
const { median, envInteger } = require('./support');

const ROOT = path.join(__dirname, '..');
const memwarden = require(ROOT);
const express = require(path.join(ROOT, 'node_modules', 'express'));

const ROUNDS = envInteger('BENCH_ROUNDS', 15, 1, 1000);
const CALLS = envInteger('BENCH_CALLS', 40, 1, 100_000);
const TOKEN = require('node:crypto').randomBytes(24).toString('hex');
const ROUTES = ['/ping', '/api/memory/health', '/api/memory/metrics', '/api/memory/leak-detection', '/bench/metrics-export'];

function get(agent, port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${urlPath}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** Per route: { total, net }: medians over rounds of the mean µs per call, and of its difference to /ping. */
async function measure(agent, port) {
  const perRoute = Object.fromEntries(ROUTES.map((r) => [r, []]));
  for (let i = 0; i < 5; i++) for (const r of ROUTES) await get(agent, port, r); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of ROUTES) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < CALLS; i++) await get(agent, port, r);
      perRoute[r].push(Number(process.hrtime.bigint() - start) / 1e3 / CALLS);
    }
  }
  const net = (r) => median(perRoute[r].map((x, i) => x - perRoute['/ping'][i]));
  return Object.fromEntries(ROUTES.map((r) => [r, { total: median(perRoute[r]), net: net(r) }]));
}

async function main() {
  const manager = memwarden.MemoryManagerService.getInstance();
  await manager.initialize({ memoryLimitMb: 100_000, proactiveGc: false, proactiveCleanup: false, monitoringIntervalMs: 3_600_000 });
  const app = express();
  app.use(memwarden.express({ express, router: { adminToken: TOKEN } }));
  app.get('/ping', (req, res) => res.json({}));
  app.get('/bench/metrics-export', (req, res) => {
    // The previous /metrics history: the whole trace exported, the last 60 kept.
    const trace = manager.exportTrace();
    const leak = manager.getLeakDetection();
    res.json({ report: manager.getHealthMetrics(), recentSamples: trace.samples.slice(-60), gc: trace.gc.slice(-20), leak: leak.confidence });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const emptySamples = manager.exportTrace().samples.length;
  const empty = await measure(agent, port);
  const fillStart = process.hrtime.bigint();
  let fills = 0;
  // Until the trace is full: one more sample than it holds shows it has wrapped.
  for (let before = -1; manager.exportTrace().samples.length !== before; fills += 100) {
    before = manager.exportTrace().samples.length;
    for (let i = 0; i < 100; i++) await manager.checkMemoryPressure();
  }
  const fillMs = Number(process.hrtime.bigint() - fillStart) / 1e6;
  const fullSamples = manager.exportTrace().samples.length;
  const full = await measure(agent, port);

  console.log(`bench:endpoints: ${ROUNDS} rounds x ${CALLS} calls per route, keep-alive HTTP on 127.0.0.1, token mode`);
  console.log(`history: ${emptySamples} sample(s) vs ${fullSamples} (filled with ${fills} checkMemoryPressure() calls in ${fillMs.toFixed(0)} ms)`);
  console.log('');
  const w = Math.max(...ROUTES.map((r) => r.length));
  const cell = (x, n = 12) => x.padStart(n);
  console.log(`${'route'.padEnd(w)}  ${cell('empty µs')}  ${cell('full µs')}  ${cell('empty-ping')}  ${cell('full-ping')}  ${cell('full/empty', 10)}`);
  for (const r of ROUTES) {
    const e = empty[r];
    const f = full[r];
    const nets = r === '/ping' ? ['', '', ''] : [e.net.toFixed(1), f.net.toFixed(1), (f.net / e.net).toFixed(2)];
    console.log(`${r.padEnd(w)}  ${cell(e.total.toFixed(1))}  ${cell(f.total.toFixed(1))}  ${cell(nets[0])}  ${cell(nets[1])}  ${cell(nets[2], 10)}`);
  }
  console.log('');
  console.log('empty-ping / full-ping: the route\'s own µs per call (same-round difference to /ping); full/empty: their ratio.');
  agent.destroy();
  server.closeAllConnections();
  server.close();
  await manager.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

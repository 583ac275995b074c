'use strict';
// Fixture for the metrics specs: an Express app with the memwarden router on
// 127.0.0.1 (port 0), printing `@@memwarden-result {"port":N,...}` once listening.
//   node metrics-app.js steady     churn only (no leak)
//   node metrics-app.js leak       churn, and from 2 s a ~2 MB/s heap leak
//   node metrics-app.js emergency  steady, with a 16 MB limit (emergency status at once)
//   node metrics-app.js cluster    a node:cluster primary with 2 workers, each an
//                                  Express app; the primary serves the aggregated
//                                  text format on GET /metrics (its own port)
//   node metrics-app.js promclient steady, plus prom-client's registry with default
//                                  metrics and collectMemwardenMetrics on GET /prom
//   node metrics-app.js aggregator 2 workers with collectMemwardenMetrics on the global
//                                  registry; the primary prints prom-client's
//                                  AggregatorRegistry.clusterMetrics() and exits
//   node metrics-app.js cluster-missing 2 workers, one of which never answers: the
//                                  primary prints clusterMetrics({ timeoutMs: 500 })
//   node metrics-app.js idle-worker a worker with only serveClusterMetrics() and a
//                                  manager it shuts down: prints how it exited
// The token for the router comes from MEMORY_ADMIN_TOKEN (set by the spec).
const cluster = require('node:cluster');
const http = require('node:http');
const { ROOT, emitResult } = require('./child');
const memwarden = require(ROOT);

const mode = process.argv[2];
const quiet = { info() {}, warn() {}, error() {} };

let counter = 0;
const inFlight = [];
function churn(perTick) {
  const batch = [];
  for (let i = 0; i < perTick; i++) batch.push({ id: counter++, body: Array.from({ length: 20 }, (_, k) => ({ k, s: `item-${k}` })) });
  inFlight.push(batch);
  if (inFlight.length > 10) inFlight.shift();
}
const leaked = [];

async function app({ leak, limitMb = 512 }) {
  const express = require('express');
  const m = memwarden.MemoryManagerService.getInstance();
  await m.initialize({ memoryLimitMb: limitMb, logger: quiet, leakAttribution: false, proactiveCleanup: false });
  const t0 = Date.now();
  const work = setInterval(() => {
    churn(20);
    if (leak && Date.now() - t0 > 2000) for (let i = 0; i < 20; i++) leaked.push({ key: `k${counter++}`, value: 'v'.repeat(1000) });
  }, 10);
  const server = express()
    .use('/api/memory', memwarden.createMemoryRouter())
    .listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const stop = () => {
    clearInterval(work);
    server.close();
    m.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  return { server, manager: m };
}

async function main() {
  if (mode === 'steady' || mode === 'leak' || mode === 'emergency') {
    const { server } = await app({ leak: mode === 'leak', limitMb: mode === 'emergency' ? 16 : 512 });
    emitResult({ port: server.address().port, pid: process.pid });
    return;
  }
  if (mode === 'promclient') {
    const client = require('prom-client');
    const { manager } = await app({ leak: false });
    const register = new client.Registry();
    client.collectDefaultMetrics({ register });
    memwarden.collectMemwardenMetrics({ register, manager, labels: { service: 'fixture' } });
    const server = http.createServer(async (req, res) => {
      res.setHeader('Content-Type', register.contentType);
      res.end(await register.metrics());
    });
    server.listen(0, '127.0.0.1', () => emitResult({ port: server.address().port, pid: process.pid }));
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  if (mode === 'cluster') {
    if (cluster.isPrimary) {
      const workers = [cluster.fork(), cluster.fork()];
      const ports = await Promise.all(workers.map((w) => new Promise((r) => w.on('message', (msg) => msg && msg.port && r(msg.port)))));
      const server = http.createServer(async (req, res) => {
        try {
          const text = await memwarden.clusterMetrics({ timeoutMs: 2000 });
          res.setHeader('Content-Type', memwarden.clusterMetrics.contentType);
          res.end(text);
        } catch (err) {
          res.statusCode = 500;
          res.end(String(err && err.message));
        }
      });
      server.listen(0, '127.0.0.1', () => emitResult({ port: server.address().port, workerPorts: ports, pid: process.pid }));
      process.on('SIGTERM', () => {
        for (const w of workers) w.kill();
        process.exit(0);
      });
      return;
    }
    const { server } = await app({ leak: false });
    memwarden.serveClusterMetrics();
    process.send({ port: server.address().port });
    return;
  }
  if (mode === 'aggregator') {
    // prom-client's own cluster aggregation over workers that use collectMemwardenMetrics.
    const client = require('prom-client');
    // As in prom-client's example: built in the primary and in every worker (it adds
    // the workers' listeners too).
    const aggregator = new client.AggregatorRegistry();
    if (cluster.isPrimary) {
      const workers = [cluster.fork(), cluster.fork()];
      await Promise.all(workers.map((w) => new Promise((r) => w.on('message', (msg) => msg === 'ready' && r()))));
      const text = await aggregator.clusterMetrics();
      emitResult({ text });
      for (const w of workers) w.kill();
      return;
    }
    const m = memwarden.MemoryManagerService.getInstance();
    await m.initialize({ memoryLimitMb: 512, logger: quiet, leakAttribution: false });
    client.collectDefaultMetrics();
    memwarden.collectMemwardenMetrics();
    process.send('ready');
    return;
  }
  if (mode === 'cluster-missing') {
    // Two workers; only worker 1 answers: the primary's clusterMetrics() waits out its timeout.
    if (cluster.isPrimary) {
      const workers = [cluster.fork(), cluster.fork()];
      await Promise.all(workers.map((w) => new Promise((r) => w.on('message', (msg) => msg === 'ready' && r()))));
      const t0 = Date.now();
      const text = await memwarden.clusterMetrics({ timeoutMs: 500 });
      emitResult({ text, ms: Date.now() - t0 });
      for (const w of workers) w.kill();
      return;
    }
    const m = memwarden.MemoryManagerService.getInstance();
    await m.initialize({ logger: quiet, leakAttribution: false });
    if (cluster.worker.id === 1) memwarden.serveClusterMetrics();
    process.send('ready');
    setInterval(() => {}, 1000); // stays up until the primary kills it
    return;
  }
  if (mode === 'idle-worker') {
    // A worker whose only work is serveClusterMetrics(): it must still exit on its own.
    if (cluster.isPrimary) {
      const w = cluster.fork();
      const t0 = Date.now();
      w.on('exit', (code, signal) => emitResult({ code, signal, ms: Date.now() - t0 }));
      return;
    }
    const m = memwarden.MemoryManagerService.getInstance();
    await m.initialize({ logger: quiet, leakAttribution: false });
    memwarden.serveClusterMetrics();
    setTimeout(() => m.shutdown(), 300);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

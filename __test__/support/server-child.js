'use strict';
// Fixture: an Express 5 app with memwarden.express() in a process of its own, with
// whatever platform variables (NODE_ENV, RENDER, ...) and MEMORY_* variables the
// parent put in its environment. argv[2] is JSON: the router options. Prints one line
// `{ port, localDevelopment, platform, platformReason }` once it listens on
// 127.0.0.1:0, and exits when its stdin closes (the parent ends it that way).

const path = require('node:path');
const { ROOT } = require('./child');

const memwarden = require(ROOT);
const express = require(path.join(ROOT, 'node_modules', 'express'));

async function main() {
  const router = JSON.parse(process.argv[2] || '{}');
  const m = memwarden.MemoryManagerService.getInstance();
  await m.initialize({ memoryLimitMb: 100_000, proactiveGc: false, proactiveCleanup: false, monitoringIntervalMs: 60_000 });
  const app = express();
  app.use(memwarden.express({ express, router: { adminRateLimitMs: 0, ...router } }));
  const server = app.listen(0, '127.0.0.1', () => {
    const c = m.config;
    process.stdout.write(`${JSON.stringify({ port: server.address().port, localDevelopment: c.localDevelopment, platform: c.platform, platformReason: c.platformReason })}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.closeAllConnections();
    server.close();
    m.shutdown();
  });
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

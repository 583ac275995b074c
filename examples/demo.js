'use strict';
// A small Express app using memwarden: `npm start`, then open http://127.0.0.1:3000/
const express = require('express');
const { MemoryManagerService } = require('..');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

async function main() {
  const memory = MemoryManagerService.getInstance();
  await memory.initialize();
  memory.on('status', (e) => console.log(`[memwarden] status ${e.previous} -> ${e.current} (${e.pressurePercentage.toFixed(1)}% of the limit, ${e.pressureSource})`));

  const app = express();
  const retained = [];

  app.get('/', (req, res) => {
    const m = memory.getHealthMetrics();
    res.type('text').send(
      [
        `memwarden demo: status ${m.status}`,
        `resident ${(m.currentUsage.residentBytes / 1048576).toFixed(1)} MB of ${(m.currentUsage.limitBytes / 1048576).toFixed(0)} MB (${m.currentUsage.limitSource}), ${m.currentUsage.usagePercentage.toFixed(1)}%`,
        `heap ${(m.currentUsage.heapUsed / 1048576).toFixed(1)} MB of ${(m.currentUsage.heapSizeLimit / 1048576).toFixed(0)} MB`,
        `platform ${m.currentUsage.platform}: ${m.currentUsage.platformReason}`,
        '',
        'GET  /api/memory/health   health report (JSON)',
        'POST /retain?mb=50        keep 50 MB alive (simulate growth)',
        'POST /release             drop what /retain kept',
        'POST /gc                  force a garbage collection',
      ].join('\n') + '\n',
    );
  });
  app.get('/api/memory/health', (req, res) => res.json(memory.getHealthMetrics()));
  app.post('/retain', (req, res) => {
    const mb = Number(req.query.mb || 50);
    if (!Number.isFinite(mb) || mb <= 0 || mb > 1024) {
      return res.status(400).json({ error: `mb=${req.query.mb} is invalid; accepted: a number from 1 to 1024` });
    }
    retained.push(Buffer.alloc(mb * 1048576, 1));
    res.json({ retainedMb: retained.reduce((s, b) => s + b.length, 0) / 1048576 });
  });
  app.post('/release', (req, res) => {
    retained.length = 0;
    res.json({ retainedMb: 0 });
  });
  app.post('/gc', async (req, res) => res.json(await memory.forceGarbageCollection('demo')));

  const server = app.listen(port, host, () => {
    console.log(`memwarden demo on http://${host}:${port}/ (limit ${(memory.limit.bytes / 1048576).toFixed(0)} MB from ${memory.limit.source})`);
  });
  const stop = async () => {
    server.close();
    await memory.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});

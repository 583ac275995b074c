'use strict';
// A small Express app using memwarden: `npm start`, then open http://127.0.0.1:3000/
//
// memwarden.express.attach(app) adds the memory headers, per-route request statistics, load
// shedding at emergency, and the /api/memory endpoints. POST /retain grows memory so
// you can watch the status, the alerts and the shedding; a cleanup strategy drops
// what /retain kept when memory is critical.
const express = require('express');
const memwarden = require('..');

const { MemoryManagerService, memoryMonitoring } = memwarden;
const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
const MB = 1048576;

async function main() {
  const memory = MemoryManagerService.getInstance();
  await memory.initialize(); // MEMORY_* variables, MEMORY_ALERT_WEBHOOK_URL; alerts go to the console
  if (!process.env.MEMORY_ADMIN_TOKEN && !memory.config.localDevelopment) {
    // Outside local development /api/memory needs a token (README "Security"): one for this run.
    process.env.MEMORY_ADMIN_TOKEN = require('node:crypto').randomBytes(24).toString('hex');
    console.log(`[memwarden] not local development (${memory.config.platformReason}): send -H "Authorization: Bearer ${process.env.MEMORY_ADMIN_TOKEN}"`);
  }
  memory.on('status', (e) =>
    console.log(`[memwarden] status ${e.previous} -> ${e.current} (${e.pressurePercentage.toFixed(1)}% of the limit, ${e.pressureSource})`),
  );
  memory.on('cleanup', (run) =>
    console.log(`[memwarden] cleanup (${run.reason}): ${run.actions.map((a) => `${a.strategy} ${a.success ? 'ok' : `failed: ${a.error}`}`).join(', ') || 'nothing eligible'}`),
  );

  const retained = [];
  memory.registerCleanupStrategy({
    name: 'demo_release_retained',
    priority: 90,
    thresholdPercent: 75,
    description: 'Drop what POST /retain kept',
    run() {
      const bytes = retained.reduce((s, b) => s + b.length, 0);
      retained.length = 0;
      return { freedBytes: bytes, details: { buffers: 'released' } };
    },
  });

  const app = express();
  memwarden.express.attach(app);

  app.get('/', memoryMonitoring.omitMemoryHeaders(), (req, res) => {
    const m = memory.getHealthMetrics();
    res.type('text').send(
      [
        `memwarden demo: status ${m.status}`,
        `resident ${(m.currentUsage.residentBytes / MB).toFixed(1)} MB of ${(m.currentUsage.limitBytes / MB).toFixed(0)} MB (${m.currentUsage.limitSource}), ${m.currentUsage.usagePercentage.toFixed(1)}%`,
        `heap ${(m.currentUsage.heapUsed / MB).toFixed(1)} MB of ${(m.currentUsage.heapSizeLimit / MB).toFixed(0)} MB`,
        `platform ${m.currentUsage.platform}: ${m.currentUsage.platformReason}`,
        `retained by /retain: ${(retained.reduce((s, b) => s + b.length, 0) / MB).toFixed(0)} MB`,
        '',
        'GET  /hello                          a route with X-Memory-Status / X-Memory-Usage headers',
        'GET  /api/memory/health              health report (JSON)',
        'GET  /api/memory/metrics             history, per-route statistics, GC, alerts, cleanup',
        'GET  /api/memory/leak-detection      leak detector verdict and evidence',
        'POST /api/memory/gc                  force a GC (README "Security": who may)',
        'POST /api/memory/emergency-cleanup   run every cleanup strategy',
        'POST /retain?mb=50                   keep 50 MB alive (simulate growth)',
        'POST /release                        drop what /retain kept',
      ].join('\n') + '\n',
    );
  });
  app.get('/hello', (req, res) => res.send('hello\n'));
  app.post('/retain', (req, res) => {
    const mb = Number(req.query.mb || 50);
    if (!Number.isFinite(mb) || mb <= 0 || mb > 1024) {
      return res.status(400).json({ error: `mb=${req.query.mb} is invalid; accepted: a number from 1 to 1024` });
    }
    retained.push(Buffer.alloc(mb * MB, 1));
    return res.json({ retainedMb: retained.reduce((s, b) => s + b.length, 0) / MB });
  });
  app.post('/release', (req, res) => {
    retained.length = 0;
    res.json({ retainedMb: 0 });
  });

  const server = app.listen(port, host, () => {
    console.log(`memwarden demo on http://${host}:${port}/ (limit ${(memory.limit.bytes / MB).toFixed(0)} MB from ${memory.limit.source})`);
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

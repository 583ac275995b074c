'use strict';
// A small Express app using memwarden: `npm start`, then open the dashboard URL it prints.
//
// memwarden.express.attach(app) adds the memory headers, per-route request statistics, load
// shedding at emergency, and the /api/memory endpoints (the dashboard at
// /api/memory/dashboard). Things to try:
//   POST /leak/start   a leak on purpose: GET /leaky keeps every "session" it creates, and
//                      the demo calls it 10 times a second (about 1 MB/s). Within a minute the
//                      charts climb, the leak is flagged and its site named. DEMO_LEAK=1 starts it at boot.
//   GET  /report/:id   an expensive result kept in a cache; a registered cleanup strategy
//                      empties the cache when memory is critical (or on emergency cleanup)
//   POST /retain?mb=50 keep 50 MB alive; POST /release drops it (a strategy drops it too)
//
// PORT (default 3000; 0 picks a free port) and HOST (default 127.0.0.1). Unless set, the
// demo measures against a 512 MB limit (a small container's) and samples every second.
// Without MEMORY_ADMIN_TOKEN, on your own machine (local development: README "Security")
// admin actions and detailed reads are allowed from this machine only; anywhere else (a
// container, a hosting platform, NODE_ENV=production) the demo makes a token for the run
// and prints it.

const http = require('node:http');
const express = require('express');
const memwarden = require('..');

const { MemoryManagerService, memoryMonitoring } = memwarden;
const port = process.env.PORT === undefined ? 3000 : Number(process.env.PORT);
const host = process.env.HOST || '127.0.0.1';
const MB = 1048576;

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT=${process.env.PORT} is invalid; accepted: a whole number from 0 to 65535 (0 picks a free port)`);
  process.exit(2);
}

// --- the leak, on purpose -------------------------------------------------------------
// A session store that never forgets: every request to GET /leaky adds ~100 KB.
const sessions = [];
function rememberSession(req) {
  const trail = new Array(12_800);
  for (let i = 0; i < trail.length; i++) trail[i] = Math.random();
  sessions.push({ id: sessions.length, at: Date.now(), userAgent: req.headers['user-agent'] || '', trail });
}

let leakTimer = null;
function startLeak(url) {
  if (leakTimer) return false;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  leakTimer = setInterval(() => {
    http.get(`${url}leaky`, { agent, headers: { 'user-agent': 'memwarden-demo-leak' } }, (res) => res.resume()).on('error', () => {});
  }, 100);
  leakTimer.unref();
  return true;
}
function stopLeak() {
  if (!leakTimer) return false;
  clearInterval(leakTimer);
  leakTimer = null;
  return true;
}

// --- a cache with a cleanup strategy --------------------------------------------------
const reportCache = new Map();
function expensiveReport(id) {
  const rows = [];
  for (let i = 0; i < 4000; i++) rows.push({ id, row: i, value: Math.sin(i) * 1000, label: `row ${i} of report ${id}` });
  return rows;
}

async function main() {
  const memory = MemoryManagerService.getInstance();
  const demoDefaults = {};
  if (!process.env.MEMORY_LIMIT_MB) demoDefaults.memoryLimitMb = 512;
  if (!process.env.MEMORY_MONITORING_INTERVAL) demoDefaults.monitoringIntervalMs = 1000;
  await memory.initialize(demoDefaults); // MEMORY_* variables, MEMORY_ALERT_WEBHOOK_URL; alerts go to the console
  if (!process.env.MEMORY_ADMIN_TOKEN && memory.config.localDevelopment === false) {
    // Outside local development /api/memory needs a token (README "Security"): one for this run.
    process.env.MEMORY_ADMIN_TOKEN = require('node:crypto').randomBytes(24).toString('hex');
    console.log(`[memwarden] not local development (${memory.config.platformReason}): admin token for this run: ${process.env.MEMORY_ADMIN_TOKEN}`);
  }
  memory.on('status', (e) =>
    console.log(`[memwarden] status ${e.previous} -> ${e.current} (${e.pressurePercentage.toFixed(1)}% of the limit, ${e.pressureSource})`),
  );
  memory.on('cleanup', (run) =>
    console.log(`[memwarden] cleanup (${run.reason}): ${run.actions.map((a) => `${a.strategy} ${a.success ? 'ok' : `failed: ${a.error}`}`).join(', ') || 'nothing eligible'}`),
  );
  // When a leak is flagged, find the code behind it (20 s of V8's sampling heap profiler).
  // The manager also does this by itself once confidence reaches 70 %; asking at the flag
  // names the site sooner.
  memory.on('leak', () => {
    if (memory.getLeakDetection().attributionRunning) return;
    memory.attributeLeak({ durationMs: 20_000 }).catch((err) => console.error(`[memwarden] attribution failed: ${err.message}`));
  });
  memory.on('leakAttribution', (r) => {
    const top = r.sites[0];
    if (top) console.log(`[memwarden] leaking site: ${top.functionName || '(anonymous)'} ${top.url}:${top.lineNumber} (+${(top.growthBytesPerSec / 1024).toFixed(0)} KB/s)`);
  });

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
  memory.registerCleanupStrategy({
    name: 'demo_report_cache',
    priority: 80,
    thresholdPercent: 70,
    description: 'Empty the GET /report/:id cache (results are recomputed on demand)',
    run() {
      const entries = reportCache.size;
      reportCache.clear();
      return { details: { entriesDropped: entries } };
    },
  });

  const app = express();
  // Quicker admin actions than the default (one per 10 s) for trying the dashboard buttons.
  memwarden.express.attach(app, { router: { adminRateLimitMs: 1000 } });

  let base = null; // http://host:port/ once listening
  app.get('/', memoryMonitoring.omitMemoryHeaders(), (req, res) => {
    const m = memory.getHealthMetrics();
    res.type('text').send(
      [
        `memwarden demo: status ${m.status}`,
        `resident ${(m.currentUsage.residentBytes / MB).toFixed(1)} MB of ${(m.currentUsage.limitBytes / MB).toFixed(0)} MB (${m.currentUsage.limitSource}), ${m.currentUsage.usagePercentage.toFixed(1)}%`,
        `heap ${(m.currentUsage.heapUsed / MB).toFixed(1)} MB of ${(m.currentUsage.heapSizeLimit / MB).toFixed(0)} MB`,
        `platform ${m.currentUsage.platform}: ${m.currentUsage.platformReason}`,
        `leaked sessions: ${sessions.length} (${leakTimer ? 'leaking now' : 'not leaking'}); cached reports: ${reportCache.size}; retained by /retain: ${(retained.reduce((s, b) => s + b.length, 0) / MB).toFixed(0)} MB`,
        '',
        `GET  ${base}api/memory/dashboard           the live dashboard (open in a browser)`,
        'GET  /hello                          a route with X-Memory-Status / X-Memory-Usage headers',
        'GET  /api/memory/health              health report (JSON)',
        'GET  /api/memory/metrics             history, per-route statistics, GC, alerts, cleanup',
        'GET  /api/memory/leak-detection      leak detector verdict and evidence',
        'POST /api/memory/gc                  force a GC',
        'POST /api/memory/emergency-cleanup   run every cleanup strategy',
        'POST /leak/start                     leak ~1 MB/s through GET /leaky; /leak/stop, /leak/clear',
        'GET  /report/42                      a cached report (the cache has a cleanup strategy)',
        'POST /retain?mb=50                   keep 50 MB alive (simulate growth); POST /release drops it',
      ].join('\n') + '\n',
    );
  });
  app.get('/hello', (req, res) => res.send('hello\n'));
  app.get('/leaky', (req, res) => {
    rememberSession(req);
    res.json({ sessions: sessions.length });
  });
  app.post('/leak/start', (req, res) => res.json({ started: startLeak(base), sessions: sessions.length }));
  app.post('/leak/stop', (req, res) => res.json({ stopped: stopLeak(), sessions: sessions.length }));
  app.post('/leak/clear', (req, res) => {
    stopLeak();
    const dropped = sessions.length;
    sessions.length = 0;
    res.json({ dropped });
  });
  app.get('/report/:id', (req, res) => {
    const id = req.params.id;
    if (!/^\d{1,6}$/.test(id)) return res.status(400).json({ error: `id=${id} is invalid; accepted: a whole number of 1 to 6 digits` });
    let rows = reportCache.get(id);
    const cached = rows !== undefined;
    if (!cached) {
      rows = expensiveReport(id);
      reportCache.set(id, rows);
    }
    return res.json({ id, cached, rows: rows.length, cacheEntries: reportCache.size });
  });
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
    const a = server.address();
    const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    base = `http://${shownHost}:${a.port}/`;
    const api = `${base}api/memory`;
    console.log(`memwarden demo on ${base} (limit ${(memory.limit.bytes / MB).toFixed(0)} MB from ${memory.limit.source})`);
    console.log(`  dashboard  ${api}/dashboard`);
    console.log(`  health     ${api}/health`);
    console.log(`  leak       curl -X POST ${base}leak/start   (then watch the dashboard; /leak/stop, /leak/clear)`);
    console.log(`  CLI        MEMORY_API_URL=${api} npx memory monitor   (status, gc, simulate 100, test, report)`);
    console.log(
      process.env.MEMORY_ADMIN_TOKEN
        ? '  admin      Authorization: Bearer <MEMORY_ADMIN_TOKEN> (type it into the dashboard; MEMORY_ADMIN_TOKEN=... for the CLI)'
        : '  admin      from this machine only (set MEMORY_ADMIN_TOKEN to use a token)',
    );
    if (process.env.DEMO_LEAK === '1') console.log(`  leaking    started (DEMO_LEAK=1): ${startLeak(base)}`);
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopLeak();
    server.close();
    server.closeAllConnections();
    await memory.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});

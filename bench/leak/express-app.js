'use strict';
// The real-app scenarios of `npm run bench:leak`: an Express 5 app with
// memwarden.express.attach(app), a route that keeps every request in a module-level
// array (`/sessions`, ~1.6 KB a request) and a route served from an `lru-cache` at
// capacity (`/cache`, 5000 entries of ~1 KB, filled before the load begins: a benign
// plateau). For `npm run bench:slow-leak`: `/ok` (request churn, nothing kept: a
// ~2 KB JSON body built and thrown away) and `/retain?bytes=N` (keeps an N-byte string
// per request in a module-level array, N from 1 to 65536, 1024 by default: a slow leak
// at a fixed request rate). Listens on 127.0.0.1:0 and prints JSON lines: {"port",
// "config"}, then one per memwarden event ('leak' with the confidence at that moment,
// 'leakResolved', 'leakAttributed'). With an IPC channel, the message 'trace' is answered
// with { trace: exportTrace() }.
const path = require('node:path');
const express = require('express');
const { LRUCache } = require('lru-cache');
const memwarden = require(path.join(__dirname, '..', '..'));

const app = express();
memwarden.express.attach(app);

const sessions = [];
function rememberSession(req) {
  sessions.push({ id: sessions.length, at: Date.now(), url: req.url, note: Buffer.alloc(1500, 97 + (sessions.length % 26)).toString('latin1') });
  return sessions.length;
}
app.get('/sessions', function sessionsRoute(req, res) {
  res.json({ id: rememberSession(req) });
});

// Request churn and nothing kept: the baseline and the benign soak of bench:slow-leak.
app.get('/ok', function okRoute(req, res) {
  const items = [];
  for (let i = 0; i < 20; i++) items.push({ i, at: Date.now(), text: 'x'.repeat(80) + i });
  res.json({ ok: true, items });
});

// A slow leak: each request keeps `bytes` bytes (a fresh string) in a module-level array.
const retained = [];
let retainedBytes = 0;
function retainRecord(bytes, n) {
  const s = Buffer.alloc(bytes, 97 + (n % 26)).toString('latin1');
  retained.push(s);
  retainedBytes += bytes;
}
app.get('/retain', function retainRoute(req, res) {
  const bytes = req.query.bytes === undefined ? 1024 : Number(req.query.bytes);
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 65536) {
    res.status(400).json({ error: `bytes=${JSON.stringify(req.query.bytes)} is invalid; accepted: a whole number from 1 to 65536` });
    return;
  }
  retainRecord(bytes, retained.length);
  res.json({ kept: retained.length, retainedBytes });
});

const cache = new LRUCache({ max: 5000 });
const entry = (k) => ({ k, value: Buffer.alloc(1000, 98).toString('latin1') + k });
for (let i = 0; i < 5000; i++) cache.set(`warm-${i}`, entry(i));
let misses = 0;
app.get('/cache', function cacheRoute(req, res) {
  const key = `k${Math.floor(Math.random() * 20000)}`;
  let v = cache.get(key);
  if (!v) {
    misses++;
    v = entry(key);
    cache.set(key, v);
  }
  res.json({ k: v.k, size: cache.size, misses });
});

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const m = memwarden.MemoryManagerService.getInstance();
m.on('leak', (e) => out({ event: 'leak', at: Date.now(), signal: e.signal, confidence: m.getLeakDetection().confidence }));
m.on('leakResolved', () => out({ event: 'leakResolved', at: Date.now() }));
m.on('leakAttributed', (r) => out({ event: 'leakAttributed', at: Date.now(), startedAt: r.startedAt, top: r.sites[0] || null, summary: r.summary }));
m.initialize({ logger: { info() {}, warn() {}, error() {} } }).then(() => {
  const c = m.config;
  const server = app.listen(0, '127.0.0.1', () =>
    out({ port: server.address().port, config: { platform: c.platform, monitoringIntervalMs: c.monitoringIntervalMs, limitBytes: m.getHealthMetrics().currentUsage.limitBytes, limitSource: m.getHealthMetrics().currentUsage.limitSource } }),
  );
});
if (process.send) {
  process.on('message', (msg) => {
    if (msg === 'trace') process.send({ trace: m.exportTrace(), retained: retained.length, retainedBytes });
  });
}

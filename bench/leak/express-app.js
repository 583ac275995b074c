'use strict';
// The real-app scenarios of `npm run bench:leak`: an Express 5 app with
// memwarden.express.attach(app), a route that keeps every request in a module-level
// array (`/sessions`, ~1.6 KB a request) and a route served from an `lru-cache` at
// capacity (`/cache`, 5000 entries of ~1 KB, filled before the load begins: a benign
// plateau). Listens on 127.0.0.1:0 and prints JSON lines: {"port"}, then one per
// memwarden event ('leak' with the confidence at that moment, 'leakResolved',
// 'leakAttributed').
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
  const server = app.listen(0, '127.0.0.1', () => out({ port: server.address().port }));
});

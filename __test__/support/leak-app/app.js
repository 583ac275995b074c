'use strict';
// A real Express app with memwarden attached, a leaking route (routes/sessions.js),
// a benign route and an LRU cache at capacity (`CACHE=1`). Listens on 127.0.0.1:0 and
// prints one JSON line per memwarden event ({ event, t, payload }) and
// {"port": N} once listening. Runs until killed or until `STOP_AFTER_MS`.
//
// `/slow` answers after SLOW_MS (default 1500); SELF_LEAK_KB_PER_SEC adds a leak of its own.
//   cwd: this directory (the app's root); MEMORY_* settings come from the environment.
const path = require('node:path');
const express = require('express');
const memwarden = require(path.resolve(__dirname, '..', '..', '..'));

const app = express();
memwarden.express.attach(app);
require('./routes/sessions')(app);
// A slow request (in flight while a planned restart drains the server).
app.get('/slow', (req, res) => setTimeout(() => res.json({ slow: true }), Number(process.env.SLOW_MS || 1500)));
app.get('/ok', (req, res) => res.json({ ok: true, items: Array.from({ length: 20 }, (_, i) => ({ i, s: `item ${i}` })) }));

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const m = memwarden.MemoryManagerService.getInstance();
const t0 = Date.now();
for (const event of ['leak', 'leakResolved', 'leakAttributed', 'alert', 'restart']) {
  m.on(event, (payload) => out({ event, t: Date.now() - t0, payload }));
}
const options = process.env.ATTRIBUTION_DURATION_MS ? { leakAttribution: { durationMs: Number(process.env.ATTRIBUTION_DURATION_MS) } } : {};
m.initialize(options).then(() => {
  const server = app.listen(0, '127.0.0.1', () => out({ port: server.address().port }));
});
// A leak of its own (`SELF_LEAK_KB_PER_SEC`), without requests: retained strings.
if (process.env.SELF_LEAK_KB_PER_SEC) {
  const kept = [];
  const perTick = Number(process.env.SELF_LEAK_KB_PER_SEC) / 100;
  setInterval(() => {
    for (let i = 0; i < perTick; i++) kept.push(Buffer.alloc(1000, 97 + (kept.length % 26)).toString('latin1') + kept.length);
  }, 10);
}
if (process.env.STOP_AFTER_MS) setTimeout(() => process.exit(0), Number(process.env.STOP_AFTER_MS)).unref();

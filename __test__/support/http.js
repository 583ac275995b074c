'use strict';
// Helpers for the Express integration specs: real Express 4 and 5 apps listening on
// 127.0.0.1 (port 0), real HTTP through fetch, and manager settings that put this
// process's real memory usage at a chosen status level.
//
// The levels are real measurements, not mocks: the limit is set relative to this
// process's resident memory at the time, so the sampler measures usage that falls
// in the wanted band.
//   healthy:   memoryLimitMb 100000 (any process is a tiny fraction of it)
//   critical:  limit = 3 x resident (usage ~33 %), thresholds 5 / 10 / 99 %
//   emergency: memoryLimitMb 16 (any Node process's resident memory is above it)

const assert = require('node:assert/strict');
const { once } = require('node:events');
const path = require('node:path');
const { ROOT, MiB, MEMWARDEN_ENV } = require('./child');

const EXPRESS_VERSIONS = [
  ['express 5', require(path.join(ROOT, 'node_modules', 'express'))],
  ['express 4', require(path.join(ROOT, 'node_modules', 'express4'))],
];

/** Removes every variable memwarden reads, so in-process specs see defaults only. */
function cleanEnv() {
  for (const name of MEMWARDEN_ENV) delete process.env[name];
  delete process.env.MEMORY_ALERT_WEBHOOK_URL;
  delete process.env.MEMORY_ADMIN_TOKEN;
}

/** initialize() options that put the current process at `level`. */
function levelOptions(level, extra = {}) {
  const quiet = { proactiveGc: false, proactiveCleanup: false, monitoringIntervalMs: 60_000 };
  if (level === 'healthy') return { ...quiet, memoryLimitMb: 100_000, ...extra };
  if (level === 'emergency') return { ...quiet, memoryLimitMb: 16, ...extra };
  if (level === 'critical') {
    const limitMb = Math.max(16, Math.ceil((process.memoryUsage.rss() / MiB) * 3));
    return { ...quiet, memoryLimitMb: limitMb, warningThreshold: 5, criticalThreshold: 10, emergencyThreshold: 99, ...extra };
  }
  throw new Error(`unknown level ${level}`);
}

/** (Re)initializes the singleton with `options` for one test; shut down after it. */
async function startManager(t, options) {
  const { MemoryManagerService } = require(ROOT);
  const m = MemoryManagerService.getInstance();
  await m.shutdown();
  await m.initialize(options);
  t.after(() => m.shutdown());
  return m;
}

/**
 * Starts the manager as local development (NODE_ENV=development while initialize()
 * reads it): without a token, admin routes and detailed reads are open to loopback
 * only there (README "Security").
 */
async function startLocalManager(t, options) {
  process.env.NODE_ENV = 'development';
  try {
    const m = await startManager(t, options);
    assert.equal(m.config.localDevelopment, true, m.config.platformReason);
    return m;
  } finally {
    delete process.env.NODE_ENV;
  }
}

/** Listens on 127.0.0.1:0; returns { base, server, close }. Closed after the test when `t` is given. */
async function listen(app, t) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${server.address().port}`;
  const close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  if (t) t.after(close);
  return { base, server, close };
}

/** One HTTP request: { status, headers, text, json }. */
async function request(base, urlPath, { method = 'GET', headers = {}, body } = {}) {
  const res = await fetch(base + urlPath, { method, headers, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Asserts a body carries no stack trace. */
function noStack(text) {
  return !/\n\s+at .+:\d+:\d+/.test(text) && !text.includes('node:internal');
}

module.exports = { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, startLocalManager, listen, request, noStack };

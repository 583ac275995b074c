'use strict';
// Fixture, a worker thread: initializes its own manager and posts its status.
// It stays alive (listening on parentPort) until the parent terminates it.

const { parentPort } = require('node:worker_threads');
const { ROOT } = require('./child');
const { MemoryManagerService } = require(ROOT);

const m = MemoryManagerService.getInstance();
parentPort.on('message', () => {});
m.initialize().then(
  () => {
    const h = m.getHealthMetrics();
    parentPort.postMessage({
      ok: true,
      status: h.status,
      rss: h.currentUsage.rss,
      monitoringIntervalMs: m.config.monitoringIntervalMs,
      intervalSource: m.config.sources.monitoringIntervalMs,
    });
  },
  (err) => parentPort.postMessage({ ok: false, code: err.code, message: err.message }),
);

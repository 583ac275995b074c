'use strict';
// Fixture: initializes the manager and lets the script end without shutdown().
//   node idle-child.js plain      initialize() only
//   node idle-child.js listeners  plus 'alert' and 'status' listeners
// The process must exit by itself: memwarden's timer is unref'd, its native
// callback is weak and its sampler thread does not hold the event loop.

const { ROOT, emitResult } = require('./child');
const { MemoryManagerService } = require(ROOT);

const mode = process.argv[2];
const m = MemoryManagerService.getInstance();
const seen = [];
const onAlert = (e) => seen.push(e);
const onStatus = (e) => seen.push(e);
if (mode === 'listeners') {
  m.on('alert', onAlert);
  m.on('status', onStatus);
} else if (mode !== 'plain') {
  throw new Error(`unknown mode ${mode}`);
}

m.initialize().then(() => {
  emitResult({
    mode,
    initialized: m.initialized,
    status: m.getHealthMetrics().status,
    monitoringIntervalMs: m.config.monitoringIntervalMs,
    // The script's own listeners (memwarden's alert delivery adds one of its own).
    listeners: [m.listeners('alert').includes(onAlert), m.listeners('status').includes(onStatus)].filter(Boolean).length,
  });
  // No shutdown(): the script simply ends here.
});

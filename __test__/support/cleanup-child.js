'use strict';
// Fixture (run with --expose-gc): a strategy drops ~40 MB of retained objects, the
// built-in force_gc runs after it (lower priority) and must measure the heap it
// freed. Also records what clear_memory_snapshots reports.
const { ROOT, MiB, emitResult, runMain } = require('./child');
const { MemoryManagerService } = require(ROOT);

async function main() {
  const m = MemoryManagerService.getInstance();
  await m.initialize({ memoryLimitMb: 100_000, proactiveGc: false, proactiveCleanup: false, monitoringIntervalMs: 60_000, logger: { info() {}, warn() {}, error() {} } });
  let retained = Array.from({ length: 400 }, () => Array.from({ length: 12_500 }, (_, i) => ({ i }))); // ~40 MB of small objects
  m.registerCleanupStrategy({
    name: 'drop_cache',
    priority: 200,
    thresholdPercent: 0,
    run() {
      const n = retained.length;
      retained = null;
      return { details: { arrays: n } };
    },
  });
  const actions = await m.performEmergencyCleanup({ force: true, reason: 'test' });
  emitResult({ actions, heapMb: process.memoryUsage().heapUsed / MiB, retained: retained === null });
  await m.shutdown();
}
runMain(main);

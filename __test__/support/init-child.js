'use strict';
// Fixture: initializes the manager with the options given as a JavaScript
// expression in argv[2] (absent: initialize() with no argument), using whatever
// MEMORY_* / platform variables the parent put in the environment.
//
// Success: prints { ok: true, config, limit, health, rssNow } and shuts down.
// Rejection: prints { ok: false, error, initialized, config, samplerThreads } and
// does NOT shut down, so the parent can check that nothing was left running
// (the process must exit by itself).

const { ROOT, emitResult, canCountThreads, countSamplerThreads, runMain } = require('./child');
const { MemoryManagerService } = require(ROOT);

const expr = process.argv[2];
// eslint-disable-next-line no-new-func
const options = expr === undefined ? undefined : new Function(`return (${expr});`)();

async function main() {
  const m = MemoryManagerService.getInstance();
  try {
    await m.initialize(options);
  } catch (err) {
    emitResult({
      ok: false,
      error: {
        name: err && err.name,
        code: err && err.code,
        message: err && err.message,
        problems: err && err.problems,
        isError: err instanceof Error,
      },
      initialized: m.initialized,
      config: m.config,
      limit: m.limit,
      samplerThreads: canCountThreads ? countSamplerThreads() : null,
    });
    return;
  }
  await m.checkMemoryPressure(); // a fresh sample for the report
  const health = m.getHealthMetrics();
  emitResult({
    ok: true,
    initialized: m.initialized,
    config: m.config,
    limit: m.limit,
    health,
    rssNow: process.memoryUsage.rss(),
  });
  await m.shutdown();
}

runMain(main);

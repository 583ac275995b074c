'use strict';
// Fixture for gc.test.js. Modes:
//   force      (with or without --expose-gc): allocate ~64 MiB of objects, drop
//              them, forceGarbageCollection('test'); also bad reasons.
//   proactive  (with or without --expose-gc): checkMemoryPressure() twice with
//              gcThreshold 1 and a limit that puts usage near 10 %.
// Prints what happened; the spec asserts on it.

const v8 = require('node:v8');
const { ROOT, MiB, emitResult, runMain } = require('./child');
const { MemoryManagerService } = require(ROOT);

const mode = process.argv[2];
const heapUsed = () => v8.getHeapStatistics().used_heap_size;
const GARBAGE_BYTES = 64 * MiB;

// The garbage lives only here, so that setting this to null makes all of it
// unreachable (a destructured temporary in main()'s frame could keep it alive).
let garbage = null;

/** Builds objects until the heap has grown by `bytes`; returns the growth and the count. */
function makeGarbage(bytes) {
  const start = heapUsed();
  const junk = [];
  for (let i = 0; ; i++) {
    junk.push({ id: i, label: `item-${i}`, values: [i, i + 0.5, i + 1.5, i + 2.5] });
    if (i % 10_000 === 0 && heapUsed() - start >= bytes) break;
  }
  garbage = junk;
  return { grown: heapUsed() - start, objects: junk.length };
}

async function main() {
  const m = MemoryManagerService.getInstance();
  const gcEvents = [];
  m.on('gc', (e) => gcEvents.push(e));
  const out = { mode, gcExposed: typeof globalThis.gc === 'function', t0: Date.now() };

  if (mode === 'force') {
    await m.initialize();
    out.before = m.getHealthMetrics().gcStats;
    const made = makeGarbage(GARBAGE_BYTES);
    out.allocatedBytes = made.grown;
    out.objects = made.objects;
    out.garbageWasHeld = Array.isArray(garbage) && garbage.length === made.objects;
    garbage = null; // unreachable from here on
    out.result = await m.forceGarbageCollection('test');
    out.health = m.getHealthMetrics();
    out.gcEvents = gcEvents;
    const badReasons = [123, '', 'x'.repeat(201), null];
    out.badReasons = [];
    for (const reason of badReasons) {
      try {
        await m.forceGarbageCollection(reason);
        out.badReasons.push({ reason: String(reason).slice(0, 20), rejected: false });
      } catch (err) {
        out.badReasons.push({
          reason: String(reason).slice(0, 20),
          rejected: true,
          code: err.code,
          message: err.message,
          isTypeError: err instanceof TypeError,
        });
      }
    }
    out.defaultReason = (await m.forceGarbageCollection()).reason;
  } else if (mode === 'proactive') {
    // Usage ~10 % of the limit, well above gcThreshold 1 and below every status threshold.
    const memoryLimitMb = Math.ceil((process.memoryUsage.rss() * 10) / MiB);
    // The default interval (seconds) keeps the heap timer from running a proactive GC first.
    await m.initialize({ gcThreshold: 1, memoryLimitMb });
    out.config = m.config;
    out.first = await m.checkMemoryPressure();
    out.second = await m.checkMemoryPressure();
    out.health = m.getHealthMetrics();
    out.gcEvents = gcEvents;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  out.t1 = Date.now();
  emitResult(out);
  await m.shutdown();
}

runMain(main);

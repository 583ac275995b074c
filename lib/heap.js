'use strict';
// V8 figures are read on the JS thread and passed to the addon as numbers, never
// as objects (reading them from Rust through Env costs ~100x more).
const v8 = require('node:v8');

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/** Heap bytes outside the young generation: the part a leak accumulates in. */
function oldGenerationBytes() {
  let total = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (!YOUNG_SPACES.has(s.space_name)) total += s.space_used_size;
  }
  return total;
}

/** Feeds one heap sample to the monitor; returns the events it raised. */
function ingestHeap(monitor) {
  const h = v8.getHeapStatistics();
  const m = process.memoryUsage();
  return monitor.ingestHeap(
    m.heapUsed,
    m.heapTotal,
    m.external,
    m.arrayBuffers,
    h.heap_size_limit,
    h.number_of_detached_contexts,
    oldGenerationBytes(),
  );
}

/** The figures read just after a full collection. */
function afterFullGc() {
  return {
    heapUsed: v8.getHeapStatistics().used_heap_size,
    oldGeneration: oldGenerationBytes(),
    external: process.memoryUsage().external,
  };
}

/** Bytes of V8 heap in use right now. */
function heapUsedBytes() {
  return v8.getHeapStatistics().used_heap_size;
}

module.exports = { ingestHeap, afterFullGc, heapUsedBytes, oldGenerationBytes };

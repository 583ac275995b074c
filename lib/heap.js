'use strict';
// V8 figures are read on the JS thread (about 170 ns for getHeapStatistics) and
// passed to the addon as numbers, never as objects.
const v8 = require('node:v8');

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
  );
}

/** Bytes of V8 heap in use right now. */
function heapUsedBytes() {
  return v8.getHeapStatistics().used_heap_size;
}

module.exports = { ingestHeap, heapUsedBytes };

'use strict';
// The periodic heap figures are read by the addon (through the N-API env, on a
// schedule its sampler thread drives); this is only for code that measures a heap
// difference around its own work (cleanup strategies).
const v8 = require('node:v8');

/** Bytes of V8 heap in use right now. */
function heapUsedBytes() {
  return v8.getHeapStatistics().used_heap_size;
}

module.exports = { heapUsedBytes };

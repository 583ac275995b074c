'use strict';
// analyzeTrace: replays a recorded trace through the native engine.
const native = require('./native');

const MAX_SAMPLES = 1_000_000;

class MemwardenTraceError extends Error {
  constructor(problems) {
    super(`memwarden: invalid trace: ${problems.join('; ')}`);
    this.name = 'MemwardenTraceError';
    this.code = 'ERR_MEMWARDEN_TRACE';
    this.problems = problems;
  }
}

/**
 * Replays `trace` ({ samples: [{ t, heapUsed, heapTotal, rss, external, arrayBuffers }],
 * gc: [{ t, kind, duration }], limitBytes?, intervalMs? }) through the leak detector and
 * returns the verdict over time. Deterministic. Throws MemwardenTraceError on a bad trace.
 */
function analyzeTrace(trace, options = {}) {
  if (!trace || typeof trace !== 'object' || Array.isArray(trace)) {
    throw new MemwardenTraceError([`trace=${String(trace)} is not an object; accepted: { samples: [...], gc?: [...] }`]);
  }
  if (!Array.isArray(trace.samples)) {
    throw new MemwardenTraceError(['trace.samples is not an array']);
  }
  if (trace.samples.length > MAX_SAMPLES || (Array.isArray(trace.gc) && trace.gc.length > MAX_SAMPLES)) {
    throw new MemwardenTraceError([`the trace has more than ${MAX_SAMPLES} samples or gc events; split it`]);
  }
  const result = native.analyzeTrace(trace, options === undefined ? {} : options);
  if (!result.ok) throw new MemwardenTraceError(result.problems);
  return result.analysis;
}

module.exports = { analyzeTrace, MemwardenTraceError };

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

const SAMPLE_REQUIRED = ['t', 'heapUsed', 'heapTotal', 'rss', 'external', 'arrayBuffers'];
const SAMPLE_OPTIONAL = ['oldGeneration'];
const GC_REQUIRED = ['t', 'duration'];
const GC_OPTIONAL = ['heapBefore', 'heapAfter', 'oldGenerationAfter', 'externalAfter'];

/**
 * Shape problems named by field and index (at most 20): entries that are not objects,
 * required numbers missing or not numbers, and numbers JSON cannot carry (NaN, ±Infinity).
 * The engine checks the rest (order, signs, sizes).
 */
function shapeProblems(trace) {
  const out = [];
  const scan = (list, name, required, optional) => {
    if (!Array.isArray(list)) {
      if (list !== undefined) out.push(`${name} is not an array`);
      return;
    }
    for (let i = 0; i < list.length && out.length < 20; i++) {
      const x = list[i];
      if (!x || typeof x !== 'object') {
        out.push(`${name}[${i}]=${String(x)} is not an object`);
        continue;
      }
      for (const f of required) {
        const v = x[f];
        if (typeof v !== 'number') out.push(`${name}[${i}].${f}=${v === undefined ? 'undefined (missing)' : JSON.stringify(v)} is not a number`);
        else if (!Number.isFinite(v)) out.push(`${name}[${i}].${f}=${v} is not a finite number`);
      }
      for (const f of optional) {
        const v = x[f];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`${name}[${i}].${f}=${String(v)} is not a finite number`);
      }
    }
  };
  scan(trace.samples, 'samples', SAMPLE_REQUIRED, SAMPLE_OPTIONAL);
  scan(trace.gc, 'gc', GC_REQUIRED, GC_OPTIONAL);
  for (const f of ['limitBytes', 'heapSizeLimit', 'intervalMs']) {
    if (typeof trace[f] === 'number' && !Number.isFinite(trace[f])) out.push(`${f}=${trace[f]} is not a finite number`);
  }
  return out;
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
  // Named here what the engine could only call "not a valid trace" (and what JSON cannot carry).
  const problems = shapeProblems(trace);
  if (problems.length > 0) throw new MemwardenTraceError(problems);
  const result = native.analyzeTrace(trace, options === undefined ? {} : options);
  if (!result.ok) throw new MemwardenTraceError(result.problems);
  return result.analysis;
}

module.exports = { analyzeTrace, MemwardenTraceError };

'use strict';
// Forced collections through global.gc, and GC observation through
// PerformanceObserver('gc') entries (kind, flags, duration; no byte counts).
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const { heapUsedBytes } = require('./heap');

const ENABLE_GC_HINT =
  'Start Node with --expose-gc (node --expose-gc app.js, or NODE_OPTIONS=--expose-gc) to enable forced garbage collection';

// Node's kind constants → the addon's kind index (0 minor, 1 major, 2 incremental, 3 weak callbacks).
const KIND_INDEX = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 0],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 1],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 2],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 3],
]);
const FORCED = constants.NODE_PERFORMANCE_GC_FLAGS_FORCED;

function gcFunction() {
  return typeof globalThis.gc === 'function' ? globalThis.gc : null;
}

/**
 * Runs a full collection if global.gc exists. Returns the action record; never throws.
 * `ownWindow` receives [start, end] in performance-timeline ms so the observer can
 * skip the entry it produces (the record already carries the sizes).
 */
function forceGc(reason, ownWindow) {
  const timestamp = Date.now();
  const gc = gcFunction();
  const before = heapUsedBytes();
  if (!gc) {
    return {
      type: 'gc',
      reason,
      success: false,
      memoryBefore: before,
      memoryAfter: before,
      freedBytes: 0,
      durationMs: 0,
      timestamp,
      error: 'global.gc is not available (Node was started without --expose-gc)',
      recommendation: ENABLE_GC_HINT,
    };
  }
  const start = performance.now();
  try {
    gc();
  } catch (err) {
    return {
      type: 'gc',
      reason,
      success: false,
      memoryBefore: before,
      memoryAfter: before,
      freedBytes: 0,
      durationMs: performance.now() - start,
      timestamp,
      error: `global.gc threw: ${err && err.message}`,
      recommendation: ENABLE_GC_HINT,
    };
  }
  const end = performance.now();
  ownWindow(start, end);
  const after = heapUsedBytes();
  return {
    type: 'gc',
    reason,
    success: true,
    memoryBefore: before,
    memoryAfter: after,
    freedBytes: Math.max(0, before - after),
    durationMs: end - start,
    timestamp,
  };
}

/** Observes every GC and forwards it to the monitor. Returns a disconnect function. */
function observeGc(monitor, isOwn) {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = entry.detail || entry;
      const kind = KIND_INDEX.get(detail.kind);
      if (kind === undefined) continue;
      const forced = (detail.flags & FORCED) !== 0;
      if (forced && isOwn(entry.startTime)) continue;
      monitor.recordGc(kind, entry.duration, forced, -1, -1);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

module.exports = { forceGc, observeGc, gcFunction, ENABLE_GC_HINT };

'use strict';
// Forced collections through global.gc (or, for leak confirmation only, the
// inspector's HeapProfiler.collectGarbage), and GC observation through
// PerformanceObserver('gc') entries (kind, flags, duration; no byte counts: the
// figures after a full collection are read when its entry arrives, right after it).
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const { heapUsedBytes, afterFullGc } = require('./heap');

const ENABLE_GC_HINT =
  'Start Node with --expose-gc (node --expose-gc app.js, or NODE_OPTIONS=--expose-gc) to enable forced garbage collection';

// Node's kind constants → the addon's kind index (0 minor, 1 major, 2 incremental, 3 weak callbacks).
const KIND_INDEX = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 0],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 1],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 2],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 3],
]);
const MAJOR = 1;
const FORCED = constants.NODE_PERFORMANCE_GC_FLAGS_FORCED;

function gcFunction() {
  return typeof globalThis.gc === 'function' ? globalThis.gc : null;
}

function record(reason, timestamp, fields) {
  return { type: 'gc', reason, method: 'global.gc', ...fields, timestamp };
}

/**
 * Runs a full collection if global.gc exists. Returns the action record; never throws.
 * `ownWindow(start, end)` receives the performance-timeline window of the collection
 * so the observer can skip the entry it produces (the record carries the sizes).
 */
function forceGc(reason, ownWindow) {
  const timestamp = Date.now();
  const gc = gcFunction();
  const before = heapUsedBytes();
  const failed = (error, durationMs) =>
    record(reason, timestamp, {
      success: false,
      memoryBefore: before,
      memoryAfter: before,
      freedBytes: 0,
      durationMs,
      error,
      recommendation: ENABLE_GC_HINT,
    });
  if (!gc) return failed('global.gc is not available (Node was started without --expose-gc)', 0);
  const start = performance.now();
  try {
    gc();
  } catch (err) {
    return failed(`global.gc threw: ${err && err.message}`, performance.now() - start);
  }
  const end = performance.now();
  ownWindow(start, end);
  const after = afterFullGc();
  return record(reason, timestamp, {
    success: true,
    memoryBefore: before,
    memoryAfter: after.heapUsed,
    freedBytes: Math.max(0, before - after.heapUsed),
    durationMs: end - start,
    after,
  });
}

let inspectorSession;
/** An in-process inspector session (no --inspect needed), or null where unavailable. */
function inspectorGcSession() {
  if (inspectorSession === undefined) {
    try {
      const { Session } = require('node:inspector');
      inspectorSession = new Session();
      inspectorSession.connect();
    } catch {
      inspectorSession = null;
    }
  }
  return inspectorSession;
}

/**
 * A full collection for leak confirmation: global.gc when exposed, else the inspector's
 * HeapProfiler.collectGarbage (asynchronous). Resolves to the action record.
 */
function confirmationGc(reason, ownWindow) {
  if (gcFunction()) return Promise.resolve(forceGc(reason, ownWindow));
  const session = inspectorGcSession();
  const timestamp = Date.now();
  const before = heapUsedBytes();
  if (!session) return Promise.resolve(forceGc(reason, ownWindow));
  const start = performance.now();
  return new Promise((resolve) => {
    session.post('HeapProfiler.collectGarbage', (err) => {
      const end = performance.now();
      ownWindow(start, end);
      const after = afterFullGc();
      resolve({
        type: 'gc',
        reason,
        method: 'inspector',
        success: !err,
        memoryBefore: before,
        memoryAfter: after.heapUsed,
        freedBytes: Math.max(0, before - after.heapUsed),
        durationMs: end - start,
        after,
        timestamp,
        ...(err ? { error: `HeapProfiler.collectGarbage failed: ${err.message}` } : {}),
      });
    });
  });
}

/** Whether a confirmation GC can run at all. */
function confirmationAvailable() {
  return gcFunction() !== null || inspectorGcSession() !== null;
}

/**
 * Observes every GC and forwards it to the monitor; `onEvents` receives the events a
 * full collection raised (a GC-failure alert). Returns a disconnect function.
 */
function observeGc(monitor, isOwn, onEvents) {
  const observer = new PerformanceObserver((list) => {
    try {
      forward(list);
    } catch (err) {
      // Never let monitoring take the process down from an observer callback.
      process.emitWarning(`memwarden: GC observation failed: ${err && err.stack}`, 'MemwardenWarning');
    }
  });
  function forward(list) {
    for (const entry of list.getEntries()) {
      const detail = entry.detail || entry;
      const kind = KIND_INDEX.get(detail.kind);
      if (kind === undefined) continue;
      const forced = (detail.flags & FORCED) !== 0;
      // Collections inside our own forced GC (the inspector's runs several) are in its record.
      if (isOwn(entry.startTime)) continue;
      if (kind === MAJOR) {
        const after = afterFullGc();
        onEvents(monitor.recordFullGc(entry.duration, forced, -1, after.heapUsed, after.oldGeneration, after.external));
      } else {
        monitor.recordGc(kind, entry.duration, forced, -1, -1);
      }
    }
  }
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

module.exports = { forceGc, confirmationGc, confirmationAvailable, observeGc, gcFunction, ENABLE_GC_HINT };

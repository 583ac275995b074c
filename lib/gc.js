'use strict';
// GC observation and the inspector fallback. Forced collections run in the addon
// (Monitor.forceGc looks up global.gc through the N-API env and calls it, and the
// sampler's proactive and confirmation collections run the same way); what stays
// here is what only JS can do:
// - PerformanceObserver('gc') entries (kind, flags, duration; no byte counts): each
//   is forwarded to the addon, which reads the heap itself after a full collection;
// - a confirmation collection through the inspector's HeapProfiler.collectGarbage when
//   Node was started without --expose-gc.
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const native = require('./native');

// Node's kind constants → the addon's kind index; the kinds and the names of their
// constants come from the addon (its GcKind), the constants' values from Node.
const KINDS = native.gcKinds();
const KIND_INDEX = new Map(KINDS.map((k) => [constants[k.nodeConstant], k.index]));
const MAJOR = KINDS.find((k) => k.name === 'major').index;
const FORCED = constants.NODE_PERFORMANCE_GC_FLAGS_FORCED;

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
 * A full collection for leak confirmation through the inspector's
 * HeapProfiler.collectGarbage (asynchronous), for when global.gc is not exposed.
 * Heap figures are read by the addon. Resolves to the action record, or null where
 * the inspector is unavailable.
 */
function inspectorGc(monitor, reason, ownWindow) {
  const session = inspectorGcSession();
  if (!session) return Promise.resolve(null);
  const timestamp = Date.now();
  const before = monitor.heapUsedBytes();
  const start = performance.now();
  return new Promise((resolve) => {
    session.post('HeapProfiler.collectGarbage', (err) => {
      const end = performance.now();
      ownWindow(start, end);
      const after = monitor.heapUsedBytes();
      resolve({
        type: 'gc',
        reason,
        method: 'inspector',
        success: !err,
        memoryBefore: before,
        memoryAfter: after,
        freedBytes: Math.max(0, before - after),
        durationMs: end - start,
        timestamp,
        ...(err ? { error: `HeapProfiler.collectGarbage failed: ${err.message}` } : {}),
      });
    });
  });
}

/** Whether a confirmation GC can run at all (global.gc, or else the inspector). */
function confirmationAvailable(monitor) {
  return monitor.gcExposed() || inspectorGcSession() !== null;
}

/**
 * Observes every GC and forwards it to the monitor; `onEvents` receives the events a
 * full collection raised (a status change, a GC-failure alert). Returns a disconnect function.
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
    let watch = false;
    let full = false;
    for (const entry of list.getEntries()) {
      const detail = entry.detail || entry;
      const kind = KIND_INDEX.get(detail.kind);
      if (kind === undefined) continue;
      const forced = (detail.flags & FORCED) !== 0;
      // Collections inside our own forced GC (the inspector's runs several) are in its record.
      if (isOwn(entry.startTime)) continue;
      if (kind === MAJOR) {
        full = true;
        onEvents(monitor.recordFullGc(entry.duration, forced, -1));
      } else if (monitor.recordGc(kind, entry.duration, forced)) {
        watch = true;
      }
    }
    // While the heap is high, the old generation after these collections moves the
    // status at once (once per batch; a full collection's figures already did).
    if (watch && !full) onEvents(monitor.readOldGeneration());
  }
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

module.exports = { inspectorGc, confirmationAvailable, observeGc };

'use strict';
// monitorRequestMemory(): per-route request counts, durations, status codes and
// (sampled) heap deltas, aggregated in the manager's RequestStats. How the end of a
// response is seen is responseEnd.js.
const { performance, PerformanceObserver } = require('node:perf_hooks');
const { MemoryManagerService } = require('../manager');
const { v, validateOptions } = require('../options');
const { kStep, kCallsApp, managerOption } = require('./steps');
const { RequestTiming, subscribeResponseFinish } = require('./responseEnd');

const observed = new WeakSet();
/** Feeds GC pauses into the correlation windows of `stats` (one observer per stats object). */
function observeGcPauses(stats) {
  if (observed.has(stats)) return;
  observed.add(stats);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) stats.recordGcPause(entry.duration, entry.startTime + entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
}

/**
 * Counts and times every request per route (Express route pattern joined with the
 * router's base URL; '(unmatched)' when no route matched; at most maxRoutes keys,
 * then '(other)'), samples the V8 heap at the start and end of 1 in
 * memorySampleRate requests, and aggregates per window for the correlation
 * analysis. The statistics live on the manager (`manager.requestStats`), shared
 * with GET /api/memory/metrics and the 'clear_performance_metrics' strategy.
 */
function monitorRequestMemory(options) {
  const o = validateOptions('monitorRequestMemory()', options, {
    manager: managerOption,
    memorySampleRate: { default: 64, check: v.integer(0, 1_000_000) },
    maxRoutes: { default: undefined, check: v.integer(1, 100_000) },
    windowMs: { default: undefined, check: v.integer(1000, 3_600_000) },
    maxWindows: { default: undefined, check: v.integer(2, 10_000) },
    minWindows: { default: undefined, check: v.integer(3, 10_000) },
    skip: { default: null, check: v.func() },
  });
  const manager = o.manager || MemoryManagerService.getInstance();
  const stats = manager.requestStats;
  stats.configure({ maxRoutes: o.maxRoutes, windowMs: o.windowMs, maxWindows: o.maxWindows, minWindows: o.minWindows }, performance.now());
  observeGcPauses(stats);
  subscribeResponseFinish();
  const timing = new RequestTiming(stats, o.memorySampleRate);
  const skip = o.skip;

  function step(req, res) {
    if (skip !== null && skip(req, res)) return true;
    timing.start(req, res);
    return true;
  }
  function memwardenMonitorRequest(req, res, next) {
    step(req, res);
    next();
  }
  memwardenMonitorRequest[kStep] = step;
  memwardenMonitorRequest[kCallsApp] = skip !== null;
  return memwardenMonitorRequest;
}

module.exports = { monitorRequestMemory };

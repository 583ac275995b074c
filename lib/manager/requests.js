'use strict';
// What the per-request middleware reads and feeds: the request snapshot (a frozen
// summary of the status, rebuilt from a few numbers the addon hands over after each
// analysis, never from the whole report) and the per-route request statistics
// (created on first use by monitorRequestMemory()).
const { performance } = require('node:perf_hooks');
const { RequestStats } = require('../requestStats');
const { LEVELS } = require('../options');

/**
 * The request snapshot (SPEC.md levels: 0 healthy … 3 emergency) from the figures
 * `s` = { status, usagePercentage, pressurePercentage, timestamp }; its `report` is
 * the health report, built when first read (`getReport()`).
 */
function snapshotOf(s, getReport) {
  return Object.freeze({
    status: s.status,
    level: LEVELS[s.status],
    usagePercentage: s.usagePercentage,
    pressurePercentage: s.pressurePercentage,
    usageHeader: s.pressurePercentage.toFixed(1),
    timestamp: s.timestamp,
    get report() {
      return getReport();
    },
  });
}

class RequestSide {
  constructor() {
    /** The current snapshot, or null (not initialized). */
    this.snapshot = null;
    /** The RequestStats, or null until monitorRequestMemory() (or `requestStats`) asks for them. */
    this.stats = null;
    // Requests counted before the last clear(): the engine reads a monotonic total.
    this.requestsBeforeClear = 0;
  }

  /** Rebuilds the snapshot when the status or the shown figures moved. */
  refresh(s, getReport) {
    const prev = this.snapshot;
    if (prev !== null && prev.status === s.status && prev.usagePercentage === s.usagePercentage && prev.pressurePercentage === s.pressurePercentage) return;
    this.snapshot = snapshotOf(s, getReport);
  }

  /** The statistics, created on first use. */
  getStats() {
    if (this.stats === null) this.stats = new RequestStats({ now: performance.now() });
    return this.stats;
  }

  /** Every request counted since start, across clear()s (for the engine's request-rate factor); null when not collecting. */
  totalRequests() {
    return this.stats === null ? null : this.requestsBeforeClear + this.stats.totalRequests;
  }

  /** Drops the per-route statistics and windows; returns what was dropped. */
  clear() {
    if (this.stats === null) return { routesDropped: 0, windowsDropped: 0, requestsDropped: 0 };
    this.requestsBeforeClear += this.stats.totalRequests;
    return this.stats.reset(performance.now());
  }
}

module.exports = { RequestSide, snapshotOf };

'use strict';
// What the per-request middleware reads and feeds: the request snapshot (a frozen
// summary of the health report, rebuilt only when a sample changed the report) and
// the per-route request statistics (created on first use by monitorRequestMemory()).
const { performance } = require('node:perf_hooks');
const { RequestStats } = require('../requestStats');
const { LEVELS } = require('../options');

/** The request snapshot for report `r` (SPEC.md levels: 0 healthy … 3 emergency). */
function snapshotOf(r) {
  const u = r.currentUsage;
  return Object.freeze({
    status: r.status,
    level: LEVELS[r.status],
    usagePercentage: u.usagePercentage,
    pressurePercentage: u.pressurePercentage,
    usageHeader: u.pressurePercentage.toFixed(1),
    timestamp: r.timestamp,
    report: r,
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

  /** Rebuilds the snapshot when `report` is not the one it was built from. */
  refresh(report) {
    const prev = this.snapshot;
    if (prev !== null && prev.report === report) return;
    this.snapshot = snapshotOf(report);
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

'use strict';
// The live figures behind GET /api/memory/live, the dashboard page and `memory monitor` /
// `memory status`: one object, built the same way in-process and on a server, so the
// CLI shows the same numbers whichever it talks to.
const { performance } = require('node:perf_hooks');

/** At most this many samples per response (the dashboard asks for what is new with ?since=). */
const MAX_SAMPLES = 600;

/** `since` from a query value: a finite epoch-ms number, else null (everything kept). */
function sinceOf(query) {
  const raw = query && typeof query.since === 'string' ? Number(query.since) : NaN;
  return Number.isFinite(raw) && raw >= 0 ? raw : null;
}

function lastCleanupSummary(last) {
  if (!last) return null;
  return {
    reason: last.reason,
    trigger: last.trigger,
    status: last.status,
    timestamp: last.timestamp,
    actions: (last.actions || []).map((a) => ({ strategy: a.strategy, success: a.success, freedBytes: a.freedBytes ?? null, error: a.error ?? null })),
  };
}

/**
 * Builds the live payload. `since` (epoch ms or null) keeps only newer samples and full
 * GCs. Field names are the health report's where they exist.
 */
// The trace's newest samples (the native tail: its cost does not grow with the history),
// read once per health report: getHealthMetrics() returns the same
// frozen object until a sample or GC changes it, so dashboards polling every second (and
// several of them) share one read.
const traces = new WeakMap(); // manager -> { report, trace }

function traceFor(manager, report) {
  const hit = traces.get(manager);
  if (hit && hit.report === report) return hit.trace;
  const trace = manager.traceTail(MAX_SAMPLES, 100);
  traces.set(manager, { report, trace });
  return trace;
}

/** The figures both payloads take from a health report (GET /health's body or getHealthMetrics()). */
function usageFigures(report) {
  const u = report.currentUsage;
  return {
    timestamp: report.timestamp,
    status: report.status,
    statusSince: report.statusSince,
    thresholds: report.thresholds,
    limitBytes: u.limitBytes,
    limitSource: u.limitSource,
    heapSizeLimit: u.heapSizeLimit,
    residentBytes: u.residentBytes,
    heapUsed: u.heapUsed,
    heapTotal: u.heapTotal,
    external: u.external,
    usagePercentage: u.usagePercentage,
    heapUsagePercentage: u.heapUsagePercentage,
    pressurePercentage: u.pressurePercentage,
    pressureSource: u.pressureSource,
    platform: u.platform,
    trend: {
      growthRateBytesPerSec: report.trend.growthRateBytesPerSec,
      isIncreasing: report.trend.isIncreasing,
      minutesToLimit: report.trend.minutesToLimit,
      minutesToHeapLimit: report.trend.minutesToHeapLimit,
      enoughData: report.trend.enoughData,
    },
  };
}

function liveData(manager, since = null) {
  const report = manager.getHealthMetrics();
  const leak = manager.getLeakDetection();
  const trace = traceFor(manager, report);
  const newer = (x) => since === null || x.t > since;
  const samples = (trace.samples || [])
    .filter(newer)
    .slice(-MAX_SAMPLES)
    .map((s) => ({ t: s.t, heapUsed: s.heapUsed, heapTotal: s.heapTotal, rss: s.rss, external: s.external }));
  const gc = (trace.gc || []).filter(newer).map((g) => ({
    t: g.t,
    durationMs: g.duration,
    kind: g.kind,
    forced: g.forced,
    heapBefore: g.heapBefore,
    heapAfter: g.heapAfter,
  }));
  const alerts = manager.getAlerts();
  const top = leak.attribution && Array.isArray(leak.attribution.sites) ? leak.attribution.sites.slice(0, 3) : [];
  const { simulationState } = require('./simulate');
  return {
    ...usageFigures(report),
    leak: {
      leakSuspected: leak.leakSuspected,
      confidence: leak.confidence,
      signal: leak.signal,
      since: leak.since,
      minutesToLimit: leak.minutesToLimit,
      minutesToHeapLimit: leak.minutesToHeapLimit,
      attributionRunning: leak.attributionRunning,
      sites: top.map((s) => ({ functionName: s.functionName, url: s.url, lineNumber: s.lineNumber, growthBytesPerSec: s.growthBytesPerSec })),
    },
    gcAvailable: report.gcAvailable,
    gcStats: {
      totalCollections: report.gcStats.totalCollections,
      major: report.gcStats.major,
      minor: report.gcStats.minor,
      averageDuration: report.gcStats.averageDuration,
      p95Duration: report.gcStats.p95Duration,
      pauseTimePercent: report.gcStats.pauseTimePercent,
      efficiency: report.gcStats.efficiency,
    },
    intervalMs: trace.intervalMs,
    samples,
    gc,
    alerts: { active: alerts.active, history: alerts.history.slice(-20) },
    recommendations: report.recommendations,
    cleanup: {
      strategies: manager.getCleanupStrategies().map((s) => s.name),
      last: lastCleanupSummary(manager.getLastCleanup()),
    },
    simulation: simulationState(manager),
    uptimeSeconds: Math.round(performance.now() / 1000),
  };
}

module.exports = { liveData, sinceOf, MAX_SAMPLES };

/**
 * A live payload from the public GET /health alone (when detailed reads need a token the
 * caller does not have): no samples, GC events, alerts or cleanup details.
 */
function liveFromHealth(h) {
  return {
    ...usageFigures(h),
    leak: { leakSuspected: h.trend.leakSuspected, confidence: h.trend.confidence, signal: null, since: null, minutesToLimit: null, minutesToHeapLimit: null, attributionRunning: false, sites: [] },
    gcAvailable: h.gcAvailable,
    gcStats: h.gcStats,
    intervalMs: null,
    samples: [],
    gc: [],
    alerts: { active: [], history: [] },
    recommendations: h.recommendations,
    cleanup: { strategies: [], last: null },
    simulation: null,
    partial: true,
  };
}

module.exports.liveFromHealth = liveFromHealth;

'use strict';
// Health checks: performEnhancedHealthCheck() (SPEC.md "Integration with Health
// Checks") and an adapter for @godaddy/terminus-style `healthChecks` functions.
const { MemoryManagerService } = require('./manager');
const { v, validateOptions, LEVELS } = require('./options');

/** The memory part of a health check: SPEC.md's `metrics.memoryUsage` and company. */
function memorySummary(manager) {
  const r = manager.getHealthMetrics();
  const u = r.currentUsage;
  const leak = manager.getLeakDetection();
  const alerts = typeof manager.getAlerts === 'function' ? manager.getAlerts() : null;
  return {
    status: r.status,
    timestamp: r.timestamp,
    memoryUsage: {
      status: r.status,
      heapUsed: u.heapUsed,
      heapTotal: u.heapTotal,
      external: u.external,
      rss: u.rss,
      residentBytes: u.residentBytes,
      limitBytes: u.limitBytes,
      limitSource: u.limitSource,
      heapSizeLimit: u.heapSizeLimit,
      usagePercentage: u.usagePercentage,
      heapUsagePercentage: u.heapUsagePercentage,
      pressurePercentage: u.pressurePercentage,
      pressureSource: u.pressureSource,
      platform: u.platform,
    },
    gc: {
      totalCollections: r.gcStats.totalCollections,
      averageDuration: r.gcStats.averageDuration,
      pauseTimePercent: r.gcStats.pauseTimePercent,
      efficiency: r.gcStats.efficiency,
      available: r.gcAvailable,
    },
    trend: {
      growthRate: r.trend.growthRate,
      isIncreasing: r.trend.isIncreasing,
      minutesToLimit: r.trend.minutesToLimit,
    },
    leak: { suspected: leak.leakSuspected, confidence: leak.confidence },
    alerts: alerts ? { active: alerts.active.length } : { active: 0 },
    thresholds: r.thresholds,
    recommendations: r.recommendations,
  };
}

/**
 * `{ status, healthy, timestamp, uptimeSeconds, metrics: { memoryUsage, gc, trend, leak,
 * alerts }, thresholds, recommendations }` from the cached report (no sampling).
 * `healthy` is false at or above `failAt` (default 'critical'). Rejects with
 * ERR_MEMWARDEN_NOT_INITIALIZED before initialize().
 */
async function performEnhancedHealthCheck(options) {
  const o = validateOptions('performEnhancedHealthCheck()', options, {
    manager: { default: null, check: v.manager() },
    failAt: { default: 'critical', check: v.level() },
  });
  const manager = o.manager || MemoryManagerService.getInstance();
  const s = memorySummary(manager);
  return {
    status: s.status,
    healthy: LEVELS[s.status] < LEVELS[o.failAt],
    failAt: o.failAt,
    timestamp: s.timestamp,
    uptimeSeconds: Math.round(process.uptime()),
    metrics: { memoryUsage: s.memoryUsage, gc: s.gc, trend: s.trend, leak: s.leak, alerts: s.alerts },
    thresholds: s.thresholds,
    recommendations: s.recommendations,
  };
}

/** What a failing terminus health check throws: terminus answers 503 with `causes`. */
class MemwardenHealthCheckError extends Error {
  constructor(message, causes) {
    super(message);
    this.name = 'MemwardenHealthCheckError';
    this.code = 'ERR_MEMWARDEN_UNHEALTHY';
    this.causes = causes;
  }
}

/**
 * A health check for @godaddy/terminus `healthChecks` (or any "throw = unhealthy"
 * runner): resolves to `{ memory: {...} }` while the status is below `failAt`
 * (default 'critical'), and throws MemwardenHealthCheckError with
 * `causes: { memory: {...} }` at or above it, or before initialize().
 */
function terminusHealthCheck(options) {
  const o = validateOptions('terminusHealthCheck()', options, {
    manager: { default: null, check: v.manager() },
    failAt: { default: 'critical', check: v.level() },
  });
  const failLevel = LEVELS[o.failAt];
  return async function memwardenHealthCheck() {
    const manager = o.manager || MemoryManagerService.getInstance();
    if (!manager.initialized) {
      throw new MemwardenHealthCheckError('memwarden is not initialized', { memory: { status: 'unknown', error: 'memwarden is not initialized' } });
    }
    const r = manager.getHealthMetrics();
    const u = r.currentUsage;
    const memory = {
      status: r.status,
      failAt: o.failAt,
      pressurePercentage: u.pressurePercentage,
      usagePercentage: u.usagePercentage,
      heapUsagePercentage: u.heapUsagePercentage,
      residentBytes: u.residentBytes,
      limitBytes: u.limitBytes,
      leakSuspected: r.trend.leakSuspected,
    };
    if (LEVELS[r.status] >= failLevel) {
      throw new MemwardenHealthCheckError(`memory status is ${r.status} (${u.pressurePercentage.toFixed(1)} % of the limit; fails at ${o.failAt})`, { memory });
    }
    return { memory };
  };
}

const healthCheckService = Object.freeze({ performEnhancedHealthCheck });

module.exports = { performEnhancedHealthCheck, terminusHealthCheck, MemwardenHealthCheckError, healthCheckService, memorySummary };

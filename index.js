'use strict';
// memwarden: the public entry. See README.md for the API.
const { MemoryManagerService, validateOptions } = require('./lib/manager');
const { MemwardenConfigError, MemwardenNotInitializedError } = require('./lib/errors');
const { analyzeTrace, MemwardenTraceError } = require('./lib/trace');
// The Express integration (lib/middleware/, lib/router.js, lib/express.js) is loaded on
// first use, through the getters below: an app that does not use it does not pay for
// its code (bench:footprint's figure 4). Express itself is required by the router factories.
const { performEnhancedHealthCheck, terminusHealthCheck, MemwardenHealthCheckError, healthCheckService } = require('./lib/health');
const { RequestStats } = require('./lib/requestStats');
const { isLoopbackAddress } = require('./lib/address');

module.exports = {
  MemoryManagerService,
  MemwardenConfigError,
  MemwardenNotInitializedError,
  MemwardenTraceError,
  analyzeTrace,
  /** Leak-site attribution without a manager (see MemoryManagerService#attributeLeak). */
  attributeLeak: require('./lib/attribution').attributeLeak,
  /** Validates settings without starting anything: `{ ok, config, limit }` or `{ ok: false, problems }`. */
  resolveConfig: (options = {}, env = process.env) => {
    const v = validateOptions(options, env);
    return v.ok ? { ok: true, config: v.config, limit: v.limit } : { ok: false, problems: v.problems };
  },
  get memoryMonitoring() {
    return require('./lib/middleware').memoryMonitoring;
  },
  get createMemoryRouter() {
    return require('./lib/router').createMemoryRouter;
  },
  get express() {
    return require('./lib/express').memwardenExpress;
  },
  /** Development helpers (SPEC.md): start/stopDevelopmentMonitoring, simulateMemoryPressure, generateMemoryReport (loaded on first use). */
  get memoryMonitorUtil() {
    return require('./lib/devtools/util').memoryMonitorUtil;
  },
  performEnhancedHealthCheck,
  healthCheckService,
  terminusHealthCheck,
  MemwardenHealthCheckError,
  RequestStats,
  isLoopbackAddress,
  // Fleet metrics (lib/metrics/), loaded on first use.
  /** memwarden's metrics in a prom-client registry, collected on scrape (see README "Monitoring a fleet"). */
  collectMemwardenMetrics: (options) => require('./lib/metrics/prom').collectMemwardenMetrics(options),
  /** memwarden's metrics as OpenTelemetry observable instruments on the Meter passed in. */
  observeMemwardenMetrics: (options) => require('./lib/metrics/otel').observeMemwardenMetrics(options),
  /** In a node:cluster worker: answer the primary's clusterMetrics() requests. */
  serveClusterMetrics: (options) => require('./lib/metrics/cluster').serveClusterMetrics(options),
  /** In the node:cluster primary: every worker's metrics as one Prometheus text exposition. */
  clusterMetrics: Object.assign((options) => require('./lib/metrics/cluster').clusterMetrics(options), {
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
  }),
  /** Which native binary was loaded: `{ platform, source, packageName, packageVersion, path }`. */
  nativeBinding: require('./lib/loader').nativeBinding,
};

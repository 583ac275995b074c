'use strict';
// memwarden: the public entry. See README.md for the API.
const { MemoryManagerService, resolveSettings, pickEnv } = require('./lib/manager');
const { MemwardenConfigError, MemwardenNotInitializedError } = require('./lib/errors');
const { analyzeTrace, MemwardenTraceError } = require('./lib/trace');
// Express integration (express itself is required lazily, by the router factories).
const { memoryMonitoring } = require('./lib/middleware');
const { createMemoryRouter } = require('./lib/router');
const { memwardenExpress } = require('./lib/express');
const { performEnhancedHealthCheck, terminusHealthCheck, MemwardenHealthCheckError, healthCheckService } = require('./lib/health');
const { RequestStats } = require('./lib/requestStats');
const { isLoopbackAddress } = require('./lib/address');

module.exports = {
  MemoryManagerService,
  MemwardenConfigError,
  MemwardenNotInitializedError,
  MemwardenTraceError,
  analyzeTrace,
  /** Validates settings without starting anything: `{ ok, config, limit }` or `{ ok: false, problems }`. */
  resolveConfig: (options = {}, env = process.env) => resolveSettings(options, pickEnv(env)),
  memoryMonitoring,
  createMemoryRouter,
  express: memwardenExpress,
  performEnhancedHealthCheck,
  healthCheckService,
  terminusHealthCheck,
  MemwardenHealthCheckError,
  RequestStats,
  isLoopbackAddress,
};

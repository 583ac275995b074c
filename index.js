'use strict';
// memwarden: the public entry. See README.md for the API.
const { MemoryManagerService, resolveSettings, pickEnv } = require('./lib/manager');
const { MemwardenConfigError, MemwardenNotInitializedError } = require('./lib/errors');
const { analyzeTrace, MemwardenTraceError } = require('./lib/trace');

module.exports = {
  MemoryManagerService,
  MemwardenConfigError,
  MemwardenNotInitializedError,
  MemwardenTraceError,
  analyzeTrace,
  /** Validates settings without starting anything: `{ ok, config, limit }` or `{ ok: false, problems }`. */
  resolveConfig: (options = {}, env = process.env) => resolveSettings(options, pickEnv(env)),
};

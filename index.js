'use strict';
// memwarden: the public entry. See README.md for the API.
const { MemoryManagerService } = require('./lib/manager');
const { MemwardenConfigError, MemwardenNotInitializedError } = require('./lib/errors');
const native = require('./lib/native');

module.exports = {
  MemoryManagerService,
  MemwardenConfigError,
  MemwardenNotInitializedError,
  /** Validates settings without starting anything: `{ ok, config, limit }` or `{ ok: false, problems }`. */
  resolveConfig: (options = {}, env = process.env) => {
    const picked = {};
    for (const name of native.envVariableNames()) if (typeof env[name] === 'string') picked[name] = env[name];
    return native.resolveConfig(options, picked);
  },
};

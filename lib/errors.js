'use strict';

/** Invalid settings: `problems` lists each one ({ setting, value, accepted, message }). */
class MemwardenConfigError extends Error {
  constructor(problems) {
    const text = problems.map((p) => p.message).join('; ');
    super(`memwarden: invalid configuration: ${text}`);
    this.name = 'MemwardenConfigError';
    this.code = 'ERR_MEMWARDEN_CONFIG';
    this.problems = problems;
  }
}

/** A method that needs `initialize()` was called before it. */
class MemwardenNotInitializedError extends Error {
  constructor(method) {
    super(`memwarden: ${method}() needs await MemoryManagerService.getInstance().initialize() first`);
    this.name = 'MemwardenNotInitializedError';
    this.code = 'ERR_MEMWARDEN_NOT_INITIALIZED';
  }
}

/** A bad argument to a public function: names it, the value, and what is accepted. */
function invalidArgument(name, value, accepted) {
  let shown;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    shown = typeof value;
  }
  const err = new TypeError(`memwarden: ${name}=${shown} is invalid; accepted: ${accepted}`);
  err.code = 'ERR_MEMWARDEN_INVALID_ARG';
  return err;
}

module.exports = { MemwardenConfigError, MemwardenNotInitializedError, invalidArgument };

'use strict';
// Option validation shared by the Express factories, the router and the JS-only
// manager options: every problem names the option, the value given and what is
// accepted, and all problems are reported at once (MemwardenConfigError).
const { MemwardenConfigError } = require('./errors');

const LEVELS = Object.freeze({ healthy: 0, warning: 1, critical: 2, emergency: 3 });
const LEVEL_NAMES = Object.freeze(['healthy', 'warning', 'critical', 'emergency']);

/** A short, safe rendering of a value for error messages. */
function show(value) {
  if (typeof value === 'string') {
    const s = value.length > 200 ? `${value.slice(0, 200)}…` : value;
    return JSON.stringify(s);
  }
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'symbol' || typeof value === 'bigint') return value.toString();
  if (value instanceof RegExp) return String(value);
  if (Array.isArray(value)) return '[array]';
  if (value && typeof value === 'object') return '[object]';
  return String(value);
}

function problem(where, setting, value, accepted) {
  const shown = show(value);
  return {
    setting,
    value: shown,
    accepted,
    message: `${where ? `${where}: ` : ''}${setting}=${shown} is invalid; accepted: ${accepted}`,
  };
}

// Validators: return the normalized value, or throw { accepted } through `fail`.
const FAIL = Symbol('fail');
function fail(accepted) {
  const e = new Error(accepted);
  e[FAIL] = accepted;
  throw e;
}

const v = {
  boolean: () => (x) => (typeof x === 'boolean' ? x : fail('true or false')),
  integer: (min, max) => (x) =>
    Number.isInteger(x) && x >= min && x <= max ? x : fail(`a whole number from ${min} to ${max}`),
  number: (min, max) => (x) =>
    typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max ? x : fail(`a number from ${min} to ${max}`),
  level: (allowed = LEVEL_NAMES.slice(1)) => (x) =>
    typeof x === 'string' && allowed.includes(x) ? x : fail(allowed.map((l) => `'${l}'`).join(', ')),
  func: () => (x) => (typeof x === 'function' ? x : fail('a function')),
  string: (max = 1000) => (x) =>
    typeof x === 'string' && x.length > 0 && x.length <= max ? x : fail(`a non-empty string of at most ${max} characters`),
  object: () => (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : fail('an object')),
  /** An HTTP header name, or false to leave the header out. */
  headerName: () => (x) => {
    if (x === false || x === null) return null;
    if (typeof x === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(x)) return x;
    return fail('a valid HTTP header name, or false to leave the header out');
  },
  /** Path prefixes (strings starting with '/') and RegExps. */
  paths: () => (x) => {
    const list = Array.isArray(x) ? x : fail("an array of path prefixes ('/health') and RegExps");
    for (const p of list) {
      if (!(p instanceof RegExp) && !(typeof p === 'string' && p.startsWith('/'))) {
        fail("an array of path prefixes starting with '/' and RegExps");
      }
    }
    return Object.freeze(list.map((p) => (typeof p === 'string' && p.length > 1 ? p.replace(/\/+$/, '') : p)));
  },
  /** A mount path such as '/api/memory'. */
  mountPath: () => (x) =>
    typeof x === 'string' && /^\/[A-Za-z0-9._~\-/]*$/.test(x) && !x.includes('//')
      ? x.length > 1
        ? x.replace(/\/$/, '')
        : x
      : fail("a path such as '/api/memory' (letters, digits, '.', '_', '~', '-', '/')"),
  /** The memwarden manager (a MemoryManagerService). */
  manager: () => (x) =>
    x && typeof x === 'object' && typeof x.getHealthMetrics === 'function' && typeof x.on === 'function'
      ? x
      : fail('a MemoryManagerService (MemoryManagerService.getInstance())'),
  /** The express module (express 4 or 5). */
  expressModule: () => (x) =>
    typeof x === 'function' && typeof x.Router === 'function' ? x : fail("the express module (require('express'))"),
};

/**
 * Validates `options` against `schema` ({ name: { default, check } }). Unknown
 * options and bad values are collected into one MemwardenConfigError. `where`
 * names the factory in messages (e.g. 'addMemoryHeaders()').
 */
function validateOptions(where, options, schema) {
  const problems = [];
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    throw new MemwardenConfigError([problem(where, 'options', options, 'an object of options')]);
  }
  const given = options || {};
  const out = {};
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(schema, key)) {
      problems.push({
        setting: key,
        value: show(given[key]),
        accepted: `one of ${Object.keys(schema).join(', ')}`,
        message: `${where}: unknown option ${key}; accepted options: ${Object.keys(schema).join(', ')}`,
      });
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const value = given[key];
    if (value === undefined) {
      out[key] = typeof spec.default === 'function' ? spec.default() : spec.default;
      continue;
    }
    try {
      out[key] = spec.check(value);
    } catch (err) {
      if (err && err[FAIL] !== undefined) problems.push(problem(where, key, value, err[FAIL]));
      else throw err;
    }
  }
  if (problems.length > 0) throw new MemwardenConfigError(problems);
  return out;
}

/** Whether `path` is `prefix` or below it ('/health' matches '/health' and '/health/x', not '/healthz'). */
function underPrefix(path, prefix) {
  if (prefix === '/') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* '/' */);
}

/** A URL's path: `url` without its query string. */
function pathOf(url) {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** The path of a request's original URL, without the query string. */
function requestPath(req) {
  return pathOf(req.originalUrl || req.url || '/');
}

/** Whether `path` matches one of the prefixes or RegExps. */
function matchesPaths(path, paths) {
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    if (typeof p === 'string' ? underPrefix(path, p) : (p.lastIndex = 0, p.test(path))) return true;
  }
  return false;
}

module.exports = { LEVELS, LEVEL_NAMES, show, problem, fail, v, validateOptions, underPrefix, pathOf, requestPath, matchesPaths };

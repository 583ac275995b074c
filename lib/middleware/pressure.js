'use strict';
// handleMemoryPressure(): load shedding (503 with Retry-After) at a memory level,
// and a proactive cleanup at another, read from the manager's cached request snapshot.
const { MemoryManagerService } = require('../manager');
const { v, validateOptions, LEVELS, requestPath, matchesPaths } = require('../options');
const { kStep, kMinLevel, kCallsApp, managerOption } = require('./steps');

const { performance } = require('node:perf_hooks');

const DEFAULT_EXEMPT_PATHS = Object.freeze(['/api/memory', '/health', '/healthz', '/ready']);

/**
 * Load shedding: at `level` (default emergency) requests get 503 with Retry-After and
 * `{ error: { code: 'ERR_MEMORY_PRESSURE', message, status, usagePercentage } }`,
 * except exempt paths (health and memory routes by default). At `cleanupLevel`
 * (default critical) a proactive cleanup starts after the response path moves on,
 * at most once per cleanupCooldownMs; the request is not rejected for it.
 */
function handleMemoryPressure(options) {
  const o = validateOptions('handleMemoryPressure()', options, {
    manager: managerOption,
    level: { default: 'emergency', check: v.level() },
    retryAfterSeconds: { default: 10, check: v.integer(1, 86_400) },
    exemptPaths: { default: DEFAULT_EXEMPT_PATHS, check: v.paths() },
    handler: { default: null, check: v.func() },
    message: { default: 'The server is under memory pressure; retry later', check: v.string(500) },
    cleanupLevel: {
      default: 'critical',
      check: (x) => (x === false ? false : v.level()(x)),
    },
    cleanupCooldownMs: { default: 60_000, check: v.integer(1000, 86_400_000) },
  });
  const manager = o.manager || MemoryManagerService.getInstance();
  const shedLevel = LEVELS[o.level];
  const cleanupLevel = o.cleanupLevel === false ? Infinity : LEVELS[o.cleanupLevel];
  const minLevel = Math.min(shedLevel, cleanupLevel);
  const exemptPaths = o.exemptPaths;
  const handler = o.handler;
  const retryAfter = String(o.retryAfterSeconds);
  const cooldownMs = o.cleanupCooldownMs;
  let lastCleanup = -Infinity;
  let bodyFor = null;
  let body = '';
  let bodyLength = 0;

  const startCleanup = () => manager.requestProactiveCleanup('pressure_middleware', cooldownMs);

  // `exempt` true: memwarden.express() saw a request for its own endpoints.
  function step(req, res, next, exempt) {
    const snap = manager.getRequestSnapshot();
    if (snap === null || snap.level < minLevel) return true;
    if (snap.level >= cleanupLevel) {
      // Monotonic: a wall-clock step back must not hold cleanups off.
      const now = performance.now();
      if (now - lastCleanup >= cooldownMs) {
        lastCleanup = now;
        setImmediate(startCleanup);
      }
    }
    if (snap.level < shedLevel || exempt === true || matchesPaths(requestPath(req), exemptPaths)) return true;
    if (handler !== null) {
      handler(req, res, next, snap);
      return false;
    }
    if (bodyFor !== snap) {
      body = JSON.stringify({
        error: {
          code: 'ERR_MEMORY_PRESSURE',
          message: o.message,
          statusCode: 503,
          status: snap.status,
          usagePercentage: Number(snap.usagePercentage.toFixed(1)),
          pressurePercentage: Number(snap.pressurePercentage.toFixed(1)),
          retryAfterSeconds: o.retryAfterSeconds,
        },
      });
      bodyLength = Buffer.byteLength(body);
      bodyFor = snap;
    }
    res.statusCode = 503;
    res.setHeader('Retry-After', retryAfter);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Length', bodyLength);
    res.end(body);
    return false;
  }
  function memwardenHandleMemoryPressure(req, res, next) {
    if (step(req, res, next)) next();
  }
  memwardenHandleMemoryPressure[kStep] = step;
  memwardenHandleMemoryPressure[kMinLevel] = minLevel;
  memwardenHandleMemoryPressure[kCallsApp] = handler !== null;
  return memwardenHandleMemoryPressure;
}

module.exports = { handleMemoryPressure, DEFAULT_EXEMPT_PATHS };

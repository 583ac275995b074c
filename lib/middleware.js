'use strict';
// memoryMonitoring (SPEC.md's MemoryMonitoringMiddleware): Express middleware
// factories. Each validates its options once and returns a named function. The
// per-request path reads the manager's precomputed request snapshot (a frozen
// object rebuilt only when a sample changes the report): no sampling, no native
// call, no forced GC, no closure allocated per request.
const v8 = require('node:v8');
const { performance, PerformanceObserver } = require('node:perf_hooks');
const { MemoryManagerService } = require('./manager');
const { v, validateOptions, LEVELS, requestPath, matchesPaths } = require('./options');

const DEFAULT_EXEMPT_PATHS = Object.freeze(['/api/memory', '/health', '/healthz', '/ready']);
// The per-request step of each middleware, for memwarden.express() to chain them
// without an Express layer each: (req, res, next) => true to continue.
const kStep = Symbol('memwarden.step');

// Every header name an addMemoryHeaders() was configured with (omitMemoryHeaders removes them).
const headerNames = new Set(['X-Memory-Status', 'X-Memory-Usage']);

const managerOption = { default: null, check: v.manager() };

function heapUsed() {
  return v8.getHeapStatistics().used_heap_size;
}

/**
 * Response headers with the memory status and pressure (% of the limit, the worse of
 * resident and heap; what the status follows). Set before the route runs, from the
 * cached snapshot; none before initialize().
 */
function addMemoryHeaders(options) {
  const o = validateOptions('addMemoryHeaders()', options, {
    manager: managerOption,
    statusHeader: { default: 'X-Memory-Status', check: v.headerName() },
    usageHeader: { default: 'X-Memory-Usage', check: v.headerName() },
    excludePaths: { default: Object.freeze([]), check: v.paths() },
    skip: { default: null, check: v.func() },
  });
  const manager = o.manager || MemoryManagerService.getInstance();
  const statusName = o.statusHeader;
  const usageName = o.usageHeader;
  if (statusName !== null) headerNames.add(statusName);
  if (usageName !== null) headerNames.add(usageName);
  const exclude = o.excludePaths;
  const hasExclude = exclude.length > 0;
  const skip = o.skip;
  function step(req, res) {
    const snap = manager.getRequestSnapshot();
    if (snap !== null && !(hasExclude && matchesPaths(requestPath(req), exclude)) && !(skip !== null && skip(req, res))) {
      if (statusName !== null) res.setHeader(statusName, snap.status);
      if (usageName !== null) res.setHeader(usageName, snap.usageHeader);
    }
    return true;
  }
  function memwardenMemoryHeaders(req, res, next) {
    step(req, res);
    next();
  }
  memwardenMemoryHeaders[kStep] = step;
  return memwardenMemoryHeaders;
}

/** Route-level opt-out: `app.get('/public', memoryMonitoring.omitMemoryHeaders(), handler)`. */
function omitMemoryHeaders() {
  return function memwardenOmitMemoryHeaders(req, res, next) {
    if (!res.headersSent) for (const name of headerNames) res.removeHeader(name);
    next();
  };
}

const observed = new WeakSet();
/** Feeds GC pauses into the correlation windows of `stats` (one observer per stats object). */
function observeGcPauses(stats) {
  if (observed.has(stats)) return;
  observed.add(stats);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) stats.recordGcPause(entry.duration, entry.startTime + entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
}

/**
 * Counts and times every request per route (Express route pattern joined with the
 * router's base URL; '(unmatched)' when no route matched; at most maxRoutes keys,
 * then '(other)'), samples the V8 heap at the start and end of 1 in
 * memorySampleRate requests, and aggregates per window for the correlation
 * analysis. The statistics live on the manager (`manager.requestStats`), shared
 * with GET /api/memory/metrics and the 'clear_performance_metrics' strategy.
 */
function monitorRequestMemory(options) {
  const o = validateOptions('monitorRequestMemory()', options, {
    manager: managerOption,
    memorySampleRate: { default: 64, check: v.integer(0, 1_000_000) },
    maxRoutes: { default: undefined, check: v.integer(1, 100_000) },
    windowMs: { default: undefined, check: v.integer(1000, 3_600_000) },
    maxWindows: { default: undefined, check: v.integer(2, 10_000) },
    minWindows: { default: undefined, check: v.integer(3, 10_000) },
    skip: { default: null, check: v.func() },
  });
  const manager = o.manager || MemoryManagerService.getInstance();
  const stats = manager.requestStats;
  stats.configure({ maxRoutes: o.maxRoutes, windowMs: o.windowMs, maxWindows: o.maxWindows, minWindows: o.minWindows }, performance.now());
  observeGcPauses(stats);
  const rate = o.memorySampleRate;
  const skip = o.skip;
  let countdown = rate;

  // Per-request state lives in pooled timer objects whose 'close' handler is bound
  // once: storing it on `res` (a large dictionary-mode object) measured several µs
  // per request, and a 'finish' listener turns Node's own single listener into an
  // array that every emit copies. 'close' fires once per response, finished or
  // aborted, so every timer returns to the pool.
  const pool = [];
  const POOL_MAX = 1024;
  class Timer {
    constructor() {
      this.req = null;
      this.res = null;
      this.start = 0;
      this.startHeap = -1;
      const timer = this;
      this.onClose = function memwardenRequestClosed() {
        if (this === timer.res) timer.closed();
      };
    }

    closed() {
      const end = performance.now();
      const req = this.req;
      const res = this.res;
      if (res.writableFinished) {
        let delta = NaN;
        if (this.startHeap >= 0) {
          const h = heapUsed();
          delta = h - this.startHeap;
          stats.recordHeap(h, end);
        }
        stats.record(stats.entryForRoute(req.route, req.baseUrl, req.method), end - this.start, res.statusCode, delta, end);
      } else {
        stats.recordAborted(end);
      }
      this.req = null;
      this.res = null;
      if (pool.length < POOL_MAX) pool.push(this);
    }
  }

  function step(req, res) {
    if (skip !== null && skip(req, res)) return true;
    const t = pool.length > 0 ? pool.pop() : new Timer();
    t.req = req;
    t.res = res;
    t.start = performance.now();
    if (rate !== 0 && --countdown === 0) {
      countdown = rate;
      t.startHeap = heapUsed();
    } else {
      t.startHeap = -1;
    }
    res.on('close', t.onClose);
    return true;
  }
  function memwardenMonitorRequest(req, res, next) {
    step(req, res);
    next();
  }
  memwardenMonitorRequest[kStep] = step;
  return memwardenMonitorRequest;
}

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
      const now = Date.now();
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
  return memwardenHandleMemoryPressure;
}

const memoryMonitoring = Object.freeze({
  addMemoryHeaders,
  monitorRequestMemory,
  handleMemoryPressure,
  omitMemoryHeaders,
  DEFAULT_EXEMPT_PATHS,
});

module.exports = { memoryMonitoring, addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, omitMemoryHeaders, DEFAULT_EXEMPT_PATHS, kStep };

'use strict';
// memoryMonitoring (SPEC.md's MemoryMonitoringMiddleware): Express middleware
// factories. Each validates its options once and returns a named function. The
// per-request path reads the manager's precomputed request snapshot (a frozen
// object rebuilt only when a sample changes the report): no sampling, no native
// call, no forced GC, no closure or listener added per request.
const v8 = require('node:v8');
const { performance, PerformanceObserver } = require('node:perf_hooks');
const { MemoryManagerService } = require('./manager');
const { v, validateOptions, LEVELS, requestPath, matchesPaths } = require('./options');

const DEFAULT_EXEMPT_PATHS = Object.freeze(['/api/memory', '/health', '/healthz', '/ready']);
// The per-request step of each middleware, for memwarden.express() to chain them
// without an Express layer each: (req, res, next) => true to continue.
const kStep = Symbol('memwarden.step');
// handleMemoryPressure()'s lowest level with something to do (cleanup or shedding).
const kMinLevel = Symbol('memwarden.minLevel');
// true on a middleware whose step calls the app's own code (a `skip` or `handler` option), which
// may use Express's additions to req and res: memwarden.express.attach() runs it after
// Express has set them up.
const kCallsApp = Symbol('memwarden.callsApp');

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
      // One lookup of setHeader for both headers, through Reflect.get (see "Request
      // timing" below on property access to Express's req and res).
      const setHeader = Reflect.get(res, 'setHeader');
      if (statusName !== null) setHeader.call(res, statusName, snap.status);
      if (usageName !== null) setHeader.call(res, usageName, snap.usageHeader);
    }
    return true;
  }
  function memwardenMemoryHeaders(req, res, next) {
    step(req, res);
    next();
  }
  memwardenMemoryHeaders[kStep] = step;
  memwardenMemoryHeaders[kCallsApp] = skip !== null;
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

// ---------------------------------------------------------------------------
// Request timing.
//
// Costs measured in instructions per request (valgrind, Express 5 hello world,
// ~540k instructions bare), because the cost model is unusual here:
//
// - Express gives every request's `req` and `res` a hidden class (map) of their
//   own: Object.setPrototypeOf() to app.request / app.response followed by any new
//   property yields a fresh map per object. So every `req.x` / `res.x` in a
//   middleware is an inline-cache miss handled in the runtime (~1.5k
//   instructions), where `Reflect.get(req, 'x')` is a generic lookup without the
//   miss (~3x cheaper). The request path below reads each property it needs once,
//   through Reflect.get, and stores nothing on req or res.
// - `res.on('close', fn)` per request (what this did before) inserts into the
//   response's dictionary-mode `_events` and cost ~8k instructions. Instead, the end
//   of a response is seen through Node's 'http.server.response.finish'
//   diagnostics channel, which the HTTP server publishes from the 'finish' listener
//   it already has on every response, and an abort through one 'close' listener per
//   connection: a request still pending when its connection closes never finished.
//
// Each timed request holds a pooled Timer (no allocation per request), kept in a
// short list per connection (one entry; more only with pipelining or several
// monitors on one request). Responses that do not come from a Node http/https
// server (mocks, injections, http2 compatibility) get a 'close' listener on the
// response instead, as does everything once the channel is seen not to report
// finished responses (it is documented as experimental; see channelMissedFinish()).

const kTimed = Symbol('memwarden.timedRequests');
const FINISH_CHANNEL = 'http.server.response.finish';
const timerPool = [];
const TIMER_POOL_MAX = 1024;
let finishChannel = 'unsubscribed'; // then 'subscribed', or 'broken'
// node:http and node:net, loaded with the first monitorRequestMemory(), not when memwarden is required.
let ServerResponse = null;
let NetServer = null;

class Timer {
  constructor() {
    this.stats = null;
    this.req = null;
    this.res = null;
    this.start = 0;
    this.startHeap = -1;
    this.next = null;
    this.onClose = null; // the per-response 'close' listener, created on first use
  }
}

/** Records a timer's request (finished at `end`, or aborted) and returns the timer to the pool. */
function settle(t, end, finished) {
  const stats = t.stats;
  if (finished) {
    let delta = NaN;
    if (t.startHeap >= 0) {
      const h = heapUsed();
      delta = h - t.startHeap;
      stats.recordHeap(h, end);
    }
    const req = t.req;
    stats.record(
      stats.entryForRoute(Reflect.get(req, 'route'), Reflect.get(req, 'baseUrl'), Reflect.get(req, 'method')),
      end - t.start,
      Reflect.get(t.res, 'statusCode'),
      delta,
      end,
    );
  } else {
    stats.recordAborted(end);
  }
  t.stats = null;
  t.req = null;
  t.res = null;
  t.next = null;
  if (timerPool.length < TIMER_POOL_MAX) timerPool.push(t);
}

/** The timers pending on one connection, oldest first. */
class ConnectionTimers {
  constructor() {
    this.head = null;
    this.tail = null;
    const self = this;
    this.onClose = function memwardenConnectionClosed() {
      self.closed();
    };
  }

  add(t) {
    if (this.tail === null) this.head = t;
    else this.tail.next = t;
    this.tail = t;
  }

  /** `res` finished: settle every timer of it (one per monitor it went through). */
  finished(res) {
    let end = -1;
    let prev = null;
    let t = this.head;
    while (t !== null) {
      const next = t.next;
      if (t.res === res) {
        if (prev === null) this.head = next;
        else prev.next = next;
        if (next === null) this.tail = prev;
        if (end < 0) end = performance.now();
        settle(t, end, true);
      } else {
        prev = t;
      }
      t = next;
    }
  }

  /**
   * The connection closed: what is still pending never finished (aborted), unless
   * its response did finish and the server detached it (which it does right after
   * publishing the finish), unreported: see channelMissedFinish().
   */
  closed() {
    let t = this.head;
    this.head = null;
    this.tail = null;
    if (t === null) return;
    const end = performance.now();
    while (t !== null) {
      const next = t.next;
      const res = t.res;
      const finished = Reflect.get(res, 'socket') === null && Reflect.get(res, 'writableFinished') === true;
      if (finished) channelBroken();
      settle(t, end, finished);
      t = next;
    }
  }

  /**
   * Called when timers of earlier responses are still pending while the connection
   * already writes a later one: those finished, and the channel did not report them.
   * Settles them (finished now, as far as known) and switches every later request
   * to per-response 'close' listeners.
   */
  channelMissedFinish() {
    channelBroken();
    let t = this.head;
    this.head = null;
    this.tail = null;
    const end = performance.now();
    while (t !== null) {
      const next = t.next;
      settle(t, end, Reflect.get(t.res, 'writableFinished') === true);
      t = next;
    }
  }
}

/** The finish channel missed a finished response: per-response 'close' listeners from now on. */
function channelBroken() {
  if (finishChannel === 'broken') return;
  finishChannel = 'broken';
  process.emitWarning(
    `memwarden: the '${FINISH_CHANNEL}' diagnostics channel did not report a finished response; ` +
      'request timing falls back to a close listener per response',
    'MemwardenWarning',
  );
}

function onResponseFinish(message) {
  const socket = message.socket;
  if (socket === null || typeof socket !== 'object') return;
  const timers = socket[kTimed];
  if (timers !== undefined && timers !== null && timers.head !== null) timers.finished(message.response);
}

function subscribeResponseFinish() {
  if (finishChannel !== 'unsubscribed') return;
  finishChannel = 'subscribed';
  ServerResponse = require('node:http').ServerResponse;
  NetServer = require('node:net').Server;
  require('node:diagnostics_channel').subscribe(FINISH_CHANNEL, onResponseFinish);
}

/**
 * Whether `res` is a response of Node's http/https server on `socket`: the server
 * sets `socket.server` on the connections it handles, and publishes their finish.
 */
function isNodeServerResponse(res, socket) {
  return res instanceof ServerResponse && socket != null && socket.server instanceof NetServer && typeof socket.on === 'function';
}

/** The per-response 'close' listener: finished or aborted as `res.writableFinished` says. */
function timeByCloseListener(t) {
  if (t.onClose === null) {
    t.onClose = function memwardenRequestClosed() {
      if (this === t.res) settle(t, performance.now(), this.writableFinished);
    };
  }
  t.res.on('close', t.onClose);
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
  subscribeResponseFinish();
  const rate = o.memorySampleRate;
  const skip = o.skip;
  let countdown = rate;

  function step(req, res) {
    if (skip !== null && skip(req, res)) return true;
    const socket = Reflect.get(req, 'socket');
    let timers = socket != null ? socket[kTimed] : undefined;
    if (timers === undefined) {
      // First request seen on this connection.
      if (finishChannel === 'subscribed' && isNodeServerResponse(res, socket)) {
        timers = new ConnectionTimers();
        socket[kTimed] = timers;
        socket.on('close', timers.onClose);
      } else {
        timers = null;
      }
    }
    if (timers !== null) {
      if (socket._httpMessage !== res) {
        // Not the response the connection is writing: one waiting behind pipelined
        // ones, or one that ended before this ran, whose finish may be past (not timed).
        if (Reflect.get(res, 'writableEnded')) return true;
      } else if (timers.head !== null && timers.head.res !== res) {
        // The connection writes this response, so every earlier one has finished.
        timers.channelMissedFinish();
      }
      if (finishChannel === 'broken') timers = null;
    }
    const t = timerPool.length > 0 ? timerPool.pop() : new Timer();
    t.stats = stats;
    t.req = req;
    t.res = res;
    if (rate !== 0 && --countdown === 0) {
      countdown = rate;
      t.startHeap = heapUsed();
    } else {
      t.startHeap = -1;
    }
    t.start = performance.now();
    if (timers === null) {
      timeByCloseListener(t);
      return true;
    }
    if (socket.destroyed) {
      // The connection is gone already: its 'close' may have been emitted.
      settle(t, t.start, false);
      return true;
    }
    timers.add(t);
    return true;
  }
  function memwardenMonitorRequest(req, res, next) {
    step(req, res);
    next();
  }
  memwardenMonitorRequest[kStep] = step;
  memwardenMonitorRequest[kCallsApp] = skip !== null;
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
  memwardenHandleMemoryPressure[kMinLevel] = minLevel;
  memwardenHandleMemoryPressure[kCallsApp] = handler !== null;
  return memwardenHandleMemoryPressure;
}

const memoryMonitoring = Object.freeze({
  addMemoryHeaders,
  monitorRequestMemory,
  handleMemoryPressure,
  omitMemoryHeaders,
  DEFAULT_EXEMPT_PATHS,
});

module.exports = { memoryMonitoring, addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, omitMemoryHeaders, DEFAULT_EXEMPT_PATHS, kStep, kMinLevel, kCallsApp };

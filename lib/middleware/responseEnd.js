'use strict';
// Seeing the end of each timed request's response (finished or aborted) without a
// listener per request: monitorRequestMemory() (monitorRequest.js) starts a timing
// with RequestTiming#start(req, res); the end is recorded in the RequestStats.
const v8 = require('node:v8');
const { performance } = require('node:perf_hooks');

function heapUsed() {
  return v8.getHeapStatistics().used_heap_size;
}

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
 * The timing of one monitorRequestMemory(): requests go to `stats`; the V8 heap is
 * sampled at the start and end of 1 in `rate` requests (0: never).
 */
class RequestTiming {
  constructor(stats, rate) {
    this.stats = stats;
    this.rate = rate;
    this.countdown = rate;
  }

  /** Starts timing a request; its end is recorded when its response finishes or its connection closes. */
  start(req, res) {
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
        if (Reflect.get(res, 'writableEnded')) return;
      } else if (timers.head !== null && timers.head.res !== res) {
        // The connection writes this response, so every earlier one has finished.
        timers.channelMissedFinish();
      }
      if (finishChannel === 'broken') timers = null;
    }
    const t = timerPool.length > 0 ? timerPool.pop() : new Timer();
    t.stats = this.stats;
    t.req = req;
    t.res = res;
    if (this.rate !== 0 && --this.countdown === 0) {
      this.countdown = this.rate;
      t.startHeap = heapUsed();
    } else {
      t.startHeap = -1;
    }
    t.start = performance.now();
    if (timers === null) {
      timeByCloseListener(t);
      return;
    }
    if (socket.destroyed) {
      // The connection is gone already: its 'close' may have been emitted.
      settle(t, t.start, false);
      return;
    }
    timers.add(t);
  }
}

module.exports = { RequestTiming, subscribeResponseFinish };

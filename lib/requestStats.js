'use strict';
// Per-route request statistics and the performance correlation analysis, as pure
// data structures: time is passed in (`now`, in ms of any monotonic clock), never
// read here, so tests drive them with exact values.
//
// - Latency: a fixed log-scale histogram per route (BUCKETS buckets, each 2^(1/4)
//   wider than the last, from 10 µs to ~140 s): p50/p95 within ~19 % (one bucket),
//   320 bytes per route, no allocation per request.
// - Cardinality: at most `maxRoutes` keys; further routes share '(other)'.
//   Requests no route matched share '(unmatched)'.
// - Memory: the caller measures V8 heap used at the start and the end of 1 in N
//   requests and passes the delta; a negative delta (a GC ran meanwhile) is
//   counted as interrupted and not averaged.
// - Correlation: requests, latency, GC pause time and heap are aggregated per
//   window (`windowMs`, the last `maxWindows` kept); Pearson's r between GC pause
//   share and mean latency, and between heap used and mean latency, over windows
//   that saw requests. Below `minWindows` such windows, or with no variation, the
//   coefficient is null with a reason: never NaN.

const BUCKETS = 96;
const MIN_MS = 0.01;
const STEPS_PER_DOUBLING = 4;
const UNMATCHED = '(unmatched)';
const OTHER = '(other)';

/** Bucket index of a latency in ms. */
function bucketOf(ms) {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / MIN_MS) * STEPS_PER_DOUBLING);
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** Upper bound (ms) of bucket `i`. */
function bucketUpperMs(i) {
  return MIN_MS * 2 ** (i / STEPS_PER_DOUBLING);
}

/**
 * The `q` quantile (0–1) of a histogram with `count` values: the upper bound of the
 * bucket holding it, capped at the largest value seen. null when empty.
 */
function histogramQuantile(counts, count, q, maxMs) {
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return Math.min(bucketUpperMs(i), maxMs);
  }
  return maxMs;
}

const round = (x, digits = 3) => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));

class RouteEntry {
  constructor(key, method, path) {
    this.key = key;
    this.method = method;
    this.path = path;
    this.count = 0;
    this.serverErrors = 0;
    this.clientErrors = 0;
    this.totalMs = 0;
    this.maxMs = 0;
    this.counts = new Uint32Array(BUCKETS);
    this.memorySamples = 0;
    this.memoryInterrupted = 0;
    this.heapDeltaSum = 0;
    this.heapDeltaMax = 0;
    this.lastSeen = 0;
  }

  toJSON() {
    const memory =
      this.memorySamples === 0
        ? { samples: 0, interruptedByGc: this.memoryInterrupted, meanHeapDeltaBytes: null, maxHeapDeltaBytes: null }
        : {
            samples: this.memorySamples,
            interruptedByGc: this.memoryInterrupted,
            meanHeapDeltaBytes: Math.round(this.heapDeltaSum / this.memorySamples),
            maxHeapDeltaBytes: this.heapDeltaMax,
          };
    return {
      route: this.key,
      method: this.method,
      path: this.path,
      count: this.count,
      serverErrors: this.serverErrors,
      clientErrors: this.clientErrors,
      latencyMs: {
        mean: this.count === 0 ? null : round(this.totalMs / this.count),
        p50: round(histogramQuantile(this.counts, this.count, 0.5, this.maxMs)),
        p95: round(histogramQuantile(this.counts, this.count, 0.95, this.maxMs)),
        max: this.count === 0 ? null : round(this.maxMs),
      },
      memory,
      lastSeen: this.lastSeen,
    };
  }
}

/** Pearson's r of two equal-length arrays, or a reason it has none. */
function pearson(xs, ys, minPoints, what) {
  const n = xs.length;
  if (n < minPoints) {
    return { coefficient: null, strength: null, windows: n, enoughData: false, reason: `not enough data: ${n} of ${minPoints} windows with requests${what ? ` and ${what}` : ''}` };
  }
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (!(sxx > 0) || !(syy > 0)) {
    const which = !(sxx > 0) ? (what || 'the first series') : 'latency';
    return { coefficient: null, strength: null, windows: n, enoughData: true, reason: `no variation in ${which} across the windows` };
  }
  const r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  const a = Math.abs(r);
  const strength = a < 0.3 ? 'none' : a < 0.5 ? 'weak' : a < 0.7 ? 'moderate' : 'strong';
  return { coefficient: round(r, 4), strength, windows: n, enoughData: true, reason: null };
}

class RequestStats {
  /**
   * @param {object} [o]
   * @param {number} [o.maxRoutes=500]   route keys kept; the rest share '(other)'
   * @param {number} [o.windowMs=10000]  correlation window length
   * @param {number} [o.maxWindows=30]   closed windows kept
   * @param {number} [o.minWindows=6]    windows needed for a correlation coefficient
   * @param {number} [o.minMemorySamples=3] samples a route needs to rank as memory-heavy
   * @param {number} [o.now=0]           the clock's current value
   */
  constructor({ maxRoutes = 500, windowMs = 10_000, maxWindows = 30, minWindows = 6, minMemorySamples = 3, now = 0 } = {}) {
    this.maxRoutes = maxRoutes;
    this.windowMs = windowMs;
    this.maxWindows = maxWindows;
    this.minWindows = minWindows;
    this.minMemorySamples = minMemorySamples;
    this._winCounts = new Uint32Array(BUCKETS);
    this.reset(now);
  }

  /** Changes settings (undefined ones are kept); a new windowMs restarts the windows. */
  configure({ maxRoutes, windowMs, maxWindows, minWindows } = {}, now = this._win.start) {
    if (maxRoutes !== undefined) this.maxRoutes = maxRoutes;
    if (maxWindows !== undefined) {
      this.maxWindows = maxWindows;
      if (this.windows.length > maxWindows) this.windows.splice(0, this.windows.length - maxWindows);
    }
    if (minWindows !== undefined) this.minWindows = minWindows;
    if (windowMs !== undefined && windowMs !== this.windowMs) {
      this.windowMs = windowMs;
      this.windows = [];
      this._openWindow(now);
    }
  }

  /** Drops everything; returns what was dropped. */
  reset(now = this._win.start) {
    const dropped = this.routes
      ? { routesDropped: this.routes.size, windowsDropped: this.windows.length, requestsDropped: this.totalRequests }
      : { routesDropped: 0, windowsDropped: 0, requestsDropped: 0 };
    /** @type {Map<string, RouteEntry>} */
    this.routes = new Map();
    this._byRoute = new Map();
    this.overflowed = 0;
    this.totalRequests = 0;
    this.aborted = 0;
    this.since = now;
    this.windows = [];
    this._openWindow(now);
    return dropped;
  }

  _openWindow(start) {
    this._winCounts.fill(0);
    this._win = { start, count: 0, sumMs: 0, maxMs: 0, gcPauseMs: 0, gcCount: 0, heapSum: 0, heapSamples: 0 };
  }

  /** Closes the current window if `now` is past its end, and opens the one holding `now`. */
  roll(now) {
    const w = this._win;
    if (now < w.start + this.windowMs) return;
    if (w.count > 0) {
      this.windows.push({
        start: w.start,
        durationMs: this.windowMs,
        requests: w.count,
        meanLatencyMs: round(w.sumMs / w.count),
        p95LatencyMs: round(histogramQuantile(this._winCounts, w.count, 0.95, w.maxMs)),
        gcPauseMs: round(w.gcPauseMs),
        gcCount: w.gcCount,
        gcPauseShare: round(w.gcPauseMs / this.windowMs, 6),
        heapUsedBytes: w.heapSamples === 0 ? null : Math.round(w.heapSum / w.heapSamples),
      });
      if (this.windows.length > this.maxWindows) this.windows.splice(0, this.windows.length - this.maxWindows);
    }
    const elapsed = Math.floor((now - w.start) / this.windowMs);
    this._openWindow(w.start + elapsed * this.windowMs);
  }

  /** The entry for a route key (string), creating it within the cap. */
  entry(key, method = null, path = null) {
    let e = this.routes.get(key);
    if (e !== undefined) return e;
    if (this.routes.size >= this.maxRoutes && key !== UNMATCHED) {
      this.overflowed++;
      e = this.routes.get(OTHER);
      if (e === undefined) {
        e = new RouteEntry(OTHER, null, null);
        this.routes.set(OTHER, e);
      }
      return e;
    }
    e = new RouteEntry(key, method, path);
    this.routes.set(key, e);
    return e;
  }

  /**
   * The entry of an Express request: `route` is req.route (its `path` a string,
   * RegExp or array), `baseUrl` req.baseUrl, `method` req.method. Cached by the route
   * object so the key string is built once per (route, baseUrl, method).
   */
  entryForRoute(route, baseUrl, method) {
    if (route === undefined || route === null) return this.entry(UNMATCHED);
    let c = this._byRoute.get(route);
    for (let x = c; x !== undefined; x = x.next) {
      if (x.baseUrl === baseUrl && x.method === method) return x.entry;
    }
    const path = `${baseUrl || ''}${Array.isArray(route.path) ? route.path.join(',') : String(route.path)}`;
    const e = this.entry(`${method} ${path}`, method, path);
    if (this._byRoute.size >= this.maxRoutes * 2) this._byRoute.clear();
    c = this._byRoute.get(route);
    this._byRoute.set(route, { baseUrl, method, entry: e, next: c });
    return e;
  }

  /**
   * Records one finished request. `heapDelta` is the V8 heap used at the end minus at
   * the start for a sampled request, or NaN when it was not sampled.
   */
  record(entry, durationMs, statusCode, heapDelta, now) {
    if (now >= this._win.start + this.windowMs) this.roll(now);
    const ms = durationMs > 0 ? durationMs : 0;
    entry.count++;
    entry.totalMs += ms;
    if (ms > entry.maxMs) entry.maxMs = ms;
    const b = bucketOf(ms);
    entry.counts[b]++;
    if (statusCode >= 500) entry.serverErrors++;
    else if (statusCode >= 400) entry.clientErrors++;
    entry.lastSeen = now;
    if (heapDelta === heapDelta) {
      if (heapDelta >= 0) {
        entry.memorySamples++;
        entry.heapDeltaSum += heapDelta;
        if (heapDelta > entry.heapDeltaMax) entry.heapDeltaMax = heapDelta;
      } else {
        entry.memoryInterrupted++;
      }
    }
    this.totalRequests++;
    const w = this._win;
    w.count++;
    w.sumMs += ms;
    if (ms > w.maxMs) w.maxMs = ms;
    this._winCounts[b]++;
  }

  /** A request whose connection closed before its response was complete. */
  recordAborted(now) {
    if (now >= this._win.start + this.windowMs) this.roll(now);
    this.aborted++;
  }

  /** A V8 heap-used reading (bytes) taken at `now`, for the window's mean heap. */
  recordHeap(heapUsedBytes, now) {
    if (now >= this._win.start + this.windowMs) this.roll(now);
    this._win.heapSum += heapUsedBytes;
    this._win.heapSamples++;
  }

  /** A GC pause of `durationMs` that ended at `now`. */
  recordGcPause(durationMs, now) {
    if (now >= this._win.start + this.windowMs) this.roll(now);
    if (durationMs > 0) this._win.gcPauseMs += durationMs;
    this._win.gcCount++;
  }

  /** The correlation analysis over the closed windows. */
  correlation() {
    const ws = this.windows;
    const gcX = [];
    const gcY = [];
    const heapX = [];
    const heapY = [];
    for (const w of ws) {
      gcX.push(w.gcPauseShare);
      gcY.push(w.meanLatencyMs);
      if (w.heapUsedBytes !== null) {
        heapX.push(w.heapUsedBytes);
        heapY.push(w.meanLatencyMs);
      }
    }
    return {
      windowMs: this.windowMs,
      windows: ws.length,
      minWindows: this.minWindows,
      gcPauseVsLatency: pearson(gcX, gcY, this.minWindows, 'GC pause share'),
      heapUsedVsLatency: pearson(heapX, heapY, this.minWindows, 'a heap reading'),
    };
  }

  /** Routes by mean sampled heap delta (at least minMemorySamples samples), largest first. */
  memoryHeavyRoutes(limit = 5) {
    const out = [];
    for (const e of this.routes.values()) {
      if (e.memorySamples >= this.minMemorySamples) {
        out.push({ route: e.key, samples: e.memorySamples, meanHeapDeltaBytes: Math.round(e.heapDeltaSum / e.memorySamples), maxHeapDeltaBytes: e.heapDeltaMax });
      }
    }
    out.sort((a, b) => b.meanHeapDeltaBytes - a.meanHeapDeltaBytes);
    return out.slice(0, limit);
  }

  /**
   * Read-only view of the per-route latency histograms, for metrics exporters: yields
   * `{ route, count, totalMs, counts }`, where counts[i] is the number of requests in
   * bucket i (upper bound bucketUpperMs(i) ms). The arrays are live: do not modify them.
   */
  *latencyHistograms() {
    for (const e of this.routes.values()) yield { route: e.key, count: e.count, totalMs: e.totalMs, counts: e.counts };
  }

  /** Everything, as plain data (closing the current window if it is over). */
  report(now) {
    if (now !== undefined) this.roll(now);
    const routes = [...this.routes.values()].map((e) => e.toJSON());
    routes.sort((a, b) => b.count - a.count);
    return {
      since: this.since,
      totalRequests: this.totalRequests,
      routeCount: this.routes.size,
      maxRoutes: this.maxRoutes,
      overflowedRequests: this.overflowed,
      abortedRequests: this.aborted,
      routes,
      memoryHeavyRoutes: this.memoryHeavyRoutes(),
      correlation: this.correlation(),
      windows: this.windows.slice(),
      currentWindow: {
        start: this._win.start,
        requests: this._win.count,
        gcPauseMs: round(this._win.gcPauseMs),
      },
    };
  }
}

module.exports = { RequestStats, RouteEntry, pearson, bucketOf, bucketUpperMs, histogramQuantile, BUCKETS, UNMATCHED, OTHER };

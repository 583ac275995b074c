'use strict';
// Leak-site attribution with V8's sampling heap profiler, through an in-process
// node:inspector session: no heap snapshot, no doubling of memory. Samples stay in the
// profile only while the objects they stand for are alive, and V8 numbers them in the
// order they were taken (`ordinal`), so ONE read at the end tells, per site, which of
// the sampled objects allocated in each part of the run are still alive: a site that
// leaks keeps objects from every part, a request's garbage or a cache whose entries
// turn over within the run only from the last (a cache turning over more slowly than
// the run cannot be told from a leak in that time). One read because each read forces a full GC (the inspector always asks V8 for
// it: ~0.35 ms per MB of live heap). The sampler is stopped with HeapProfiler.disable:
// HeapProfiler.stopSampling would force one more full GC to build a profile that would
// be thrown away.
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const { invalidArgument } = require('./errors');

// The sampler's cost is per sample (bench:attribution: an Express app under max load
// allocates ~256 MB/s, 511 samples a second at a fixed 512 KB; an attribution cost it ~2 %
// of its max throughput, its own work ~0.5 % of the CPU). So by default ('auto') the
// interval is chosen from the app's allocation rate, measured for RATE_MEASURE_MS before
// sampling starts: 512 KB, or wider when that would take more than AUTO_SAMPLES_PER_SEC
// samples a second (8 MB at 256 MB/s). A wider interval gives a leak fewer samples: an
// automatic attribution samples a slow leak longer to make up for it (autoDurationMs).
const DEFAULTS = Object.freeze({ durationMs: 30_000, windows: 3, samplingIntervalBytes: 'auto', top: 10 });
/** Accepted ranges of the sampling options, for attributeLeak() and `leakAttribution` alike. */
const RANGES = Object.freeze({ durationMs: [1_000, 1_800_000], windows: [2, 20], samplingIntervalBytes: [1024, 16 * 1048576], top: [1, 100] });
/** Words an option accepts besides its range of whole numbers. */
const WORDS = Object.freeze({ samplingIntervalBytes: Object.freeze(['auto']) });
/** The narrowest interval 'auto' picks: V8's default, what a fixed interval used to be. */
const AUTO_MIN_INTERVAL = 512 * 1024;
/** Samples a second 'auto' allows at the measured allocation rate. */
const AUTO_SAMPLES_PER_SEC = 32;
/** How long 'auto' measures the allocation rate before sampling. */
const RATE_MEASURE_MS = 2_000;

/** What option `k` of `ranges` accepts, for error messages. */
function accepted(k, ranges = RANGES) {
  const [min, max] = ranges[k];
  return [`a whole number from ${min} to ${max}`, ...(WORDS[k] || []).map((w) => `'${w}'`)].join(' or ');
}

/** Whether `v` is accepted for option `k` of `ranges`. */
function acceptable(k, v, ranges = RANGES) {
  const [min, max] = ranges[k];
  return (WORDS[k] || []).includes(v) || (Number.isInteger(v) && v >= min && v <= max);
}

function checkOptions(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', options, 'an object');
  const out = { ...DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    const range = RANGES[k];
    if (!range) throw invalidArgument(k, v, `one of the options ${Object.keys(DEFAULTS).join(', ')}`);
    if (!acceptable(k, v)) throw invalidArgument(k, v, accepted(k));
    out[k] = v;
  }
  return out;
}

function post(session, method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Node's own modules (`node:buffer`, `node:internal/...`): not where a user can fix a leak. */
const isNodeInternal = (url) => url.startsWith('node:') || url.startsWith('internal/');

/**
 * The allocation site of every node of a sampling profile: the innermost frame with a
 * script URL outside Node's own modules (a builtin such as String.prototype.repeat, or
 * Buffer's toString(), is charged to the application's function calling it). A node with
 * no such frame above it keeps its own frame. Calls `visit(node, key, frame)` per node.
 */
function walkSites(profile, visit) {
  const walk = (node, site) => {
    const f = node.callFrame;
    const own = f.url && !isNodeInternal(f.url) ? f : site;
    const frame = own || f;
    visit(node, `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}`, frame);
    for (const child of node.children || []) walk(child, own);
  };
  walk(profile.head, null);
}

/** Adds `bytes` to the site `key` of `sites` (a Map), making its entry from `frame` on first sight. */
function addSiteBytes(sites, key, frame, bytes) {
  const entry = sites.get(key);
  if (entry) entry.bytes += bytes;
  else {
    sites.set(key, {
      functionName: frame.functionName || '(anonymous)',
      url: frame.url || '(native)',
      lineNumber: frame.lineNumber + 1,
      columnNumber: frame.columnNumber + 1,
      bytes,
    });
  }
}

/** Sampled live bytes per allocation site (see walkSites), a Map keyed by site. */
function bytesBySite(profile) {
  const sites = new Map();
  walkSites(profile, (node, key, frame) => {
    if (node.selfSize > 0) addSiteBytes(sites, key, frame, node.selfSize);
  });
  return sites;
}

/**
 * Survivors by when they were allocated, from one profile read: `windows` + 1 cumulative
 * snapshots (Maps keyed by site, as bytesBySite), snapshot k holding the sampled bytes
 * still alive that were sampled in the first k of `windows` equal spans of the sample
 * sequence (samples carry their `ordinal`, in allocation order; the spans cover ordinals
 * up to the newest one alive). Snapshot 0 is empty: nothing was sampled before sampling
 * began. A profile without ordinals (no `samples`) counts every live byte in the last span.
 */
function survivorSnapshots(profile, windows) {
  const siteOfNode = new Map();
  walkSites(profile, (node, key, frame) => siteOfNode.set(node.id, { key, frame }));
  const samples = Array.isArray(profile.samples) ? profile.samples : [];
  let newest = 0;
  for (const x of samples) if (x.ordinal > newest) newest = x.ordinal;
  const spans = Array.from({ length: windows }, () => new Map());
  if (samples.length === 0) spans[windows - 1] = bytesBySite(profile);
  for (const x of samples) {
    const site = siteOfNode.get(x.nodeId);
    if (!site || !(x.size > 0)) continue;
    addSiteBytes(spans[Math.min(windows - 1, Math.floor((x.ordinal * windows) / (newest + 1)))], site.key, site.frame, x.size);
  }
  const snapshots = [new Map()];
  for (const span of spans) {
    const next = new Map();
    for (const [key, x] of snapshots[snapshots.length - 1]) next.set(key, { ...x });
    for (const [key, x] of span) {
      const entry = next.get(key);
      if (entry) entry.bytes += x.bytes;
      else next.set(key, { ...x });
    }
    snapshots.push(next);
  }
  return snapshots;
}

/**
 * Ranks sites from successive snapshots of sampled bytes (survivorSnapshots, or reads
 * taken over time), most growth first. A site counts when it grew in the first window
 * and in all windows but at most one (two of two, two of three, three of four, ...): in
 * survivor snapshots, when objects it allocated near the start are still alive and it
 * kept allocating such objects, which is what a leak does and what a request's garbage
 * or a cache turning over within the run, whose survivors are all recent, does not.
 * `grewInWindows` says in how many windows it grew: V8 may inline a function into its
 * caller mid-run, moving later samples to the caller's key, so a site that grew in every
 * window is the most certain.
 */
function rankGrowingSites(snapshots, elapsedMs, top) {
  const last = snapshots[snapshots.length - 1];
  const n = snapshots.length;
  const out = [];
  if (n < 2) return out;
  const windows = n - 1;
  for (const [key, site] of last) {
    const series = snapshots.map((s) => (s.get(key) ? s.get(key).bytes : 0));
    let grewInWindows = 0;
    for (let i = 1; i < n; i++) if (series[i] > series[i - 1]) grewInWindows++;
    if (!(series[1] > series[0]) || grewInWindows < Math.max(2, windows - 1)) continue;
    const grew = series[n - 1] - series[0];
    out.push({
      functionName: site.functionName,
      url: site.url,
      lineNumber: site.lineNumber,
      columnNumber: site.columnNumber,
      retainedBytes: site.bytes,
      grewBytes: grew,
      growthBytesPerSec: elapsedMs > 0 ? (grew * 1000) / elapsedMs : 0,
      grewInWindows,
      windows,
    });
  }
  out.sort((a, b) => b.grewBytes - a.grewBytes);
  // Each site's share of the growth sampled over all sites that grew.
  const total = out.reduce((sum, x) => sum + Math.max(0, x.grewBytes), 0);
  for (const x of out) x.shareOfGrowth = total > 0 ? Math.max(0, x.grewBytes) / total : 0;
  return out.slice(0, top);
}

/**
 * A script URL relative to the application's root: `file:///app/routes/a.js` and
 * `/app/routes/a.js` become `routes/a.js` under root `/app`. A file outside the root
 * keeps only its last two segments after `…/` (no absolute path leaves the process);
 * `node:` URLs and `(native)` are kept as they are.
 */
function relativeUrl(url, root) {
  if (typeof url !== 'string' || url === '' || url === '(native)' || url.startsWith('node:')) return url;
  let file = url;
  if (url.startsWith('file://')) {
    try {
      file = fileURLToPath(url);
    } catch {
      return url;
    }
  } else if (!path.isAbsolute(url)) {
    return url;
  }
  const rel = path.relative(root, file);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return `…/${file.split(path.sep).slice(-2).join('/')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * Bytes allocated on the JS heap between two readings of its used size, from what V8
 * reported around each collection in between (v8.GCProfiler's `statistics`, oldest
 * first): what the heap gained up to each collection, plus what it gained after the
 * last. A collection frees; it does not allocate, so what it freed is not counted.
 */
function allocatedBytes(startUsed, statistics, endUsed) {
  let total = 0;
  let previous = startUsed;
  for (const gc of statistics) {
    total += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous);
    previous = gc.afterGC.heapStatistics.usedHeapSize;
  }
  return total + Math.max(0, endUsed - previous);
}

/**
 * The JS heap's allocation rate (bytes a second) over `ms`, from V8's reports around
 * every collection (v8.GCProfiler): no profile, no forced collection. Null where
 * v8.GCProfiler is missing (Node before 18.15).
 */
async function measureAllocationRate(ms = RATE_MEASURE_MS) {
  const v8 = require('node:v8');
  if (typeof v8.GCProfiler !== 'function') return null;
  const profiler = new v8.GCProfiler();
  const startUsed = v8.getHeapStatistics().used_heap_size;
  const t0 = performance.now();
  profiler.start();
  let data;
  try {
    await sleep(ms);
  } finally {
    data = profiler.stop();
  }
  const endUsed = v8.getHeapStatistics().used_heap_size;
  const seconds = (performance.now() - t0) / 1000;
  return seconds > 0 ? allocatedBytes(startUsed, (data && data.statistics) || [], endUsed) / seconds : null;
}

/**
 * The interval 'auto' samples at for an allocation rate (bytes a second): 512 KB, or
 * wider so that the sampler takes at most AUTO_SAMPLES_PER_SEC samples a second, in
 * steps of 64 KB, at most the accepted maximum (16 MB). 512 KB when the rate is unknown.
 */
function autoIntervalBytes(rate) {
  if (!(typeof rate === 'number' && rate > 0 && Number.isFinite(rate))) return AUTO_MIN_INTERVAL;
  const step = 64 * 1024;
  const wanted = Math.ceil(rate / AUTO_SAMPLES_PER_SEC / step) * step;
  return Math.min(RANGES.samplingIntervalBytes[1], Math.max(AUTO_MIN_INTERVAL, wanted));
}

/**
 * Options (checked by checkOptions) with the interval settled: `{ options,
 * allocationRateBytesPerSec }`, an 'auto' interval made a number from the allocation
 * rate `measure()` resolves to (the rate is null when the interval was given).
 */
async function settleInterval(o, measure = measureAllocationRate) {
  if (o.samplingIntervalBytes !== 'auto') return { options: o, allocationRateBytesPerSec: null };
  const rate = await measure();
  return { options: { ...o, samplingIntervalBytes: autoIntervalBytes(rate) }, allocationRateBytesPerSec: typeof rate === 'number' ? Math.round(rate) : null };
}

let running = null;

/**
 * Samples allocations for `durationMs`, reads the profile once (one forced full GC) and
 * returns the sites still retaining objects allocated all through the run (see
 * survivorSnapshots and rankGrowingSites, over `windows` equal spans). An 'auto'
 * interval (the default) is first settled from the allocation rate (settleInterval).
 * One attribution at a time per isolate (the sampler is shared); a second call while
 * one runs gets the same promise.
 */
function attributeLeak(options) {
  const checked = checkOptions(options);
  if (running) return running;
  running = (async () => {
    const { options: o, allocationRateBytesPerSec } = await settleInterval(checked);
    const { Session } = require('node:inspector');
    const session = new Session();
    session.connect();
    const startedAt = Date.now();
    const t0 = performance.now();
    try {
      await post(session, 'HeapProfiler.startSampling', { samplingInterval: o.samplingIntervalBytes });
      await sleep(o.durationMs);
      const { profile } = await post(session, 'HeapProfiler.getSamplingProfile');
      const elapsedMs = Math.round(performance.now() - t0);
      return {
        startedAt,
        durationMs: elapsedMs,
        samplingIntervalBytes: o.samplingIntervalBytes,
        allocationRateBytesPerSec,
        windows: o.windows,
        sites: rankGrowingSites(survivorSnapshots(profile, o.windows), elapsedMs, o.top),
        note: 'Sampled bytes of objects allocated since sampling began and still alive at the end, by site; a site counts when objects it allocated in the first window and in the later ones are still alive. lineNumber is the allocating function\'s first line when V8 inlined it.',
      };
    } finally {
      try {
        // Stops the sampler without the full GC and profile of HeapProfiler.stopSampling.
        await post(session, 'HeapProfiler.disable');
      } catch {
        // Nothing to undo.
      }
      session.disconnect();
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

const ROOT_ENV = 'MEMORY_APP_ROOT';
const AUTO_DEFAULTS = Object.freeze({
  enabled: true,
  everyMs: 10 * 60_000,
  durationMs: DEFAULTS.durationMs,
  windows: DEFAULTS.windows,
  samplingIntervalBytes: DEFAULTS.samplingIntervalBytes,
});

/**
 * Validates `leakAttribution` (true, false, or { enabled, everyMs, durationMs, windows,
 * samplingIntervalBytes, root }) and MEMORY_APP_ROOT. Returns { settings, problems }.
 */
function resolveAutoAttribution(value, env = process.env) {
  const problems = [];
  const bad = (setting, v, accepted) => problems.push({ setting, value: String(v), accepted, message: `${setting}=${String(v)} is not accepted; accepted: ${accepted}` });
  const settings = { ...AUTO_DEFAULTS, root: process.cwd() };
  if (typeof env[ROOT_ENV] === 'string' && env[ROOT_ENV] !== '') {
    if (path.isAbsolute(env[ROOT_ENV])) settings.root = path.resolve(env[ROOT_ENV]);
    else bad(ROOT_ENV, env[ROOT_ENV], 'an absolute directory path');
  }
  if (value === undefined || value === true) return { settings, problems };
  if (value === false) return { settings: { ...settings, enabled: false }, problems };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    bad('leakAttribution', value, 'true, false or an object { enabled, everyMs, durationMs, windows, samplingIntervalBytes, root }');
    return { settings, problems };
  }
  const ranges = { everyMs: [10_000, 86_400_000], durationMs: RANGES.durationMs, windows: RANGES.windows, samplingIntervalBytes: RANGES.samplingIntervalBytes };
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const name = `leakAttribution.${k}`;
    if (k === 'enabled') {
      if (typeof v === 'boolean') settings.enabled = v;
      else bad(name, v, 'true or false');
    } else if (k === 'root') {
      if (typeof v === 'string' && path.isAbsolute(v)) settings.root = path.resolve(v);
      else bad(name, v, 'an absolute directory path');
    } else if (ranges[k]) {
      if (acceptable(k, v, ranges)) settings[k] = v;
      else bad(name, v, accepted(k, ranges));
    } else {
      bad(name, v, `one of the fields enabled, root, ${Object.keys(ranges).join(', ')}`);
    }
  }
  return { settings, problems };
}

/** Sampled allocations of the leak an automatic attribution waits for. */
const SAMPLES_WANTED = 16;
/** The longest automatic sampling (the durationMs range's top). */
const LONGEST_AUTO_MS = RANGES.durationMs[1];

/**
 * Sampling time of an automatic attribution: `durationMs`, or longer for a slow leak, so
 * that its growth reaches SAMPLES_WANTED sampling intervals (8 MB at the default 512 KB):
 * at 20 KB/s, 410 s instead of 30 s, in which the profiler would see one of its
 * allocations; at most 30 minutes. A fast leak (or no rate) keeps `durationMs`.
 */
function autoDurationMs(durationMs, intervalBytes, leak) {
  const rate = leak && leak.growthRateBytesPerSec;
  if (!(typeof rate === 'number' && rate > 0 && Number.isFinite(rate))) return durationMs;
  const needed = Math.ceil(((SAMPLES_WANTED * intervalBytes) / rate) * 1000);
  return Math.max(durationMs, Math.min(needed, LONGEST_AUTO_MS));
}

function formatBytes(bytes) {
  const mb = bytes / 1048576;
  return mb >= 0.1 ? `${mb.toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} KB`;
}

const formatRate = (bytesPerSec) => `${formatBytes(bytesPerSec)}/s`;

/**
 * One line for the logs and the alert: "heap grows 0.5 MB/s; top growing site:
 * rememberSession (routes/sessions.js:42), 71 % of sampled growth".
 */
function summarize(leak, result) {
  const what = leak ? `${leak.signal === 'external' ? 'off-heap memory' : 'heap'} grows ${formatRate(leak.growthRateBytesPerSec)}; ` : '';
  const top = result.sites[0];
  if (!top) {
    let extra = '';
    if (leak && leak.signal === 'external') extra = ' (off-heap memory is not sampled by the heap profiler)';
    else if (result.allocationRateBytesPerSec > 0 && result.samplingIntervalBytes > AUTO_MIN_INTERVAL) {
      extra = ` (one sample per ${formatBytes(result.samplingIntervalBytes)} allocated, the app allocating ${formatRate(result.allocationRateBytesPerSec)}: a longer durationMs or a smaller samplingIntervalBytes gives a slow leak more samples)`;
    }
    return `${what}no growing allocation site found in ${(result.durationMs / 1000).toFixed(0)} s of sampling${extra}`;
  }
  return `${what}top growing site: ${top.functionName} (${top.url}:${top.lineNumber}), ${Math.round(top.shareOfGrowth * 100)} % of sampled growth`;
}

/**
 * Runs attributions for the manager: on demand (`run`) and automatically whenever a
 * leak is confirmed (`onLeak`), one at a time and at most once per `everyMs`. Each
 * result carries paths relative to `root`, the leak that triggered it, when it was
 * named and a one-line summary; it is kept for getLeakDetection(), emitted as
 * 'leakAttributed' (and the older 'leakAttribution'), and, when a memory_leak alert is
 * active, delivered as its follow-up (logged, and sent to the webhook).
 */
class LeakAttributor {
  /**
   * @param {object} o
   * @param {object} o.settings from resolveAutoAttribution
   * @param {(type: string, payload: any) => void} o.emit
   * @param {() => object | null} o.activeLeakAlert the active memory_leak alert, or null
   * @param {{ warn: Function }} o.logger
   * @param {(everyMs: number) => boolean} o.due whether an automatic run is due: a leak
   *   is flagged and none started within everyMs (the engine decides, on a monotonic
   *   clock, and starts its cooldown when it answers true: src/engine/cooldown.rs)
   * @param {(options: object) => Promise<object>} [o.sample] the sampler (attributeLeak)
   * @param {() => Promise<number|null>} [o.measure] the allocation rate an 'auto'
   *   interval is chosen from (measureAllocationRate)
   */
  constructor({ settings, emit, activeLeakAlert, logger, due, sample = attributeLeak, measure = measureAllocationRate }) {
    this.settings = settings;
    this._emit = emit;
    this._activeLeakAlert = activeLeakAlert;
    this._logger = logger;
    this._due = due;
    this._sample = sample;
    this._measure = measure;
    this.latest = null;
    this.running = false;
    this._closed = false;
    /** What the last `onLeak` did: 'started', 'disabled', 'running' or 'rate-limited'. */
    this.lastDecision = null;
  }

  /** An attribution now (manual calls take their own sampling options). */
  async run(options, leak = null) {
    this.running = true;
    try {
      const checked = checkOptions({ durationMs: this.settings.durationMs, windows: this.settings.windows, samplingIntervalBytes: this.settings.samplingIntervalBytes, ...(options || {}) });
      const settled = await settleInterval(checked, this._measure);
      const o = settled.options;
      // An automatic run samples a slow leak longer; a manual run keeps its own duration.
      if (leak && !(options && options.durationMs !== undefined)) o.durationMs = autoDurationMs(o.durationMs, o.samplingIntervalBytes, leak);
      const raw = await this._sample(o);
      const sites = raw.sites.map((x) => ({ ...x, url: relativeUrl(x.url, this.settings.root) }));
      const result = {
        ...raw,
        allocationRateBytesPerSec: settled.allocationRateBytesPerSec,
        sites,
        trigger: leak ? 'leak' : 'manual',
        leak: leak ? { signal: leak.signal, growthRateBytesPerSec: leak.growthRateBytesPerSec, timestamp: leak.timestamp } : null,
        namedAt: Date.now(),
      };
      result.summary = summarize(leak, result);
      if (this._closed) return result;
      this.latest = result;
      this._emit('leakAttributed', result);
      this._emit('leakAttribution', result);
      return result;
    } finally {
      this.running = false;
    }
  }

  /** A confirmed leak ('leak' event): attribute it unless one runs or ran within everyMs. */
  onLeak(leak) {
    if (!this.settings.enabled || this._closed) this.lastDecision = 'disabled';
    else if (this.running) this.lastDecision = 'running';
    else if (!this._due(this.settings.everyMs)) this.lastDecision = 'rate-limited';
    else this.lastDecision = 'started';
    if (this.lastDecision !== 'started') return this.lastDecision;
    this.run(undefined, leak)
      .then((result) => {
        if (!this._closed) this._followUp(result);
      })
      .catch((err) => process.emitWarning(`memwarden: leak attribution failed: ${err && err.message}`, 'MemwardenWarning'));
    return 'started';
  }

  _followUp(result) {
    const alert = this._activeLeakAlert();
    if (alert) {
      const top = result.sites.slice(0, 3);
      this._emit('alert', {
        ...alert,
        message: `Memory leak: ${result.summary}`,
        timestamp: result.namedAt,
        data: { ...alert.data, attribution: { summary: result.summary, sites: top, namedAt: result.namedAt } },
        followUp: 'leakAttributed',
      });
    } else {
      try {
        this._logger.warn(`memwarden: ${result.summary}`);
      } catch {
        // A throwing logger must not break the attribution.
      }
    }
  }

  close() {
    this._closed = true;
  }
}

module.exports = { RATE_MEASURE_MS, attributeLeak, allocatedBytes, measureAllocationRate, autoIntervalBytes, settleInterval, rankGrowingSites, bytesBySite, survivorSnapshots, checkOptions, relativeUrl, summarize, resolveAutoAttribution, autoDurationMs, LeakAttributor, ROOT_ENV };

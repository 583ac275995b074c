'use strict';
// Leak-site attribution with V8's sampling heap profiler, through an in-process
// node:inspector session: no heap snapshot, no doubling of memory. Samples stay in the
// profile only while the objects they stand for are alive, so a site whose sampled
// bytes keep growing is retaining memory. Each profile read forces a full GC
// (~0.35 ms per MB of live heap), so reads are few: `windows` + 1 per attribution.
const { invalidArgument } = require('./errors');

const DEFAULTS = Object.freeze({ durationMs: 30_000, windows: 3, samplingIntervalBytes: 128 * 1024, top: 10 });

function checkOptions(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', options, 'an object');
  const out = { ...DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    const range = { durationMs: [1_000, 600_000], windows: [2, 20], samplingIntervalBytes: [1024, 16 * 1048576], top: [1, 100] }[k];
    if (!range) throw invalidArgument(k, v, `one of the options ${Object.keys(DEFAULTS).join(', ')}`);
    if (!Number.isInteger(v) || v < range[0] || v > range[1]) throw invalidArgument(k, v, `a whole number from ${range[0]} to ${range[1]}`);
    out[k] = v;
  }
  return out;
}

function post(session, method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * Sampled live bytes per allocation site: the innermost frame with a script URL (a
 * builtin such as String.prototype.repeat is charged to the JS function calling it).
 */
function bytesBySite(profile) {
  const sites = new Map();
  const walk = (node, site) => {
    const f = node.callFrame;
    const own = f.url ? f : site;
    if (node.selfSize > 0) {
      const frame = own || f;
      const key = `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}`;
      const entry = sites.get(key);
      if (entry) entry.bytes += node.selfSize;
      else {
        sites.set(key, {
          functionName: frame.functionName || '(anonymous)',
          url: frame.url || '(native)',
          lineNumber: frame.lineNumber + 1,
          columnNumber: frame.columnNumber + 1,
          bytes: node.selfSize,
        });
      }
    }
    for (const child of node.children || []) walk(child, own);
  };
  walk(profile.head, null);
  return sites;
}

/**
 * Ranks sites from successive snapshots of sampled bytes. A site counts when it still
 * grew in the last window; it is ranked by growth from the first snapshot to the last.
 * `grewInWindows` says in how many windows it grew: V8 may inline a function into its
 * caller mid-run, moving later samples to the caller's key, so a site that grew in
 * every window is the most certain.
 */
function rankGrowingSites(snapshots, elapsedMs, top) {
  const last = snapshots[snapshots.length - 1];
  const out = [];
  for (const [key, site] of last) {
    const series = snapshots.map((s) => (s.get(key) ? s.get(key).bytes : 0));
    let grewInWindows = 0;
    for (let i = 1; i < series.length; i++) if (series[i] > series[i - 1]) grewInWindows++;
    const n = series.length;
    if (n < 2 || series[n - 1] <= series[n - 2]) continue;
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
      windows: n - 1,
    });
  }
  out.sort((a, b) => b.grewBytes - a.grewBytes);
  return out.slice(0, top);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());

let running = null;

/**
 * Samples allocations for `durationMs` and returns the sites still retaining memory that
 * grew in each of `windows` windows. One attribution at a time per isolate (the sampler
 * is shared); a second call while one runs gets the same promise.
 */
function attributeLeak(options) {
  const o = checkOptions(options);
  if (running) return running;
  running = (async () => {
    const { Session } = require('node:inspector');
    const session = new Session();
    session.connect();
    const startedAt = Date.now();
    try {
      await post(session, 'HeapProfiler.startSampling', { samplingInterval: o.samplingIntervalBytes });
      const snapshots = [];
      const step = Math.floor(o.durationMs / o.windows);
      snapshots.push(bytesBySite((await post(session, 'HeapProfiler.getSamplingProfile')).profile));
      for (let i = 0; i < o.windows; i++) {
        await sleep(step);
        snapshots.push(bytesBySite((await post(session, 'HeapProfiler.getSamplingProfile')).profile));
      }
      const elapsedMs = Date.now() - startedAt;
      return {
        startedAt,
        durationMs: elapsedMs,
        samplingIntervalBytes: o.samplingIntervalBytes,
        windows: o.windows,
        sites: rankGrowingSites(snapshots, elapsedMs, o.top),
        note: 'Sampled bytes of objects allocated since sampling began and still alive; lineNumber is the allocating function\'s first line when V8 inlined it.',
      };
    } finally {
      try {
        await post(session, 'HeapProfiler.stopSampling');
      } catch {
        // Stopped by someone else (a debugger): nothing to undo.
      }
      session.disconnect();
      running = null;
    }
  })();
  return running;
}

module.exports = { attributeLeak, rankGrowingSites, bytesBySite, checkOptions };

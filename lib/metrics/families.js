'use strict';
// The memwarden metric families: one definition per series, read on scrape from the
// manager's cached health report (getHealthMetrics(), a frozen snapshot refreshed on
// every sample) and from counters fed by the manager's public events. The text
// exposition (exposition.js), the prom-client collector (prom.js), the OpenTelemetry
// instruments (otel.js) and the cluster aggregation (cluster.js) all read values here,
// so the four outputs cannot disagree.
//
// A family is prom-client's metric object shape: { name, help, type, aggregator,
// values: [{ labels, value, metricName? }] }, so a prom-client Registry (and its
// AggregatorRegistry) takes it as it is.
const { PerformanceObserver, constants } = require('node:perf_hooks');
const { LEVEL_NAMES } = require('../options');

/** GC pause buckets (seconds): V8 pauses run from ~0.1 ms (scavenges) to seconds (a full heap near its limit). */
const GC_BUCKETS = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
/** Request duration buckets (seconds) for the opt-in request histogram. */
const REQUEST_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

// Node's GC kind constants → the names prom-client's nodejs_gc_duration_seconds uses.
const GC_KINDS = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** Cumulative bucket counts for one label set: counts[i] = observations <= buckets[i]. */
class Buckets {
  constructor(bounds) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
    this.count = 0;
    this.sum = 0;
  }

  observe(x) {
    const b = this.bounds;
    for (let i = b.length - 1; i >= 0 && x <= b[i]; i--) this.counts[i]++;
    this.count++;
    this.sum += x;
  }
}

// ---------------------------------------------------------------------------
// GC pauses: one PerformanceObserver for the process, started when a consumer asks
// for the GC histogram and stopped when the last one is done. It holds nothing that
// keeps the event loop alive.
const gcPauses = {
  byKind: new Map(),
  users: 0,
  observer: null,
};

function startGcPauses() {
  gcPauses.users++;
  if (gcPauses.observer) return;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = entry.detail || entry;
      const kind = GC_KINDS.get(detail.kind);
      if (kind === undefined) continue;
      let b = gcPauses.byKind.get(kind);
      if (!b) {
        b = new Buckets(GC_BUCKETS);
        gcPauses.byKind.set(kind, b);
      }
      b.observe(entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  gcPauses.observer = observer;
}

function stopGcPauses() {
  gcPauses.users = Math.max(0, gcPauses.users - 1);
  if (gcPauses.users === 0 && gcPauses.observer) {
    gcPauses.observer.disconnect();
    gcPauses.observer = null;
  }
}

// ---------------------------------------------------------------------------
// Counters fed by the manager's public API: 'alert' and 'cleanup' events, seeded
// with what getAlerts().history and getLastCleanup() already hold when the first
// consumer attaches. One set per manager, shared by every consumer.
const countersByManager = new WeakMap();

function countersFor(manager) {
  let c = countersByManager.get(manager);
  if (c) return c;
  c = { alerts: new Map(), freed: new Map() };
  const countAlert = (a) => {
    if (!a || typeof a !== 'object' || a.resolved) return;
    const key = `${a.type}\u0000${a.level}`;
    const e = c.alerts.get(key);
    if (e) e.count++;
    else c.alerts.set(key, { type: String(a.type), level: String(a.level), count: 1 });
  };
  const countCleanup = (run) => {
    if (!run || !Array.isArray(run.actions)) return;
    for (const action of run.actions) {
      const bytes = action && Number.isFinite(action.freedBytes) && action.freedBytes > 0 ? action.freedBytes : 0;
      const name = String(action && action.strategy);
      c.freed.set(name, (c.freed.get(name) || 0) + bytes);
    }
  };
  if (manager.initialized) {
    for (const a of manager.getAlerts().history) countAlert(a);
    countCleanup(manager.getLastCleanup());
  }
  manager.on('alert', countAlert);
  manager.on('cleanup', countCleanup);
  countersByManager.set(manager, c);
  return c;
}

// ---------------------------------------------------------------------------
// The definitions. `read(ctx, out)` pushes [labels, value] pairs for the current
// report; nothing is pushed when the figure is unknown (the series is then absent,
// which Prometheus alert expressions treat as "no data", never as 0).
const finite = (x) => typeof x === 'number' && Number.isFinite(x);
const percentToRatio = (x) => x / 100;
const minutesToSeconds = (x) => x * 60;
/** A `read` that pushes one unlabelled value, `convert(pick(report))`, when it is known. */
const figure = (pick, convert = null) => (r, push) => {
  const x = pick(r);
  if (finite(x)) push(null, convert === null ? x : convert(x));
};

const DEFINITIONS = [
  {
    name: 'memwarden_memory_limit_bytes',
    help: 'Memory limit the process is measured against, in bytes; source: override (memoryLimitMb or MEMORY_LIMIT_MB), cgroup-v2, cgroup-v1, render-default, heroku or physical.',
    type: 'gauge',
    aggregator: 'sum',
    otel: { name: 'memwarden.memory.limit', unit: 'By', attribute: { source: 'memwarden.memory.limit.source' } },
    read: (r, push) => {
      const u = r.currentUsage;
      if (finite(u.limitBytes)) push({ source: String(u.limitSource) }, u.limitBytes);
    },
  },
  {
    name: 'memwarden_resident_bytes',
    help: 'Resident set size of the process (procfs, sampled by the memwarden sampler thread), in bytes.',
    type: 'gauge',
    aggregator: 'sum',
    otel: { name: 'process.memory.usage', unit: 'By', kind: 'upDownCounter' },
    read: figure((r) => r.currentUsage.rss),
  },
  {
    name: 'memwarden_working_set_bytes',
    help: "The container's working set (cgroup usage minus inactive file cache), in bytes; absent outside a memory-limited cgroup.",
    type: 'gauge',
    aggregator: 'sum',
    otel: { name: 'memwarden.memory.working_set', unit: 'By' },
    read: figure((r) => r.currentUsage.workingSet),
  },
  {
    name: 'memwarden_usage_ratio',
    help: 'Memory in use (the working set under a cgroup limit, else the resident set) over the memory limit (above 1 past the limit).',
    type: 'gauge',
    aggregator: 'max',
    otel: { name: 'memwarden.memory.utilization', unit: '1' },
    read: figure((r) => r.currentUsage.usagePercentage, percentToRatio),
  },
  {
    name: 'memwarden_heap_limit_ratio',
    help: "V8 heap used over V8's heap size limit, 0 to 1.",
    type: 'gauge',
    aggregator: 'max',
    otel: { name: 'memwarden.heap.utilization', unit: '1' },
    read: figure((r) => r.currentUsage.heapUsagePercentage, percentToRatio),
  },
  {
    name: 'memwarden_pressure_ratio',
    help: 'What the status thresholds compare against: the worse of the usage and heap ratios, 0 to 1.',
    type: 'gauge',
    aggregator: 'max',
    otel: { name: 'memwarden.memory.pressure', unit: '1' },
    read: figure((r) => r.currentUsage.pressurePercentage, percentToRatio),
  },
  {
    name: 'memwarden_status',
    help: 'Memory status, one-hot: 1 for the current level (healthy, warning, critical, emergency), 0 for the others.',
    type: 'gauge',
    aggregator: 'max',
    otel: { name: 'memwarden.status', unit: '1', attribute: { level: 'memwarden.status.level' } },
    read: (r, push) => {
      for (const level of LEVEL_NAMES) push({ level }, r.status === level ? 1 : 0);
    },
  },
  {
    name: 'memwarden_leak_confidence',
    help: "The leak detector's confidence that memory is leaking, 0 to 1 (the JSON reports' confidence / 100).",
    type: 'gauge',
    aggregator: 'max',
    otel: { name: 'memwarden.leak.confidence', unit: '1' },
    read: figure((r) => r.trend.confidence, percentToRatio),
  },
  {
    name: 'memwarden_leak_suspected',
    help: '1 while the leak detector suspects a leak, else 0.',
    type: 'gauge',
    aggregator: 'max',
    otel: { name: 'memwarden.leak.suspected', unit: '1' },
    read: (r, push) => push(null, r.trend.leakSuspected ? 1 : 0),
  },
  {
    name: 'memwarden_time_to_limit_seconds',
    help: 'Seconds until the memory limit at the current growth rate; absent while memory is not growing.',
    type: 'gauge',
    aggregator: 'min',
    otel: { name: 'memwarden.memory.time_to_limit', unit: 's' },
    read: figure((r) => r.trend.minutesToLimit, minutesToSeconds),
  },
  {
    name: 'memwarden_time_to_heap_limit_seconds',
    help: "Seconds until V8's heap size limit at the current growth rate; absent while the heap is not growing.",
    type: 'gauge',
    aggregator: 'min',
    otel: { name: 'memwarden.heap.time_to_limit', unit: 's' },
    read: figure((r) => r.trend.minutesToHeapLimit, minutesToSeconds),
  },
  {
    name: 'memwarden_gc_efficiency_ratio',
    help: 'Share of the heap freed by full collections with known sizes, 0 to 1; absent until one is known.',
    type: 'gauge',
    aggregator: 'average',
    otel: { name: 'memwarden.gc.efficiency', unit: '1' },
    read: (r, push) => {
      const g = r.gcStats;
      if (g && finite(g.efficiency)) push(null, g.efficiency / 100);
    },
  },
  {
    name: 'memwarden_alerts_total',
    help: 'Alerts raised by memwarden, by type (high_usage, memory_leak, gc_failure, rapid_growth) and level.',
    type: 'counter',
    aggregator: 'sum',
    otel: { name: 'memwarden.alerts', unit: '{alert}', kind: 'counter', attribute: { type: 'memwarden.alert.type', level: 'memwarden.alert.level' } },
    read: (r, push, c) => {
      for (const e of c.alerts.values()) push({ type: e.type, level: e.level }, e.count);
    },
  },
  {
    name: 'memwarden_cleanup_freed_bytes_total',
    help: 'Heap bytes freed by cleanup strategies (heap used before minus after each strategy), by strategy.',
    type: 'counter',
    aggregator: 'sum',
    otel: { name: 'memwarden.cleanup.freed', unit: 'By', kind: 'counter', attribute: { strategy: 'memwarden.cleanup.strategy' } },
    read: (r, push, c) => {
      for (const [strategy, bytes] of c.freed) push({ strategy }, bytes);
    },
  },
];

/** Histograms: values come as buckets, not single readings. */
const GC_HISTOGRAM = {
  name: 'memwarden_gc_duration_seconds',
  help: 'Garbage collection pauses observed by memwarden, in seconds, by kind (minor, major, incremental, weakcb).',
  type: 'histogram',
  aggregator: 'sum',
};
const REQUEST_HISTOGRAM = {
  name: 'memwarden_request_duration_seconds',
  help: 'Request durations measured by memoryMonitoring.monitorRequestMemory(), in seconds, by route.',
  type: 'histogram',
  aggregator: 'sum',
};

/**
 * The label objects of one histogram series: per bucket (with `le`), +Inf, and the
 * base. Built once per label set and reused, so a scrape allocates no label objects
 * (and the text renderer's per-object cache of formatted labels stays valid).
 */
function histogramLabels(labels, bounds) {
  return { buckets: bounds.map((le) => ({ ...labels, le })), inf: { ...labels, le: '+Inf' }, base: labels };
}

/** Pushes a histogram's series (cumulative buckets, +Inf, _sum, _count) for one label set. */
function pushHistogram(values, name, hl, cumulative, count, sum) {
  const bucket = `${name}_bucket`;
  for (let i = 0; i < hl.buckets.length; i++) values.push({ metricName: bucket, labels: hl.buckets[i], value: cumulative(i) });
  values.push({ metricName: bucket, labels: hl.inf, value: count });
  values.push({ metricName: `${name}_sum`, labels: hl.base, value: sum });
  values.push({ metricName: `${name}_count`, labels: hl.base, value: count });
}

/**
 * Per-route request histogram from the manager's request statistics (its per-route
 * log-scale histograms, 4 buckets per doubling from 10 µs): each Prometheus bucket
 * counts the requests in log buckets whose upper bound is at most its `le`.
 */
function requestValues(manager, constLabels, labelsFor) {
  const values = [];
  // The public getter (it starts the statistics if monitorRequestMemory() has not).
  const stats = manager.requestStats;
  if (!stats || typeof stats.latencyHistograms !== 'function') return values;
  const { bucketUpperMs } = require('../requestStats');
  for (const e of stats.latencyHistograms()) {
    const hl = labelsFor(e.route, () => histogramLabels({ ...constLabels, route: e.route }, REQUEST_BUCKETS));
    const cum = new Float64Array(REQUEST_BUCKETS.length);
    let j = 0;
    let running = 0;
    for (let i = 0; i < e.counts.length; i++) {
      const upperS = bucketUpperMs(i) / 1000;
      while (j < REQUEST_BUCKETS.length && upperS > REQUEST_BUCKETS[j] * (1 + 1e-9)) cum[j++] = running;
      running += e.counts[i];
    }
    while (j < REQUEST_BUCKETS.length) cum[j++] = running;
    pushHistogram(values, REQUEST_HISTOGRAM.name, hl, (i) => cum[i], e.count, e.totalMs / 1000);
  }
  return values;
}

/** The label set every series gets: the `labels` option, then the worker label. */
function constantLabels(labels, workerLabel) {
  const out = { ...(labels || {}) };
  if (workerLabel) {
    const id = workerId();
    if (id !== null && out[workerLabel] === undefined) out[workerLabel] = id;
  }
  return out;
}

/**
 * This process's worker id: pm2's NODE_APP_INSTANCE (stable across restarts; pm2's
 * cluster mode also makes the process a node:cluster worker, whose id grows with
 * every restart), else node:cluster's worker id, else null (a single process).
 */
function workerId() {
  const pm2 = process.env.NODE_APP_INSTANCE;
  if (typeof pm2 === 'string' && /^\d+$/.test(pm2)) return pm2;
  const cluster = require('node:cluster');
  if (cluster.isWorker && cluster.worker) return String(cluster.worker.id);
  return null;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A source of families for one consumer: `{ list(): family[], get(name): family }`.
 * `settings`: { manager, prefix, labels, workerLabel, gcDurations, requestDurations }.
 */
class MetricsSource {
  constructor(settings) {
    this.manager = settings.manager;
    this.prefix = settings.prefix || '';
    this.constLabels = constantLabels(settings.labels, settings.workerLabel);
    this.gcDurations = settings.gcDurations;
    this.requestDurations = settings.requestDurations;
    this.counters = countersFor(this.manager);
    this.definitions = DEFINITIONS.slice();
    if (this.gcDurations) {
      this.definitions.push(GC_HISTOGRAM);
      startGcPauses();
    }
    if (this.requestDurations) this.definitions.push(REQUEST_HISTOGRAM);
    this.names = this.definitions.map((d) => this.prefix + d.name);
    this.stopped = false;
    // Label objects by definition and label values, reused from scrape to scrape.
    this.labelSets = this.definitions.map(() => new Map());
  }

  /** The cached label set `key` of definition `i`, made by `make()` the first time. */
  labelsFor(i, key, make) {
    const cache = this.labelSets[i];
    let labels = cache.get(key);
    if (labels === undefined) {
      labels = make();
      cache.set(key, labels);
    }
    return labels;
  }

  /** The family of definition `i`, read now (empty values before initialize()). */
  family(i) {
    const d = this.definitions[i];
    const name = this.names[i];
    const values = [];
    const family = { name, help: d.help, type: d.type, values, aggregator: d.aggregator };
    const manager = this.manager;
    if (!manager.initialized) return family;
    const constLabels = this.constLabels;
    if (d === GC_HISTOGRAM) {
      for (const [kind, b] of gcPauses.byKind) {
        const hl = this.labelsFor(i, kind, () => histogramLabels({ ...constLabels, kind }, b.bounds));
        pushHistogram(values, name, hl, (k) => b.counts[k], b.count, b.sum);
      }
      return family;
    }
    if (d === REQUEST_HISTOGRAM) {
      for (const v of requestValues(manager, constLabels, (route, make) => this.labelsFor(i, route, make))) {
        v.metricName = name + v.metricName.slice(REQUEST_HISTOGRAM.name.length);
        values.push(v);
      }
      return family;
    }
    const report = manager.getHealthMetrics();
    d.read(
      report,
      (labels, value) => {
        if (labels !== null) {
          let key = '';
          for (const k in labels) key += `${labels[k]}\u0000`;
          labels = this.labelsFor(i, key, () => ({ ...constLabels, ...labels }));
        }
        values.push({ labels: labels === null ? constLabels : labels, value });
      },
      this.counters,
    );
    return family;
  }

  /** Every family, read now. */
  list() {
    const out = new Array(this.definitions.length);
    for (let i = 0; i < out.length; i++) out[i] = this.family(i);
    return out;
  }

  /** Releases the GC observer (when this source started one). Idempotent. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.gcDurations) stopGcPauses();
  }
}

/** Checks the shared options; returns a list of { setting, accepted } problems. */
function optionProblems(o) {
  const problems = [];
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || (o.prefix !== '' && !NAME_RE.test(o.prefix)))) {
    problems.push(['prefix', o.prefix, 'a metric name prefix such as "myapp_" (letters, digits, _ and :, not starting with a digit), put before memwarden_…']);
  }
  if (o.labels !== undefined) {
    if (!o.labels || typeof o.labels !== 'object' || Array.isArray(o.labels)) {
      problems.push(['labels', o.labels, 'an object of label names to string values, e.g. { service: "api" }']);
    } else {
      for (const [k, val] of Object.entries(o.labels)) {
        if (!LABEL_RE.test(k) || k.startsWith('__') || k === 'le' || k === 'quantile') {
          problems.push([`labels.${k}`, k, 'a Prometheus label name (letters, digits and _, not starting with a digit or __; not le or quantile)']);
        } else if (typeof val !== 'string' && !(typeof val === 'number' && Number.isFinite(val))) {
          problems.push([`labels.${k}`, val, 'a string or a finite number']);
        }
      }
    }
  }
  if (o.workerLabel !== undefined && o.workerLabel !== false && !(typeof o.workerLabel === 'string' && LABEL_RE.test(o.workerLabel) && !o.workerLabel.startsWith('__'))) {
    problems.push(['workerLabel', o.workerLabel, "a label name (default 'worker'), or false to leave it out"]);
  }
  for (const name of ['gcDurations', 'requestDurations']) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') problems.push([name, o[name], 'true or false']);
  }
  return problems;
}

module.exports = {
  DEFINITIONS,
  GC_HISTOGRAM,
  REQUEST_HISTOGRAM,
  GC_BUCKETS,
  REQUEST_BUCKETS,
  MetricsSource,
  Buckets,
  optionProblems,
  workerId,
  countersFor,
  NAME_RE,
  LABEL_RE,
};

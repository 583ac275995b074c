'use strict';
// collectMemwardenMetrics({ register, prefix, labels, ... }): memwarden's gauges and
// counters in the app's own prom-client registry, in the style of prom-client's
// collectDefaultMetrics. Each metric is a plain object with prom-client's metric
// interface ({ name, help, type, aggregator, get(), reset() }) whose get() reads the
// cached snapshot on scrape; prom-client itself is never required unless `register`
// is left out (then its global registry is used), so memwarden runs without it.
const { MemwardenConfigError } = require('../errors');
const { problem } = require('../options');
const { MetricsSource, optionProblems } = require('./families');

const WHERE = 'collectMemwardenMetrics()';
const KNOWN = ['register', 'prefix', 'labels', 'manager', 'workerLabel', 'gcDurations', 'requestDurations'];

function configError(list) {
  return new MemwardenConfigError(list.map(([setting, value, accepted]) => problem(WHERE, setting, value, accepted)));
}

/** prom-client's global registry, or a clear error when prom-client is not installed. */
function globalRegistry() {
  try {
    return require('prom-client').register;
  } catch (err) {
    return configError([['register', undefined, `a prom-client Registry (npm install prom-client), or use GET /api/memory/metrics?format=prometheus without prom-client (${err && err.code})`]]);
  }
}

const isRegistry = (r) => r && typeof r === 'object' && typeof r.registerMetric === 'function' && typeof r.getSingleMetric === 'function';

/**
 * Registers memwarden's metrics into `register` (default: prom-client's global
 * registry). Returns `{ names, unregister() }`. Throws ERR_MEMWARDEN_CONFIG for bad
 * options and when a memwarden metric of the same name is already registered.
 */
function collectMemwardenMetrics(options = {}) {
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw configError([['options', options, `an object { ${KNOWN.join(', ')} }`]]);
  const problems = [];
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) problems.push([key, options[key], `no such option; options: ${KNOWN.join(', ')}`]);
  }
  problems.push(...optionProblems(options));
  let register = options.register;
  if (register === undefined) {
    register = globalRegistry();
    if (register instanceof Error) throw register;
  } else if (!isRegistry(register)) {
    problems.push(['register', register, 'a prom-client Registry (new client.Registry() or client.register)']);
  }
  let manager = options.manager;
  if (manager === undefined) manager = require('../manager').MemoryManagerService.getInstance();
  else if (!manager || typeof manager.getHealthMetrics !== 'function' || typeof manager.on !== 'function') {
    problems.push(['manager', manager, 'a MemoryManagerService (default: MemoryManagerService.getInstance())']);
  }
  if (problems.length) throw configError(problems);

  const source = new MetricsSource({
    manager,
    prefix: options.prefix === undefined ? '' : options.prefix,
    labels: options.labels,
    workerLabel: options.workerLabel === undefined ? 'worker' : options.workerLabel,
    // prom-client's default metrics already export nodejs_gc_duration_seconds from the same GC entries.
    gcDurations: options.gcDurations === true,
    requestDurations: options.requestDurations === true,
  });
  const taken = source.names.filter((name) => register.getSingleMetric(name) !== undefined);
  if (taken.length) {
    source.stop();
    throw configError([['register', taken.join(', '), 'a registry without these metrics (collectMemwardenMetrics() was already called on it; use another prefix or unregister() first)']]);
  }
  const metrics = source.definitions.map((d, i) => ({
    name: source.names[i],
    help: d.help,
    type: d.type,
    aggregator: d.aggregator,
    get() {
      const family = source.family(i);
      // An OpenMetrics registry renames counters (memwarden_alerts_total → memwarden_alerts,
      // then writes the samples with _total), as it does its own Counter's.
      family.name = this.name;
      return family;
    },
    reset() {},
  }));
  for (const metric of metrics) register.registerMetric(metric);
  return {
    names: source.names.slice(),
    /** Removes the metrics from the registry and releases the GC observer. */
    unregister() {
      for (const metric of metrics) if (register.getSingleMetric(metric.name) === metric) register.removeSingleMetric(metric.name);
      source.stop();
    },
  };
}

module.exports = { collectMemwardenMetrics };

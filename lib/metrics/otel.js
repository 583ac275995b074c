'use strict';
// observeMemwardenMetrics({ meter }): the same figures as OpenTelemetry observable
// instruments on a Meter the app passes in (from @opentelemetry/api's
// metrics.getMeter(), an optional peer: memwarden never requires it). One batch
// callback reads the cached snapshot once per collection. Names follow
// OpenTelemetry's semantic conventions where one exists (process.memory.usage),
// memwarden.* otherwise; units are UCUM (By, s, 1). GC pauses are left to
// OpenTelemetry's runtime instrumentation (v8js.gc.duration).
const { MemwardenConfigError } = require('../errors');
const { problem } = require('../options');
const { MetricsSource, optionProblems } = require('./families');

const WHERE = 'observeMemwardenMetrics()';
const KNOWN = ['meter', 'manager', 'attributes', 'workerLabel'];

function configError(list) {
  return new MemwardenConfigError(list.map(([setting, value, accepted]) => problem(WHERE, setting, value, accepted)));
}

const CREATE = {
  gauge: 'createObservableGauge',
  upDownCounter: 'createObservableUpDownCounter',
  counter: 'createObservableCounter',
};

/**
 * Registers the instruments on `meter`. Options: meter (required), manager (default
 * the singleton), attributes (added to every point), workerLabel (default 'worker':
 * the attribute naming the cluster worker; false leaves it out). Returns
 * `{ names, stop() }`.
 */
function observeMemwardenMetrics(options) {
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw configError([['options', options, `an object { ${KNOWN.join(', ')} }`]]);
  const problems = [];
  for (const key of Object.keys(options)) if (!KNOWN.includes(key)) problems.push([key, options[key], `no such option; options: ${KNOWN.join(', ')}`]);
  const meter = options.meter;
  const isMeter = meter && typeof meter === 'object' && typeof meter.addBatchObservableCallback === 'function' && Object.values(CREATE).every((m) => typeof meter[m] === 'function');
  if (!isMeter) problems.push(['meter', meter, "an OpenTelemetry Meter (require('@opentelemetry/api').metrics.getMeter('my-app'))"]);
  problems.push(...optionProblems({ workerLabel: options.workerLabel }));
  const attrs = options.attributes;
  if (attrs !== undefined) {
    if (!attrs || typeof attrs !== 'object' || Array.isArray(attrs)) {
      problems.push(['attributes', attrs, "an object of attribute names to values, e.g. { 'service.name': 'api' }"]);
    } else {
      for (const [k, val] of Object.entries(attrs)) {
        if (k.length === 0 || k.length > 255) problems.push(['attributes', k, 'attribute names of 1 to 255 characters']);
        else if (!['string', 'boolean'].includes(typeof val) && !(typeof val === 'number' && Number.isFinite(val))) problems.push([`attributes.${k}`, val, 'a string, a boolean or a finite number']);
      }
    }
  }
  if (problems.length) throw configError(problems);

  const source = new MetricsSource({
    manager: options.manager || require('../manager').MemoryManagerService.getInstance(),
    labels: options.attributes,
    workerLabel: options.workerLabel === undefined ? 'worker' : options.workerLabel,
    gcDurations: false,
    requestDurations: false,
  });
  const instruments = source.definitions.map((d) => meter[CREATE[d.otel.kind || 'gauge']](d.otel.name, { description: d.help, unit: d.otel.unit }));
  const callback = (result) => {
    const families = source.list();
    for (let i = 0; i < families.length; i++) {
      const rename = source.definitions[i].otel.attribute;
      for (const v of families[i].values) {
        let attributes = v.labels;
        if (rename) {
          attributes = {};
          for (const k in v.labels) attributes[rename[k] || k] = v.labels[k];
        }
        result.observe(instruments[i], v.value, attributes);
      }
    }
  };
  meter.addBatchObservableCallback(callback, instruments);
  return {
    names: source.definitions.map((d) => d.otel.name),
    stop() {
      meter.removeBatchObservableCallback(callback, instruments);
      source.stop();
    },
  };
}

module.exports = { observeMemwardenMetrics };

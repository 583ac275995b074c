'use strict';
// node:cluster: each worker answers the primary's request with its own families
// (labelled worker="<cluster.worker.id>"), and the primary renders them all as one
// text exposition. Workers that use prom-client instead (collectMemwardenMetrics on
// the global registry) are aggregated by prom-client's AggregatorRegistry as they
// are: every value carries the worker label, so no two workers' series merge.
const cluster = require('node:cluster');
const { MemwardenConfigError } = require('../errors');
const { problem } = require('../options');
const { MetricsSource, optionProblems } = require('./families');
const { renderText, CONTENT_TYPE } = require('./exposition');

const REQUEST = 'memwarden:metrics:request';
const RESPONSE = 'memwarden:metrics:response';

function configError(where, list) {
  return new MemwardenConfigError(list.map(([setting, value, accepted]) => problem(where, setting, value, accepted)));
}

function checkKeys(where, options, known) {
  if (options === undefined) return {};
  if (!options || typeof options !== 'object' || Array.isArray(options)) throw configError(where, [['options', options, `an object { ${known.join(', ')} }`]]);
  const problems = [];
  for (const key of Object.keys(options)) if (!known.includes(key)) problems.push([key, options[key], `no such option; options: ${known.join(', ')}`]);
  return { problems, options };
}

let serving = null;

/**
 * In a worker: answers the primary's clusterMetrics() requests. Options: manager,
 * labels, workerLabel (default 'worker'), gcDurations (default true). Returns
 * `{ stop() }`. Does not keep the worker alive (the IPC channel stays unref'd).
 * A no-op outside a cluster worker (or a process without an IPC channel).
 */
function serveClusterMetrics(options) {
  const where = 'serveClusterMetrics()';
  const { problems = [], options: o = {} } = checkKeys(where, options, ['manager', 'labels', 'workerLabel', 'gcDurations']);
  problems.push(...optionProblems(o));
  if (problems.length) throw configError(where, problems);
  if (serving) return serving;
  if (typeof process.send !== 'function') return { stop() {} };
  const source = new MetricsSource({
    manager: o.manager || require('../manager').MemoryManagerService.getInstance(),
    labels: o.labels,
    workerLabel: o.workerLabel === undefined ? 'worker' : o.workerLabel,
    gcDurations: o.gcDurations !== false,
    requestDurations: false,
  });
  const onMessage = (msg) => {
    if (!msg || msg.type !== REQUEST) return;
    let reply;
    try {
      reply = { type: RESPONSE, id: msg.id, families: source.list() };
    } catch (err) {
      reply = { type: RESPONSE, id: msg.id, error: String(err && err.message) };
    }
    try {
      process.send(reply);
    } catch {
      // The primary went away: nothing to answer.
    }
  };
  process.on('message', onMessage);
  // Adding a 'message' listener refs the channel; the worker's own servers decide its life.
  if (process.channel && typeof process.channel.unref === 'function') process.channel.unref();
  serving = {
    stop() {
      process.off('message', onMessage);
      source.stop();
      serving = null;
    },
  };
  return serving;
}

let nextId = 1;

/**
 * In the primary: asks every live worker for its families and resolves to one text
 * exposition. Workers that do not answer within `timeoutMs` (default 2000) are left
 * out and counted in memwarden_cluster_workers{state="missing"}.
 */
function clusterMetrics(options) {
  const where = 'clusterMetrics()';
  const { problems = [], options: o = {} } = checkKeys(where, options, ['timeoutMs']);
  const timeoutMs = o.timeoutMs === undefined ? 2000 : o.timeoutMs;
  if (!(Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= 60_000)) problems.push(['timeoutMs', timeoutMs, 'a whole number of ms from 1 to 60000']);
  if (problems.length) return Promise.reject(configError(where, problems));
  if (!cluster.isPrimary) return Promise.reject(configError(where, [['cluster.isPrimary', false, 'call clusterMetrics() in the cluster primary; workers call serveClusterMetrics()']]));
  const workers = Object.values(cluster.workers || {}).filter((w) => w && w.isConnected());
  const id = `${process.pid}-${nextId++}`;
  return new Promise((resolve) => {
    const answers = [];
    let pending = workers.length;
    let timer = null;
    const finish = () => {
      cluster.off('message', onMessage);
      clearTimeout(timer);
      resolve(renderText(merge(answers, workers.length)));
    };
    const onMessage = (worker, msg) => {
      if (!msg || msg.type !== RESPONSE || msg.id !== id) return;
      if (Array.isArray(msg.families)) answers.push(msg.families);
      if (--pending === 0) finish();
    };
    if (pending === 0) return finish();
    cluster.on('message', onMessage);
    timer = setTimeout(finish, timeoutMs);
    timer.unref();
    for (const w of workers) {
      try {
        w.send({ type: REQUEST, id });
      } catch {
        // A worker exiting right now: it is counted as missing.
      }
    }
    return undefined;
  });
}
clusterMetrics.contentType = CONTENT_TYPE;

/** Concatenates the workers' families by name (their worker labels keep series apart). */
function merge(answers, asked) {
  const byName = new Map();
  for (const families of answers) {
    for (const f of families) {
      const have = byName.get(f.name);
      if (have) have.values.push(...f.values);
      else byName.set(f.name, { name: f.name, help: f.help, type: f.type, values: f.values.slice() });
    }
  }
  const out = [...byName.values()];
  out.push({
    name: 'memwarden_cluster_workers',
    help: "Cluster workers asked for their metrics by the primary's last scrape: answered, or missing (no answer in time).",
    type: 'gauge',
    values: [
      { labels: { state: 'answered' }, value: answers.length },
      { labels: { state: 'missing' }, value: asked - answers.length },
    ],
  });
  return out;
}

module.exports = { serveClusterMetrics, clusterMetrics, merge };

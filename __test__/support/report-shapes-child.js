'use strict';
// Fixture for types.test.js (run with --expose-gc): a real manager at `critical`
// (alerts active) behind a real Express app on 127.0.0.1 with memwarden.express(),
// a little retained growth, then every report and event the public API hands out,
// each checked against its index.d.ts type (dts-shape.js). Prints, per report, the
// type it was checked against and the problems found.

const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { ROOT, MiB, emitResult, runMain } = require('./child');
const { loadDeclarations } = require('./dts-shape');

const memwarden = require(ROOT);
const express = require(path.join(ROOT, 'node_modules', 'express'));
const { MemoryManagerService } = memwarden;

const quiet = { info() {}, warn() {}, error() {} };
const EVENT_TYPES = {
  status: 'StatusEvent',
  gc: 'GcAction',
  leak: 'LeakEvent',
  leakResolved: 'LeakResolvedEvent',
  alert: 'MemwardenAlert',
  alertResolved: 'MemwardenAlert',
  cleanup: 'CleanupRun',
  leakAttribution: 'LeakAttribution',
};

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

async function main() {
  const t0 = Date.now();
  const d = loadDeclarations();
  const compileMs = Date.now() - t0;
  const checked = [];
  const check = (what, value, type) => checked.push({ what, type, problems: d.check(value, type, what) });

  const m = MemoryManagerService.getInstance();
  const events = [];
  for (const type of Object.keys(EVENT_TYPES)) m.on(type, (payload) => events.push([type, payload]));
  // Critical: the high_usage alert is active, proactive paths have something to report.
  const limitMb = Math.max(16, Math.ceil((process.memoryUsage.rss() / MiB) * 3));
  await m.initialize({ logger: quiet, memoryLimitMb: limitMb, warningThreshold: 5, criticalThreshold: 10, emergencyThreshold: 99, monitoringIntervalMs: 100, proactiveCleanup: false });

  const app = express();
  app.use(memwarden.express({ express, monitor: { memorySampleRate: 1, windowMs: 1000 } }));
  app.get('/items/:id', (req, res) => res.json({ id: req.params.id }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();

  // ~3 s of requests and retained growth, so that the trend, GC and request figures are not all empty.
  const kept = [];
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    for (let i = 0; i < 20; i++) kept.push({ i, text: `retained-${i}-${kept.length}`, values: new Array(32).fill(kept.length) });
    await Promise.all([get(port, `/items/${kept.length}`), get(port, '/nowhere')]);
    await new Promise((r) => setTimeout(r, 20));
  }

  check('getHealthMetrics()', m.getHealthMetrics(), 'HealthReport');
  check('getRequestSnapshot()', m.getRequestSnapshot(), 'RequestSnapshot');
  check('config', m.config, 'MemwardenConfig');
  check('limit', m.limit, 'MemoryLimit');
  check('checkMemoryPressure()', await m.checkMemoryPressure(), 'PressureCheck');
  check('forceGarbageCollection()', await m.forceGarbageCollection('shape-check'), 'GcAction');
  // Before the forced cleanup, which drops the recorded trace.
  const trace = m.exportTrace();
  check('exportTrace()', trace, 'MemoryTrace');
  check('analyzeTrace()', m.analyzeTrace(trace), 'TraceAnalysis');
  check('getAlerts()', m.getAlerts(), 'AlertsReport');
  check('getAlertDelivery()', m.getAlertDelivery(), 'AlertDeliveryStats');
  check('requestStats.report()', m.requestStats.report(performance.now()), 'RequestStatsReport');
  m.getCleanupStrategies().forEach((s, i) => check(`getCleanupStrategies()[${i}]`, s, 'CleanupStrategyInfo'));
  const actions = await m.performEmergencyCleanup({ force: true, reason: 'shape-check' });
  actions.forEach((a, i) => check(`performEmergencyCleanup()[${i}]`, a, 'CleanupAction'));
  check('getLastCleanup()', m.getLastCleanup(), 'CleanupRun');
  check('resolveConfig()', memwarden.resolveConfig({}), 'ResolvedConfig');
  check('resolveConfig(bad)', memwarden.resolveConfig({ warningThreshold: 'high' }), 'ResolvedConfig');
  check('performEnhancedHealthCheck()', await memwarden.performEnhancedHealthCheck({ failAt: 'emergency' }), 'EnhancedHealthCheck');
  check('terminusHealthCheck()()', await memwarden.terminusHealthCheck({ failAt: 'emergency' })(), 'TerminusMemoryInfo');
  check('nativeBinding', memwarden.nativeBinding, 'NativeBindingInfo');
  const attribution = await m.attributeLeak({ durationMs: 1000, windows: 2, samplingIntervalBytes: 16 * 1024 });
  check('attributeLeak()', attribution, 'LeakAttribution');
  check('getLeakDetection()', m.getLeakDetection(), 'LeakReport');
  for (const [type, payload] of events) check(`'${type}' event`, payload, EVENT_TYPES[type]);

  server.close();
  await m.shutdown();
  emitResult({ checked, eventTypes: [...new Set(events.map(([type]) => type))], retained: kept.length, compileMs, totalMs: Date.now() - t0 });
}

runMain(main, { exit: true });

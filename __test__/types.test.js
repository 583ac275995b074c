'use strict';
// index.d.ts against real reports: every report and event type the public API hands
// out, read from index.d.ts with the TypeScript compiler API, is compared field by
// field (names, kinds, nothing missing, nothing extra) with what a running manager
// returns. A field added to a Rust report without its declaration, or declared and
// never sent, fails here with the field's path. Self-checks show the comparison
// catches a removed, renamed or mistyped field on either side.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, SUPPORT, runNode, resultOf, describeRun } = require('./support/child');
const { cleanEnv, levelOptions, startManager } = require('./support/http');
const { loadDeclarations } = require('./support/dts-shape');

cleanEnv();

test('every report and event of a running manager matches its index.d.ts type exactly', async () => {
  const run = await runNode(['--expose-gc', path.join(SUPPORT, 'report-shapes-child.js')], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, describeRun(run));
  const { checked, eventTypes } = resultOf(run);
  const types = new Set(checked.map((c) => c.type));
  for (const type of [
    'HealthReport',
    'LeakReport',
    'AlertsReport',
    'MemoryTrace',
    'TraceAnalysis',
    'GcAction',
    'PressureCheck',
    'RequestSnapshot',
    'RequestStatsReport',
    'CleanupAction',
    'CleanupRun',
    'CleanupStrategyInfo',
    'AlertDeliveryStats',
    'ResolvedConfig',
    'MemwardenConfig',
    'MemoryLimit',
    'EnhancedHealthCheck',
    'TerminusMemoryInfo',
    'LeakAttribution',
    'NativeBindingInfo',
    'StatusEvent',
    'MemwardenAlert',
  ]) {
    assert.ok(types.has(type), `${type} was not checked (checked: ${[...types].join(', ')}; events seen: ${eventTypes.join(', ')})`);
  }
  const problems = checked.flatMap((c) => c.problems);
  assert.deepEqual(problems, [], `index.d.ts and the real reports disagree:\n${problems.join('\n')}`);
});

test('self-check: a removed, renamed or mistyped field in a real report is caught', async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  const d = loadDeclarations();
  const real = m.getHealthMetrics();
  assert.deepEqual(d.check(real, 'HealthReport'), []);

  const removed = structuredClone(real);
  delete removed.status;
  assert.deepEqual(d.check(removed, 'HealthReport'), ['HealthReport.status: missing (declared MemoryStatus)']);

  const renamed = structuredClone(real);
  renamed.currentUsage.usagePercent = renamed.currentUsage.usagePercentage;
  delete renamed.currentUsage.usagePercentage;
  assert.deepEqual(d.check(renamed, 'HealthReport').sort(), [
    'HealthReport.currentUsage.usagePercent: not declared in CurrentUsage (value number ' + real.currentUsage.usagePercentage + ')',
    'HealthReport.currentUsage.usagePercentage: missing (declared number)',
  ]);

  const mistyped = structuredClone(real);
  mistyped.gcAvailable = 'yes';
  mistyped.trend.growthRate = NaN;
  mistyped.currentUsage.platform = 'mainframe';
  assert.deepEqual(d.check(mistyped, 'HealthReport').sort(), [
    'HealthReport.currentUsage.platform: "mainframe" is not Platform',
    'HealthReport.gcAvailable: "yes" is not boolean',
    'HealthReport.trend.growthRate: NaN is not a finite number',
  ]);

  const leak = m.getLeakDetection();
  assert.deepEqual(d.check(leak, 'LeakReport'), []);
  const nulled = structuredClone(leak);
  nulled.confidence = null; // what serde writes for a NaN
  assert.deepEqual(d.check(nulled, 'LeakReport'), ['LeakReport.confidence: null is not a number']);
});

test('self-check: a field removed from or renamed in index.d.ts is caught against the real report', async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  const real = m.getHealthMetrics();
  const dropped = loadDeclarations({ edit: (text) => text.replace(/\n {2}heapSampleAgeMs: number \| null;/, '') });
  assert.deepEqual(dropped.check(real, 'HealthReport'), [`HealthReport.heapSampleAgeMs: not declared in HealthReport (value ${real.heapSampleAgeMs === null ? 'null' : `number ${real.heapSampleAgeMs}`})`]);

  const renamed = loadDeclarations({ edit: (text) => text.replace(/\n {2}gcAvailable: boolean;\n {2}recommendations/, '\n  gcExposed: boolean;\n  recommendations') });
  assert.deepEqual(renamed.check(real, 'HealthReport').sort(), [
    `HealthReport.gcAvailable: not declared in HealthReport (value boolean ${real.gcAvailable})`,
    'HealthReport.gcExposed: missing (declared boolean)',
  ]);
});

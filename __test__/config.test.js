'use strict';
// Configuration: bad environment values and options reject initialize() with
// ERR_MEMWARDEN_CONFIG naming the setting and the value; options win over env,
// env over platform presets; platform presets for Render and local development.
// memwarden reads process.env, so every case runs in its own child process.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { SUPPORT, MiB, runNode, resultOf, describeRun, canCountThreads } = require('./support/child');

const INIT_CHILD = path.join(SUPPORT, 'init-child.js');
// A rejected initialize() must leave nothing behind: the child exits by itself, quickly.
const QUICK_EXIT_MS = 2_000;

async function initInChild({ env = {}, options } = {}) {
  const args = [INIT_CHILD];
  if (options !== undefined) args.push(options);
  const run = await runNode(args, { env, timeoutMs: 15_000 });
  assert.equal(run.timedOut, false, `child hung\n${describeRun(run)}`);
  assert.equal(run.signal, null, describeRun(run));
  assert.equal(run.code, 0, describeRun(run));
  return { run, result: resultOf(run) };
}

/** Runs a case expected to be rejected and checks the common contract. */
async function expectRejected(spec) {
  const { run, result } = await initInChild(spec);
  assert.equal(result.ok, false, `expected a rejection, got ${JSON.stringify(result.config)}`);
  const { error } = result;
  assert.equal(error.isError, true);
  assert.equal(error.code, 'ERR_MEMWARDEN_CONFIG', error.message);
  assert.equal(error.name, 'MemwardenConfigError');
  assert.ok(Array.isArray(error.problems) && error.problems.length >= 1, JSON.stringify(error));
  // Nothing is running after the rejection.
  assert.equal(result.initialized, false);
  assert.equal(result.config, null);
  if (canCountThreads) assert.equal(result.samplerThreads, 0, 'a sampler thread was left running');
  assert.ok(run.durationMs < QUICK_EXIT_MS, `child took ${run.durationMs} ms to exit after the rejection`);
  return error;
}

const BAD_ENV = [
  ['MEMORY_WARNING_THRESHOLD', 'abc'],
  ['MEMORY_CRITICAL_THRESHOLD', '150'],
  ['MEMORY_EMERGENCY_THRESHOLD', '-1'],
  ['MEMORY_MONITORING_INTERVAL', '50'], // below the 100 ms minimum
  ['MEMORY_MONITORING_INTERVAL', '1000.5'], // not a whole number
  ['MEMORY_LEAK_DETECTION', 'maybe'],
  ['PROACTIVE_GC_ENABLED', 'enabled'],
  ['MEMORY_LIMIT_MB', 'lots'],
];

for (const [name, value] of BAD_ENV) {
  test(`${name}=${value} rejects initialize() naming the variable and the value`, async () => {
    const error = await expectRejected({ env: { [name]: value } });
    assert.ok(error.message.includes(name), error.message);
    assert.ok(error.message.includes(value), error.message);
    assert.ok(error.message.includes(`${name}=${value}`), error.message);
    assert.equal(error.problems.length, 1, JSON.stringify(error.problems));
    assert.equal(error.problems[0].setting, name);
    assert.equal(error.problems[0].value, value);
    assert.equal(typeof error.problems[0].accepted, 'string');
  });
}

test('thresholds out of order reject naming both variables', async () => {
  const error = await expectRejected({
    env: { MEMORY_WARNING_THRESHOLD: '90', MEMORY_CRITICAL_THRESHOLD: '80' },
  });
  assert.ok(error.message.includes('MEMORY_WARNING_THRESHOLD=90'), error.message);
  assert.ok(error.message.includes('MEMORY_CRITICAL_THRESHOLD=80'), error.message);
});

test('several bad settings are reported together', async () => {
  const error = await expectRejected({
    env: { MEMORY_LEAK_DETECTION: 'maybe', MEMORY_LIMIT_MB: 'lots' },
    options: '{ unknownOption: 1 }',
  });
  const settings = error.problems.map((p) => p.setting).sort();
  assert.deepEqual(settings, ['MEMORY_LEAK_DETECTION', 'MEMORY_LIMIT_MB', 'unknownOption']);
  for (const s of settings) assert.ok(error.message.includes(s), error.message);
});

const BAD_OPTIONS = [
  // [options expression, the name the message must contain, extra text it must contain]
  ["{ warningThreshold: '70' }", 'warningThreshold', '"70"'],
  ['{ unknownOption: 1 }', 'unknownOption', null],
  ['{ proactiveGc: "yes" }', 'proactiveGc', '"yes"'],
  ['{ monitoringIntervalMs: 99 }', 'monitoringIntervalMs', '99'],
  ['{ warningThreshold: NaN }', 'warningThreshold', 'NaN'],
  ['{ memoryLimitMb: Infinity }', 'memoryLimitMb', 'Infinity'],
  ['{ criticalThreshold: () => 80 }', 'criticalThreshold', null],
  ['42', 'options', '42'],
  ["'fast'", 'options', 'fast'],
  ['[70, 85, 95]', 'options', null],
  ['true', 'options', 'true'],
  ['() => ({})', 'options', null],
];

for (const [expr, name, extra] of BAD_OPTIONS) {
  test(`initialize(${expr}) rejects naming ${name}`, async () => {
    const error = await expectRejected({ options: expr });
    assert.ok(error.message.includes(name), error.message);
    if (extra !== null) assert.ok(error.message.includes(extra), error.message);
    assert.ok(
      error.problems.some((p) => p.setting === name),
      `no problem names ${name}: ${JSON.stringify(error.problems)}`,
    );
  });
}

test('options win over env, env over platform presets (config and config.sources)', async () => {
  const { result } = await initInChild({
    env: {
      RENDER: 'true',
      MEMORY_WARNING_THRESHOLD: '65',
      MEMORY_MONITORING_INTERVAL: '250',
      MEMORY_LIMIT_MB: '512',
      PROACTIVE_GC_ENABLED: 'false',
    },
    options: '{ warningThreshold: 50, memoryLimitMb: 256, proactiveGc: true }',
  });
  assert.equal(result.ok, true, JSON.stringify(result.error));
  const c = result.config;
  assert.equal(c.platform, 'render');
  // option over env
  assert.equal(c.warningThreshold, 50);
  assert.equal(c.sources.warningThreshold, 'option');
  assert.equal(c.proactiveGc, true);
  assert.equal(c.sources.proactiveGc, 'option');
  assert.equal(c.sources.memoryLimitMb, 'option');
  assert.equal(result.limit.bytes, 256 * MiB);
  assert.equal(result.limit.source, 'override');
  assert.equal(result.health.currentUsage.limitBytes, 256 * MiB);
  // env over preset
  assert.equal(c.monitoringIntervalMs, 250);
  assert.equal(c.sources.monitoringIntervalMs, 'env MEMORY_MONITORING_INTERVAL');
  // preset where nothing is set
  assert.equal(c.criticalThreshold, 75);
  assert.equal(c.sources.criticalThreshold, 'preset render');
  assert.equal(c.emergencyThreshold, 90);
  assert.equal(c.sources.emergencyThreshold, 'preset render');
  // defaults
  assert.equal(c.sources.hysteresisPercent, 'default');
});

test('env values override presets and are reported as env sources', async () => {
  const { result } = await initInChild({
    env: {
      NODE_ENV: 'development',
      MEMORY_CRITICAL_THRESHOLD: '92',
      MEMORY_LEAK_DETECTION: 'off',
      PROACTIVE_GC_ENABLED: '0',
      MEMORY_LIMIT_MB: '300',
    },
  });
  assert.equal(result.ok, true, JSON.stringify(result.error));
  const c = result.config;
  assert.equal(c.platform, 'local');
  assert.equal(c.criticalThreshold, 92);
  assert.equal(c.sources.criticalThreshold, 'env MEMORY_CRITICAL_THRESHOLD');
  assert.equal(c.warningThreshold, 80);
  assert.equal(c.sources.warningThreshold, 'preset local');
  assert.equal(c.leakDetection, false);
  assert.equal(c.sources.leakDetection, 'env MEMORY_LEAK_DETECTION');
  assert.equal(c.proactiveGc, false);
  assert.equal(c.sources.proactiveGc, 'env PROACTIVE_GC_ENABLED');
  assert.equal(c.sources.memoryLimitMb, 'env MEMORY_LIMIT_MB');
  assert.equal(result.limit.bytes, 300 * MiB);
  assert.equal(result.limit.source, 'override');
  assert.ok(result.limit.detail.includes('MEMORY_LIMIT_MB'), result.limit.detail);
});

test('RENDER=true: render preset 60/75/90, 15 s interval, 512 MB default limit', async () => {
  // The Render default applies only when no cgroup limit is visible; find out what
  // this machine has without RENDER (and without NODE_ENV, so no preset is forced).
  const { result: plain } = await initInChild();
  assert.equal(plain.ok, true, JSON.stringify(plain.error));
  const machineHasCgroupLimit = plain.limit.source.startsWith('cgroup');

  const { result } = await initInChild({ env: { RENDER: 'true' } });
  assert.equal(result.ok, true, JSON.stringify(result.error));
  const c = result.config;
  assert.equal(c.platform, 'render');
  assert.ok(c.platformReason.includes('RENDER'), c.platformReason);
  assert.deepEqual([c.warningThreshold, c.criticalThreshold, c.emergencyThreshold], [60, 75, 90]);
  assert.equal(c.monitoringIntervalMs, 15_000);
  assert.equal(c.sources.warningThreshold, 'preset render');
  assert.equal(c.sources.monitoringIntervalMs, 'preset render');
  if (machineHasCgroupLimit) {
    // A real container limit wins over Render's default.
    assert.equal(result.limit.source, plain.limit.source);
    assert.equal(result.limit.bytes, plain.limit.bytes);
  } else {
    assert.equal(result.limit.source, 'render-default');
    assert.equal(result.limit.bytes, 512 * MiB);
    assert.equal(result.health.currentUsage.limitSource, 'render-default');
    assert.equal(result.health.currentUsage.limitBytes, 512 * MiB);
  }
  assert.equal(result.health.currentUsage.platform, 'render');
  assert.deepEqual(
    [result.health.thresholds.warning, result.health.thresholds.critical, result.health.thresholds.emergency],
    [60, 75, 90],
  );
});

test('NODE_ENV=development: local preset 80/90/95 with a 30 s interval', async () => {
  const { result } = await initInChild({ env: { NODE_ENV: 'development' } });
  assert.equal(result.ok, true, JSON.stringify(result.error));
  const c = result.config;
  assert.equal(c.platform, 'local');
  assert.deepEqual([c.warningThreshold, c.criticalThreshold, c.emergencyThreshold], [80, 90, 95]);
  assert.equal(c.monitoringIntervalMs, 30_000);
  assert.equal(c.sources.warningThreshold, 'preset local');
  assert.equal(result.health.currentUsage.platform, 'local');
});

test('resolveConfig() reports problems without throwing or starting anything', async () => {
  // In-process: resolveConfig takes the environment as an argument.
  const { resolveConfig } = require('..');
  const bad = resolveConfig({}, { MEMORY_WARNING_THRESHOLD: 'abc' });
  assert.equal(bad.ok, false);
  assert.equal(bad.problems[0].setting, 'MEMORY_WARNING_THRESHOLD');
  const nan = resolveConfig({ warningThreshold: NaN }, {});
  assert.equal(nan.ok, false, JSON.stringify(nan));
  assert.equal(nan.problems[0].setting, 'warningThreshold');
  const good = resolveConfig({ warningThreshold: 50 }, { RENDER: 'true' });
  assert.equal(good.ok, true, JSON.stringify(good));
  assert.equal(good.config.platform, 'render');
  assert.equal(good.config.warningThreshold, 50);
});

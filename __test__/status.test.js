'use strict';
// 'status' events from real resident memory: a child process (with --expose-gc)
// sets MEMORY_LIMIT_MB from its own baseline RSS, fills a Buffer to cross the
// warning threshold and frees it again; the background sampler must notice both
// changes. The hysteresis band keeps a small drop below the threshold from
// downgrading the status. See support/status-child.js for the scenario.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { SUPPORT, MiB, runNode, resultOf, describeRun } = require('./support/child');

const CHILD = path.join(SUPPORT, 'status-child.js');
const WARNING = 50; // the child's MEMORY_WARNING_THRESHOLD
const STATUSES = ['healthy', 'warning', 'critical', 'emergency'];

async function scenario(...args) {
  const run = await runNode(['--expose-gc', CHILD, ...args], { timeoutMs: 60_000 });
  assert.equal(run.timedOut, false, describeRun(run));
  assert.equal(run.code, 0, describeRun(run));
  const r = resultOf(run);
  assert.equal(r.error, undefined, r.error);
  // The limit is the child's own override, derived from its baseline.
  assert.equal(r.limitSource, 'override');
  assert.ok(Math.abs(r.limitBytes - r.limitMb * MiB) <= 1, `${r.limitBytes} vs ${r.limitMb} MB`);
  assert.equal(r.config.sources.memoryLimitMb, 'env MEMORY_LIMIT_MB');
  assert.equal(r.config.monitoringIntervalMs, 250);
  assert.equal(r.config.warningThreshold, WARNING);
  assert.equal(r.startStatus, 'healthy', `baseline usage ${r.startUsage} % should be below the warning threshold`);
  assert.ok(r.startUsage > 0 && r.startUsage < WARNING, `start usage ${r.startUsage}`);
  return r;
}

/** Checks the fields every 'status' event carries. */
function checkEvent(e, r) {
  assert.equal(e.type, 'status');
  assert.ok(STATUSES.includes(e.previous), e.previous);
  assert.ok(STATUSES.includes(e.current), e.current);
  assert.notEqual(e.previous, e.current);
  for (const key of ['pressurePercentage', 'usagePercentage', 'heapUsagePercentage']) {
    assert.ok(typeof e[key] === 'number' && Number.isFinite(e[key]) && e[key] >= 0, `${key}=${e[key]}`);
  }
  // The status follows the worse of resident and heap pressure; here that is resident memory.
  assert.equal(e.pressureSource, 'resident');
  assert.equal(e.pressurePercentage, Math.max(e.usagePercentage, e.heapUsagePercentage));
  assert.ok(Number.isInteger(e.timestamp), String(e.timestamp));
  assert.ok(e.timestamp >= r.t0 && e.timestamp <= r.t1, `timestamp ${e.timestamp} outside [${r.t0}, ${r.t1}]`);
}

test('crossing the warning threshold emits healthy→warning, freeing the memory emits →healthy', { timeout: 60_000 }, async () => {
  const r = await scenario('crossing');
  const hysteresis = r.config.hysteresisPercent;
  assert.equal(hysteresis, 2, 'the default band');
  assert.ok(r.usageAfterFill > WARNING, `the buffer lifted usage to ${r.usageAfterFill} %`);

  assert.equal(r.events.length, 2, JSON.stringify(r.events, null, 1));
  const [up, down] = r.events;
  checkEvent(up, r);
  checkEvent(down, r);

  assert.equal(up.previous, 'healthy');
  assert.notEqual(up.current, 'healthy');
  assert.ok(up.pressurePercentage >= WARNING, `pressure ${up.pressurePercentage}`);
  assert.ok(up.usagePercentage >= WARNING, `usage ${up.usagePercentage}`);
  assert.equal(r.statusAfterUp, up.current, 'getHealthMetrics() agrees with the event');

  assert.equal(down.previous, up.current);
  assert.equal(down.current, 'healthy');
  assert.ok(down.pressurePercentage < WARNING - hysteresis, `pressure ${down.pressurePercentage}`);
  assert.ok(down.timestamp >= up.timestamp);
  assert.equal(r.statusAfterDown, 'healthy');
});

test("a 'status' listener that throws is reported as a warning and does not stop the events", { timeout: 60_000 }, async () => {
  const r = await scenario('crossing', 'throwing');
  assert.deepEqual(
    r.events.map((e) => [e.previous, e.current]),
    [
      ['healthy', 'warning'],
      ['warning', 'healthy'],
    ],
  );
  assert.equal(r.warnings.length, r.events.length, JSON.stringify(r.warnings));
  for (const w of r.warnings) {
    assert.equal(w.name, 'MemwardenWarning');
    assert.ok(w.message.includes("'status' listener threw") && w.message.includes('listener boom'), w.message);
  }
});

test('with hysteresisPercent 20, a drop to just below the warning threshold does not downgrade', { timeout: 60_000 }, async () => {
  const r = await scenario('hysteresis', '20');
  assert.equal(r.config.hysteresisPercent, 20);
  assert.equal(r.config.sources.hysteresisPercent, 'option');

  const [up] = r.events;
  checkEvent(up, r);
  assert.equal(up.previous, 'healthy');
  assert.equal(up.current, 'warning');
  assert.equal(r.eventsAfterUp, 1);

  // Usage fell below the threshold but stayed inside the band [warning - 20, warning).
  assert.ok(r.usageBelowWarning < WARNING, `${r.usageBelowWarning}`);
  assert.ok(
    r.usageInBand < WARNING && r.usageInBand >= WARNING - 20,
    `usage ${r.usageInBand} % should be just below ${WARNING} % (inside the band)`,
  );
  assert.equal(r.eventsInBand, 1, `no downgrade inside the band: ${JSON.stringify(r.events)}`);
  assert.equal(r.statusInBand, 'warning');

  // Leaving the band does downgrade.
  assert.equal(r.events.length, 2, JSON.stringify(r.events, null, 1));
  const down = r.events[1];
  checkEvent(down, r);
  assert.equal(down.previous, 'warning');
  assert.equal(down.current, 'healthy');
  assert.ok(down.pressurePercentage < WARNING - 20, `pressure ${down.pressurePercentage}`);
  assert.equal(r.statusAfterDown, 'healthy');
});

test('control: with hysteresisPercent 2 the same drop does downgrade', { timeout: 60_000 }, async () => {
  const r = await scenario('hysteresis', '2');
  assert.equal(r.config.hysteresisPercent, 2);
  assert.equal(r.events[0].current, 'warning');
  assert.ok(r.usageInBand < WARNING - 2, `usage ${r.usageInBand} % should be below the 2-point band`);
  assert.equal(r.eventsInBand, 2, JSON.stringify(r.events));
  const down = r.events[1];
  checkEvent(down, r);
  assert.equal(down.previous, 'warning');
  assert.equal(down.current, 'healthy');
  assert.ok(down.pressurePercentage >= WARNING - 20 && down.pressurePercentage < WARNING - 2, `${down.pressurePercentage}`);
  assert.equal(r.statusInBand, 'healthy');
});

test(
  'a process that starts above the thresholds gets a status event for it',
  {
    timeout: 30_000,
  },
  async () => {
    const run = await runNode(['--expose-gc', CHILD, 'initial'], { timeoutMs: 30_000 });
    assert.equal(run.code, 0, describeRun(run));
    const r = resultOf(run);
    // MEMORY_LIMIT_MB=16 is below any Node process's RSS.
    assert.equal(r.statusAfterInit, 'emergency');
    assert.equal(r.status, 'emergency');
    assert.ok(r.statusSince >= r.t0, 'the status changed during initialize()');
    // The listener was registered before initialize(): the change must reach it.
    assert.equal(r.events.length, 1, `status events: ${JSON.stringify(r.events)}`);
    assert.equal(r.events[0].previous, 'healthy');
    assert.equal(r.events[0].current, 'emergency');
  },
);

'use strict';
// The planned restart: option checks, the pure decision, and a real server process
// that leaks towards V8's limit while slow requests are in flight: the restart drains
// it (in-flight requests complete, new connections are refused) and the process exits
// with the documented code before the out-of-memory abort.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { startApp } = require('./support/app-process');
const { resolveRestartSettings, restartDue, EXIT_CODE } = require('../lib/restart');

test('onLeak.restart and MEMORY_RESTART_BEFORE_LIMIT: off by default, bad values named', () => {
  assert.equal(resolveRestartSettings(undefined, {}).settings.beforeLimitMs, null);
  assert.equal(resolveRestartSettings(undefined, { MEMORY_RESTART_BEFORE_LIMIT: '60000' }).settings.beforeLimitMs, 60_000);
  const ok = resolveRestartSettings({ restart: { beforeLimitMs: 120_000, drainMs: 5000 } }, {});
  assert.deepEqual([ok.problems, ok.settings], [[], { beforeLimitMs: 120_000, drainMs: 5000, exitCode: EXIT_CODE }]);
  const bad = resolveRestartSettings({ restart: { beforeLimitMs: 5, nope: 1 }, other: 1 }, { MEMORY_RESTART_BEFORE_LIMIT: '1m' });
  assert.deepEqual(bad.problems.map((p) => p.setting).sort(), ['MEMORY_RESTART_BEFORE_LIMIT', 'onLeak.other', 'onLeak.restart.beforeLimitMs', 'onLeak.restart.nope']);
  assert.match(bad.problems.find((p) => p.setting === 'onLeak.restart.beforeLimitMs').message, /beforeLimitMs=5 .* from 1000 to 86400000/);
  assert.equal(resolveRestartSettings({ restart: false }, { MEMORY_RESTART_BEFORE_LIMIT: '60000' }).settings.beforeLimitMs, null);
});

test('restartDue: only a flagged leak, the sooner limit, under the threshold', () => {
  const est = (minutes) => ({ minutes, minutesLow: minutes, minutesHigh: minutes });
  const r = (suspected, heap, resident) => ({ leakSuspected: suspected, timeToLimit: { heap, resident } });
  assert.equal(restartDue(r(true, est(2), null), null), null);
  assert.equal(restartDue(r(false, est(0.1), null), 60_000), null);
  assert.equal(restartDue(r(true, est(2), null), 60_000), null);
  assert.deepEqual(restartDue(r(true, est(2), est(0.5)), 60_000), { limit: 'resident', msToLimit: 30_000 });
  assert.deepEqual(restartDue(r(true, est(0.25), est(0.5)), 60_000), { limit: 'heap', msToLimit: 15_000 });
  assert.equal(restartDue(r(true, null, null), 60_000), null);
});

function get(port, path) {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ started, status: res.statusCode, ended: Date.now() }));
    });
    req.on('error', (err) => resolve({ started, error: err.code || err.message, ended: Date.now() }));
  });
}

test('a real server leaking towards V8 limit restarts itself: drained, refused, exit code before the abort', { timeout: 150_000 }, async (t) => {
  const app = await startApp({
    nodeArgs: ['--max-old-space-size=128'],
    env: { MEMORY_MONITORING_INTERVAL: '500', MEMORY_RESTART_BEFORE_LIMIT: '20000', SELF_LEAK_KB_PER_SEC: '4096', SLOW_MS: '1500' },
  });
  t.after(() => app.stop());
  const requests = [];
  let restartSeen = null;
  const restart = app.waitFor((e) => e.event === 'restart', 120_000).then((e) => (restartSeen = e));
  // Slow requests, one every 150 ms (about ten in flight), until the restart.
  while (restartSeen === null && app.child.exitCode === null) {
    requests.push(get(app.port, '/slow'));
    await new Promise((r) => setTimeout(r, 150));
  }
  await restart;
  assert.ok(restartSeen, `no restart: ${JSON.stringify(app.events.slice(-3))}\n${app.stderr()}`);
  const afterRestart = await get(app.port, '/ok');
  const exit = await app.exited;
  const results = await Promise.all(requests);
  const ev = restartSeen.payload;
  t.diagnostic(`restart: ${ev.reason}; ${ev.servers} server(s); exit ${JSON.stringify(exit)}`);
  assert.equal(exit.code, EXIT_CODE, `${JSON.stringify(exit)} ${app.stderr().slice(0, 500)}`);
  assert.equal(exit.signal, null);
  assert.equal(ev.limit, 'heap');
  assert.ok(ev.msToLimit < 20_000 && ev.servers === 1, JSON.stringify(ev));
  // In flight when the restart began (their handler had been running for 300 ms or more): all answered.
  const inFlight = results.filter((r) => r.started <= restartSeen.receivedAt - 300);
  assert.ok(inFlight.length > 20, String(inFlight.length));
  const failed = inFlight.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, JSON.stringify(failed.slice(0, 3)));
  // After it: refused.
  assert.ok(afterRestart.error, JSON.stringify(afterRestart));
  assert.ok(!/Ineffective mark-compacts|heap out of memory/.test(app.stderr()), app.stderr().slice(0, 300));
});

'use strict';
// Alert delivery: every alert the manager emits ('alert', 'alertResolved') reaches
// the logger once at its level and the webhook once, as JSON, at a local receiver.
// A dead or slow webhook neither throws nor blocks nor leaves a rejected promise; a
// full queue drops its oldest entry and counts it. The webhook settings are
// validated (option and MEMORY_ALERT_WEBHOOK_URL, named in the error).
//
// The engine deduplicates alerts; these specs emit alerts on the manager the way
// the engine's events arrive, so they test delivery alone.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { ROOT, waitFor } = require('./support/child');
const { cleanEnv, levelOptions, startManager } = require('./support/http');

cleanEnv();
const { MemoryManagerService, MemwardenConfigError } = require(ROOT);

const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

function captureLogger() {
  const calls = [];
  const logger = {};
  for (const level of ['info', 'warn', 'error']) logger[level] = (msg) => calls.push([level, msg]);
  return { logger, calls };
}

let seq = 0;
const alert = (type, level, extra = {}) => ({
  id: `test-${++seq}`,
  type,
  level,
  message: `${type} at ${level}`,
  timestamp: Date.now(),
  data: { pressurePercentage: 91.5 },
  resolved: false,
  ...extra,
});

/** A local webhook receiver on 127.0.0.1:0. mode: 'ok' | 'hang' | 'status500'. */
async function receiver(t, mode = 'ok') {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(body) });
      if (mode === 'hang') return; // never answers
      res.statusCode = mode === 'status500' ? 500 : 204;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${server.address().port}/hooks/memwarden?key=secret`, received, server };
}

test('each alert reaches the logger once at its level; resolved alerts go to info', async (t) => {
  const { logger, calls } = captureLogger();
  const m = await startManager(t, levelOptions('healthy', { logger }));
  calls.length = 0; // anything the engine said at start-up
  const w = alert('high_usage', 'warning');
  const c = alert('memory_leak', 'critical');
  const e = alert('rapid_growth', 'emergency');
  m.emit('alert', w);
  m.emit('alert', c);
  m.emit('alert', e);
  m.emit('alertResolved', { ...w, resolved: true, message: 'usage back to normal' });
  assert.deepEqual(calls, [
    ['warn', 'memwarden: [warning] high_usage alert: high_usage at warning'],
    ['error', 'memwarden: [critical] memory_leak alert: memory_leak at critical'],
    ['error', 'memwarden: [emergency] rapid_growth alert: rapid_growth at emergency'],
    ['info', 'memwarden: resolved high_usage alert (was warning): usage back to normal'],
  ]);
  assert.deepEqual(m.getAlertDelivery().delivered, { alerts: 3, resolved: 1 });
  assert.deepEqual(m.getAlertDelivery().webhook, { configured: false });

  // After shutdown() nothing is delivered any more.
  await m.shutdown();
  m.emit('alert', alert('gc_failure', 'warning'));
  assert.equal(calls.length, 4);
});

test('a throwing logger is reported as a warning and does not break delivery', async (t) => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const logger = { info() {}, warn() {}, error() { throw new Error('logger down'); } };
  const m = await startManager(t, levelOptions('healthy', { logger }));
  assert.doesNotThrow(() => m.emit('alert', alert('high_usage', 'critical')));
  await new Promise((r) => setImmediate(r));
  assert.ok(warnings.some((w) => w.includes('the logger threw: logger down')), JSON.stringify(warnings));
});

test('the webhook receives each alert and resolution once, as a JSON POST', async (t) => {
  const hook = await receiver(t);
  const { logger } = captureLogger();
  const m = await startManager(t, levelOptions('healthy', { logger, alertWebhookUrl: hook.url }));
  const sent = [alert('high_usage', 'warning'), alert('memory_leak', 'critical'), alert('gc_failure', 'emergency')];
  for (const a of sent) m.emit('alert', a);
  m.emit('alertResolved', { ...sent[0], resolved: true });
  await waitFor(() => hook.received.length >= 4, { what: '4 webhook deliveries' });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(hook.received.length, 4, 'each exactly once');
  for (const r of hook.received) {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/hooks/memwarden?key=secret');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.body.source, 'memwarden');
    assert.equal(r.body.pid, process.pid);
    assert.equal(typeof r.body.host, 'string');
  }
  assert.deepEqual(
    hook.received.map((r) => [r.body.event, r.body.alert.id, r.body.alert.level, r.body.alert.resolved]),
    [
      ['alert', sent[0].id, 'warning', false],
      ['alert', sent[1].id, 'critical', false],
      ['alert', sent[2].id, 'emergency', false],
      ['alertResolved', sent[0].id, 'warning', true],
    ],
  );
  assert.equal(hook.received[1].body.text, '[critical] memory_leak: memory_leak at critical');
  assert.deepEqual(hook.received[0].body.alert.data, { pressurePercentage: 91.5 });
  const stats = m.getAlertDelivery().webhook;
  assert.equal(stats.sent, 4);
  assert.equal(stats.failed, 0);
  assert.equal(stats.dropped, 0);
  assert.equal(stats.source, 'alertWebhookUrl');
  assert.equal(stats.target, new URL(hook.url).origin, 'no path or query (they may hold secrets)');
});

test('MEMORY_ALERT_WEBHOOK_URL is read at initialize()', async (t) => {
  const hook = await receiver(t);
  process.env.MEMORY_ALERT_WEBHOOK_URL = hook.url;
  let m;
  try {
    m = await startManager(t, levelOptions('healthy', { logger: captureLogger().logger }));
  } finally {
    delete process.env.MEMORY_ALERT_WEBHOOK_URL;
  }
  m.emit('alert', alert('high_usage', 'critical'));
  await waitFor(() => hook.received.length === 1, { what: 'a delivery' });
  assert.equal(m.getAlertDelivery().webhook.source, 'MEMORY_ALERT_WEBHOOK_URL');
});

test('a dead webhook neither throws nor rejects; failures are counted and logged once', async (t) => {
  // A port nothing listens on any more.
  const probe = http.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const { logger, calls } = captureLogger();
  const m = await startManager(t, levelOptions('healthy', { logger, alertWebhookUrl: `http://127.0.0.1:${port}/x` }));
  calls.length = 0;
  assert.doesNotThrow(() => {
    for (let i = 0; i < 3; i++) m.emit('alert', alert('high_usage', 'warning'));
  });
  await waitFor(() => m.getAlertDelivery().webhook.failed === 3, { what: '3 failures' });
  const stats = m.getAlertDelivery().webhook;
  assert.equal(stats.sent, 0);
  assert.match(stats.lastError, /ECONNREFUSED/);
  const failures = calls.filter(([, msg]) => msg.includes('webhook delivery failed'));
  assert.equal(failures.length, 1, 'failure logging is rate-limited');
  assert.equal(failures[0][0], 'warn');
  assert.deepEqual(unhandled, []);
});

test('a slow webhook does not block: one request in flight, a bounded queue that drops the oldest, timeouts', async (t) => {
  const hook = await receiver(t, 'hang');
  const m = await startManager(t, levelOptions('healthy', { logger: captureLogger().logger, alertWebhookUrl: hook.url, alertWebhookTimeoutMs: 200, alertWebhookQueueSize: 2 }));
  const sent = Array.from({ length: 5 }, (_, i) => alert('high_usage', 'warning', { message: `n${i}` }));
  const start = performance.now();
  for (const a of sent) m.emit('alert', a);
  const emitMs = performance.now() - start;
  assert.ok(emitMs < 50, `emitting took ${emitMs} ms`);
  // The event loop keeps turning meanwhile.
  const lag = performance.now();
  await new Promise((r) => setImmediate(r));
  assert.ok(performance.now() - lag < 50);
  let stats = m.getAlertDelivery().webhook;
  assert.equal(stats.inFlight, true);
  assert.equal(stats.queued, 2);
  assert.equal(stats.dropped, 2, 'n1 and n2 were dropped for n3 and n4');
  await waitFor(() => m.getAlertDelivery().webhook.failed === 3, { timeoutMs: 3000, what: '3 timeouts' });
  stats = m.getAlertDelivery().webhook;
  assert.equal(stats.sent, 0);
  assert.match(stats.lastError, /timed out after 200 ms/);
  assert.deepEqual(
    hook.received.map((r) => r.body.alert.message),
    ['n0', 'n3', 'n4'],
    'one at a time, oldest queued entries dropped',
  );
  assert.deepEqual(unhandled, []);
});

test('a webhook answering 500 counts as a failure, without retries', async (t) => {
  const hook = await receiver(t, 'status500');
  const m = await startManager(t, levelOptions('healthy', { logger: captureLogger().logger, alertWebhookUrl: hook.url }));
  m.emit('alert', alert('gc_failure', 'critical'));
  await waitFor(() => m.getAlertDelivery().webhook.failed === 1, { what: 'a failure' });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(hook.received.length, 1, 'no retry');
  assert.match(m.getAlertDelivery().webhook.lastError, /HTTP 500/);
});

test('webhook settings are validated at initialize(), naming the option or the variable', async () => {
  const m = MemoryManagerService.getInstance();
  await m.shutdown();
  const rejects = (options, setting, pattern) =>
    assert.rejects(m.initialize(options), (err) => {
      assert.ok(err instanceof MemwardenConfigError);
      assert.ok(err.problems.some((p) => p.setting === setting), JSON.stringify(err.problems));
      assert.match(err.message, pattern);
      return true;
    });
  // The URL is shown redacted (its path may be a secret): README "Security".
  await rejects({ alertWebhookUrl: 'ftp://example.com/hook' }, 'alertWebhookUrl', /alertWebhookUrl="ftp:\/\/example.com\/…" is invalid; accepted: an http:\/\/ or https:\/\/ URL \(not ftp:\)/);
  await rejects({ alertWebhookUrl: 'hooks.example.com' }, 'alertWebhookUrl', /accepted: an absolute http:\/\/ or https:\/\/ URL/);
  await rejects({ alertWebhookTimeoutMs: 5 }, 'alertWebhookTimeoutMs', /alertWebhookTimeoutMs=5 is invalid; accepted: a whole number from 100 to 120000/);
  await rejects({ alertWebhookQueueSize: 0 }, 'alertWebhookQueueSize', /alertWebhookQueueSize=0 is invalid/);
  process.env.MEMORY_ALERT_WEBHOOK_URL = 'not a url';
  try {
    await rejects({}, 'MEMORY_ALERT_WEBHOOK_URL', /MEMORY_ALERT_WEBHOOK_URL="\(hidden, 9 characters\)" is invalid/);
  } finally {
    delete process.env.MEMORY_ALERT_WEBHOOK_URL;
  }
  assert.equal(m.initialized, false);
});

test('engine alerts: one high_usage alert per episode, logged once, deduplicated while active', async (t) => {
  const { logger, calls } = captureLogger();
  const received = [];
  const m = await startManager(t, { ...levelOptions('emergency'), logger, alertCooldownMs: 60_000 });
  m.on('alert', (a) => received.push(a));
  // The first sample already put the process at emergency: exactly one alert, logged once.
  const first = m.getAlerts();
  assert.equal(first.active.length, 1, JSON.stringify(first.active));
  const active = first.active[0];
  assert.equal(active.type, 'high_usage');
  assert.equal(active.level, 'emergency');
  assert.equal(active.resolved, false);
  assert.match(active.message, /resident memory at [\d.]+% of the 16 MB limit/);
  assert.equal(calls.filter(([, msg]) => msg.includes('high_usage')).length, 1);
  // More samples at the same level: deduplicated.
  for (let i = 0; i < 5; i++) await m.checkMemoryPressure();
  assert.equal(received.length, 0, 'no new alert while it is active');
  assert.equal(m.getAlerts().history.filter((a) => a.type === 'high_usage').length, 1);
  // (Resolution, escalation and the cooldown are unit-tested in src/engine/alerts.rs and monitor.rs.)
});

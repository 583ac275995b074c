'use strict';
// Fleet metrics without a Prometheus server: the text format (escaping, histograms,
// promtool), content negotiation on GET /api/memory/metrics over real Express and
// HTTP, collectMemwardenMetrics in a prom-client registry beside the default metrics
// (the same values as the text route), counters fed by real alerts and a real
// cleanup, OpenTelemetry through the SDK's in-memory exporter, and node:cluster
// with prom-client's AggregatorRegistry.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, SUPPORT } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, listen, request } = require('./support/http');
const { promtool, startFixture, stop } = require('./support/prometheus');

cleanEnv();
const memwarden = require(ROOT);
const { renderText, wantsPrometheus, formatValue } = require(path.join(ROOT, 'lib/metrics/exposition'));
const { Buckets, GC_BUCKETS, DEFINITIONS } = require(path.join(ROOT, 'lib/metrics/families'));
const client = require('prom-client');

const TOKEN = 'metrics-test-token-0123456789abcdef';

/**
 * The memwarden families of a text exposition (promtool lints names, and flags three
 * of prom-client's own default gauges for their _total suffix: not ours to judge).
 */
function onlyMemwarden(text) {
  return text
    .split('\n')
    .filter((l) => /^(# (HELP|TYPE) )?memwarden_/.test(l))
    .join('\n')
    .concat('\n');
}

/** Parses the text format into Map("name{labels}" → value), ignoring comments. */
function samples(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('renderText escapes help and label values, writes +Inf and histograms, and promtool accepts it', async () => {
  const text = renderText([
    { name: 'x_total', help: 'back\\slash and\nnewline', type: 'counter', values: [{ labels: { route: 'GET /a"b\\c\nd' }, value: 3 }] },
    { name: 'y_seconds', help: 'h', type: 'gauge', values: [{ labels: {}, value: Infinity }, { labels: { k: 'neg' }, value: -Infinity }, { labels: { k: 'nan' }, value: NaN }] },
    {
      name: 'z_seconds',
      help: 'a histogram',
      type: 'histogram',
      values: [
        { metricName: 'z_seconds_bucket', labels: { le: 0.5 }, value: 1 },
        { metricName: 'z_seconds_bucket', labels: { le: '+Inf' }, value: 2 },
        { metricName: 'z_seconds_sum', labels: {}, value: 1.75 },
        { metricName: 'z_seconds_count', labels: {}, value: 2 },
      ],
    },
    { name: 'empty_bytes', help: 'no series', type: 'gauge', values: [] },
  ]);
  assert.match(text, /^# HELP x_total back\\\\slash and\\nnewline$/m);
  assert.match(text, /^x_total\{route="GET \/a\\"b\\\\c\\nd"\} 3$/m);
  assert.match(text, /^y_seconds \+Inf$/m);
  assert.match(text, /^y_seconds\{k="neg"\} -Inf$/m);
  assert.match(text, /^y_seconds\{k="nan"\} NaN$/m);
  assert.match(text, /^z_seconds_bucket\{le="0\.5"\} 1$/m);
  assert.match(text, /^z_seconds_bucket\{le="\+Inf"\} 2$/m);
  assert.match(text, /^# TYPE empty_bytes gauge$/m);
  assert.equal(formatValue(1e21), '1e+21');
  const check = await promtool(['check', 'metrics'], text);
  // promtool lints names as well as parsing: the synthetic names draw no complaint either.
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('histogram buckets are cumulative: bucket i counts every observation <= its bound', () => {
  // Property test over random observations (seeded LCG: the same values every run).
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let run = 0; run < 50; run++) {
    const b = new Buckets(GC_BUCKETS);
    const xs = [];
    for (let i = 0; i < 200; i++) {
      const x = rand() < 0.1 ? GC_BUCKETS[Math.floor(rand() * GC_BUCKETS.length)] : 10 ** (rand() * 5 - 4.5);
      xs.push(x);
      b.observe(x);
    }
    for (let i = 0; i < GC_BUCKETS.length; i++) assert.equal(b.counts[i], xs.filter((x) => x <= GC_BUCKETS[i]).length);
    assert.equal(b.count, xs.length);
    assert.ok(Math.abs(b.sum - xs.reduce((a, x) => a + x, 0)) < 1e-9);
  }
});

test('wantsPrometheus: what Prometheus sends, and ?format=prometheus; browsers, JSON clients and */* get JSON', () => {
  const req = (url, accept) => ({ url, headers: accept === undefined ? {} : { accept } });
  const PROMETHEUS = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  assert.equal(wantsPrometheus(req('/metrics', PROMETHEUS)), true);
  assert.equal(wantsPrometheus(req('/metrics', 'text/plain; version=0.0.4')), true);
  assert.equal(wantsPrometheus(req('/metrics?format=prometheus')), true);
  assert.equal(wantsPrometheus(req('/metrics?x=1&format=prometheus')), true);
  assert.equal(wantsPrometheus(req('/metrics')), false);
  assert.equal(wantsPrometheus(req('/metrics', '*/*')), false);
  assert.equal(wantsPrometheus(req('/metrics', 'application/json')), false);
  assert.equal(wantsPrometheus(req('/metrics', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')), false);
  assert.equal(wantsPrometheus(req('/metrics', 'application/json, text/plain, */*')), false);
  assert.equal(wantsPrometheus(req('/metrics?format=json', PROMETHEUS.replace(/text\/plain[^,]*,?/, ''))), true);
  assert.equal(wantsPrometheus(req('/metrics?formats=prometheus')), false);
});

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: GET /api/memory/metrics answers the text format when asked, JSON otherwise`, async (t) => {
    process.env.MEMORY_ADMIN_TOKEN = TOKEN;
    t.after(() => delete process.env.MEMORY_ADMIN_TOKEN);
    await startManager(t, levelOptions('healthy'));
    const app = express();
    app.use('/api/memory', memwarden.createMemoryRouter({ express }));
    const { base } = await listen(app, t);
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const text = await request(base, '/api/memory/metrics?format=prometheus', { headers: auth });
    assert.equal(text.status, 200);
    assert.equal(text.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const s = samples(text.text);
    for (const d of ['memwarden_usage_ratio', 'memwarden_heap_limit_ratio', 'memwarden_leak_confidence', 'memwarden_leak_suspected', 'memwarden_resident_bytes']) {
      assert.ok(s.has(d), `${d} in\n${text.text}`);
    }
    assert.equal(s.get('memwarden_status{level="healthy"}'), 1);
    assert.equal(s.get('memwarden_memory_limit_bytes{source="override"}'), 100_000 * 1024 * 1024);
    // Prometheus's own Accept header, and HEAD.
    const viaAccept = await request(base, '/api/memory/metrics', { headers: { ...auth, Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    assert.match(viaAccept.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const json = await request(base, '/api/memory/metrics', { headers: auth });
    assert.match(json.headers.get('content-type'), /^application\/json/);
    assert.equal(JSON.parse(json.text).status, 'healthy');
    const check = await promtool(['check', 'metrics'], text.text);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
}

test('GET /metrics?format=prometheus before initialize() is the JSON 503 of every read', async (t) => {
  const express = EXPRESS_VERSIONS[0][1];
  const m = memwarden.MemoryManagerService.getInstance();
  await m.shutdown();
  const app = express();
  app.use('/api/memory', memwarden.createMemoryRouter({ express, adminToken: TOKEN }));
  const { base } = await listen(app, t);
  const res = await request(base, '/api/memory/metrics?format=prometheus', { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 503);
  assert.equal(JSON.parse(res.text).error.code, 'ERR_MEMWARDEN_NOT_INITIALIZED');
});

test('collectMemwardenMetrics: a prom-client registry beside the default metrics, no name shared, same values as the text route', async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  const register = new client.Registry();
  client.collectDefaultMetrics({ register });
  const defaults = new Set(register.getMetricsAsArray().map((x) => x.name));
  const handle = memwarden.collectMemwardenMetrics({ register, manager: m, labels: { service: 'api' } });
  assert.deepEqual(handle.names, DEFINITIONS.map((d) => d.name));
  for (const n of handle.names) assert.ok(!defaults.has(n), `${n} duplicates a default metric`);
  // No memwarden series measures what a default one already does, under another name.
  assert.ok(!handle.names.some((n) => /heap_size|external_memory|eventloop|cpu|handles/.test(n)));
  const text = await register.metrics();
  assert.match(text, /^nodejs_heap_size_used_bytes /m);
  const check = await promtool(['check', 'metrics'], onlyMemwarden(text));
  assert.equal(check.code, 0, check.stdout + check.stderr);
  // The same snapshot gives the same numbers in both outputs (retry if a sample lands between the two reads).
  const { textExposition } = require(path.join(ROOT, 'lib/metrics/exposition'));
  const route = textExposition({ manager: m, labels: { service: 'api' }, gcDurations: false });
  let same = false;
  let last = '';
  for (let i = 0; i < 5 && !same; i++) {
    const viaProm = samples(await register.metrics());
    const viaRoute = samples(route().text);
    same = [...viaRoute].every(([k, v]) => viaProm.get(k) === v) && [...viaRoute.keys()].length > 5;
    last = `${[...viaRoute].filter(([k, v]) => viaProm.get(k) !== v).join('\n')}`;
  }
  assert.ok(same, `text route and prom-client differ:\n${last}`);
  assert.match(text, /^memwarden_usage_ratio\{service="api"\} \d/m);
  // Counted once: a second call on the same registry is refused with the metric names.
  assert.throws(
    () => memwarden.collectMemwardenMetrics({ register, manager: m }),
    (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && /register=.*memwarden_usage_ratio/.test(err.message),
  );
  // A prefix gives a second, separate set.
  const prefixed = memwarden.collectMemwardenMetrics({ register, manager: m, prefix: 'app_', gcDurations: true });
  assert.ok(register.getSingleMetric('app_memwarden_gc_duration_seconds'));
  prefixed.unregister();
  handle.unregister();
  assert.equal(register.getSingleMetric('memwarden_usage_ratio'), undefined);
  assert.equal(register.getSingleMetric('app_memwarden_usage_ratio'), undefined);
});

test('collectMemwardenMetrics: bad options name the option, the value and what is accepted', () => {
  const register = new client.Registry();
  const bad = [
    [{ register, prefix: '1x' }, /prefix="1x" is invalid; accepted: a metric name prefix/],
    [{ register, labels: { __x: 'a' } }, /labels\.__x=.* accepted: a Prometheus label name/],
    [{ register, labels: { service: {} } }, /labels\.service=.* accepted: a string or a finite number/],
    [{ register, labels: 'service=api' }, /labels="service=api" is invalid; accepted: an object/],
    [{ register, workerLabel: 'bad-name' }, /workerLabel="bad-name" is invalid/],
    [{ register, gcDurations: 'yes' }, /gcDurations="yes" is invalid; accepted: true or false/],
    [{ register: {} }, /register=\[object\] is invalid; accepted: a prom-client Registry/],
    [{ register, registry: register }, /registry=.* no such option; options: register, prefix/],
    [{ register, manager: {} }, /manager=\[object\] is invalid; accepted: a MemoryManagerService/],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => memwarden.collectMemwardenMetrics(options),
      (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && message.test(err.message) && Array.isArray(err.problems),
      JSON.stringify(Object.keys(options)),
    );
  }
  assert.equal(register.getMetricsAsArray().length, 0, 'nothing registered by a refused call');
});

test('counters from real events: alerts by type and level, bytes freed by cleanup strategy; status one-hot at emergency', async (t) => {
  const m = await startManager(t, levelOptions('emergency', { logger: { info() {}, warn() {}, error() {} } }));
  const register = new client.Registry();
  memwarden.collectMemwardenMetrics({ register, manager: m });
  // The first sample already put the 16 MB limit behind us: the engine raised high_usage.
  const alerts = m.getAlerts();
  assert.ok(alerts.history.some((a) => a.type === 'high_usage'), JSON.stringify(alerts));
  let s = samples(await register.metrics());
  assert.equal(s.get('memwarden_status{level="emergency"}'), 1);
  assert.equal(s.get('memwarden_status{level="healthy"}'), 0);
  const raised = alerts.history.filter((a) => !a.resolved && a.type === 'high_usage');
  const counted = [...s].filter(([k]) => k.startsWith('memwarden_alerts_total{type="high_usage"')).reduce((a, [, v]) => a + v, 0);
  assert.equal(counted, raised.length);
  // A cleanup run: one counter per strategy that ran, bytes >= 0.
  const actions = await m.performEmergencyCleanup({ force: true, reason: 'metrics test' });
  assert.ok(actions.length > 0);
  s = samples(await register.metrics());
  for (const a of actions) {
    const v = s.get(`memwarden_cleanup_freed_bytes_total{strategy="${a.strategy}"}`);
    assert.equal(v, Math.max(0, a.freedBytes), a.strategy);
  }
  // A second run adds to the totals.
  const again = await m.performEmergencyCleanup({ force: true, reason: 'metrics test 2' });
  const s2 = samples(await register.metrics());
  for (const a of again) {
    const before = s.get(`memwarden_cleanup_freed_bytes_total{strategy="${a.strategy}"}`) || 0;
    assert.equal(s2.get(`memwarden_cleanup_freed_bytes_total{strategy="${a.strategy}"}`), before + Math.max(0, a.freedBytes));
  }
});

test('OpenTelemetry: observable instruments read through the SDK and its in-memory exporter', async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  t.after(() => provider.shutdown());
  const meter = provider.getMeter('memwarden-test');
  // Watch the callback's registration (the SDK keeps exporting a gauge's last value after its callback is gone).
  const calls = [];
  for (const method of ['addBatchObservableCallback', 'removeBatchObservableCallback']) {
    const original = meter[method].bind(meter);
    meter[method] = (cb, instruments) => {
      calls.push([method, cb, instruments.length]);
      return original(cb, instruments);
    };
  }
  const handle = memwarden.observeMemwardenMetrics({ meter, manager: m, attributes: { 'service.name': 'api' } });
  assert.ok(handle.names.includes('process.memory.usage'));
  await reader.forceFlush();
  const metrics = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  const byName = new Map(metrics.map((x) => [x.descriptor.name, x]));
  const usage = byName.get('process.memory.usage');
  assert.ok(usage, [...byName.keys()].join(', '));
  assert.equal(usage.descriptor.unit, 'By');
  const report = m.getHealthMetrics();
  assert.ok(Math.abs(usage.dataPoints[0].value - report.currentUsage.rss) < 64 * 1024 * 1024, `${usage.dataPoints[0].value} vs ${report.currentUsage.rss}`);
  assert.equal(usage.dataPoints[0].attributes['service.name'], 'api');
  const util = byName.get('memwarden.memory.utilization');
  assert.equal(util.descriptor.unit, '1');
  assert.ok(util.dataPoints[0].value > 0 && util.dataPoints[0].value < 0.1);
  const status = byName.get('memwarden.status');
  const hot = status.dataPoints.filter((p) => p.value === 1).map((p) => p.attributes['memwarden.status.level']);
  assert.deepEqual(hot, ['healthy']);
  assert.equal(status.dataPoints.length, 4);
  const limit = byName.get('memwarden.memory.limit');
  assert.equal(limit.dataPoints[0].value, 100_000 * 1024 * 1024);
  assert.equal(limit.dataPoints[0].attributes['memwarden.memory.limit.source'], 'override');
  assert.ok(byName.get('memwarden.leak.confidence').dataPoints[0].value >= 0);
  // stop(): the one batch callback is removed, with all its instruments.
  handle.stop();
  assert.equal(calls.length, 2);
  assert.equal(calls[0][0], 'addBatchObservableCallback');
  assert.equal(calls[1][0], 'removeBatchObservableCallback');
  assert.equal(calls[1][1], calls[0][1]);
  assert.equal(calls[1][2], calls[0][2]);
  assert.equal(calls[0][2], handle.names.length);
  assert.throws(() => memwarden.observeMemwardenMetrics({ meter: {} }), (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && /meter=\[object\] is invalid; accepted: an OpenTelemetry Meter/.test(err.message));
});

test("node:cluster with prom-client's AggregatorRegistry: one series per worker, valid exposition", async () => {
  const app = await startFixture([path.join(SUPPORT, 'metrics-app.js'), 'aggregator'], { env: { MEMORY_MONITORING_INTERVAL: '250' }, timeoutMs: 30_000 });
  await stop(app.child);
  const text = app.result.text;
  const usage = [...samples(text)].filter(([k]) => k.startsWith('memwarden_usage_ratio'));
  assert.deepEqual(usage.map(([k]) => k).sort(), ['memwarden_usage_ratio{worker="1"}', 'memwarden_usage_ratio{worker="2"}']);
  for (const [, v] of usage) assert.ok(v > 0 && v < 1);
  const check = await promtool(['check', 'metrics'], onlyMemwarden(text));
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('serveClusterMetrics() does not keep a worker alive', async () => {
  const app = await startFixture([path.join(SUPPORT, 'metrics-app.js'), 'idle-worker'], { timeoutMs: 20_000 });
  await stop(app.child);
  assert.equal(app.result.code, 0);
  assert.equal(app.result.signal, null);
});

test('requestDurations: memwarden_request_duration_seconds{route} from the request statistics, buckets cumulative', async (t) => {
  const express = EXPRESS_VERSIONS[0][1];
  const m = await startManager(t, levelOptions('healthy'));
  const app = express();
  app.use(memwarden.memoryMonitoring.monitorRequestMemory());
  app.get('/fast', (req, res) => res.send('ok'));
  app.get('/slow', (req, res) => setTimeout(() => res.send('ok'), 30));
  const { base } = await listen(app, t);
  for (let i = 0; i < 5; i++) await request(base, '/fast');
  for (let i = 0; i < 3; i++) await request(base, '/slow');
  const register = new client.Registry();
  const handle = memwarden.collectMemwardenMetrics({ register, manager: m, requestDurations: true });
  t.after(() => handle.unregister());
  const text = await register.metrics();
  const s = samples(text);
  const route = (name) => [...s].filter(([k]) => k.startsWith('memwarden_request_duration_seconds') && k.includes(`route="GET ${name}"`));
  const count = (name) => route(name).find(([k]) => k.startsWith('memwarden_request_duration_seconds_count'))[1];
  assert.equal(count('/fast'), 5, text);
  assert.equal(count('/slow'), 3);
  const slow = route('/slow').filter(([k]) => k.includes('_bucket'));
  const values = slow.map(([, v]) => v);
  for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1], 'cumulative');
  assert.equal(values[values.length - 1], 3, '+Inf holds every request');
  // 30 ms timers: none of the slow requests is at or under 25 ms, all are at or under 1 s.
  assert.equal(s.get('memwarden_request_duration_seconds_bucket{route="GET /slow",le="0.025"}'), 0);
  assert.equal(s.get('memwarden_request_duration_seconds_bucket{route="GET /slow",le="1"}'), 3);
  const sum = route('/slow').find(([k]) => k.startsWith('memwarden_request_duration_seconds_sum'))[1];
  // A 30 ms timer is due 30 ms after the loop's cached time, which can be a little
  // earlier than the moment the request started (a run measured 29.8 ms each): so over
  // 25 ms each, as the bucket above says.
  assert.ok(sum > 0.075 && sum < 3, `sum ${sum}`);
  const check = await promtool(['check', 'metrics'], text);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test("pm2 cluster mode: NODE_APP_INSTANCE is the worker label; workerLabel: false leaves it out", async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  process.env.NODE_APP_INSTANCE = '3';
  t.after(() => delete process.env.NODE_APP_INSTANCE);
  const { textExposition } = require(path.join(ROOT, 'lib/metrics/exposition'));
  const labelled = samples(textExposition({ manager: m })().text);
  assert.ok(labelled.has('memwarden_usage_ratio{worker="3"}'), [...labelled.keys()].join('\n'));
  assert.ok(labelled.has('memwarden_status{worker="3",level="healthy"}'));
  const register = new client.Registry();
  memwarden.collectMemwardenMetrics({ register, manager: m, workerLabel: 'instance_id' });
  assert.match(await register.metrics(), /^memwarden_usage_ratio\{instance_id="3"\} /m);
  const plain = samples(textExposition({ manager: m, workerLabel: false })().text);
  assert.ok(plain.has('memwarden_usage_ratio'));
});

test('clusterMetrics(): a worker that does not answer is left out after timeoutMs and counted as missing', async () => {
  const app = await startFixture([path.join(SUPPORT, 'metrics-app.js'), 'cluster-missing'], { timeoutMs: 30_000 });
  await stop(app.child);
  const s = samples(app.result.text);
  assert.equal(s.get('memwarden_cluster_workers{state="answered"}'), 1);
  assert.equal(s.get('memwarden_cluster_workers{state="missing"}'), 1);
  const usage = [...s.keys()].filter((k) => k.startsWith('memwarden_usage_ratio'));
  assert.deepEqual(usage, ['memwarden_usage_ratio{worker="1"}']);
  assert.ok(app.result.ms >= 450 && app.result.ms < 5000, `${app.result.ms} ms`);
  const check = await promtool(['check', 'metrics'], app.result.text);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('clusterMetrics() in a primary without workers, and with a bad timeout', async () => {
  const text = await memwarden.clusterMetrics();
  const s = samples(text);
  assert.equal(s.get('memwarden_cluster_workers{state="answered"}'), 0);
  assert.equal(s.get('memwarden_cluster_workers{state="missing"}'), 0);
  await assert.rejects(memwarden.clusterMetrics({ timeoutMs: 0 }), (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && /timeoutMs=0 is invalid; accepted: a whole number of ms from 1 to 60000/.test(err.message));
  await assert.rejects(memwarden.clusterMetrics({ timeout: 5 }), (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && /timeout=5 .*no such option; options: timeoutMs/.test(err.message));
  assert.throws(() => memwarden.serveClusterMetrics({ gcDurations: 1 }), (err) => err.code === 'ERR_MEMWARDEN_CONFIG' && /gcDurations=1 is invalid/.test(err.message));
  // Outside a worker (no IPC channel) serveClusterMetrics() does nothing.
  const handle = memwarden.serveClusterMetrics();
  assert.equal(typeof handle.stop, 'function');
  assert.equal(process.listenerCount('message'), 0);
});

test('collectMemwardenMetrics in an OpenMetrics registry: counters named as prom-client names its own', async (t) => {
  const m = await startManager(t, levelOptions('emergency', { logger: { info() {}, warn() {}, error() {} } }));
  const register = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE);
  memwarden.collectMemwardenMetrics({ register, manager: m });
  const mine = new client.Counter({ name: 'app_things_total', help: 'h', registers: [register] });
  mine.inc();
  const text = await register.metrics();
  assert.match(text, /^# TYPE app_things counter$/m);
  assert.match(text, /^# TYPE memwarden_alerts counter$/m);
  assert.match(text, /^memwarden_alerts_total\{type="high_usage",level="\w+"\} \d+$/m);
  assert.doesNotMatch(text, /_total_total/);
  assert.match(text, /^memwarden_usage_ratio \d/m);
});

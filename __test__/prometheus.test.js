'use strict';
// A real Prometheus server scrapes real memwarden apps on 127.0.0.1: a steady app
// and a leaking app (the memory router's text format, with the admin token in
// Prometheus's `authorization` setting), a 2-worker node:cluster app (the primary's
// aggregate), and an app exporting through prom-client. The example alert rules
// (examples/prometheus/memwarden-rules.yml) are loaded into it. Assertions go
// through Prometheus's HTTP API; promtool checks the exposition and the rules.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { SUPPORT, ROOT } = require('./support/child');
const { startFixture, stop, promtool, get, startPrometheus, waitFor } = require('./support/prometheus');

const APP = path.join(SUPPORT, 'metrics-app.js');
const RULES = path.join(ROOT, 'examples', 'prometheus', 'memwarden-rules.yml');
const TOKEN = 'fleet-test-token-0123456789abcdef';
const ENV = { MEMORY_MONITORING_INTERVAL: '250', MEMORY_ADMIN_TOKEN: TOKEN };

const apps = {};
let prom = null;

before(async () => {
  const [steady, leak, cluster, promclient, emergency] = await Promise.all([
    startFixture([APP, 'steady'], { env: ENV }),
    startFixture([APP, 'leak'], { env: ENV }),
    startFixture([APP, 'cluster'], { env: ENV }),
    startFixture([APP, 'promclient'], { env: ENV }),
    startFixture([APP, 'emergency'], { env: ENV }),
  ]);
  Object.assign(apps, { steady, leak, cluster, promclient, emergency });
  const routerJob = (name, port) => `
  - job_name: ${name}
    metrics_path: /api/memory/metrics
    params:
      format: [prometheus]
    authorization:
      credentials: ${TOKEN}
    static_configs:
      - targets: ['127.0.0.1:${port}']`;
  const config = `
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - ${RULES}
scrape_configs:${routerJob('steady', steady.result.port)}${routerJob('leak', leak.result.port)}${routerJob('emergency', emergency.result.port)}
  - job_name: noauth
    metrics_path: /api/memory/metrics
    params:
      format: [prometheus]
    static_configs:
      - targets: ['127.0.0.1:${steady.result.port}']
  - job_name: cluster
    metrics_path: /metrics
    static_configs:
      - targets: ['127.0.0.1:${cluster.result.port}']
  - job_name: promclient
    metrics_path: /prom
    static_configs:
      - targets: ['127.0.0.1:${promclient.result.port}']
`;
  prom = await startPrometheus(config);
});

after(async () => {
  if (prom) await prom.stop();
  await Promise.all(Object.values(apps).map((a) => stop(a.child)));
});

/** The instant vector for `expr`, polled until it has at least `min` series. */
async function series(expr, min = 1, timeoutMs = 20_000) {
  const result = await waitFor(async () => {
    const data = await prom.query(expr);
    return data.result.length >= min ? data.result : null;
  }, { timeoutMs });
  assert.ok(result, `Prometheus returned fewer than ${min} series for ${expr} within ${timeoutMs} ms\n${prom.logs()}`);
  return result;
}

test('every target is scraped without error (the bearer token passes the read rule)', async () => {
  const up = await series('up{job!="noauth"} == 1', 5);
  assert.deepEqual(up.map((s) => s.metric.job).sort(), ['cluster', 'emergency', 'leak', 'promclient', 'steady']);
  const targets = await prom.api('/api/v1/targets');
  for (const t of targets.activeTargets) if (t.labels.job !== 'noauth') assert.equal(t.lastError, '', `${t.labels.job}: ${t.lastError}`);
});

test('without the token, Prometheus gets what the router answers a tokenless read (401 where reads are private)', async () => {
  const direct = await get(`http://127.0.0.1:${apps.steady.result.port}/api/memory/metrics?format=prometheus`);
  const target = await waitFor(async () => {
    const { activeTargets } = await prom.api('/api/v1/targets');
    const t = activeTargets.find((x) => x.labels.job === 'noauth');
    return t && t.health !== 'unknown' ? t : null;
  }, { timeoutMs: 10_000 });
  assert.ok(target, 'the noauth target was scraped');
  if (direct.status === 200) {
    assert.equal(target.health, 'up', target.lastError);
  } else {
    assert.equal(direct.status, 401, direct.text);
    assert.equal(target.health, 'down');
    assert.match(target.lastError, /401/);
  }
});

test('memwarden_usage_ratio and memwarden_leak_confidence arrive with sensible values', async () => {
  const [usage] = await series('memwarden_usage_ratio{job="steady"}');
  const ratio = Number(usage.value[1]);
  // A 512 MB limit and an idle Express app: some tens of MB resident.
  assert.ok(ratio > 0.01 && ratio < 0.5, `usage ratio ${ratio}`);
  const [limit] = await series('memwarden_memory_limit_bytes{job="steady"}');
  assert.equal(Number(limit.value[1]), 512 * 1024 * 1024);
  assert.equal(limit.metric.source, 'override'); // memoryLimitMb
  // The ratio is the sampled memory over the limit (same scrape, same snapshot).
  const [resident] = await series('memwarden_resident_bytes{job="steady"}');
  assert.ok(Number(resident.value[1]) > 10 * 1024 * 1024, `resident ${resident.value[1]}`);
  const [confidence] = await series('memwarden_leak_confidence{job="steady"}');
  const c = Number(confidence.value[1]);
  assert.ok(c >= 0 && c <= 1, `leak confidence ${c}`);
  const [status] = await series('sum(memwarden_status{job="steady"})');
  assert.equal(Number(status.value[1]), 1, 'exactly one status level is 1');
});

test('a 2-worker cluster shows two series, one per worker label', async () => {
  const usage = await series('memwarden_usage_ratio{job="cluster"}', 2);
  assert.deepEqual(usage.map((s) => s.metric.worker).sort(), ['1', '2']);
  for (const s of usage) assert.ok(Number(s.value[1]) > 0 && Number(s.value[1]) < 1, `worker ${s.metric.worker}: ${s.value[1]}`);
  const confidence = await series('memwarden_leak_confidence{job="cluster"}', 2);
  assert.deepEqual(confidence.map((s) => s.metric.worker).sort(), ['1', '2']);
  const [answered] = await series('memwarden_cluster_workers{job="cluster",state="answered"}');
  assert.equal(Number(answered.value[1]), 2);
});

test('through prom-client: memwarden series with the app labels beside the default metrics', async () => {
  const [usage] = await series('memwarden_usage_ratio{job="promclient"}');
  assert.equal(usage.metric.service, 'fixture');
  assert.ok(Number(usage.value[1]) > 0 && Number(usage.value[1]) < 1);
  await series('process_resident_memory_bytes{job="promclient"}');
  // Left to prom-client's nodejs_gc_duration_seconds unless asked for.
  assert.equal((await prom.query('memwarden_gc_duration_seconds_count{job="promclient"}')).result.length, 0);
  await series('nodejs_gc_duration_seconds_count{job="promclient"}');
});

test('the exposition passes promtool check metrics', async () => {
  const res = await get(`http://127.0.0.1:${apps.steady.result.port}/api/memory/metrics`, { Accept: 'text/plain; version=0.0.4', Authorization: `Bearer ${TOKEN}` });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assert.match(res.text, /^memwarden_usage_ratio \d/m);
  const check = await promtool(['check', 'metrics'], res.text);
  assert.equal(check.code, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  const clusterText = (await get(`http://127.0.0.1:${apps.cluster.result.port}/metrics`)).text;
  assert.match(clusterText, /worker="2"/);
  const clusterCheck = await promtool(['check', 'metrics'], clusterText);
  assert.equal(clusterCheck.code, 0, `promtool check metrics (cluster):\n${clusterCheck.stdout}${clusterCheck.stderr}`);
});

test('the example rules pass promtool check rules and load into Prometheus', async () => {
  const check = await promtool(['check', 'rules', RULES]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 3 rules found/);
  const { groups } = await prom.api('/api/v1/rules');
  const rules = groups.flatMap((g) => g.rules);
  assert.deepEqual(rules.map((r) => r.name).sort(), ['MemwardenEmergency', 'MemwardenLeakSuspected', 'MemwardenTimeToLimitUnder30m']);
  for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
});

test("with a leaking app the leak rule's expression returns its series, and the alert is pending", async () => {
  const { groups } = await prom.api('/api/v1/rules');
  const rule = groups.flatMap((g) => g.rules).find((r) => r.name === 'MemwardenLeakSuspected');
  assert.equal(rule.duration, 600, 'for: 10m');
  // The rule's own expression, as Prometheus parsed it, evaluated through the query API.
  const result = await series(`(${rule.query})`, 1, 60_000);
  assert.ok(
    result.some((s) => s.metric.job === 'leak'),
    `series: ${JSON.stringify(result.map((s) => s.metric))}`,
  );
  const [confidence] = await series('memwarden_leak_confidence{job="leak"}');
  assert.ok(Number(confidence.value[1]) >= 0.5, `confidence ${confidence.value[1]}`);
  // Prometheus evaluates the rule: pending until the 10 minutes have passed.
  const alert = await waitFor(async () => {
    const { alerts } = await prom.api('/api/v1/alerts');
    return alerts.find((a) => a.labels.alertname === 'MemwardenLeakSuspected' && a.labels.job === 'leak');
  }, { timeoutMs: 10_000 });
  assert.ok(alert, 'MemwardenLeakSuspected is listed for the leaking app');
  assert.equal(alert.state, 'pending');
  // The leaking app also raised alerts, counted by type and level.
  const alerts = await series('memwarden_alerts_total{job="leak"}');
  assert.ok(alerts.some((s) => s.metric.type === 'memory_leak'), JSON.stringify(alerts.map((s) => s.metric)));
});

test('every query of the Grafana dashboard runs on Prometheus; the memory, status and leak panels have data', async () => {
  const dashboard = JSON.parse(require('node:fs').readFileSync(path.join(ROOT, 'examples', 'grafana-memwarden.json'), 'utf8'));
  const targets = dashboard.panels.flatMap((p) => (p.targets || []).map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(targets.length >= 14, `${targets.length} queries`);
  const MUST_HAVE_DATA = ['Memory used / limit', 'V8 heap used / heap limit', 'Status', 'Resident memory and limit', 'Leak confidence', 'Leak suspected', 'Cluster workers answering the primary'];
  for (const { panel, expr } of targets) {
    const q = expr.replace(/\$job/g, '.*').replace(/\$instance/g, '.*').replace(/\$__rate_interval/g, '1m');
    const data = await prom.query(q); // throws on a query Prometheus rejects
    if (MUST_HAVE_DATA.includes(panel) && !/working_set/.test(q)) assert.ok(data.result.length > 0, `${panel}: ${q}`);
  }
  // The status panel's expression maps the one-hot levels to one value per process, 0 to 3.
  const status = await prom.query('max by (job, instance, worker) (memwarden_status{level="warning"}) * 1 + max by (job, instance, worker) (memwarden_status{level="critical"}) * 2 + max by (job, instance, worker) (memwarden_status{level="emergency"}) * 3');
  for (const s of status.result) assert.ok([0, 1, 2, 3].includes(Number(s.value[1])), JSON.stringify(s));
  assert.equal(status.result.filter((s) => s.metric.job === 'cluster').length, 2);
});

test("the time-to-limit and emergency rules' expressions return the leaking and the over-limit apps", async () => {
  const { groups } = await prom.api('/api/v1/rules');
  const rules = new Map(groups.flatMap((g) => g.rules).map((r) => [r.name, r]));
  const ttl = rules.get('MemwardenTimeToLimitUnder30m');
  assert.equal(ttl.duration, 300, 'for: 5m');
  const growing = await waitFor(async () => {
    const { result } = await prom.query(`(${ttl.query})`);
    return result.find((s) => s.metric.job === 'leak');
  }, { timeoutMs: 30_000 });
  // ~2 MB/s against a 512 MB limit: minutes, not hours.
  assert.ok(growing && Number(growing.value[1]) > 0 && Number(growing.value[1]) < 1800, JSON.stringify(growing));
  const emergency = rules.get('MemwardenEmergency');
  const hot = await series(`(${emergency.query})`);
  assert.deepEqual(hot.map((s) => s.metric.job), ['emergency'], 'only the app over its limit');
  const [ratio] = await series('memwarden_usage_ratio{job="emergency"}');
  assert.ok(Number(ratio.value[1]) > 1, `a process over its 16 MB limit: ${ratio.value[1]}`);
});

test('the example scrape config passes promtool check config (with its token file in place)', async (t) => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-promconfig-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const example = fs.readFileSync(path.join(ROOT, 'examples', 'prometheus', 'prometheus.yml'), 'utf8');
  assert.match(example, /credentials_file: \/etc\/prometheus\/memwarden-token/);
  fs.writeFileSync(path.join(dir, 'memwarden-token'), `${TOKEN}\n`);
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), example.replace('/etc/prometheus/memwarden-token', path.join(dir, 'memwarden-token')));
  fs.copyFileSync(RULES, path.join(dir, 'memwarden-rules.yml'));
  const check = await promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 1 rule files found/);
});

'use strict';
// The `memory` CLI (bin/memory.js): every command in-process and against a real demo
// server (examples/demo.js on 127.0.0.1, ephemeral port), checking exit codes and what a
// person reads. Spawned as real Node processes.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { runNode, ROOT, waitFor } = require('./support/child');
const { startDemo, TOKEN } = require('./support/demo');

const CLI = path.join(ROOT, 'bin', 'memory.js');
const memory = (args, env = {}, timeoutMs = 60_000) => runNode([CLI, ...args], { env, timeoutMs });
const show = (r) => `code ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
const noStack = (text) => !/\n\s+at .+:\d+:\d+/.test(text) && !text.includes('node:internal');

/** A port nothing listens on (bound, then closed). */
function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('bad arguments: usage and exit 2', async () => {
  for (const args of [['bogus'], ['status', '--nope'], ['monitor', '--interval-ms', '5'], ['simulate', 'abc'], ['simulate', '10', '20'], ['gc', '--url', 'ftp://x']]) {
    const r = await memory(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, /^memory: /, show(r));
    assert.match(r.stderr, /usage: memory <command>/, show(r));
    assert.ok(noStack(r.stderr), show(r));
  }
  const help = await memory(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /status .*\n.*gc .*/s);
});

test('an unreachable server: one clear line, exit 1', async () => {
  const port = await closedPort();
  for (const cmd of ['status', 'gc', 'monitor', 'report', 'test']) {
    const r = await memory([cmd, '--url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1, `${cmd}: ${show(r)}`);
    assert.match(r.stderr, new RegExp(`cannot reach the server at http://127\\.0\\.0\\.1:${port}/api/memory \\(ECONNREFUSED\\)`), show(r));
    assert.ok(noStack(r.stderr), show(r));
    if (cmd !== 'test') assert.equal(r.stderr.trim().split('\n').length, 1, show(r));
  }
});

test('in-process: status (text with colour, and --json), gc', async () => {
  const r = await memory(['status'], { FORCE_COLOR: '1' });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /in-process: this command's own Node process/);
  assert.match(r.stdout, /\x1b\[32m.*HEALTHY/, 'the status level in colour (green)');
  for (const label of ['pressure', 'resident', 'heap', 'trend', 'leak', 'GC', 'alerts']) assert.match(r.stdout, new RegExp(`^${label}\\s`, 'm'), label);
  assert.match(r.stdout, /\[#*\.*\|/, 'a usage bar with threshold marks');

  const j = await memory(['status', '--json']);
  assert.equal(j.code, 0, show(j));
  const d = JSON.parse(j.stdout);
  assert.equal(d.source, 'in-process');
  assert.equal(d.status, 'healthy');
  assert.ok(d.residentBytes > 0 && d.limitBytes > d.residentBytes);
  assert.ok(!j.stdout.includes('\x1b['), 'no colour in JSON');

  const g = await memory(['gc']);
  assert.equal(g.code, 0, show(g));
  assert.match(g.stdout, /GC done in \d+\.\d ms: heap [\d.]+ [KMG]?B -> [\d.]+ [KMG]?B, freed [\d.]+ [KMG]?B/);
});

test('in-process: simulate crosses thresholds, fires alerts, releases and recovers; refuses too much', async () => {
  const env = { MEMORY_LIMIT_MB: '220' };
  const r = await memory(['simulate', '120', '--hold-ms', '300'], env);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /allocating \[#+\] 120\.0 MB of 120\.0 MB/);
  assert.match(r.stdout, /status healthy -> warning at \d+\.\d% \(allocating\)/);
  assert.match(r.stdout, /alert high_usage \(warning\)/);
  assert.match(r.stdout, /GC \(simulation_release\) freed/);
  assert.match(r.stdout, /^recovery recovered to healthy$/m);
  assert.match(r.stdout, /^fired    [1-9]\d* status transition\(s\), [1-9]\d* alert\(s\)/m);

  const j = await memory(['simulate', '100', '--hold-ms', '0', '--json'], env);
  assert.equal(j.code, 0, show(j));
  const s = JSON.parse(j.stdout);
  assert.equal(s.phase, 'done');
  assert.equal(s.recovered, true);
  assert.ok(s.peak.heapUsed - s.before.heapUsed > 80 * 1048576, `the heap grew by ${(s.peak.heapUsed - s.before.heapUsed) / 1048576} MB`);
  assert.ok(s.transitions.length > 0);

  const big = await memory(['simulate', '400'], env);
  assert.equal(big.code, 1, show(big));
  assert.match(big.stderr, /^memory: simulate 400 MB refused: mb=400 is invalid; accepted: at most \d+ MB here: \d+ MB are left below the 220 MB limit \(override\)/);
  assert.equal(big.stdout, '', 'nothing allocated, nothing printed');
});

test('in-process: monitor prints plain lines when not a terminal', async () => {
  const r = await memory(['monitor', '--count', '3', '--interval-ms', '200']);
  assert.equal(r.code, 0, show(r));
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^in-process: /);
  const status = lines.filter((l) => /^\d\d:\d\d:\d\d  healthy\s+pressure\s+[\d.]+%  rss /.test(l));
  assert.equal(status.length, 3, show(r));
  assert.match(lines[lines.length - 1], /^memory monitor: 3 update\(s\), last status healthy$/);
  assert.ok(!r.stdout.includes('\x1b['), 'no escape sequences when not a terminal');
});

test('in-process: test passes every step', async () => {
  const r = await memory(['test']);
  assert.equal(r.code, 0, show(r));
  for (const step of ['initialize', 'sample', 'simulate pressure', 'thresholds crossed', 'alerts fired', 'release and recovery', 'leak detector quiet', 'garbage collection', 'emergency cleanup']) {
    assert.match(r.stdout, new RegExp(`PASS  ${step.replace(/[()]/g, '\\$&')}\\s`), step);
  }
  assert.match(r.stdout, /^10 passed, 0 failed$/m);
});

test('in-process: report writes JSON and HTML', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-report-'));
  const base = path.join(dir, 'r');
  const r = await memory(['report', '--out', base]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`wrote ${base}\\.json\\nwrote ${base}\\.html`));
  const report = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8'));
  assert.equal(report.source.kind, 'in-process');
  assert.ok(report.history.samples.length >= 5, `${report.history.samples.length} samples`);
  assert.ok(fs.readFileSync(`${base}.html`, 'utf8').includes('id="memwarden-data"'));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('against a running demo server', async (t) => {
  const demo = await startDemo({ env: { MEMORY_LIMIT_MB: '256' } });
  t.after(() => demo.stop());
  const withToken = { MEMORY_ADMIN_TOKEN: TOKEN };
  const where = `server: ${demo.api}`;

  await t.test('status with --url, and with MEMORY_API_URL', async () => {
    const r = await memory(['status', '--url', demo.api], withToken);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(where), show(r));
    assert.match(r.stdout, /resident\s+[\d.]+ MB of 256\.0 MB \(override\)/);
    const e = await memory(['status', '--json'], { ...withToken, MEMORY_API_URL: demo.base });
    assert.equal(e.code, 0, show(e));
    const d = JSON.parse(e.stdout);
    assert.equal(d.source, 'server');
    assert.equal(d.where, demo.api, 'a bare origin gets /api/memory');
    assert.ok(d.samples.length > 0);
  });

  await t.test('status falls back to the public /health when detailed reads need a token', async () => {
    // A server whose detailed reads are closed (the access rule the router is moving to):
    // /live answers 401, /health is the demo's.
    const http = require('node:http');
    const server = http.createServer(async (req, res) => {
      if (req.url.startsWith('/api/memory/health')) {
        const r = await fetch(`${demo.api}/health`);
        res.writeHead(r.status, { 'Content-Type': 'application/json' });
        return res.end(await r.text());
      }
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: 'ERR_UNAUTHORIZED', message: 'this read needs Authorization: Bearer <token>', statusCode: 401 } }));
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const url = `http://127.0.0.1:${server.address().port}/api/memory`;
    const r = await memory(['status', '--url', url]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^memwarden HEALTHY since/);
    assert.match(r.stdout, /resident\s+[\d.]+ MB of 256\.0 MB \(override\)/);
    assert.match(r.stdout, /only the public \/health figures: GET .*\/live answered 401 ERR_UNAUTHORIZED: .*; set MEMORY_ADMIN_TOKEN/);
    const m = await memory(['monitor', '--url', url, '--count', '1']);
    assert.equal(m.code, 1, show(m));
    assert.match(m.stderr, /^memory: monitor failed: GET .*\/live answered 401 ERR_UNAUTHORIZED: .*; set MEMORY_ADMIN_TOKEN to the server's admin token\n$/);
  });

  await t.test('gc: done with the token, refused without it', async () => {
    const r = await memory(['gc', '--url', demo.api], withToken);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(`${where} (admin token from MEMORY_ADMIN_TOKEN)`));
    assert.match(r.stdout, /GC done in [\d.]+ ms/);
    const no = await memory(['gc', '--url', demo.api]);
    assert.equal(no.code, 1, show(no));
    assert.match(no.stderr, /^memory: gc failed: POST .*\/api\/memory\/gc answered 401 ERR_UNAUTHORIZED: .*; set MEMORY_ADMIN_TOKEN/);
    assert.ok(noStack(no.stderr));
  });

  await t.test('simulate on the server: transitions, release, recovery; refuses too much', async () => {
    const r = await memory(['simulate', '150', '--hold-ms', '300', '--url', demo.api], withToken);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(where));
    assert.match(r.stdout, /allocating \[#+\] 150\.0 MB of 150\.0 MB/);
    assert.match(r.stdout, /status healthy -> (warning|critical) at/);
    assert.match(r.stdout, /^recovery recovered to healthy$/m);
    const big = await memory(['simulate', '5000', '--url', demo.api], withToken);
    assert.equal(big.code, 1, show(big));
    assert.match(big.stderr, /^memory: simulate 5000 MB refused: .*400 ERR_INVALID_BODY: mb=5000 is invalid; accepted: at most \d+ MB here/);
  });

  await t.test('monitor on the server (plain lines)', async () => {
    const r = await memory(['monitor', '--url', demo.api, '--count', '2', '--interval-ms', '300'], withToken);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.startsWith(where));
    assert.equal(r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d  \w+\s+pressure/.test(l)).length, 2, show(r));
  });

  await t.test('test against the server passes every step', async () => {
    const r = await memory(['test', '--url', demo.api], withToken, 90_000);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.stdout.includes(where));
    assert.match(r.stdout, /^7 passed, 0 failed$/m);
    for (const s of ['GET /health', 'GET /live', 'POST /simulate', 'POST /gc', 'POST /emergency-cleanup', 'GET /leak-detection']) assert.ok(r.stdout.includes(`(${s})`), s);
  });

  await t.test('report from the server', async () => {
    // The self-test's emergency cleanup cleared the recorded history: wait for new samples.
    await waitFor(
      async () => {
        const res = await fetch(`${demo.api}/live`, { headers: { Authorization: `Bearer ${TOKEN}` } });
        return (await res.json()).samples.length >= 2;
      },
      { timeoutMs: 10_000, everyMs: 200, what: 'samples after the cleanup' },
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-report-'));
    const base = path.join(dir, 'server');
    const r = await memory(['report', '--url', demo.api, '--out', base], withToken);
    assert.equal(r.code, 0, show(r));
    const report = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8'));
    assert.equal(report.source.url, demo.api);
    assert.ok(report.history.samples.length > 0);
    assert.ok(report.requests && report.requests.routes.length > 0, 'per-route statistics from the demo');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

test('the demo without a token outside local development makes one, prints it, and the API needs it', async (t) => {
  // RENDER=true: a hosting platform, never local development (README "Security").
  const demo = await startDemo({ token: null, env: { RENDER: 'true' } });
  t.after(() => demo.stop());
  const m = /admin token for this run: ([0-9a-f]{48})\n/.exec(demo.output());
  assert.ok(m, demo.output());
  assert.equal((await fetch(`${demo.api}/health`)).status, 200);
  assert.equal((await fetch(`${demo.api}/metrics`)).status, 401);
  assert.equal((await fetch(`${demo.api}/metrics`, { headers: { Authorization: `Bearer ${m[1]}` } })).status, 200);
  const r = await memory(['status', '--url', demo.api], { MEMORY_ADMIN_TOKEN: m[1] });
  assert.equal(r.code, 0, show(r));
});

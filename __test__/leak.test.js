'use strict';
// Leak detection end to end: trace replay (determinism, verdicts, bad input), the
// CLI, and real processes that leak, churn, get attributed and fail at GC.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { ROOT, SUPPORT, runNode, resultOf, describeRun } = require('./support/child');
const { analyzeTrace, MemwardenTraceError } = require(ROOT);

const MB = 1048576;
const CHILD = path.join(SUPPORT, 'leak-child.js');

/**
 * A synthetic trace at 250 ms: old generation = live set + promoted garbage (400 KB/s),
 * collected by a major GC whenever it reaches 1.5 x the live set (+8 MB), plus `leak(t)`
 * bytes/s added to the live set.
 */
function syntheticTrace(seconds, leak) {
  let live = 20 * MB;
  let garbage = 0;
  let limit = 40 * MB;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const samples = [];
  const gc = [];
  for (let i = 0; i <= seconds * 4; i++) {
    const t = i * 250;
    live += leak(t / 1000) / 4;
    garbage += (400 * 1024) / 4;
    if (live + garbage > limit) {
      garbage = 0;
      limit = Math.max(live * 1.5, live + 8 * MB);
      gc.push({ t, kind: 'major', duration: 5, heapAfter: live, oldGenerationAfter: live, externalAfter: 2 * MB });
    }
    const old = live + garbage;
    const heapUsed = old + rnd() * 4 * MB;
    samples.push({ t, heapUsed, heapTotal: heapUsed * 1.3, rss: heapUsed + 40 * MB, external: 2 * MB, arrayBuffers: MB, oldGeneration: old });
  }
  return { version: 1, limitBytes: 512 * MB, heapSizeLimit: 400 * MB, intervalMs: 250, samples, gc };
}

test('analyzeTrace flags a steady leak and not a saw-tooth, deterministically', () => {
  const leaky = syntheticTrace(120, (t) => (t >= 30 ? MB : 0));
  const a = analyzeTrace(leaky);
  const b = analyzeTrace(leaky);
  assert.deepEqual(a, b, 'same input, same output');
  assert.equal(a.leak.leakSuspected, true);
  assert.equal(a.leak.signal, 'heap');
  assert.ok(a.firstFlaggedAt !== null && a.firstFlaggedAt >= 30_000, `flagged at ${a.firstFlaggedAt}`);
  assert.ok(a.firstFlaggedAt - 30_000 <= 30_000, `flagged ${a.firstFlaggedAt - 30_000} ms after the leak began`);
  assert.ok(a.leak.confidence > 40 && a.leak.confidence <= 100, String(a.leak.confidence));
  assert.ok(a.events.some((e) => e.type === 'leak'));

  const flat = analyzeTrace(syntheticTrace(120, () => 0));
  assert.equal(flat.leak.leakSuspected, false);
  assert.equal(flat.firstFlaggedAt, null);
  assert.equal(flat.timeline.length, 0);
});

test('analyzeTrace rejects bad traces with the field and index named', () => {
  const good = syntheticTrace(2, () => 0);
  const cases = [
    [{ ...good, samples: [] }, /samples is empty/],
    [{ ...good, samples: [{ ...good.samples[0], heapUsed: Number.NaN }] }, /samples\[0\]\.heapUsed=NaN/],
    [{ ...good, samples: [{ ...good.samples[0], rss: -5 }] }, /samples\[0\]\.rss=-5 is negative/],
    [{ ...good, samples: [good.samples[1], good.samples[0]] }, /samples\[1\]\.t=0 is before samples\[0\]\.t=250/],
    [{ ...good, samples: [{ t: 0 }] }, /samples\[0\]\.heapUsed=undefined \(missing\)/],
    [{ ...good, gc: [{ t: 1, kind: 'full', duration: 1 }] }, /gc\[0\]\.kind="full"/],
    [{ samples: new Array(1_000_001) }, /more than 1000000/],
    [null, /trace=null is not an object/],
    [{ samples: 'nope' }, /trace\.samples is not an array/],
  ];
  for (const [trace, message] of cases) {
    assert.throws(
      () => analyzeTrace(trace),
      (err) => err instanceof MemwardenTraceError && err.code === 'ERR_MEMWARDEN_TRACE' && message.test(err.message),
      String(message),
    );
  }
  const noLimit = { samples: good.samples };
  assert.throws(() => analyzeTrace(noLimit), /memoryLimitMb/);
  assert.equal(analyzeTrace(noLimit, { memoryLimitMb: 256 }).limitBytes, 256 * MB);
  assert.throws(() => analyzeTrace(good, { warningThreshold: 'x' }), /warningThreshold/);
});

test('memory analyze FILE prints the verdict; bad files exit with 2', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-'));
  const file = path.join(dir, 'trace.json');
  fs.writeFileSync(file, JSON.stringify(syntheticTrace(120, (t) => (t >= 30 ? MB : 0))));
  const bin = path.join(ROOT, 'bin', 'memory.js');
  const run = await runNode([bin, 'analyze', file]);
  assert.equal(run.code, 0, describeRun(run));
  assert.match(run.stdout, /verdict at the end: LEAK SUSPECTED \(heap/);
  assert.match(run.stdout, /at \d+\.\d s: leak suspected/);
  const failing = await runNode([bin, 'analyze', file, '--fail-on-leak']);
  assert.equal(failing.code, 1);
  const json = await runNode([bin, 'analyze', file, '--json']);
  assert.equal(JSON.parse(json.stdout).leak.leakSuspected, true);
  fs.writeFileSync(file, '{"samples": [');
  const bad = await runNode([bin, 'analyze', file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /is not JSON/);
  const missing = await runNode([bin, 'analyze', path.join(dir, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read/);
});

test('real processes: a leak is flagged, resolved after the fix; churn is not flagged', { timeout: 120_000 }, async () => {
  const [leak, benign] = await Promise.all([
    runNode([CHILD, 'leak'], { timeoutMs: 90_000 }),
    runNode([CHILD, 'benign'], { timeoutMs: 90_000 }),
  ]);
  const l = resultOf(leak);
  assert.ok(l.flaggedAt !== null, describeRun(leak));
  assert.ok(l.flaggedAt - 3 <= 20, `flagged ${l.flaggedAt - 3} s after the leak began`);
  assert.ok(l.resolvedAt !== null, `never resolved after the fix at ${l.fixedAt} s`);
  assert.ok(l.resolvedAt - l.fixedAt <= 25, `resolved ${l.resolvedAt - l.fixedAt} s after the fix`);
  assert.ok(l.alerts.some((a) => a.type === 'memory_leak' && !a.resolved), JSON.stringify(l.alerts));
  assert.ok(l.alerts.some((a) => a.type === 'memory_leak' && a.resolved), JSON.stringify(l.alerts));
  assert.equal(l.report.leakSuspected, false);

  const b = resultOf(benign);
  assert.equal(b.flags, 0, 'no leak flag under churn with medium-lived sessions');
  assert.equal(b.leakSuspected, false);
  // The exported trace replays through the same engine.
  assert.ok(b.trace.samples.length > 50 && b.trace.limitBytes === 512 * MB);
  const replay = analyzeTrace(b.trace);
  assert.equal(replay.samples, b.trace.samples.length);
});

test('attributeLeak names the function that retains memory', { timeout: 30_000 }, async () => {
  const run = await runNode([CHILD, 'attribute'], { timeoutMs: 30_000 });
  const r = resultOf(run);
  assert.ok(r.result.sites.length > 0, describeRun(run));
  const top = r.result.sites[0];
  assert.match(top.url, /leak-child\.js$/);
  assert.ok(top.growthBytesPerSec > 100 * 1024, JSON.stringify(top));
  assert.ok(top.lineNumber > 0);
  assert.deepEqual(r.report.attribution.sites[0], top, 'kept for getLeakDetection()');
});

test('ineffective full collections near the heap limit raise a gc_failure alert', { timeout: 60_000 }, async () => {
  const run = await runNode(['--expose-gc', '--max-old-space-size=96', CHILD, 'gcfail'], { timeoutMs: 60_000 });
  assert.equal(run.code, 0, describeRun(run));
  const r = resultOf(run);
  assert.ok(r.freed.every((f) => f < 5 * MB), JSON.stringify(r.freed));
  const alert = r.alerts.find((a) => a.type === 'gc_failure');
  assert.ok(alert, JSON.stringify(r.alerts.map((a) => a.type)));
  assert.ok(['critical', 'emergency'].includes(alert.level));
  assert.match(alert.message, /GC failure/);
  assert.ok(r.active.includes('gc_failure'));
});

test('an emergency cleanup during a leak keeps the flag, the trend window and the trace', { timeout: 90_000 }, async () => {
  const run = await runNode([CHILD, 'cleanup'], { timeoutMs: 80_000 });
  const r = resultOf(run);
  assert.ok(r.flaggedAt !== null, describeRun(run));
  assert.ok(r.actions.some((a) => a.name === 'clear_memory_snapshots' && a.success), JSON.stringify(r.actions));
  assert.equal(r.after.leak.leakSuspected, true);
  assert.equal(r.after.trend.leakSuspected, true);
  assert.ok(r.after.leak.confidence >= 70, String(r.after.leak.confidence));
  // The run is shorter than the kept window (5 min at least): nothing of it is dropped.
  assert.ok(r.after.trend.samples >= r.before.trend.samples, `${r.before.trend.samples} -> ${r.after.trend.samples}`);
  assert.ok(r.after.trend.timeWindowMs >= r.before.trend.timeWindowMs);
  assert.ok(r.trace.samples >= r.before.traceSamples, `${r.before.traceSamples} -> ${r.trace.samples}`);
  // The exported trace covers the leak from before it began (3 s after start) to now.
  assert.ok(r.trace.first <= r.t0 + 3_000 && r.trace.last >= r.flaggedAt, JSON.stringify({ t0: r.t0, flaggedAt: r.flaggedAt, trace: r.trace }));
  assert.ok(r.trace.gc > 0);
});

test('traces from another tool (no after-GC readings): same verdicts, marked approximate, unconfirmed growth explained', { timeout: 90_000 }, async () => {
  const FOREIGN = path.join(SUPPORT, 'foreign-trace-child.js');
  const env = { SECONDS_TO_RUN: '30' };
  const [leakRun, benignRun] = await Promise.all([runNode([FOREIGN, 'leak'], { env, timeoutMs: 60_000 }), runNode([FOREIGN, 'benign'], { env, timeoutMs: 60_000 })]);
  const leaky = JSON.parse(leakRun.stdout);
  const benign = JSON.parse(benignRun.stdout);
  assert.ok(leaky.gc.every((g) => g.heapAfter === undefined && g.oldGenerationAfter === undefined));
  const a = analyzeTrace(leaky, { memoryLimitMb: 512 });
  assert.equal(a.leak.leakSuspected, true, JSON.stringify({ notes: a.notes, heap: a.leak.heap }));
  assert.equal(a.approximate, true);
  assert.match(a.notes[0], /^approximate: .*first sample after each of \d+ full collections/);
  const b = analyzeTrace(benign, { memoryLimitMb: 512 });
  assert.equal(b.leak.leakSuspected, false, JSON.stringify(b.timeline));
  assert.ok(b.leak.confidence < 50);
  // Without any full collection the growth cannot be confirmed, and the result says why.
  const noGc = analyzeTrace({ samples: leaky.samples, gc: [] }, { memoryLimitMb: 512 });
  assert.equal(noGc.leak.leakSuspected, false);
  assert.equal(noGc.approximate, false);
  assert.ok(noGc.notes.some((n) => /^growth not confirmed: the heap rose .* no full collection/.test(n)), JSON.stringify(noGc.notes));
  // The CLI prints the notes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-foreign-'));
  const file = path.join(dir, 'trace.json');
  fs.writeFileSync(file, JSON.stringify({ samples: leaky.samples, gc: [] }));
  const cli = await runNode([path.join(ROOT, 'bin', 'memory.js'), 'analyze', file, '--memory-limit-mb', '512']);
  assert.match(cli.stdout, /note: growth not confirmed: the heap rose/);
  fs.rmSync(dir, { recursive: true });
});

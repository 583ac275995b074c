'use strict';
// Pure helpers of the benchmarks: the 95 % interval of a mean (Student's t), the
// perf call-graph parser that charges a server's CPU samples to categories
// (bench:attribution, MEASURE=profile), the callgrind dump's totals, the exact
// request count of a counted window and the robust shift between two samples
// (MEASURE=instructions).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT } = require('./support/child');

const http = require('node:http');
const { meanCi95, seededRandom, shuffle, callgrindTotals, drive, shiftCi95, percentShift, mannWhitneyCdf, signedRankCdf, pairedShiftCi95 } = require(path.join(ROOT, 'bench', 'support'));
const { categorize, stackCounter, CATEGORY_NAMES } = require(path.join(ROOT, 'bench', 'perf-profile'));

test('meanCi95 uses Student t for small samples and the normal beyond 31', () => {
  // n = 3: sd 1, t(2) = 4.303.
  const a = meanCi95([1, 2, 3]);
  assert.equal(a.mean, 2);
  assert.ok(Math.abs(a.ci - 4.303 / Math.sqrt(3)) < 1e-9);
  // n = 2: t(1) = 12.706, sd = 1/sqrt(2).
  assert.ok(Math.abs(meanCi95([1, 2]).ci - 12.706 * (Math.SQRT1_2 / Math.SQRT2)) < 1e-9);
  // n = 40: 1.96.
  const xs = Array.from({ length: 40 }, (_, i) => i % 2);
  const sd = Math.sqrt((40 * 0.25) / 39);
  assert.ok(Math.abs(meanCi95(xs).ci - (1.96 * sd) / Math.sqrt(40)) < 1e-9);
  // One value: no interval.
  assert.ok(Number.isNaN(meanCi95([5]).ci));
  assert.equal(meanCi95([7, 7, 7]).ci, 0);
});

test('meanCi95 covers the true mean of normal samples about 95 % of the time (n = 5)', () => {
  const rnd = seededRandom('meanCi95');
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  let covered = 0;
  const trials = 4000;
  for (let t = 0; t < trials; t++) {
    const { mean, ci } = meanCi95(Array.from({ length: 5 }, () => 10 + 3 * normal()));
    if (Math.abs(mean - 10) <= ci) covered++;
  }
  // The normal's 1.96 would cover ~88 % at n = 5; t(4) = 2.776 covers 95 %.
  assert.ok(covered / trials > 0.93 && covered / trials < 0.97, `covered ${covered / trials}`);
});

test('shuffle returns a permutation of its input, each order about equally often', () => {
  const rnd = seededRandom('shuffle');
  const seen = new Map();
  const trials = 6000;
  for (let t = 0; t < trials; t++) {
    const items = ['a', 'b', 'c'];
    const out = shuffle(items, rnd);
    assert.equal(out, items, 'in place');
    assert.deepEqual([...out].sort(), ['a', 'b', 'c']);
    seen.set(out.join(''), (seen.get(out.join('')) || 0) + 1);
  }
  assert.equal(seen.size, 6);
  for (const [order, n] of seen) assert.ok(Math.abs(n - trials / 6) < trials / 6 / 5, `${order}: ${n}`);
  assert.deepEqual(shuffle([]), []);
  assert.deepEqual(shuffle([1]), [1]);
});

const frame = (sym, dso = '/usr/bin/node') => ({ sym, dso });

test('categorize: the inspector before the sampler before GC, the kernel by its leaf, the rest is the app', () => {
  // The forced GC of a profile read runs under the inspector's dispatch: a read.
  assert.equal(categorize([frame('v8::internal::Heap::CollectAllGarbage'), frame('v8::internal::SamplingHeapProfiler::GetAllocationProfile'), frame('v8_inspector::V8HeapProfilerAgentImpl::getSamplingProfile')]), 'read');
  assert.equal(categorize([frame('Builtins_JsonParse'), frame('JS:*onMessage node:inspector:58:3', '/tmp/perf-1.map')]), 'read');
  // A sample's stack walk, and its weak callback inside a scavenge: the sampler.
  assert.equal(categorize([frame('malloc', '/usr/lib/libc.so.6'), frame('v8::internal::SamplingHeapProfiler::AddStack'), frame('v8::internal::Runtime_AllocateInYoungGeneration')]), 'sampler');
  assert.equal(categorize([frame('v8::internal::SamplingHeapProfiler::OnWeakCallback'), frame('v8::internal::Heap::Scavenge')]), 'sampler');
  assert.equal(categorize([frame('v8::internal::MainAllocator::AllocateRawSlow'), frame('v8::internal::Runtime_AllocateInYoungGeneration'), frame('JS:*sessionsRoute app.js:1:1', '/tmp/perf-1.map')]), 'slow-path allocation');
  assert.equal(categorize([frame('v8::internal::Scavenger::Process'), frame('v8::internal::ScavengerCollector::JobTask::Run')]), 'gc');
  // Node 20's GCProfiler callbacks, as perf shows them.
  assert.equal(categorize([frame('node::v8_utils::SetHeapStatistics'), frame('node::v8_utils::BeforeGCCallback'), frame('v8::internal::Heap::CallGCPrologueCallbacks'), frame('v8::internal::Heap::CollectGarbage')]), 'rate measure');
  assert.equal(categorize([frame('node::v8_utils::GCProfiler::Stop')]), 'rate measure');
  assert.equal(categorize([frame('v8::internal::ConcurrentMarking::RunMajor')]), 'gc');
  assert.equal(categorize([frame('_raw_spin_unlock_irqrestore', '[kernel.kallsyms]'), frame('__libc_send', '/usr/lib/libc.so.6')]), 'kernel');
  // A kernel frame below the leaf does not make it the kernel's.
  assert.equal(categorize([frame('Builtins_LoadIC'), frame('entry_SYSCALL_64', '[kernel.kallsyms]')]), 'app');
  assert.equal(categorize([]), 'app');
});

test('stackCounter parses perf script output: headers, frames with parentheses in names, blank lines', () => {
  const text = [
    'node 20704 ',
    '\t         150d10c Builtins_LoadIC_Megamorphic (/usr/bin/node)',
    '\t    7f96c8107db7 JS:*processTicksAndRejections node:internal/process/task_queues:67:35 (/tmp/perf-20704.map)',
    '\t          8df767 non-virtual thunk to node::Parser::OnStreamRead(long, uv_buf_t const&) (/usr/bin/node)',
    '',
    'node 20704 ',
    '\t          a1 v8::internal::SamplingHeapProfiler::SampleObject (/usr/bin/node)',
    '',
    '',
    'V8 DefaultWorke 20711 ',
    '\t          b2 v8::internal::ConcurrentMarking::RunMajor (/usr/bin/node)',
    'node 20704 ',
    '\tffffffff8100 _raw_spin_unlock_irqrestore ([kernel.kallsyms])',
  ];
  const c = stackCounter();
  for (const l of text) c.line(l);
  const counts = c.end();
  assert.deepEqual(Object.keys(counts).sort(), [...CATEGORY_NAMES, 'total'].sort());
  assert.equal(counts.total, 4);
  assert.equal(counts.app, 1);
  assert.equal(counts.sampler, 1);
  assert.equal(counts.gc, 1);
  assert.equal(counts.kernel, 1);
  assert.equal(counts.read, 0);
});

test('callgrindTotals reads the totals line by event name, the summary line without one', () => {
  const head = ['# callgrind format', 'version: 1', 'creator: callgrind-3.19.0', 'cmd:  node server.js', 'desc: LL cache: 33554432 B, 64 B, 16-way associative', 'positions: line', 'events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw'];
  // A dump has both; they may differ by the last few instructions, and totals wins.
  const dump = [...head, 'summary: 128721 28312 11769 1083 920 573 1065 783 547', '', 'fl=(1) x.c', 'fn=(1) main', '16 3 1 0', '', 'totals: 128719 28312 11769 1082 920 573 1064 783 547', ''].join('\n');
  assert.deepEqual(callgrindTotals(dump), { Ir: 128719, Dr: 28312, Dw: 11769, I1mr: 1082, D1mr: 920, D1mw: 573, ILmr: 1064, DLmr: 783, DLmw: 547 });
  assert.equal(callgrindTotals([...head, 'summary: 5 4 3 2 1 0 0 0 0'].join('\n')).Ir, 5);
  // Trailing zero events may be left out.
  assert.deepEqual(callgrindTotals('events: Ir I1mr D1mr\ntotals: 10 2\n'), { Ir: 10, I1mr: 2, D1mr: 0 });
  assert.throws(() => callgrindTotals(head.join('\n')), /no totals line/);
  assert.throws(() => callgrindTotals('totals: 1 2\n'), /no events line/);
  assert.throws(() => callgrindTotals('events: Ir\ntotals: 1 2\n'), /do not match/);
  assert.throws(() => callgrindTotals('events: Ir Dr\ntotals: 1 x\n'), /do not match/);
});

test('drive sends exactly the requests asked for over keep-alive, then stops; rejects when refused', async () => {
  let served = 0;
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((req, res) => {
    served++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    // Answer out of order, so that completions and new requests interleave.
    setTimeout(() => {
      open--;
      res.end('ok');
    }, served % 3);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    await drive(port, '/', 37).done;
    assert.equal(served, 37);
    assert.ok(maxOpen <= 4 && maxOpen >= 2, `at most 4 in flight, saw ${maxOpen}`);
    await drive(port, '/', 2).done;
    assert.equal(served, 39, 'fewer than 4: only those');
    await drive(port, '/', 0).done;
    assert.equal(served, 39);
    // Nothing more arrives after it resolved.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(served, 39);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(drive(port, '/', 3).done, /ECONNREFUSED/);
});

test('mannWhitneyCdf gives the exact null distribution: the tables\' two-sided 5 % critical values, symmetry, sum 1', () => {
  // Largest U with P(U <= u) <= 0.025, from published tables.
  const critical = (m, n) => {
    const cdf = mannWhitneyCdf(m, n);
    let u = -1;
    while (cdf[u + 1] <= 0.025) u++;
    return u;
  };
  assert.equal(critical(4, 4), 0);
  assert.equal(critical(5, 5), 2);
  assert.equal(critical(3, 7), 1);
  assert.equal(critical(8, 8), 13);
  assert.equal(critical(10, 10), 23);
  assert.equal(critical(20, 20), 127);
  assert.equal(critical(3, 4), -1);
  // P(U <= 0) = 1 / C(m + n, m).
  assert.ok(Math.abs(mannWhitneyCdf(3, 3)[0] - 1 / 20) < 1e-12);
  for (const [m, n] of [[2, 5], [6, 4], [7, 7]]) {
    const cdf = mannWhitneyCdf(m, n);
    assert.equal(cdf.length, m * n + 1);
    assert.ok(Math.abs(cdf[m * n] - 1) < 1e-12);
    const p = cdf.map((c, u) => c - (u ? cdf[u - 1] : 0));
    for (let u = 0; u <= m * n; u++) assert.ok(Math.abs(p[u] - p[m * n - u]) < 1e-12, `symmetric at ${u}`);
    assert.deepEqual(mannWhitneyCdf(n, m).map((c) => c.toFixed(12)), cdf.map((c) => c.toFixed(12)));
  }
});

test('shiftCi95: the median pairwise difference and its interval; one outlier barely moves it', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  const r = shiftCi95(xs, xs.map((x) => x + 1));
  assert.equal(r.shift, 1);
  // 8 + 8: k = 14, [d(14), d(51)] of the 64 differences.
  assert.deepEqual([r.lo, r.hi], [-2, 4]);
  assert.ok(r.confidence >= 0.95 && r.confidence < 0.951);
  // An outlier in xs moves the shift by at most one step of the differences.
  const outlier = shiftCi95([...xs.slice(0, 7), 1000], xs.map((x) => x + 1));
  assert.ok(Math.abs(outlier.shift - 1) <= 0.5, `shift ${outlier.shift}`);
  assert.ok(outlier.hi - outlier.lo < 8);
  const small = shiftCi95([1, 2, 3], [4, 5, 6, 7]);
  assert.equal(small.shift, 3.5);
  assert.ok(Number.isNaN(small.lo) && Number.isNaN(small.hi));
  assert.throws(() => shiftCi95([], [1]), /at least one value/);
  // Beyond 40 x 40 the normal approximation: still brackets the shift.
  const rnd = seededRandom('big');
  const big = shiftCi95(Array.from({ length: 50 }, () => rnd()), Array.from({ length: 50 }, () => rnd() + 0.5));
  assert.ok(big.lo < 0.5 && big.hi > 0.5 && big.lo > 0.2 && big.hi < 0.8, JSON.stringify(big));
});

test('shiftCi95 covers the true shift at least ~95 % of the time, outliers or not (8 + 8)', () => {
  const rnd = seededRandom('shift');
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  // Normal noise, and noise where one value in 8 is far out (a run with an extra GC).
  for (const noise of [normal, () => normal() + (rnd() < 1 / 8 ? 30 : 0)]) {
    let covered = 0;
    const trials = 1500;
    for (let t = 0; t < trials; t++) {
      const xs = Array.from({ length: 8 }, noise);
      const ys = Array.from({ length: 8 }, () => noise() + 2);
      const r = shiftCi95(xs, ys);
      if (r.lo <= 2 && 2 <= r.hi) covered++;
    }
    assert.ok(covered / trials > 0.93 && covered / trials < 0.975, `covered ${covered / trials}`);
  }
});

test('percentShift: a constant factor between counts comes back as that percentage, its interval around it', () => {
  const rnd = seededRandom('percent');
  // Counts of ~1,000,000 with 1 % noise; ys are 3 % larger.
  const xs = Array.from({ length: 12 }, () => 1e6 * (1 + 0.01 * (rnd() - 0.5)));
  const ys = xs.map((x) => x * 1.03);
  const r = percentShift(xs, ys);
  assert.ok(Math.abs(r.est - 3) < 1e-9, `est ${r.est}`);
  assert.ok(r.lo < 3 && r.hi > 3 && r.lo > 2 && r.hi < 4, JSON.stringify(r));
  // Smaller counts: a negative shift; too few values: no interval.
  const down = percentShift(xs, xs.map((x) => x * 0.95));
  assert.ok(Math.abs(down.est + 5) < 1e-9, `est ${down.est}`);
  const few = percentShift([10, 11], [12]);
  assert.ok(Number.isFinite(few.est) && Number.isNaN(few.lo) && Number.isNaN(few.hi));
});

test('signedRankCdf gives the exact null distribution: the tables\' two-sided 5 % critical values, symmetry, sum 1', () => {
  // Published critical values of T for a two-sided test at 0.05: the largest t with P(T <= t) <= 0.025.
  const critical = { 6: 0, 7: 2, 8: 3, 10: 8, 15: 25, 20: 52, 30: 137 };
  for (const [n, t] of Object.entries(critical)) {
    const cdf = signedRankCdf(Number(n));
    assert.equal(cdf.length, (n * (Number(n) + 1)) / 2 + 1);
    assert.ok(cdf[t] <= 0.025 && cdf[t + 1] > 0.025, `n ${n}: P(T <= ${t}) = ${cdf[t]}, P(T <= ${t + 1}) = ${cdf[t + 1]}`);
    assert.ok(Math.abs(cdf[cdf.length - 1] - 1) < 1e-12);
    // Symmetric: P(T <= t) = P(T >= N - t).
    const N = cdf.length - 1;
    for (let k = 0; k < N; k++) assert.ok(Math.abs(cdf[k] - (1 - cdf[N - k - 1])) < 1e-12);
  }
  // n = 3: subsets of {1, 2, 3} by sum 0..6 are 1, 1, 1, 2, 1, 1, 1 of 8.
  assert.deepEqual(signedRankCdf(3).map((p) => p * 8), [1, 2, 3, 5, 6, 7, 8]);
});

test('pairedShiftCi95: the median Walsh average and its interval; one slowed window barely moves it', () => {
  const r = pairedShiftCi95([1, 2, 3, 4, 5, 6, 7, 8]);
  // 8 pairs: k = 4, [w(4), w(33)] of the 36 Walsh averages.
  assert.deepEqual([r.shift, r.lo, r.hi], [4.5, 2, 7]);
  assert.ok(r.confidence >= 0.95 && r.confidence < 0.97);
  // 12 pairs: one difference 100 out moves the mean by 100 / 12; here the estimate not
  // at all and the interval by 1.5 (at 12 pairs the 13 highest averages are cut, the
  // outlier is in 12 of them).
  const twelve = Array.from({ length: 12 }, (_, i) => i + 1);
  assert.deepEqual(Object.values(pairedShiftCi95(twelve)).slice(0, 3), [6.5, 4, 9]);
  const out = pairedShiftCi95([...twelve.slice(0, 11), 112]);
  assert.deepEqual([out.shift, out.lo, out.hi], [6.5, 4, 10.5]);
  const few = pairedShiftCi95([1, 2, 3, 4, 5]);
  assert.equal(few.shift, 3);
  assert.ok(Number.isNaN(few.lo) && Number.isNaN(few.hi));
  assert.throws(() => pairedShiftCi95([]), /at least one difference/);
  // Beyond 60 pairs the normal approximation: still brackets the centre.
  const rnd = seededRandom('paired-big');
  const big = pairedShiftCi95(Array.from({ length: 80 }, () => rnd() - 0.5 + 0.3));
  assert.ok(big.lo < 0.3 && big.hi > 0.3 && big.lo > 0.15 && big.hi < 0.45, JSON.stringify(big));
});

test('pairedShiftCi95 covers the true centre at least ~95 % of the time, normal or heavy-tailed (12 pairs)', () => {
  const rnd = seededRandom('paired');
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  // Normal noise, and symmetric noise where one value in 8 is far out on either side.
  for (const noise of [normal, () => normal() + (rnd() < 1 / 8 ? (rnd() < 0.5 ? -30 : 30) : 0)]) {
    let covered = 0;
    const trials = 1500;
    for (let t = 0; t < trials; t++) {
      const r = pairedShiftCi95(Array.from({ length: 12 }, () => noise() + 2));
      if (r.lo <= 2 && 2 <= r.hi) covered++;
    }
    assert.ok(covered / trials > 0.93 && covered / trials < 0.98, `covered ${covered / trials}`);
  }
});

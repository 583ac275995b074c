'use strict';
// Pure helpers of the benchmarks: the 95 % interval of a mean (Student's t) and the
// perf call-graph parser that charges a server's CPU samples to categories
// (bench:attribution, MEASURE=profile).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT } = require('./support/child');

const { meanCi95, seededRandom, shuffle } = require(path.join(ROOT, 'bench', 'support'));
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

'use strict';
// npm run bench:gc — what observing every GC costs, per source, under heavy churn.
//
// Each round runs three child processes one after another (order rotated per round):
// the same allocation-heavy loop with no GC observation, with PerformanceObserver('gc')
// as memwarden uses it (kind, flags and duration of every collection; heap figures read
// after full ones), and with v8.GCProfiler (before/after heap statistics of every
// collection, collected by restarting the profiler every 250 ms). It prints the work
// done per second and each source's throughput relative to none.
const { execFileSync } = require('node:child_process');
const { median } = require('./support');

const ROUNDS = Number(process.env.ROUNDS || 5);
const SECONDS = Number(process.env.SECONDS || 4);

const CHILD = `
const v8 = require('node:v8');
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const mode = process.argv[1];
const seconds = Number(process.argv[2]);
let collections = 0;
if (mode === 'observer') {
  const young = new Set(['new_space', 'new_large_object_space']);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      collections++;
      if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        let old = 0;
        for (const s of v8.getHeapSpaceStatistics()) if (!young.has(s.space_name)) old += s.space_used_size;
        process.memoryUsage();
      }
    }
  }).observe({ entryTypes: ['gc'] });
} else if (mode === 'profiler') {
  let p = new v8.GCProfiler();
  p.start();
  setInterval(() => {
    collections += p.stop().statistics.length;
    p = new v8.GCProfiler();
    p.start();
  }, 250).unref();
}
const keep = [];
let ops = 0;
const end = performance.now() + seconds * 1000;
(function work() {
  const stop = performance.now() + 20;
  while (performance.now() < stop) {
    const o = [];
    for (let i = 0; i < 100; i++) o.push({ a: i, b: 'x' + i });
    keep.push(o);
    if (keep.length > 200) keep.shift();
    ops++;
  }
  if (performance.now() < end) setImmediate(work);
  else console.log(JSON.stringify({ opsPerSec: ops / seconds, collections }));
})();
`;

function run(mode) {
  const out = execFileSync(process.execPath, ['--max-old-space-size=384', '-e', CHILD, mode, String(SECONDS)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

const modes = ['none', 'observer', 'profiler'];
const results = { none: [], observer: [], profiler: [] };
console.log(`GC observation cost: ${ROUNDS} rounds x ${SECONDS} s per source, churn loop, --max-old-space-size=384`);
for (let r = 0; r < ROUNDS; r++) {
  const order = modes.slice(r % 3).concat(modes.slice(0, r % 3));
  const row = {};
  for (const m of order) row[m] = run(m);
  for (const m of modes) results[m].push(row[m]);
  console.log(`round ${r + 1}: ${modes.map((m) => `${m} ${(row[m].opsPerSec / 1000).toFixed(1)}k ops/s (${row[m].collections} GCs seen)`).join(', ')}`);
}
// Ratios are taken per round (same machine state), then the median.
const ratio = (m) => median(results[m].map((x, i) => x.opsPerSec / results.none[i].opsPerSec));
console.log('\nsource               throughput vs none (median of per-round ratios)');
console.log(`PerformanceObserver  ${ratio('observer').toFixed(3)}`);
console.log(`v8.GCProfiler        ${ratio('profiler').toFixed(3)}`);

'use strict';
// Where a server's CPU goes, from Linux perf's call-graph samples (`perf script`
// output): each sample (one stack, every thread of the process) is charged to one
// category by what its stack holds, so that the CPU an attribution's own code takes
// can be counted directly instead of being read off throughput ratios, whose noise on a
// shared machine (±2–3 % from one 30 s window to the next) is larger than the 1 % at
// stake. Used by bench/attribution-cost.js (MEASURE=profile); pure functions, tested
// in __test__/bench-perf-profile.test.js.

/**
 * The categories, first match wins, tested against every frame of a stack:
 * - read: the inspector's work (v8_inspector, Node's inspector bindings and its JS):
 *   HeapProfiler.getSamplingProfile and the full GC it forces on the JS thread, the
 *   profile's serialization and Node's parse of it, startSampling, disable (and, in
 *   every arm, the leak detector's confirmation collections, which go through the
 *   inspector when Node runs without --expose-gc);
 * - sampler: V8's sampling heap profiler (a sample's stack walk and bookkeeping, and
 *   its weak callbacks when a sampled object dies);
 * - slow-path allocation: allocations that left JIT code for the runtime (the sampler
 *   lowers the allocation limit to its next sample, so there are more of them; there
 *   are some without it, so its share is compared between arms);
 * - rate measure: Node's v8.GCProfiler (its callbacks around each collection, which
 *   an 'auto' interval's 2 s allocation-rate measurement runs; before gc, as they run
 *   inside collections);
 * - gc: V8's collectors on any thread (scavenges, marking, sweeping, compaction);
 * - kernel: the rest of the samples whose leaf is in the kernel (sockets, scheduler);
 * - app: everything else (JIT code, builtins, Node, libuv, libc).
 */
const CATEGORIES = [
  { name: 'read', re: /v8_inspector::|node::inspector::|node:inspector/ },
  { name: 'sampler', re: /SamplingHeapProfiler/ },
  { name: 'slow-path allocation', re: /Runtime_Allocate(?:In(?:Young|Old)Generation|Raw)/ },
  { name: 'rate measure', re: /GCProfiler|node::v8_utils::(?:Before|After)GCCallback/ },
  { name: 'gc', re: /v8::internal::(?:Heap::|Scaveng|ConcurrentMarking|MarkCompact|MinorMarkCompact|MinorMarkSweep|Sweeper|IncrementalMarking|MarkingBarrier|GlobalHandles|Evacuat|RememberedSet)/ },
];
const CATEGORY_NAMES = [...CATEGORIES.map((c) => c.name), 'kernel', 'app'];

/** The category of one stack: `frames` are { sym, dso }, leaf first. */
function categorize(frames) {
  for (const c of CATEGORIES) if (frames.some((f) => c.re.test(f.sym))) return c.name;
  if (frames.length > 0 && /kernel/.test(frames[0].dso)) return 'kernel';
  return 'app';
}

/**
 * A line-by-line parser of `perf script -F comm,tid,ip,sym,dso` output: a sample is a
 * header line (comm and tid) then one line per frame, `<ip> <symbol> (<dso>)`, then a
 * blank line. Returns { line(text), end() -> counts }, counts by category plus `total`.
 */
function stackCounter() {
  const counts = Object.fromEntries([...CATEGORY_NAMES, 'total'].map((n) => [n, 0]));
  let frames = null;
  const flush = () => {
    if (frames === null) return;
    counts[categorize(frames)]++;
    counts.total++;
    frames = null;
  };
  return {
    line(text) {
      if (text.trim() === '') return flush();
      const m = /^\s+[0-9a-f]+\s+(.*?)\s+\(([^()]*)\)\s*$/.exec(text);
      if (m && frames !== null) frames.push({ sym: m[1], dso: m[2] });
      else if (!/^\s/.test(text)) {
        flush();
        frames = [];
      }
    },
    end() {
      flush();
      return counts;
    },
  };
}

module.exports = { CATEGORIES, CATEGORY_NAMES, categorize, stackCounter };

'use strict';
// JS-thread time per heap sample, this tree against another (by default the tree at
// /work/baseline, or BENCH_BASELINE_ROOT), measured side by side in one run.
//
// Each round starts three fresh processes in turn: bare Node (the idle floor), this
// tree and the other tree, each with a 100 ms interval and a full 240-sample history.
// Over a quiet window it reads the main thread's CPU time from
// /proc/self/task/<pid>/schedstat and counts the heap samples taken (trace entries).
// Per-sample cost = (CPU − bare CPU) / samples: everything memwarden makes the JS
// thread do per sample (reading V8's figures, handing them over, events, snapshot).
//
//   node bench/sample-cost.js            (BENCH_ROUNDS=5, BENCH_WINDOW_MS=5000)
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { median, childEnv, envInteger } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const OTHER = process.env.BENCH_BASELINE_ROOT || '/work/baseline';
const ROUNDS = envInteger('BENCH_ROUNDS', 5, 1, 100);
const WINDOW_MS = envInteger('BENCH_WINDOW_MS', 5000, 1000, 600_000);
const WARMUP_MS = 26_000;

function measure(root) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'sample-cost-child.js'), root, String(WINDOW_MS), String(WARMUP_MS)], {
    env: childEnv({ NODE_ENV: 'production' }),
    encoding: 'utf8',
    timeout: WARMUP_MS + WINDOW_MS + 60_000,
  });
  const line = (r.stdout || '').trim().split('\n').pop();
  if (r.status !== 0 || !line) throw new Error(`child for ${root} failed (status ${r.status}): ${r.stderr}`);
  return JSON.parse(line);
}

const rows = { bare: [], here: [], other: [] };
for (let i = 0; i < ROUNDS; i++) {
  const bare = measure('none');
  const here = measure(ROOT);
  const other = measure(OTHER);
  const perSample = (x) => (x.cpuNs - bare.cpuNs) / x.samples / 1000;
  rows.bare.push(bare.cpuNs / 1000);
  rows.here.push(perSample(here));
  rows.other.push(perSample(other));
  console.log(
    `round ${i + 1}: bare ${(bare.cpuNs / 1e6).toFixed(2)} ms CPU; this tree ${perSample(here).toFixed(1)} µs/sample (${here.samples} samples); ${OTHER} ${perSample(other).toFixed(1)} µs/sample (${other.samples} samples)`,
  );
}
const h = median(rows.here);
const o = median(rows.other);
console.log(`JS-thread time per heap sample, median of ${ROUNDS} rounds (window ${WINDOW_MS} ms, interval 100 ms, history 240):`);
console.log(`  this tree (${ROOT}): ${h.toFixed(1)} µs`);
console.log(`  other tree (${OTHER}): ${o.toFixed(1)} µs`);
console.log(`  ratio this/other: ${(h / o).toFixed(3)}`);

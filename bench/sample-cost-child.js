'use strict';
// Child of bench/sample-cost.js: starts memwarden from the tree given as argv[2] with
// a 100 ms interval and a full history, then measures this process's main (JS)
// thread CPU time over a window with nothing else to do, and how many heap samples
// the window held. Prints one JSON line.
const fs = require('node:fs');

const root = process.argv[2];
const windowMs = Number(process.argv[3]);
const warmupMs = Number(process.argv[4]);
const useMemwarden = root !== 'none';
const INTERVAL_MS = 100;

/** CPU time of the main thread (ns), from the scheduler's own accounting. */
function mainThreadCpuNs() {
  return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  let m = null;
  if (useMemwarden) {
    const { MemoryManagerService } = require(root);
    m = MemoryManagerService.getInstance();
    await m.initialize({ monitoringIntervalMs: INTERVAL_MS, historySize: 240 });
  }
  // Fill the history (240 samples) so the per-sample work is what a long-running process pays.
  await sleep(warmupMs);
  // The trace is read outside the window (exporting it costs far more than a sample).
  const trace0 = m ? m.exportTrace().samples.length : 0;
  const cpu0 = mainThreadCpuNs();
  const t0 = process.hrtime.bigint();
  await sleep(windowMs);
  const cpu1 = mainThreadCpuNs();
  const t1 = process.hrtime.bigint();
  const trace1 = m ? m.exportTrace().samples.length : 0;
  process.stdout.write(`${JSON.stringify({ cpuNs: cpu1 - cpu0, wallNs: Number(t1 - t0), samples: trace1 - trace0 })}\n`);
  if (m) await m.shutdown();
  process.exit(0);
})();

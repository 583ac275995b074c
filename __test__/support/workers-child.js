'use strict';
// Fixture: 4 worker threads each initialize their own manager
// (MEMORY_MONITORING_INTERVAL=250 through the worker's env option) and report;
// their sampler threads are counted while they run and after worker.terminate().
// The main thread never initializes a manager, and the script just ends.

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { emitResult, waitFor, canCountThreads, countSamplerThreads, runMain } = require('./child');

const WORKERS = 4;

async function main() {
  const workers = [];
  const reports = [];
  for (let i = 0; i < WORKERS; i++) {
    const w = new Worker(path.join(__dirname, 'worker-child.js'), {
      env: { ...process.env, MEMORY_MONITORING_INTERVAL: '250' },
    });
    workers.push(w);
    reports.push(
      new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }),
    );
  }
  const out = { reports: await Promise.all(reports), canCountThreads };
  if (canCountThreads) {
    // Each running worker has its sampler thread; the thread names itself once it
    // runs, so poll.
    out.whileRunning = await waitFor(
      () => {
        const n = countSamplerThreads();
        return n >= WORKERS ? n : 0;
      },
      { timeoutMs: 5_000, what: `${WORKERS} sampler threads` },
    ).catch(() => countSamplerThreads());
  }
  out.exitCodes = await Promise.all(workers.map((w) => w.terminate()));
  if (canCountThreads) {
    out.afterTerminate = await waitFor(() => countSamplerThreads() === 0, {
      timeoutMs: 5_000,
      what: 'no sampler threads',
    })
      .then(() => 0)
      .catch(() => countSamplerThreads());
  }
  emitResult(out);
}

runMain(main);

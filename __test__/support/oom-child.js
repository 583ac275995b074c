'use strict';
// Fixture for limit.test.js: a process that leaks until it dies. Garbage churn plus a
// steady live-set leak (`LEAK_KB_PER_SEC`, default 2048) in the V8 heap (`heap`, run it
// with --max-old-space-size) or in Buffers (`resident`, run it with MEMORY_LIMIT_MB).
// Prints one JSON line a second: { t, report } with the leak report's time-to-limit
// figures, until the process dies (V8's abort, or the parent's kill at the limit).
const path = require('node:path');
const { MemoryManagerService } = require(path.join(__dirname, '..', '..'));

const mode = process.argv[2] || 'heap';
const rate = Number(process.env.LEAK_KB_PER_SEC || 2048) * 1024;
const quiet = { info() {}, warn() {}, error() {} };
const kept = [];
const inFlight = [];
let n = 0;

function churn() {
  const batch = [];
  for (let i = 0; i < 10; i++) batch.push({ i: n++, s: `request ${n} `.repeat(20), list: [1, 2, 3, 4] });
  inFlight.push(batch);
  if (inFlight.length > 20) inFlight.shift();
}

let last = Date.now();
let owed = 0;
function leak() {
  const now = Date.now();
  owed += (rate * (now - last)) / 1000;
  last = now;
  while (owed >= 4096) {
    owed -= 4096;
    if (mode === 'heap') kept.push(Buffer.alloc(2040, 97 + (n++ % 26)).toString('latin1') + n);
    else kept.push(Buffer.alloc(4096, n++ % 256));
  }
}

async function main() {
  const m = MemoryManagerService.getInstance();
  await m.initialize({ monitoringIntervalMs: Number(process.env.INTERVAL_MS || 500), logger: quiet, leakAttribution: false });
  setInterval(() => {
    churn();
    leak();
  }, 10);
  setInterval(() => {
    const r = m.getLeakDetection();
    const line = { t: Date.now(), leakSuspected: r.leakSuspected, minutesToLimit: r.minutesToLimit, minutesToHeapLimit: r.minutesToHeapLimit, timeToLimit: r.timeToLimit, heap: { current: r.heap.currentBytes, slope: r.heap.slopeBytesPerSec, low: r.heap.slopeLowBytesPerSec, high: r.heap.slopeHighBytesPerSec }, rss: process.memoryUsage.rss() };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }, 1000);
}
main();

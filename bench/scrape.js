'use strict';
// npm run bench:scrape — what a Prometheus scrape of memwarden's metrics costs, next
// to prom-client's own default metrics, early in a process's life (history nearly
// empty) and once the history is full.
//
// In one process, per phase: ROUNDS rounds, each timing SCRAPES scrapes of (order
// rotated per round)
//   default  a prom-client Registry with collectDefaultMetrics() (the reference)
//   prom     a prom-client Registry with collectMemwardenMetrics() only
//   text     the plain-text route's builder (what GET /api/memory/metrics?format=prometheus
//            runs inside the router: the families from the cached snapshot, rendered)
// and prints µs per scrape (medians over rounds) and the median of the per-round
// ratios to `default` (target <= 1.0). A scrape reads the cached health report; the
// first read after a new sample rebuilds it (paid once per sample by whichever reader
// comes first: a scrape, /health, the JSON /metrics): the "first scrape after a new
// sample" columns wait out a sampling interval before each timed scrape (FRESH per
// subject, medians).
//
// Settings (environment): ROUNDS (default 20), SCRAPES (per round, default 200),
// HISTORY (samples kept, default 240, the default historySize), INTERVAL_MS (sampling
// interval, default 100), FRESH (first-after-a-sample scrapes per subject, default 15).
const { performance } = require('node:perf_hooks');
const path = require('node:path');
const { median, envInteger } = require('./support');

const ROUNDS = envInteger('ROUNDS', 20, 3, 1000);
const SCRAPES = envInteger('SCRAPES', 200, 10, 100_000);
const HISTORY = envInteger('HISTORY', 240, 16, 100_000);
const INTERVAL_MS = envInteger('INTERVAL_MS', 100, 100, 60_000);
const FRESH = envInteger('FRESH', 15, 3, 1000);

const ROOT = path.join(__dirname, '..');
const memwarden = require(ROOT);
const { textExposition } = require(path.join(ROOT, 'lib', 'metrics', 'exposition'));
let client;
try {
  client = require('prom-client');
} catch {
  console.error('bench:scrape needs prom-client (a devDependency): npm install');
  process.exit(1);
}

const quiet = { info() {}, warn() {}, error() {} };

async function timeScrapes(scrape) {
  const t0 = performance.now();
  for (let i = 0; i < SCRAPES; i++) await scrape();
  return ((performance.now() - t0) * 1000) / SCRAPES;
}

async function phase(label, manager, subjects) {
  const perRound = { default: [], prom: [], text: [] };
  const ratios = { prom: [], text: [] };
  const names = Object.keys(subjects);
  let bytes = {};
  for (const name of names) bytes[name] = String(await subjects[name]()).length; // warm-up and output size
  for (const name of names) await timeScrapes(subjects[name]);
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const us = {};
    for (const name of order) us[name] = await timeScrapes(subjects[name]);
    for (const name of names) perRound[name].push(us[name]);
    ratios.prom.push(us.prom / us.default);
    ratios.text.push(us.text / us.default);
  }
  const samples = manager.exportTrace().samples.length;
  // First scrape after a new sample: wait out a sampling interval, then time one scrape
  // (it rebuilds the report unless another reader did first). FRESH per subject, rotated.
  const fresh = { default: [], prom: [], text: [] };
  for (let k = 0; k < FRESH; k++) {
    for (const name of names.map((_, i) => names[(i + k) % names.length])) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS + 20));
      const t0 = performance.now();
      await subjects[name]();
      fresh[name].push((performance.now() - t0) * 1000);
    }
  }
  return {
    label,
    samples,
    defaultUs: median(perRound.default),
    promUs: median(perRound.prom),
    textUs: median(perRound.text),
    promRatio: median(ratios.prom),
    textRatio: median(ratios.text),
    freshUs: { default: median(fresh.default), prom: median(fresh.prom), text: median(fresh.text) },
    bytes,
  };
}

async function main() {
  const manager = memwarden.MemoryManagerService.getInstance();
  await manager.initialize({ monitoringIntervalMs: INTERVAL_MS, historySize: HISTORY, memoryLimitMb: 512, logger: quiet, leakAttribution: false, proactiveGc: false, proactiveCleanup: false });
  const defaults = new client.Registry();
  client.collectDefaultMetrics({ register: defaults });
  const mine = new client.Registry();
  memwarden.collectMemwardenMetrics({ register: mine, manager });
  const route = textExposition({ manager });
  const subjects = {
    default: () => defaults.metrics(),
    prom: () => mine.metrics(),
    text: () => route().text,
  };
  // The same series in both phases: garbage for a while (every GC kind shows up in the
  // GC histogram), then cleanups (the counters get their series, and the built-in
  // clear_memory_snapshots empties the history), then the empty phase.
  route();
  const garbage = [];
  const until = Date.now() + 2000;
  while (Date.now() < until) {
    garbage.push(Array.from({ length: 1000 }, (_, i) => ({ i, s: `x${i}` })));
    if (garbage.length > 2000) garbage.length = 0;
    if (garbage.length % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  garbage.length = 0;
  for (let i = 0; i < 3; i++) await manager.performEmergencyCleanup({ force: true, reason: 'bench' });
  const rows = [];
  rows.push(await phase('empty', manager, subjects));
  const fillMs = HISTORY * INTERVAL_MS + 2000;
  process.stderr.write(`filling the history: ${HISTORY} samples at ${INTERVAL_MS} ms (${(fillMs / 1000).toFixed(0)} s)...\n`);
  const churn = [];
  const work = setInterval(() => {
    churn.push(Array.from({ length: 500 }, (_, i) => ({ i })));
    if (churn.length > 20) churn.shift();
  }, 20);
  await new Promise((r) => setTimeout(r, fillMs));
  clearInterval(work);
  rows.push(await phase('full', manager, subjects));
  await manager.shutdown();

  console.log(`node ${process.version}, prom-client ${require('prom-client/package.json').version}; ${ROUNDS} rounds x ${SCRAPES} scrapes per subject; medians`);
  console.log('                     every scrape (cached report)                          first scrape after a new sample');
  console.log('history  samples  default µs  prom µs  text µs  prom/default  text/default  default µs  prom µs  text µs  prom/default  text/default  bytes (default/prom/text)');
  for (const r of rows) {
    console.log(
      [
        r.label.padEnd(7),
        String(r.samples).padStart(7),
        r.defaultUs.toFixed(1).padStart(10),
        r.promUs.toFixed(1).padStart(7),
        r.textUs.toFixed(1).padStart(7),
        r.promRatio.toFixed(3).padStart(12),
        r.textRatio.toFixed(3).padStart(12),
        r.freshUs.default.toFixed(1).padStart(10),
        r.freshUs.prom.toFixed(1).padStart(7),
        r.freshUs.text.toFixed(1).padStart(7),
        (r.freshUs.prom / r.freshUs.default).toFixed(3).padStart(12),
        (r.freshUs.text / r.freshUs.default).toFixed(3).padStart(12),
        `  ${r.bytes.default}/${r.bytes.prom}/${r.bytes.text}`,
      ].join('  '),
    );
  }
  const [a, b] = rows;
  console.log(`full/empty: prom ${(b.promUs / a.promUs).toFixed(2)}, text ${(b.textUs / a.textUs).toFixed(2)}; after a new sample: prom ${(b.freshUs.prom / a.freshUs.prom).toFixed(2)}, text ${(b.freshUs.text / a.freshUs.text).toFixed(2)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

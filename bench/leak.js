'use strict';
// npm run bench:leak — leak detection on real Node processes.
//
// Each scenario (bench/leak/workload.js) runs in its own process with
// --max-old-space-size=384, MEMORY_MONITORING_INTERVAL=250 and MEMORY_LIMIT_MB=512,
// ~25 MB/s of server-like garbage churn, a warm-up, then its benign or leaking
// pattern. The table says whether and when trend.leakSuspected turned true
// (seconds after the pattern started) and when it cleared.
//
//   node bench/leak.js [--only a,b] [--warmup S] [--duration S] [--parallel N] [--traces DIR]
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1];
};
const ALL = ['sawtooth', 'cache', 'step', 'bursty', 'buffer-churn', 'heap-leak', 'slow-leak', 'buffer-leak', 'listener-leak', 'leak-fixed'];
const only = opt('only', null);
const scenarios = only ? only.split(',') : ALL;
const warmup = Number(opt('warmup', 20));
const duration = Number(opt('duration', 90));
const parallel = Number(opt('parallel', 2));
const traces = opt('traces', null);
if (traces) fs.mkdirSync(traces, { recursive: true });

function run(scenario) {
  return new Promise((resolve) => {
    const argv = ['--max-old-space-size=384', path.join(__dirname, 'leak', 'workload.js'), scenario, '--warmup', String(warmup), '--duration', String(duration)];
    if (traces) argv.push('--trace', path.join(traces, `${scenario}.json`));
    const env = { ...process.env, MEMORY_MONITORING_INTERVAL: '250', MEMORY_LIMIT_MB: '512' };
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"summary"'));
      resolve(line ? JSON.parse(line).summary : { scenario, error: `exit ${code}` });
    });
  });
}

function fmt(x) {
  return x === null || x === undefined ? '-' : x.toFixed(1);
}

function verdict(s) {
  // Flags raised during the warm-up (before the pattern starts) are counted apart: a
  // warm-up that fills caches or sessions may be flagged, but must have cleared by t=0.
  const warmupFlags = s.changes.filter((c) => c.leakSuspected && c.t < 0).length;
  const before = s.changes.filter((c) => c.t < 0);
  const flaggedAtStart = before.length > 0 && before[before.length - 1].leakSuspected;
  const flags = s.changes.filter((c) => c.leakSuspected && c.t >= 0);
  const first = flags[0] ? flags[0].t : null;
  const lastChange = s.changes[s.changes.length - 1];
  const endsFlagged = s.final.leakSuspected;
  const clears = s.changes.filter((c) => !c.leakSuspected);
  const row = {
    scenario: s.scenario,
    kind: s.leak ? 'leak' : 'benign',
    warmupFlags,
    flaggedAtStart,
    flags: flags.length,
    firstFlag: first,
    cleared: clears.length ? clears[clears.length - 1].t : null,
    endsFlagged,
    confidence: s.final.confidence,
    majors: s.gc.major,
    confirmations: s.confirmations,
  };
  if (s.scenario === 'leak-fixed') {
    const cleared = clears.find((c) => c.t >= s.fixAt);
    row.clearAfterFix = cleared ? cleared.t - s.fixAt : null;
    row.ok = first !== null && first <= 15 && !endsFlagged && row.clearAfterFix !== null && row.clearAfterFix <= 20;
  } else if (s.leak) {
    const target = s.scenario === 'slow-leak' ? 60 : 15;
    row.ok = first !== null && first >= 0 && first <= target && endsFlagged;
  } else if (s.scenario === 'cache') {
    row.ok = !endsFlagged && (lastChange === undefined || !lastChange.leakSuspected);
  } else {
    row.ok = flags.length === 0 && !flaggedAtStart;
  }
  return row;
}

async function main() {
  console.log(`leak detection: ${scenarios.length} scenarios, warm-up ${warmup} s, pattern ${duration} s, ${parallel} at a time, interval 250 ms, limit 512 MB, --max-old-space-size=384`);
  const results = [];
  const queue = [...scenarios];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (queue.length) {
        const s = queue.shift();
        const r = await run(s);
        results.push(r);
        process.stderr.write(`  done: ${s}\n`);
      }
    }),
  );
  const rows = scenarios.map((name) => results.find((r) => r.scenario === name)).map((r) => (r.error ? { scenario: r.scenario, error: r.error } : verdict(r)));
  const header = ['scenario', 'kind', 'warm-up flags', 'flags', 'first flag s', 'cleared s', 'after fix s', 'ends flagged', 'confidence', 'majors', 'confirm GCs', 'target met'];
  const table = rows.map((r) =>
    r.error
      ? [r.scenario, 'error', r.error, '', '', '', '', '', '', '', '', 'no']
      : [r.scenario, r.kind, `${r.warmupFlags}${r.flaggedAtStart ? ' (still at 0)' : ''}`, String(r.flags), fmt(r.firstFlag), fmt(r.cleared), fmt(r.clearAfterFix), r.endsFlagged ? 'yes' : 'no', r.confidence.toFixed(0), String(r.majors), String(r.confirmations), r.ok ? 'yes' : 'NO'],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
  const leaks = rows.filter((r) => r.kind === 'leak' && r.firstFlag !== null && r.scenario !== 'slow-leak').map((r) => r.firstFlag).sort((a, b) => a - b);
  const median = leaks.length ? leaks[Math.floor((leaks.length - 1) / 2)] : null;
  console.log(`\nmedian time to flag (leaks other than slow-leak): ${fmt(median)} s (target <= 15 s)`);
  console.log(`targets met: ${rows.filter((r) => r.ok).length} of ${rows.length}`);
}

main();

'use strict';
// npm run bench:leak — leak detection on real Node processes.
//
// Each scenario (bench/leak/workload.js) runs in its own process with
// --max-old-space-size=384, MEMORY_MONITORING_INTERVAL=250 and MEMORY_LIMIT_MB=512,
// ~25 MB/s of server-like garbage churn, a warm-up, then its benign or leaking
// pattern. The table says whether and when trend.leakSuspected turned true
// (seconds after the pattern started) and when it cleared, the confidence when the flag
// was raised and the highest while not flagged, and the site the automatic attribution
// named (seconds after the flag).
//
// Two scenarios run a real Express 5 app (bench/leak/express-app.js, attach(), 1 s
// interval, the settings of a small instance) under autocannon at a fixed rate:
// `express-leak` (300 requests/s on a route keeping every request, ~0.5 MB/s) and
// `express-lru` (200 requests/s on a route served from an lru-cache at capacity). For
// express-leak, the CPU time per request while the attribution samples is compared with
// the same length of time before it.
//
//   node bench/leak.js [--only a,b] [--warmup S] [--duration S] [--parallel N] [--traces DIR]
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const { onJsonLines } = require('./support');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1];
};
const ALL = ['sawtooth', 'cache', 'step', 'bursty', 'buffer-churn', 'heap-leak', 'slow-leak', 'buffer-leak', 'listener-leak', 'leak-fixed', 'express-leak', 'express-lru'];
const EXPRESS = { 'express-leak': { route: '/sessions', rate: 300, leak: true }, 'express-lru': { route: '/cache', rate: 200, leak: false } };
const only = opt('only', null);
const scenarios = only ? only.split(',') : ALL;
const warmup = Number(opt('warmup', 20));
const duration = Number(opt('duration', 90));
const parallel = Number(opt('parallel', 2));
const traces = opt('traces', null);
if (traces) fs.mkdirSync(traces, { recursive: true });

/** CPU time (ms) the process `pid` has used. */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** A real Express app under autocannon at a fixed rate; the same summary as a workload. */
function runExpress(scenario) {
  const autocannon = require('autocannon');
  const cfg = EXPRESS[scenario];
  const token = require('node:crypto').randomBytes(16).toString('hex');
  const env = { ...process.env, MEMORY_MONITORING_INTERVAL: '1000', MEMORY_LIMIT_MB: '512', MEMORY_ADMIN_TOKEN: token };
  const child = spawn(process.execPath, ['--max-old-space-size=384', path.join(__dirname, 'leak', 'express-app.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const events = [];
  return new Promise((resolve) => {
    let started = false;
    onJsonLines(child.stdout, (o) => {
      if (o.port && !started) {
        started = true;
        drive(o.port).then(resolve, (err) => resolve({ scenario, error: String(err && err.message) }));
      } else if (o.event) events.push(o);
    });
    child.on('exit', (code) => {
      if (!started) resolve({ scenario, error: `exit ${code}` });
    });
  }).finally(() => child.kill('SIGKILL'));

  async function drive(port) {
    await new Promise((r) => setTimeout(r, 10_000)); // idle warm-up
    const t0 = Date.now();
    const since = (at) => Number(((at - t0) / 1000).toFixed(2));
    const loadS = Math.max(duration, 90);
    const load = autocannon({ url: `http://127.0.0.1:${port}${cfg.route}`, connections: 8, overallRate: cfg.rate, duration: loadS });
    const readings = []; // [at, cpuMs, responses]
    let responses = 0;
    load.on('response', () => responses++);
    const changes = [];
    let flagged = false;
    let maxUnflagged = 0;
    let last = null;
    const poll = setInterval(async () => {
      readings.push([Date.now(), cpuMs(child.pid), responses]);
      try {
        const r = await (await fetch(`http://127.0.0.1:${port}/api/memory/leak-detection`, { headers: { authorization: `Bearer ${token}` } })).json();
        last = r;
        if (!r.leakSuspected) maxUnflagged = Math.max(maxUnflagged, r.confidence);
        if (r.leakSuspected !== flagged) {
          flagged = r.leakSuspected;
          changes.push({ t: since(Date.now()), leakSuspected: flagged, confidence: Math.round(r.confidence) });
        }
      } catch {
        // a missed poll
      }
    }, 1000);
    const done = await load;
    clearInterval(poll);
    const evs = events.map((e) => ({ ...e, t: since(e.at) }));
    const attributed = evs.find((e) => e.event === 'leakAttributed');
    let samplingCost = null;
    if (attributed) {
      // CPU ms per request while sampling against the same span just before it.
      const at = (x) => readings.reduce((best, r) => (Math.abs(r[0] - x) < Math.abs(best[0] - x) ? r : best), readings[0]);
      const span = attributed.at - attributed.startedAt;
      const [a0, a1, b0] = [at(attributed.startedAt - span), at(attributed.startedAt), at(attributed.at)];
      const per = (x, y) => (y[1] - x[1]) / Math.max(1, y[2] - x[2]);
      if (a0[1] !== null && b0[1] !== null && a1[0] > a0[0]) samplingCost = per(a1, b0) / per(a0, a1) - 1;
    }
    return {
      scenario,
      leak: cfg.leak,
      fixAt: null,
      changes,
      events: evs.map((e) => (e.event === 'leakAttributed' ? { ...e, top: e.top && { functionName: e.top.functionName, url: e.top.url, lineNumber: e.top.lineNumber, share: e.top.shareOfGrowth } } : e)),
      confirmations: last && last.lastConfirmationGc !== null ? 'n/a' : 0,
      maxUnflaggedConfidence: maxUnflagged,
      final: { leakSuspected: last ? last.leakSuspected : false, confidence: last ? last.confidence : 0 },
      gc: { major: 'n/a' },
      requestsPerSec: done.requests.average,
      samplingCost,
    };
  }
}

function run(scenario) {
  if (EXPRESS[scenario]) return runExpress(scenario);
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
    confidenceAtFlag: null,
    maxUnflagged: s.maxUnflaggedConfidence,
    site: null,
    namedAfter: null,
  };
  const leakEvent = s.events.find((e) => e.event === 'leak' && e.t >= 0);
  if (leakEvent) row.confidenceAtFlag = leakEvent.confidence;
  const named = s.events.find((e) => e.event === 'leakAttributed' && e.t >= 0);
  if (named) {
    row.site = named.top ? `${named.top.functionName} (${named.top.url}:${named.top.lineNumber}) ${Math.round(named.top.share * 100)}%` : 'none found';
    row.namedAfter = leakEvent ? named.t - leakEvent.t : null;
  }
  if (s.requestsPerSec !== undefined) row.note = `${s.requestsPerSec.toFixed(0)} req/s${s.samplingCost !== null && s.samplingCost !== undefined ? `, CPU/request while sampling ${(s.samplingCost * 100 >= 0 ? '+' : '')}${(s.samplingCost * 100).toFixed(1)} %` : ''}`;
  if (s.scenario === 'leak-fixed') {
    const cleared = clears.find((c) => c.t >= s.fixAt);
    row.clearAfterFix = cleared ? cleared.t - s.fixAt : null;
    row.ok = first !== null && first <= 15 && !endsFlagged && row.clearAfterFix !== null && row.clearAfterFix <= 20;
  } else if (s.scenario === 'express-leak') {
    row.ok = first !== null && first >= 0 && first <= 20 && endsFlagged && row.namedAfter !== null && row.namedAfter <= 45;
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
  const header = ['scenario', 'kind', 'warm-up flags', 'flags', 'first flag s', 'cleared s', 'after fix s', 'ends flagged', 'conf at flag', 'max conf unflagged', 'conf at end', 'majors', 'confirm GCs', 'top site named', 'named s after flag', 'target met'];
  const table = rows.map((r) =>
    r.error
      ? [r.scenario, 'error', r.error, '', '', '', '', '', '', '', '', '', '', '', '', 'no']
      : [r.scenario, r.kind, `${r.warmupFlags}${r.flaggedAtStart ? ' (still at 0)' : ''}`, String(r.flags), fmt(r.firstFlag), fmt(r.cleared), fmt(r.clearAfterFix), r.endsFlagged ? 'yes' : 'no', r.confidenceAtFlag === null ? '-' : r.confidenceAtFlag.toFixed(0), r.maxUnflagged.toFixed(0), r.confidence.toFixed(0), String(r.majors), String(r.confirmations), r.site || '-', fmt(r.namedAfter), r.ok ? 'yes' : 'NO'],
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
  for (const r of rows) if (r.note) console.log(`${r.scenario}: ${r.note}`);
  const flaggedConf = rows.filter((r) => r.confidenceAtFlag !== null).map((r) => r.confidenceAtFlag);
  if (flaggedConf.length) console.log(`confidence when flagged: ${Math.min(...flaggedConf).toFixed(0)} to ${Math.max(...flaggedConf).toFixed(0)}; highest while not flagged: ${Math.max(...rows.filter((r) => !r.error).map((r) => r.maxUnflagged)).toFixed(0)}`);
}

main();

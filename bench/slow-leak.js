'use strict';
// npm run bench:slow-leak — slow leaks at the Render preset's 15 s interval, on real
// processes (issue 13 point 4).
//
// Each scenario is a real Express 5 app (bench/leak/express-app.js, with
// memwarden.express.attach(app)) in its own process: RENDER=true (the Render preset),
// MEMORY_MONITORING_INTERVAL=15000, MEMORY_LIMIT_MB=512, --max-old-space-size=384, driven
// by autocannon at a fixed rate from this process. All scenarios run at the same time
// (they are mostly idle at these rates):
//   leak-20kb    20 requests/s on /ok (churn, nothing kept) for the baseline, then
//                20 requests/s on /retain?bytes=1024: ~20 KB/s kept. Target: flagged
//                within 15 minutes of the leak's start.
//   leak-24h     5 requests/s on /retain?bytes=1100: ~5.4 KB/s, which exhausts the
//                headroom to the 512 MB limit in just under a day (~23 h from ~80 MB
//                resident; the figure is computed from the process's resident memory at
//                the leak's start). Target: flagged within 60 minutes.
//   benign-lru   200 requests/s on /cache (an lru-cache of 5000 ~1 KB entries, full
//                before the load starts; ~75 % of requests miss and evict). Target: never
//                flagged, confidence at most 30 (the quiet band; 19 in the issue's run).
//   benign-soak  50 requests/s on /ok. Target: never flagged, confidence at most 30.
// The benign scenarios run their route through the baseline too (flags are counted over
// the whole run). GET /api/memory/leak-detection (with the admin token) is read every
// 15 s; the 'leak' event gives the time and confidence of a flag.
//
//   node bench/slow-leak.js [--only a,b] [--minutes N] [--long-minutes M] [--baseline S]
//                           [--traces DIR]
// --minutes: the pattern's length for leak-20kb and the benign scenarios (default 15);
// --long-minutes: leak-24h's (default 60); --baseline: seconds of non-leaking load
// before it (default 180); --traces: writes each process's exportTrace() to DIR/<name>.json.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const autocannon = require('autocannon');
const { childEnv, onJsonLines } = require('./support');

const SCENARIOS = {
  'leak-20kb': { kind: 'leak', baseline: '/ok', route: '/retain?bytes=1024', rate: 20, long: false, targetMin: 15 },
  'leak-24h': { kind: 'leak', baseline: '/ok', route: '/retain?bytes=1100', rate: 5, long: true, targetMin: 60 },
  'benign-lru': { kind: 'benign', baseline: '/cache', route: '/cache', rate: 200, long: false },
  'benign-soak': { kind: 'benign', baseline: '/ok', route: '/ok', rate: 50, long: false },
};
const QUIET_MAX = 30;

const args = process.argv.slice(2);
function opt(name, dflt, check) {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return dflt;
  const raw = args[i + 1];
  const v = check === 'list' ? raw : Number(raw);
  if (check === 'number' && !(Number.isFinite(v) && v > 0)) throw new Error(`--${name} ${JSON.stringify(raw)} is invalid; accepted: a positive number`);
  if (check === 'list' && (!raw || raw.startsWith('--'))) throw new Error(`--${name} needs a value; accepted: a comma-separated list of ${Object.keys(SCENARIOS).join(', ')}`);
  return v;
}
const only = opt('only', null, 'list');
const names = only ? only.split(',') : Object.keys(SCENARIOS);
for (const n of names) if (!SCENARIOS[n]) throw new Error(`--only: unknown scenario ${JSON.stringify(n)}; accepted: ${Object.keys(SCENARIOS).join(', ')}`);
const minutes = opt('minutes', 15, 'number');
const longMinutes = opt('long-minutes', 60, 'number');
const baselineS = opt('baseline', 180, 'number');
const tracesDir = opt('traces', null, 'list');
if (tracesDir) fs.mkdirSync(tracesDir, { recursive: true });
const POLL_MS = 15_000;

const started = Date.now();
const stamp = () => `[${((Date.now() - started) / 60000).toFixed(1).padStart(5)} min]`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `cfg.rate` requests/s on `route` for `seconds`; resolves to { responses, errors, non2xx, seconds }. */
function load(port, route, rate, seconds) {
  return new Promise((resolve, reject) => {
    const t = Date.now();
    const inst = autocannon({ url: `http://127.0.0.1:${port}${route}`, connections: Math.min(4, rate), overallRate: rate, duration: seconds }, (err, res) => {
      if (err) reject(err);
      else resolve({ responses: res.requests.total, errors: res.errors + res.timeouts, non2xx: res.non2xx, seconds: (Date.now() - t) / 1000 });
    });
    inst.on('error', reject);
  });
}

async function run(name) {
  const cfg = SCENARIOS[name];
  const patternS = (cfg.long ? longMinutes : minutes) * 60;
  const token = crypto.randomBytes(16).toString('hex');
  const env = childEnv({ RENDER: 'true', MEMORY_MONITORING_INTERVAL: '15000', MEMORY_LIMIT_MB: '512', MEMORY_ADMIN_TOKEN: token });
  const child = spawn(process.execPath, ['--max-old-space-size=384', path.join(__dirname, 'leak', 'express-app.js')], { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const events = [];
  let hello = null;
  const ready = new Promise((resolve, reject) => {
    onJsonLines(child.stdout, (o) => {
      if (o.port && !hello) {
        hello = o;
        resolve(o);
      } else if (o.event) events.push(o);
    });
    child.on('exit', (code, sig) => reject(new Error(`${name}: the app exited (${code ?? sig}) ${hello ? 'during the run' : 'before listening'}`)));
  });
  const exited = ready.then(() => new Promise((r) => child.on('exit', (code, sig) => r(`${code ?? sig}`))));
  try {
    const { port, config } = await ready;
    const polls = []; // { at, leakSuspected, confidence, stage, heap slope, rss }
    let leakStart = null;
    let stop = false;
    const pollLoop = (async () => {
      while (!stop) {
        try {
          const r = await (await fetch(`http://127.0.0.1:${port}/api/memory/leak-detection`, { headers: { authorization: `Bearer ${token}` } })).json();
          const p = { at: Date.now(), leakSuspected: r.leakSuspected, confidence: r.confidence, stage: r.confidenceStage, heapSlope: r.heap.slopeBytesPerSec, heapLow: r.heap.slopeLowBytesPerSec, heapZ: r.heap.z, heapPoints: r.heap.points, resident: r.resident.currentBytes };
          polls.push(p);
          if (polls.length % 4 === 1) {
            const tl = leakStart === null ? 'baseline' : `${((p.at - leakStart) / 60000).toFixed(1)} min into pattern`;
            process.stderr.write(`${stamp()} ${name} (${tl}): ${p.leakSuspected ? 'FLAGGED' : 'not flagged'}, confidence ${p.confidence.toFixed(0)} (${p.stage}), heap slope ${(p.heapSlope / 1024).toFixed(1)} KB/s (low ${(p.heapLow / 1024).toFixed(1)}, z ${p.heapZ.toFixed(1)}, ${p.heapPoints} points), rss ${(p.resident / 2 ** 20).toFixed(0)} MB\n`);
          }
        } catch (err) {
          process.stderr.write(`${stamp()} ${name}: a missed poll (${err.message})\n`);
        }
        const next = Date.now() + POLL_MS;
        while (!stop && Date.now() < next) await sleep(250);
      }
    })();
    const base = await load(port, cfg.baseline, cfg.rate, baselineS);
    leakStart = Date.now();
    const pattern = await load(port, cfg.route, cfg.rate, patternS);
    const end = Date.now();
    stop = true;
    await pollLoop;
    // The process's own record: the trace, and what the leaking route kept.
    const reply = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 10_000);
      child.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.send('trace');
    });
    if (tracesDir && reply) fs.writeFileSync(path.join(tracesDir, `${name}.json`), JSON.stringify(reply.trace));
    // Resident memory when the pattern began: the newest reading before it, else the first after.
    const withRss = polls.filter((p) => p.resident > 0);
    const atStart = withRss.filter((p) => p.at <= leakStart).pop() || withRss[0];
    const rssAtStart = atStart ? atStart.resident : null;
    return { name, cfg, config, base, pattern, leakStart, end, rssAtStart, polls, events, retainedBytes: reply ? reply.retainedBytes : null, baselineStart: leakStart - base.seconds * 1000 };
  } finally {
    child.kill('SIGKILL');
    await Promise.race([exited.catch(() => {}), sleep(2000)]);
  }
}

const minOf = (ms) => ms / 60000;
const f1 = (x) => (x === null || x === undefined ? '-' : x.toFixed(1));
const f0 = (x) => (x === null || x === undefined ? '-' : x.toFixed(0));

function verdict(r) {
  const { cfg, polls, events, leakStart } = r;
  const leakEvents = events.filter((e) => e.event === 'leak');
  const baselineFlags = leakEvents.filter((e) => e.at < leakStart).length;
  const patternFlags = leakEvents.filter((e) => e.at >= leakStart);
  // A flag only a poll saw (the event is the precise time; the poll is the fallback).
  const firstPollFlag = polls.find((p) => p.at >= leakStart && p.leakSuspected);
  const first = patternFlags[0] || (firstPollFlag && { at: firstPollFlag.at, confidence: firstPollFlag.confidence });
  const firstAt = first ? first.at : null;
  const unflagged = polls.filter((p) => !p.leakSuspected && (firstAt === null || p.at < firstAt));
  const maxBefore = unflagged.length ? Math.max(...unflagged.map((p) => p.confidence)) : null;
  const maxAll = polls.length ? Math.max(...polls.map((p) => p.confidence)) : null;
  const patternS = (r.end - leakStart) / 1000;
  const rate = r.pattern.responses / patternS;
  const last = polls[polls.length - 1];
  const attributed = events.find((e) => e.event === 'leakAttributed');
  const row = {
    scenario: r.name,
    kind: cfg.kind,
    rate: `${rate.toFixed(1)}/s`,
    patternMin: minOf(r.end - leakStart),
    baselineFlags,
    flags: patternFlags.length,
    flagMin: firstAt === null ? null : minOf(firstAt - leakStart),
    confAtFlag: first ? first.confidence : null,
    maxBefore,
    maxAll,
    endsFlagged: last ? last.leakSuspected : false,
    errors: r.base.errors + r.pattern.errors + r.base.non2xx + r.pattern.non2xx,
    // '-': no attribution finished; 'none found': one finished without a growing site.
    site: attributed ? (attributed.top ? `${attributed.top.functionName} (${attributed.top.url}:${attributed.top.lineNumber})` : 'none found') : null,
  };
  if (cfg.kind === 'leak') {
    row.keptPerSec = r.retainedBytes === null ? null : r.retainedBytes / patternS;
    row.hoursToLimit = r.rssAtStart && row.keptPerSec ? (r.config.limitBytes - r.rssAtStart) / row.keptPerSec / 3600 : null;
    row.ok = row.flagMin !== null && row.flagMin <= cfg.targetMin && baselineFlags === 0;
    row.target = `flag <= ${cfg.targetMin} min`;
  } else {
    row.ok = baselineFlags + row.flags === 0 && maxAll !== null && maxAll <= QUIET_MAX;
    row.target = `0 flags, conf <= ${QUIET_MAX}`;
  }
  return row;
}

async function main() {
  console.log(
    `slow leaks at the Render preset: ${names.join(', ')} at once; RENDER=true, MEMORY_MONITORING_INTERVAL=15000, MEMORY_LIMIT_MB=512, --max-old-space-size=384; ` +
      `baseline ${baselineS} s, pattern ${minutes} min (leak-24h ${longMinutes} min), verdict read every ${POLL_MS / 1000} s; started ${new Date(started).toISOString()}`,
  );
  const results = await Promise.all(names.map((n) => run(n).catch((err) => ({ name: n, error: err.message }))));
  const first = results.find((r) => r.config);
  if (first) console.log(`in the apps: platform ${first.config.platform}, interval ${first.config.monitoringIntervalMs} ms, limit ${(first.config.limitBytes / 2 ** 20).toFixed(0)} MB (${first.config.limitSource})`);
  const header = ['scenario', 'kind', 'rate', 'kept', 'headroom gone in', 'pattern min', 'baseline flags', 'flags', 'flagged after min', 'conf at flag', 'max conf before flag', 'max conf', 'ends flagged', 'site named', 'HTTP errors', 'target', 'met'];
  const rows = results.map((r) => {
    if (r.error) return [r.name, 'error', r.error, ...Array(header.length - 4).fill(''), 'no'];
    const v = verdict(r);
    return [v.scenario, v.kind, v.rate, v.keptPerSec === undefined || v.keptPerSec === null ? '-' : `${f1(v.keptPerSec / 1024)} KB/s`, v.hoursToLimit === undefined || v.hoursToLimit === null ? '-' : `${f1(v.hoursToLimit)} h`, f1(v.patternMin), String(v.baselineFlags), String(v.flags), f1(v.flagMin), f0(v.confAtFlag), f0(v.maxBefore), f0(v.maxAll), v.endsFlagged ? 'yes' : 'no', v.site || '-', String(v.errors), v.target, v.ok ? 'yes' : 'NO'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log(`finished ${new Date().toISOString()}${tracesDir ? `; traces in ${tracesDir}` : ''}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

'use strict';
// Footprint benchmark: `npm run bench:footprint`.
//
// Prints four figures, each with its target and a verdict:
//   1. RSS added by initialize() at defaults            (target <= 2 MB)
//   2. getHealthMetrics() cost / process.memoryUsage()  (target <= 1.0)
//   3. monitor CPU over 20 idle seconds at defaults     (target <= 0.01 % of a core)
//   4. the whole footprint a user pays, require('memwarden') + initialize() against
//      bare node, split as the kernel counts it (/proc/self/status): anonymous memory
//      (RssAnon: the heap, the addon's allocations, its thread's stack; what a
//      container limit is mostly about; target <= 5 MB, the spec's claim) and
//      file-backed pages (RssFile: node's own code paths that loading the package
//      touches and the addon's text; shared, reclaimable, moving with the page
//      cache; reported, no target). Most of those are node's JavaScript parser and
//      compiler, which any app loading code from disk touches: the same split is also
//      measured on top of a process that has loaded Express.
//
// It is a benchmark, not a test: the exit code is 0 whatever the verdicts.
// Only Node's standard library is used. Timeline (about 22 s in total):
//   t=0    start the idle CPU children (figure 3); they idle for ~21 s
//   t=0    run the RSS rounds (figure 1), 4 short children at a time
//   t≈16s  time getHealthMetrics() in this process (figure 2); the CPU children are idle
//   t≈22s  collect the CPU children and print the table
// The CPU children only sleep while the others run, and CPU time is accounted
// per process/thread, so running them concurrently does not skew figure 3.

const { spawn, execFileSync } = require('node:child_process');
const path = require('node:path');

const PKG_DIR = path.resolve(__dirname, '..');
// The package has no "exports" field, so require('memwarden') does not resolve
// from inside its own directory: children require it by absolute path instead.
const memwarden = require(PKG_DIR);
const { median, childEnv: benchEnv } = require('./support');

const MB = 1024 * 1024;
const FAST_INTERVAL_MS = '250'; // MEMORY_MONITORING_INTERVAL for the note lines
const TARGET = { rssMb: 2, ratio: 1.0, cpuPercent: 0.01, anonMb: 5 };

const RSS_ROUNDS = 7;
const RSS_SETTLE_MS = 2000; // ~8 ticks at 250 ms; only the initial sample at defaults

const CPU_SETTLE_MS = 1000; // after initialize(), before the idle window opens
const CPU_WINDOW_MS = 20000;

const CALL_ROUNDS = 10;
const CALLS_PER_ROUND = 20000;

// Variables that only identify the hosting platform (they choose the preset, i.e.
// the defaults); every other memwarden variable is a setting and is removed from
// the children's environment so that "defaults" really means defaults.
const PLATFORM_HINTS = new Set(['RENDER', 'NODE_ENV', 'DYNO', 'FLY_APP_NAME', 'MEMORY_AVAILABLE', 'KUBERNETES_SERVICE_HOST']);

// ---------------------------------------------------------------------------
// Child processes

/** The environment for a child: the settings variables removed (platform hints kept), `extra` added. */
const childEnv = (extra = {}) => benchEnv(extra, PLATFORM_HINTS);

/** Runs `node --expose-gc -e script ...args`; resolves to the JSON the child printed last. */
function runChild(script, args, env, onSpawn = () => {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '-e', script, ...args.map(String)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.trim().split('\n');
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(lines[lines.length - 1]));
      } catch (e) {
        reject(new Error(`child failed (${e.message}): ${err || out}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Figure 1: resident memory

// argv: pkgDir, mode ('bare' | 'require' | 'init' | 'express' | 'express-init'), settleMs.
// Every mode waits the same settle time, collects twice, then reports its RSS.
const RSS_CHILD = `
const [pkg, mode, settleMs] = process.argv.slice(1);
let manager = null;
// 'express' / 'express-init': an app that has loaded Express first (its file-backed
// pages: node's parser and compiler, which loading any JavaScript from disk touches).
if (mode.startsWith('express')) require(require.resolve('express', { paths: [pkg] }));
if (mode === 'express-init') {
  const { MemoryManagerService } = require(pkg);
  manager = MemoryManagerService.getInstance();
  manager.initialize().catch((e) => { console.error(e); process.exit(1); });
} else if (mode !== 'bare' && mode !== 'express') {
  const { MemoryManagerService } = require(pkg);
  if (mode === 'init') {
    manager = MemoryManagerService.getInstance();
    manager.initialize().catch((e) => { console.error(e); process.exit(1); });
  }
}
setTimeout(() => {
  global.gc();
  global.gc();
  const rss = process.memoryUsage.rss();
  // RssAnon / RssFile / RssShmem of /proc/self/status, in kB (Linux >= 4.5).
  const status = require('fs').readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => {
    for (const line of status.split(String.fromCharCode(10))) {
      const [key, value] = line.split(':');
      if (key === name) return parseInt(value.trim(), 10) * 1024;
    }
    return null;
  };
  const out = { rss, anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
  if (manager) {
    out.intervalMs = manager.config.monitoringIntervalMs;
    out.platform = manager.config.platform;
    out.samples = manager.getHealthMetrics().trend.samples;
  }
  process.stdout.write(JSON.stringify(out) + '\\n');
}, Number(settleMs));
`;

function rssChild(mode, env) {
  return runChild(RSS_CHILD, [PKG_DIR, mode, RSS_SETTLE_MS], env);
}

/** One round: the four variants at once (their RSS does not depend on each other). */
async function rssRound() {
  const [bare, required, init, initFast, express, expressInit] = await Promise.all([
    rssChild('bare', childEnv()),
    rssChild('require', childEnv()),
    rssChild('init', childEnv()),
    rssChild('init', childEnv({ MEMORY_MONITORING_INTERVAL: FAST_INTERVAL_MS })),
    rssChild('express', childEnv()),
    rssChild('express-init', childEnv()),
  ]);
  return { bare, required, init, initFast, express, expressInit };
}

/** RSS_ROUNDS rounds in sequence; returns the per-round differences in MB. */
async function measureRss() {
  const rounds = [];
  for (let i = 0; i < RSS_ROUNDS; i++) rounds.push(await rssRound());
  const diff = (pick) => rounds.map((r) => pick(r) / MB);
  return {
    requireAdds: diff((r) => r.required.rss - r.bare.rss),
    initAdds: diff((r) => r.init.rss - r.required.rss),
    initFastAdds: diff((r) => r.initFast.rss - r.required.rss),
    // Figure 4: require() + initialize() against bare node (null without /proc/self/status's split).
    split: rounds[0].bare.anon !== null && rounds[0].init.anon !== null,
    wholeAnon: diff((r) => r.init.anon - r.bare.anon),
    wholeFile: diff((r) => r.init.file - r.bare.file),
    expressFile: diff((r) => r.expressInit.file - r.express.file),
    expressAnon: diff((r) => r.expressInit.anon - r.express.anon),
    wholeRss: diff((r) => r.init.rss - r.bare.rss),
    requireAnon: diff((r) => r.required.anon - r.bare.anon),
    initAnon: diff((r) => r.init.anon - r.required.anon),
    defaults: rounds[0].init,
    fast: rounds[0].initFast,
  };
}

// ---------------------------------------------------------------------------
// Figure 2: getHealthMetrics() versus process.memoryUsage()

let sink = 0; // every call feeds it, so no call can be optimized away

function timeHealthMetrics(manager, n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += manager.getHealthMetrics().currentUsage.rss;
  return Number(process.hrtime.bigint() - start) / n;
}

function timeMemoryUsage(n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += process.memoryUsage().rss;
  return Number(process.hrtime.bigint() - start) / n;
}

/** Interleaved rounds, alternating which runs first; returns ns/call per round. */
async function measureCallCost() {
  const manager = memwarden.MemoryManagerService.getInstance();
  await manager.initialize();
  timeHealthMetrics(manager, CALLS_PER_ROUND); // warm-up (JIT, first report build)
  timeMemoryUsage(CALLS_PER_ROUND);
  const health = [];
  const usage = [];
  for (let round = 0; round < CALL_ROUNDS; round++) {
    if (round % 2 === 0) {
      health.push(timeHealthMetrics(manager, CALLS_PER_ROUND));
      usage.push(timeMemoryUsage(CALLS_PER_ROUND));
    } else {
      usage.push(timeMemoryUsage(CALLS_PER_ROUND));
      health.push(timeHealthMetrics(manager, CALLS_PER_ROUND));
    }
  }
  await manager.shutdown();
  if (sink === -1) console.log(sink); // keeps the sink observable
  return { health, usage };
}

// ---------------------------------------------------------------------------
// Figure 3: CPU while idle

// argv: pkgDir, init ('1' | '0'), settleMs, windowMs.
// Both kinds require the package; only '1' initializes. After settling, the child
// records its own CPU time (process.cpuUsage, µs) and the sampler thread's
// (/proc/self/task/<tid>: schedstat in ns, stat in clock ticks), idles for the
// window with nothing but one timer, records again and prints the deltas.
const CPU_CHILD = `
const fs = require('fs');
const [pkg, init, settleMs, windowMs] = process.argv.slice(1);
const { MemoryManagerService } = require(pkg);
const manager = init === '1' ? MemoryManagerService.getInstance() : null;
if (manager) manager.initialize().catch((e) => { console.error(e); process.exit(1); });

// The addon names its sampler thread 'memwarden' (short enough for the 15-byte comm).
function samplerTid() {
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const comm = fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim();
    if (comm === 'memwarden') return tid;
  }
  return null;
}

function threadCpu(tid) {
  if (tid === null) return null;
  const dir = '/proc/self/task/' + tid + '/';
  const stat = fs.readFileSync(dir + 'stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
  const ticks = Number(fields[11]) + Number(fields[12]); // #14 utime + #15 stime
  let ns = null;
  try { ns = Number(fs.readFileSync(dir + 'schedstat', 'utf8').split(' ')[0]); } catch {}
  return { ticks, ns };
}

function samples() {
  return manager ? manager.getHealthMetrics().trend.samples : null;
}

setTimeout(() => {
  const tid = samplerTid();
  const samplesBefore = samples();
  const cpu0 = process.cpuUsage();
  const thread0 = threadCpu(tid);
  const t0 = process.hrtime.bigint();
  setTimeout(() => {
    const t1 = process.hrtime.bigint();
    const cpu = process.cpuUsage(cpu0);
    const thread1 = threadCpu(tid);
    const out = {
      windowNs: Number(t1 - t0),
      cpuUs: cpu.user + cpu.system,
      samplerFound: tid !== null,
      threadNs: thread0 && thread0.ns !== null ? thread1.ns - thread0.ns : null,
      threadTicks: thread0 ? thread1.ticks - thread0.ticks : null,
      samplesInWindow: manager ? samples() - samplesBefore : null,
      intervalMs: manager ? manager.config.monitoringIntervalMs : null,
    };
    process.stdout.write(JSON.stringify(out) + '\\n');
  }, Number(windowMs));
}, Number(settleMs));
`;

function cpuChild(init, env) {
  return runChild(CPU_CHILD, [PKG_DIR, init ? '1' : '0', CPU_SETTLE_MS, CPU_WINDOW_MS], env);
}

/** Starts the three idle children at once; the promise resolves when all are done. */
function startCpuChildren() {
  return Promise.all([
    cpuChild(true, childEnv()),
    cpuChild(false, childEnv()),
    cpuChild(true, childEnv({ MEMORY_MONITORING_INTERVAL: FAST_INTERVAL_MS })),
  ]).then(([init, control, initFast]) => ({ init, control, initFast }));
}

function clockTicksPerSecond() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU figures of one initialized child against the control, in % of one core. */
function cpuFigures(child, control, ticksPerSecond) {
  const windowUs = child.windowNs / 1000;
  return {
    processPercent: ((child.cpuUs - control.cpuUs) / windowUs) * 100,
    threadPercent: child.threadNs === null ? null : (child.threadNs / child.windowNs) * 100,
    threadTickPercent: ((child.threadTicks * 1e6) / ticksPerSecond / windowUs) * 100,
    ...child,
  };
}

// ---------------------------------------------------------------------------
// Statistics and printing

function spread(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

const mb = (v) => `${v.toFixed(2)} MB`;
const pct = (v) => (v === null ? 'n/a' : `${v.toFixed(4)} %`);
const verdict = (value, target) => (value <= target ? 'PASS' : 'FAIL');
// Note lines (non-default interval) are context, not figures: no PASS/FAIL for them.
const noteVerdict = (value, target) => (value === null ? 'n/a' : value <= target ? 'within' : 'over');

function describeMb(values) {
  const s = spread(values);
  return `${mb(s.median)} (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`;
}

/** A plain-text table: columns padded to their widest cell. */
function printTable(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

function printRssDetails(rss) {
  console.log(`\n1. Resident memory (${RSS_ROUNDS} rounds, RSS read after ${RSS_SETTLE_MS} ms and two global.gc())`);
  console.log(`   defaults: interval ${rss.defaults.intervalMs} ms (platform '${rss.defaults.platform}'), ` +
    `${rss.defaults.samples} native sample(s) taken when RSS was read`);
  console.log(`   note: interval ${rss.fast.intervalMs} ms, ${rss.fast.samples} native samples taken when RSS was read`);
  const row = (label, values) => console.log(`   ${label.padEnd(36)}${values.map((v) => v.toFixed(2)).join(' ')} MB`);
  row('require() vs bare node:', rss.requireAdds);
  row('initialize() vs require():', rss.initAdds);
  row(`initialize() @${FAST_INTERVAL_MS} ms vs require():`, rss.initFastAdds);
}

function printSplitDetails(rss) {
  console.log(`\n4. Whole footprint, require() + initialize() (defaults) vs bare node, as the kernel counts it (${RSS_ROUNDS} rounds, /proc/self/status)`);
  if (!rss.split) {
    console.log('   /proc/self/status has no RssAnon/RssFile here (Linux >= 4.5 only): not measured');
    return;
  }
  const row = (label, values) => console.log(`   ${label.padEnd(36)}${values.map((v) => v.toFixed(2)).join(' ')} MB`);
  row('anonymous (RssAnon), whole:', rss.wholeAnon);
  row('  of which require():', rss.requireAnon);
  row('  of which initialize():', rss.initAnon);
  row('file-backed (RssFile), whole:', rss.wholeFile);
  row('on top of an Express app: anonymous', rss.expressAnon);
  row('on top of an Express app: file', rss.expressFile);
  row('RSS, whole:', rss.wholeRss);
}

function printCallDetails(calls, healthNs, usageNs) {
  console.log(`\n2. Call cost (${CALL_ROUNDS} interleaved rounds x ${CALLS_PER_ROUND} calls, ns/call)`);
  console.log(`   getHealthMetrics():     ${calls.health.map((v) => v.toFixed(0)).join(' ')}  median ${healthNs.toFixed(1)}`);
  console.log(`   process.memoryUsage():  ${calls.usage.map((v) => v.toFixed(0)).join(' ')}  median ${usageNs.toFixed(1)}`);
}

function printCpuDetails(cpu, fig, figFast, ticksPerSecond) {
  const line = (name, c) =>
    `   ${name.padEnd(22)} process ${(c.cpuUs / 1000).toFixed(2)} ms CPU over ${(c.windowNs / 1e9).toFixed(2)} s` +
    (c.intervalMs === null ? '' : `; sampler thread ${c.threadNs === null ? 'n/a' : (c.threadNs / 1e6).toFixed(3) + ' ms'}` +
      ` (${c.threadTicks} ticks); ${c.samplesInWindow} native sample(s) in window`);
  console.log(`\n3. CPU while idle (children run concurrently; window ${CPU_WINDOW_MS / 1000} s after ${CPU_SETTLE_MS} ms settle)`);
  console.log(line(`initialized @${cpu.init.intervalMs} ms:`, cpu.init));
  console.log(line(`initialized @${cpu.initFast.intervalMs} ms:`, cpu.initFast));
  console.log(line('control (require only):', cpu.control));
  console.log(`   thread CPU from /proc/<pid>/task/<tid>/schedstat (ns); the stat tick count (1 tick = ` +
    `${(1000 / ticksPerSecond).toFixed(0)} ms, i.e. ${(100 / ticksPerSecond / CPU_WINDOW_MS * 1000).toFixed(3)} % ` +
    `over the window) is too coarse for a ${TARGET.cpuPercent} % target`);
  console.log(`   sampler thread from ticks: defaults ${pct(fig.threadTickPercent)}, @${FAST_INTERVAL_MS} ms ${pct(figFast.threadTickPercent)}`);
}

// ---------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const ticksPerSecond = clockTicksPerSecond();
  console.log(`memwarden footprint (node ${process.version}, ${process.platform}/${process.arch})`);

  const cpuDone = startCpuChildren();
  const rss = await measureRss();
  const calls = await measureCallCost();
  const cpu = await cpuDone;

  const healthNs = median(calls.health);
  const usageNs = median(calls.usage);
  const ratio = healthNs / usageNs;
  const fig = cpuFigures(cpu.init, cpu.control, ticksPerSecond);
  const figFast = cpuFigures(cpu.initFast, cpu.control, ticksPerSecond);
  const initMedian = median(rss.initAdds);

  printRssDetails(rss);
  printCallDetails(calls, healthNs, usageNs);
  printSplitDetails(rss);
  printCpuDetails(cpu, fig, figFast, ticksPerSecond);

  console.log('');
  const rssTarget = `<= ${TARGET.rssMb} MB`;
  const cpuTarget = `<= ${TARGET.cpuPercent} %`;
  printTable(
    ['figure', 'measured', 'target', 'verdict'],
    [
      [`1. RSS added by initialize() (defaults, ${rss.defaults.intervalMs} ms)`, describeMb(rss.initAdds), rssTarget, verdict(initMedian, TARGET.rssMb)],
      [`   note: initialize() @${FAST_INTERVAL_MS} ms`, describeMb(rss.initFastAdds), rssTarget, noteVerdict(median(rss.initFastAdds), TARGET.rssMb)],
      ['   info: RSS added by require() vs bare node', describeMb(rss.requireAdds), '-', 'info'],
      ['2. getHealthMetrics() / process.memoryUsage()', `${ratio.toFixed(3)} (${healthNs.toFixed(1)} / ${usageNs.toFixed(1)} ns)`, `<= ${TARGET.ratio.toFixed(1)}`, verdict(ratio, TARGET.ratio)],
      [`3. idle CPU, initialized - control (defaults, ${fig.intervalMs} ms)`, `${pct(fig.processPercent)} of a core`, cpuTarget, verdict(fig.processPercent, TARGET.cpuPercent)],
      ['   sampler thread only (defaults)', `${pct(fig.threadPercent)} of a core`, cpuTarget, fig.threadPercent === null ? 'n/a' : verdict(fig.threadPercent, TARGET.cpuPercent)],
      [`   note: initialized - control @${FAST_INTERVAL_MS} ms`, `${pct(figFast.processPercent)} of a core`, cpuTarget, noteVerdict(figFast.processPercent, TARGET.cpuPercent)],
      [`   note: sampler thread only @${FAST_INTERVAL_MS} ms`, `${pct(figFast.threadPercent)} of a core`, cpuTarget, noteVerdict(figFast.threadPercent, TARGET.cpuPercent)],
      ...(rss.split
        ? [
            ['4. anonymous memory added (require + initialize vs bare)', describeMb(rss.wholeAnon), `<= ${TARGET.anonMb} MB`, verdict(median(rss.wholeAnon), TARGET.anonMb)],
            ['   file-backed pages added (shared, reclaimable)', describeMb(rss.wholeFile), '-', 'info'],
            ['   file-backed pages added to an app that loaded Express', describeMb(rss.expressFile), '-', 'info'],
          ]
        : [['4. anonymous / file-backed split', 'n/a (no RssAnon in /proc/self/status)', `<= ${TARGET.anonMb} MB`, 'n/a']]),
    ],
  );
  if (!cpu.init.samplerFound) console.log('warning: no memwarden thread was found in the initialized child');
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((err) => {
  // A benchmark reports; it does not fail the build.
  console.error(`footprint benchmark could not complete: ${err.stack || err}`);
});

#!/usr/bin/env node
'use strict';
// memwarden's command line (`memory`, also `memwarden`). Every command except analyze
// talks to a running server's /api/memory endpoints when given one (--url or
// MEMORY_API_URL, with MEMORY_ADMIN_TOKEN as a bearer token), and otherwise works
// in-process on this command's own Node process; it says which. Exit codes: 0 done,
// 1 failed (a self-test step, a refused request, an unreachable server), 2 bad arguments.
const fs = require('node:fs');
const path = require('node:path');

const USAGE = `usage: memory <command> [options]

commands:
  status          status, usage against the limit, trend, time to limit, GC, recommendations
  gc              force a full garbage collection and show what it freed
  simulate [MB]   allocate MB (default 100) of heap gradually, show the status transitions,
                  alerts and cleanup strategies that fired, release it and show the recovery
  monitor         live view: heap and RSS sparklines, status, GC, alerts (Ctrl-C quits)
  test            self-test of the memory management system; exits 1 if a step fails
  report          write a JSON report and a self-contained HTML report with charts
  analyze FILE    replay a trace from exportTrace() through the leak detector

where the figures come from:
  --url URL       a running server's memwarden router, e.g. http://127.0.0.1:3000/api/memory
                  (default: MEMORY_API_URL). Without one: in-process, this command's own
                  Node process. MEMORY_ADMIN_TOKEN, when set, is sent as a bearer token.

options:
  --json              status, gc, simulate, test: print JSON instead of text
  --interval-ms N     monitor: refresh every N ms (default 1000, 100 to 60000)
  --count N           monitor: stop after N refreshes
  --hold-ms N         simulate: how long to hold the memory (default 2000 ms)
  --out BASE          report: write BASE.json and BASE.html (default ./memory-report-<time>)
  analyze FILE [--memory-limit-mb N] [--interval-ms N] [--json] [--fail-on-leak]`;

/** A usage error: message + usage, exit code 2. */
class UsageError extends Error {}

const COMMAND_OPTIONS = {
  status: ['--json', '--url'],
  gc: ['--json', '--url'],
  simulate: ['--json', '--url', '--hold-ms'],
  monitor: ['--url', '--interval-ms', '--count'],
  test: ['--json', '--url'],
  report: ['--url', '--out'],
  analyze: ['--json', '--fail-on-leak', '--memory-limit-mb', '--interval-ms'],
};
const VALUED = ['--url', '--interval-ms', '--count', '--hold-ms', '--out', '--memory-limit-mb'];

function parse(argv) {
  const command = argv[0];
  const out = { command, positional: [], flags: {} };
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') return { command: 'help' };
  if (!Object.hasOwn(COMMAND_OPTIONS, command)) throw new UsageError(`unknown command ${JSON.stringify(command)}; commands: ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
  const allowed = COMMAND_OPTIONS[command];
  for (let i = 1; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-h' || a === '--help') return { command: 'help' };
    if (!a.startsWith('-') || /^-\d/.test(a)) {
      out.positional.push(a);
      continue;
    }
    let value;
    const eq = a.indexOf('=');
    if (eq !== -1) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (!allowed.includes(a)) throw new UsageError(`${command} does not take ${a}; it takes: ${allowed.join(', ')}`);
    if (VALUED.includes(a)) {
      if (value === undefined) value = argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${a} needs a value`);
      out.flags[a] = value;
    } else {
      if (value !== undefined) throw new UsageError(`${a} takes no value`);
      out.flags[a] = true;
    }
  }
  return out;
}

function integerFlag(args, name, min, max, fallback) {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name}=${raw} is invalid; accepted: a whole number from ${min} to ${max}`);
  return n;
}

function numberFlag(args, name) {
  const raw = args.flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`${name} needs a number (got ${raw})`);
  return n;
}

// ---------------------------------------------------------------------------------------
// analyze (unchanged behaviour: exit 2 for a bad file, 1 with --fail-on-leak)

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function analyze(args, out) {
  const file = args.positional[0];
  if (!file) throw new UsageError('analyze needs a FILE');
  if (args.positional.length > 1) throw new UsageError(`unexpected argument ${args.positional[1]}`);
  const options = {};
  const limit = numberFlag(args, '--memory-limit-mb');
  const interval = numberFlag(args, '--interval-ms');
  if (limit !== undefined) options.memoryLimitMb = limit;
  if (interval !== undefined) options.monitoringIntervalMs = interval;
  let text;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${err.message}`);
  }
  let trace;
  try {
    trace = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${err.message}`);
  }
  const { analyzeTrace } = require('..');
  let a;
  try {
    a = analyzeTrace(trace, options);
  } catch (err) {
    throw new UsageError(err.message);
  }
  if (args.flags['--json']) {
    out.write(`${JSON.stringify(a, null, 2)}\n`);
  } else {
    const t0 = trace.samples[0].t;
    const leak = a.leak;
    const lines = [
      `trace: ${a.samples} samples, ${a.gcEvents} GC events over ${seconds(a.durationMs)} (interval ${a.intervalMs} ms, limit ${(a.limitBytes / 1048576).toFixed(0)} MB)`,
      `verdict at the end: ${leak.leakSuspected ? `LEAK SUSPECTED (${leak.signal}, confidence ${leak.confidence.toFixed(0)}%)` : `no leak suspected (confidence ${leak.confidence.toFixed(0)}%)`}`,
    ];
    for (const note of a.notes || []) lines.push(`note: ${note}`);
    if (a.timeline.length === 0) lines.push('timeline: the flag never changed');
    for (const c of a.timeline) {
      lines.push(`  at ${seconds(c.t - t0)}: ${c.leakSuspected ? `leak suspected (${c.signal}, confidence ${c.confidence.toFixed(0)}%)` : 'cleared'}`);
    }
    const e = leak.signal === 'external' ? leak.external : leak.heap;
    lines.push(`growth (${e.signal}): ${(e.slopeBytesPerSec / 1024).toFixed(0)} KB/s (lower bound ${(e.slopeLowBytesPerSec / 1024).toFixed(0)} KB/s) over ${seconds(e.windowMs)}`);
    for (const r of leak.recommendations) lines.push(`- ${r}`);
    out.write(`${lines.join('\n')}\n`);
  }
  return args.flags['--fail-on-leak'] && a.leak.leakSuspected ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// The source: a server (--url / MEMORY_API_URL) or this process.

/** Gives this process a global.gc for the in-process commands (it is the CLI's own process). */
function enableGc() {
  if (typeof globalThis.gc === 'function') return;
  try {
    require('node:v8').setFlagsFromString('--expose-gc');
    globalThis.gc = require('node:vm').runInNewContext('gc');
  } catch {
    // Without it, gc reports that --expose-gc is missing.
  }
}

async function openSource(args, { intervalMs = 250, env = process.env } = {}) {
  const { LocalSource, RemoteSource, SourceError } = require('../lib/devtools/source');
  const url = args.flags['--url'] !== undefined ? args.flags['--url'] : env.MEMORY_API_URL || null;
  if (url) {
    let source;
    try {
      source = new RemoteSource(url, env.MEMORY_ADMIN_TOKEN || null);
    } catch (err) {
      if (err instanceof SourceError) throw new UsageError(err.message);
      throw err;
    }
    return { source, close: async () => {} };
  }
  enableGc();
  const { MemoryManagerService } = require('..');
  const manager = MemoryManagerService.getInstance();
  // This process's own limit and thresholds (MEMORY_* variables apply); sampled often,
  // since a command lives for seconds.
  const { quietLogger } = require('../lib/devtools/selftest');
  await manager.initialize({ logger: quietLogger, ...(env.MEMORY_MONITORING_INTERVAL ? {} : { monitoringIntervalMs: intervalMs }) });
  return { source: new LocalSource(manager), close: () => manager.shutdown() };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// status

async function liveOrHealth(source) {
  try {
    return await source.live();
  } catch (err) {
    if (source.kind !== 'server' || (err.status !== 401 && err.status !== 403)) throw err;
    const { liveFromHealth } = require('../lib/devtools/live');
    const d = liveFromHealth(await source.health());
    d.partialReason = err.message;
    return d;
  }
}

async function status(args, out, ctx) {
  const { source, close } = await openSource(args);
  try {
    const d = await liveOrHealth(source);
    if (args.flags['--json']) {
      out.write(`${JSON.stringify({ source: source.kind, where: source.short, ...d }, null, 2)}\n`);
      return 0;
    }
    const { statusView } = require('../lib/devtools/views');
    const lines = statusView(d, { paint: ctx.paint, width: ctx.width, where: source.where });
    if (d.partial) lines.push(ctx.paint('yellow', `only the public /health figures: ${d.partialReason}`));
    out.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------
// gc

async function gc(args, out, ctx) {
  const { bytes, signedBytes } = require('../lib/devtools/format');
  const { source, close } = await openSource(args);
  try {
    const a = await source.gc('cli', { onWait: (s) => ctx.err.write(`memory: rate-limited by the server, retrying in ${s} s\n`) });
    if (args.flags['--json']) {
      out.write(`${JSON.stringify({ source: source.kind, where: source.short, ...a }, null, 2)}\n`);
      return a.success ? 0 : 1;
    }
    out.write(`${ctx.paint('gray', source.where)}\n`);
    if (!a.success) {
      out.write(`${ctx.paint('red', 'GC not run')}: ${a.error}${a.recommendation ? `\n${a.recommendation}` : ''}\n`);
      return 1;
    }
    out.write(
      `GC done in ${a.durationMs.toFixed(1)} ms: heap ${bytes(a.memoryBefore)} -> ${bytes(a.memoryAfter)}, freed ${ctx.paint('green', bytes(a.freedBytes))}` +
        (a.freedBytes === 0 && a.memoryAfter > a.memoryBefore ? ` (${signedBytes(a.memoryAfter - a.memoryBefore)}: allocations during the GC)` : '') +
        '\n',
    );
    return 0;
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------
// simulate

function simulationPrinter(out, ctx, json) {
  const { bytes, bar, clock, STATUS_COLOR, percent } = require('../lib/devtools/format');
  const printed = { transitions: 0, alerts: 0, cleanups: 0, gcs: 0, phase: null, pct: -1 };
  const tty = ctx.tty;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) out.write('\r\x1b[K');
    progressShown = false;
  };
  const line = (text) => {
    if (json) return;
    clearProgress();
    out.write(`${text}\n`);
  };
  return {
    line,
    progress(s) {
      if (json) return;
      const colour = (st) => ctx.paint(STATUS_COLOR[st] || 'gray', st);
      for (const t of s.transitions.slice(printed.transitions)) line(`  ${clock(t.t)} status ${colour(t.from)} -> ${colour(t.to)} at ${percent(t.pressurePercentage)} (${t.phase})`);
      printed.transitions = s.transitions.length;
      for (const a of s.alerts.slice(printed.alerts)) line(`  ${clock(a.t)} ${ctx.paint('red', 'alert')} ${a.type} (${a.level}): ${a.message}`);
      printed.alerts = s.alerts.length;
      for (const c of s.cleanups.slice(printed.cleanups)) {
        const acts = c.actions.map((x) => `${x.strategy} ${x.success ? 'ok' : 'failed'}${x.freedBytes ? ` (${bytes(x.freedBytes)})` : ''}`).join(', ');
        line(`  ${clock(c.t)} ${ctx.paint('cyan', 'cleanup')} (${c.reason}): ${acts || 'no strategy eligible'}`);
      }
      printed.cleanups = s.cleanups.length;
      for (const g of s.gcs.slice(printed.gcs)) line(`  ${clock(g.t)} GC (${g.reason}) ${g.success ? `freed ${bytes(g.freedBytes)} in ${Number(g.durationMs).toFixed(1)} ms` : 'not run'}`);
      printed.gcs = s.gcs.length;
      if (s.phase !== printed.phase) {
        if (printed.phase === 'allocating' && printed.pct < 100) {
          // Polling a server can miss the last step: show the allocation complete.
          line(`allocating ${bar(100, 30)} ${bytes(s.targetBytes)} of ${bytes(s.targetBytes)}`);
          printed.pct = 100;
        }
        printed.phase = s.phase;
        if (s.phase === 'holding') line(`holding ${bytes(s.targetBytes)}`);
        if (s.phase === 'recovering') line('released; waiting for recovery');
      }
      if (s.phase === 'allocating') {
        const pct = s.targetBytes > 0 ? (100 * s.allocatedBytes) / s.targetBytes : 100;
        const text = `allocating ${bar(pct, 30)} ${bytes(s.allocatedBytes)} of ${bytes(s.targetBytes)}  status ${colour(s.status || 'healthy')}`;
        if (tty) {
          out.write(`\r\x1b[K${text}`);
          progressShown = true;
        } else if (pct > 0 && Math.floor(pct / 25) > Math.floor(printed.pct / 25)) {
          out.write(`${text}\n`);
        }
        printed.pct = pct;
      }
    },
    done: clearProgress,
  };
}

async function simulate(args, out, ctx) {
  if (args.positional.length > 1) throw new UsageError(`simulate takes one size in MB (got ${args.positional.join(' ')})`);
  const raw = args.positional[0];
  const mb = raw === undefined ? 100 : Number(raw);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 1_048_576) throw new UsageError(`simulate MB=${raw} is invalid; accepted: a number of MB greater than 0, e.g. memory simulate 100`);
  const holdMs = integerFlag(args, '--hold-ms', 0, 600_000, undefined);
  const json = Boolean(args.flags['--json']);
  const { bytes, percent, STATUS_COLOR } = require('../lib/devtools/format');
  const { source, close } = await openSource(args, { intervalMs: 200 });
  try {
    const p = simulationPrinter(out, ctx, json);
    if (source.kind === 'in-process') {
      // Refuse before printing anything else (the server checks the same on its side).
      const { requestProblem } = require('../lib/devtools/simulate');
      const problem = requestProblem(source.manager, { mb, holdMs });
      if (problem !== null) {
        ctx.err.write(`memory: simulate ${mb} MB refused: ${problem.name}=${problem.value} is invalid; accepted: ${problem.accepted}\n`);
        return 1;
      }
    }
    let started = false;
    const onProgress = (st) => {
      if (!started) {
        started = true;
        p.line(`${ctx.paint('gray', source.where)}`);
        p.line(`simulating ${bytes(mb * 1048576)} of memory pressure (gradual allocation, hold, release)`);
      }
      p.progress(st);
    };
    let s;
    try {
      s = await source.simulate(mb, { holdMs, onProgress, onWait: (sec) => ctx.err.write(`memory: rate-limited by the server, retrying in ${sec} s\n`) });
    } catch (err) {
      p.done();
      if (err.code === 'ERR_MEMWARDEN_SIMULATION_TOO_LARGE' || (err.status === 400 && /\bmb=/.test(err.message))) {
        ctx.err.write(`memory: simulate ${mb} MB refused: ${err.message.replace(/^memwarden: /, '')}\n`);
        return 1;
      }
      throw err;
    }
    p.done();
    if (json) {
      out.write(`${JSON.stringify({ source: source.kind, where: source.short, ...s }, null, 2)}\n`);
      return s.phase === 'done' ? 0 : 1;
    }
    if (s.phase !== 'done') {
      out.write(`${ctx.paint('red', 'simulation failed')}: ${s.error}\n`);
      return 1;
    }
    const c = (st) => ctx.paint(STATUS_COLOR[st], st);
    out.write(`before   ${c(s.before.status)}, pressure ${percent(s.before.pressurePercentage)} (rss ${bytes(s.before.residentBytes)}, heap ${bytes(s.before.heapUsed)})\n`);
    out.write(`peak     ${c(s.peakStatus)}, pressure ${percent(s.peak.pressurePercentage)} (rss ${bytes(s.peak.residentBytes)}, heap ${bytes(s.peak.heapUsed)})\n`);
    out.write(`after    ${c(s.after.status)}, pressure ${percent(s.after.pressurePercentage)} (rss ${bytes(s.after.residentBytes)}, heap ${bytes(s.after.heapUsed)})\n`);
    out.write(`fired    ${s.transitions.length} status transition(s), ${s.alerts.length} alert(s), ${s.cleanups.length} cleanup run(s), ${s.gcs.length} GC(s)\n`);
    out.write(`recovery ${s.recovered ? ctx.paint('green', `recovered to ${s.after.status}`) : ctx.paint('red', `still ${s.after.status} after the recovery wait`)}\n`);
    if (s.transitions.length === 0 && s.peakStatus === 'healthy') {
      out.write(ctx.paint('gray', `no threshold was crossed: ${bytes(mb * 1048576)} is small next to this limit; set MEMORY_LIMIT_MB (or simulate more) to see the transitions\n`));
    }
    return 0;
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------
// monitor

async function monitor(args, out, ctx) {
  const intervalMs = integerFlag(args, '--interval-ms', 100, 60_000, 1000);
  const count = integerFlag(args, '--count', 1, 1_000_000, Infinity);
  const { monitorFrame, eventsBetween, statusLine } = require('../lib/devtools/views');
  const { fit } = require('../lib/devtools/format');
  const { source, close } = await openSource(args, { intervalMs: Math.min(intervalMs, 1000) });
  const tty = ctx.tty;
  const samples = new Map();
  const events = [];
  let prev = null;
  let since = null;
  let stopped = false;
  let frames = 0;
  let wake = null;
  const restore = () => {
    if (tty) out.write('\x1b[?25h\x1b[?1049l');
  };
  const stop = () => {
    stopped = true;
    if (wake) wake();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const onResize = () => prev && draw(prev);
  if (tty) {
    out.write('\x1b[?1049h\x1b[?25l'); // alternate screen, cursor hidden
    out.on('resize', onResize);
  }
  const draw = (d) => {
    const kept = [...samples.values()];
    if (tty) {
      const width = out.columns || 80;
      const height = out.rows || 24;
      // Each line cut to the terminal's width and the frame to its height: nothing wraps or scrolls.
      const lines = monitorFrame(d, kept, events, { paint: ctx.paint, width, height, where: source.short }).slice(0, height);
      out.write(`\x1b[H${lines.map((l) => `${fit(l, width)}\x1b[K`).join('\n')}\x1b[J`);
    } else {
      out.write(`${statusLine(d, ctx.paint)}\n`);
    }
  };
  let code = 0;
  try {
    if (!tty) out.write(`${source.where}\n`);
    while (!stopped && frames < count) {
      let d;
      try {
        d = await source.live(since);
      } catch (err) {
        if (frames === 0) throw err;
        events.push(`${new Date().toISOString().slice(11, 19)} ${err.message}`);
        if (!tty) ctx.err.write(`memory: ${err.message}\n`);
        await new Promise((r) => {
          wake = r;
          setTimeout(r, intervalMs);
        });
        continue;
      }
      for (const s of d.samples) samples.set(s.t, s);
      while (samples.size > 1200) samples.delete(samples.keys().next().value);
      if (d.samples.length) since = d.samples[d.samples.length - 1].t;
      const news = eventsBetween(prev, d);
      events.push(...news);
      if (events.length > 200) events.splice(0, events.length - 200);
      if (!tty) for (const e of news) out.write(`  ${e}\n`);
      prev = d;
      draw(d);
      frames++;
      if (frames >= count) break;
      await new Promise((r) => {
        wake = r;
        setTimeout(r, intervalMs);
      });
    }
  } catch (err) {
    code = 1;
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (tty) out.off('resize', onResize);
    restore();
    await close();
    if (code === 0) out.write(`memory monitor: ${frames} update(s)${prev ? `, last status ${prev.status}` : ''}${stopped ? ', stopped' : ''}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// test

async function selfTest(args, out, ctx) {
  const { runSteps, localSteps, remoteSteps } = require('../lib/devtools/selftest');
  const json = Boolean(args.flags['--json']);
  const url = args.flags['--url'] !== undefined ? args.flags['--url'] : process.env.MEMORY_API_URL || null;
  let steps;
  let where;
  let close = async () => {};
  const onWait = (s) => ctx.err.write(`memory: rate-limited by the server, waiting ${s} s\n`);
  if (url) {
    const { source } = await openSource(args);
    // An unreachable server is one line (exit 1), not seven failed steps.
    await source.health();
    steps = remoteSteps(source, onWait);
    where = source.where;
  } else {
    enableGc();
    const { MemoryManagerService } = require('..');
    const manager = MemoryManagerService.getInstance();
    steps = await localSteps(manager);
    where = `in-process: this command's own Node process (pid ${process.pid}), with its own limit and thresholds; use --url or MEMORY_API_URL to test a running server`;
    close = () => manager.shutdown();
  }
  if (!json) out.write(`memwarden self-test (${where})\n`);
  let results;
  try {
    results = await runSteps(steps, (r) => {
      if (!json) out.write(`  ${r.ok ? ctx.paint('green', 'PASS') : ctx.paint('red', 'FAIL')}  ${r.name.padEnd(44)} ${ctx.paint(r.ok ? 'gray' : 'red', r.detail)}\n`);
    });
  } finally {
    await close();
  }
  const failed = results.filter((r) => !r.ok).length;
  if (json) out.write(`${JSON.stringify({ source: url ? 'server' : 'in-process', passed: results.length - failed, failed, steps: results }, null, 2)}\n`);
  else out.write(`${results.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------
// report

async function report(args, out, ctx) {
  const { writeReport } = require('../lib/devtools/report');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const base = args.flags['--out'] !== undefined ? args.flags['--out'].replace(/\.(json|html)$/, '') : `memory-report-${stamp}`;
  const { source, close } = await openSource(args, { intervalMs: 100 });
  try {
    if (source.kind === 'in-process') {
      // A fresh process has no history: record two seconds of it first.
      await sleep(2000);
      await source.manager.checkMemoryPressure();
    }
    const r = await source.report();
    let paths;
    try {
      paths = writeReport(r, base);
    } catch (err) {
      throw new UsageError(`cannot write ${base}.json / .html: ${err.message}`);
    }
    out.write(`${ctx.paint('gray', source.where)}\n`);
    out.write(`status ${r.status}, ${r.history.samples.length} samples, ${r.history.gc.length} full GCs, ${r.alerts ? r.alerts.history.length : 0} alert records\n`);
    out.write(`wrote ${paths.jsonPath}\nwrote ${paths.htmlPath} (self-contained; open it in a browser)\n`);
    return 0;
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------

const COMMANDS = { status, gc, simulate, monitor, test: selfTest, report, analyze: (a, out) => analyze(a, out) };

async function main(argv, out = process.stdout, err = process.stderr) {
  const { painter, useColor } = require('../lib/devtools/format');
  let args;
  try {
    args = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.write(`memory: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.command === 'help') {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const ctx = { paint: painter(useColor(out)), tty: Boolean(out.isTTY), width: out.columns || 80, err };
  try {
    return await COMMANDS[args.command](args, out, ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`memory: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    // One clear line, never a stack trace (MEMORY_DEBUG=1 shows it).
    const message = String((e && e.message) || e).replace(/^memwarden: /, '');
    err.write(`memory: ${args.command} failed: ${message}\n`);
    if (process.env.MEMORY_DEBUG && e && e.stack) err.write(`${e.stack}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`memory: ${(e && e.message) || e}\n`);
      process.exitCode = 1;
    },
  );
}

module.exports = { main, parse, USAGE };

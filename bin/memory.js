#!/usr/bin/env node
'use strict';
// memwarden's command line. `memory analyze FILE` replays a trace exported with
// `MemoryManagerService.exportTrace()` through the leak detector and prints the verdict.
const fs = require('node:fs');
const path = require('node:path');

const USAGE = `usage: memory analyze FILE [--memory-limit-mb N] [--interval-ms N] [--json] [--fail-on-leak]

  analyze FILE   replay a trace (JSON from exportTrace(), or { samples, gc }) and print
                 when a leak was suspected and cleared
  --memory-limit-mb N   the limit to measure against (default: the trace's limitBytes)
  --interval-ms N       the sampling interval (default: the trace's, else inferred)
  --json                print the whole analysis as JSON
  --fail-on-leak        exit with 1 when a leak is still suspected at the end`;

function fail(message) {
  process.stderr.write(`memory: ${message}\n`);
  process.exit(2);
}

function parse(argv) {
  const out = { command: argv[0], file: null, options: {}, json: false, failOnLeak: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const number = (name) => {
      const v = Number(argv[++i]);
      if (argv[i] === undefined || !Number.isFinite(v)) fail(`${a} needs a number (got ${argv[i]})`);
      return v;
    };
    if (a === '--json') out.json = true;
    else if (a === '--fail-on-leak') out.failOnLeak = true;
    else if (a === '--memory-limit-mb') out.options.memoryLimitMb = number();
    else if (a === '--interval-ms') out.options.monitoringIntervalMs = number();
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option ${a}\n${USAGE}`);
    else if (out.file === null) out.file = a;
    else fail(`unexpected argument ${a}`);
  }
  return out;
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function analyze(args) {
  if (!args.file) fail(`analyze needs a FILE\n${USAGE}`);
  let text;
  try {
    text = fs.readFileSync(path.resolve(args.file), 'utf8');
  } catch (err) {
    fail(`cannot read ${args.file}: ${err.message}`);
  }
  let trace;
  try {
    trace = JSON.parse(text);
  } catch (err) {
    fail(`${args.file} is not JSON: ${err.message}`);
  }
  const { analyzeTrace } = require('..');
  let a;
  try {
    a = analyzeTrace(trace, args.options);
  } catch (err) {
    fail(err.message);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(a, null, 2)}\n`);
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
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (args.failOnLeak && a.leak.leakSuspected) process.exit(1);
}

const args = parse(process.argv.slice(2));
if (args.command === 'analyze') analyze(args);
else if (args.command === undefined || args.command === '-h' || args.command === '--help') process.stdout.write(`${USAGE}\n`);
else fail(`unknown command ${args.command}\n${USAGE}`);

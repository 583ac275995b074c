'use strict';
// Time to the limit over real processes that leak until they die: a V8 heap leak until
// V8 aborts (--max-old-space-size), and a Buffer leak against MEMORY_LIMIT_MB (the
// parent kills the child when its resident memory reaches the limit, as the kernel
// would). The estimate read 60, 30 and 10 s before the death is printed against the
// time that was really left.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { childEnv } = require('./support/child');

const CHILD = path.join(__dirname, 'support', 'oom-child.js');
const MB = 1048576;

/** Runs the child until it dies (or `killAt(line)` says so); resolves with its lines and the death time. */
function runUntilDeath(args, env, killAt = () => false, timeoutMs = 150_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let buf = '';
    let stderr = '';
    let killedAt = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        lines.push(line);
        if (killedAt === null && killAt(line)) {
          killedAt = line.t;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ lines, code, signal, diedAt: killedAt !== null ? killedAt : Date.now(), killed: killedAt !== null, stderr: stderr.slice(0, 400) });
    });
  });
}

/** Relative errors of `pick(line)` (minutes) against the time really left, by seconds before death. */
function errors(run, pick) {
  return run.lines
    .map((l) => {
      const left = (run.diedAt - l.t) / 1000;
      const e = pick(l);
      return { left, est: e ? e.minutes * 60 : null, low: e ? e.minutesLow * 60 : null, high: e && e.minutesHigh !== null ? e.minutesHigh * 60 : null };
    })
    .filter((x) => x.left > 0)
    .map((x) => ({ ...x, error: x.est === null ? null : (x.est - x.left) / x.left }));
}

function report(t, name, errs) {
  for (const before of [60, 30, 10]) {
    const x = errs.reduce((best, e) => (Math.abs(e.left - before) < Math.abs(best.left - before) ? e : best), errs[0]);
    const fmt = (v) => (v === null ? '-' : v.toFixed(1));
    t.diagnostic(`${name}: ${x.left.toFixed(1)} s before the death: estimate ${fmt(x.est)} s [${fmt(x.low)}, ${fmt(x.high)}], error ${x.error === null ? '-' : `${(x.error * 100).toFixed(0)} %`}`);
  }
  const window = errs.filter((e) => e.left >= 20 && e.left <= 60 && e.error !== null).map((e) => e.error).sort((a, b) => a - b);
  const median = window.length ? window[Math.floor(window.length / 2)] : null;
  t.diagnostic(`${name}: median error 20-60 s before: ${median === null ? '-' : `${(median * 100).toFixed(0)} %`} over ${window.length} readings`);
  return { median, readings: window.length };
}

test('time to the limit before a real V8 heap abort and a resident kill', { timeout: 200_000 }, async (t) => {
  const [heap, resident] = await Promise.all([
    runUntilDeath(['--max-old-space-size=192', CHILD, 'heap'], { LEAK_KB_PER_SEC: '4096' }),
    runUntilDeath(['--max-old-space-size=256', CHILD, 'resident'], { LEAK_KB_PER_SEC: '2048', MEMORY_LIMIT_MB: '220' }, (l) => l.rss >= 220 * MB),
  ]);
  // The heap child died of V8's abort (SIGABRT), not of the timeout.
  assert.ok(heap.signal === 'SIGABRT' || heap.code === 134, `heap child: code ${heap.code} signal ${heap.signal} ${heap.stderr}`);
  assert.ok(resident.killed, `resident child never reached the limit: ${JSON.stringify(resident.lines.slice(-2))}`);
  const h = report(t, 'heap', errors(heap, (l) => l.timeToLimit && l.timeToLimit.heap));
  const r = report(t, 'resident', errors(resident, (l) => l.timeToLimit && l.timeToLimit.resident));
  assert.ok(h.readings >= 20 && r.readings >= 20, `${h.readings} / ${r.readings} readings 20-60 s before`);
  assert.ok(Math.abs(h.median) <= 0.3, `heap: median error ${h.median}`);
  assert.ok(Math.abs(r.median) <= 0.3, `resident: median error ${r.median}`);
});

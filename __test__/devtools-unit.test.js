'use strict';
// Pure parts of the developer tools: the CLI's text helpers, the simulation's request
// checks, and the HTML report (parses, holds the data series, inlines uPlot, escapes).
// memoryMonitorUtil in a real child process.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const vm = require('node:vm');
const { ROOT, runNode, resultOf } = require('./support/child');

const { sparkline, bar, bytes, minutes, painter, useColor, fit } = require(`${ROOT}/lib/devtools/format`);
const { renderReportHtml, leakTrendLine } = require(`${ROOT}/lib/devtools/report`);

test('sparkline: scaled to the series, newest last, width kept', () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([8, 1], 8), '█▁');
  assert.equal(sparkline([5, 5, 5], 8), '▁▁▁', 'a constant is flat, not NaN');
  assert.equal(sparkline([], 8), '');
  assert.equal(sparkline([1, NaN, 2], 8), '▁█', 'non-finite values are skipped');
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3), '▁▅█', 'the last `width` values');
  assert.equal(sparkline([0, 50], 2, { min: 0, max: 100 }), '▁▅');
});

test('bar: filled to the percentage, threshold marks beyond the fill', () => {
  assert.equal(bar(50, 10), '[#####.....]');
  assert.equal(bar(0, 10, [70, 90]), '[......|.|.]');
  assert.equal(bar(100, 10, [70]), '[##########]');
  assert.equal(bar(250, 4), '[####]');
  assert.equal(bar(-5, 4), '[....]');
});

test('fit: cut to visible width, colour codes kept', () => {
  assert.equal(fit('abcdef', 4), 'abcd\x1b[0m');
  assert.equal(fit('abc', 4), 'abc');
  assert.equal(fit('\x1b[31mabcdef\x1b[0m', 3), '\x1b[31mabc\x1b[0m');
  assert.equal(fit('▁▂▃▄▅', 2), '▁▂\x1b[0m');
});

test('sizes, durations and colour', () => {
  assert.equal(bytes(512), '512 B');
  assert.equal(bytes(1536), '2 KB');
  assert.equal(bytes(5 * 1048576), '5.0 MB');
  assert.equal(bytes(3 * 1073741824), '3.00 GB');
  assert.equal(bytes(null), 'n/a');
  assert.equal(minutes(null), 'not approaching');
  assert.equal(minutes(0.5), '30 s');
  assert.equal(minutes(5), '5.0 min');
  assert.equal(minutes(300), '5.0 h');
  assert.equal(painter(true)('red', 'x'), '\x1b[31mx\x1b[0m');
  assert.equal(painter(false)('red', 'x'), 'x');
  assert.equal(useColor({ isTTY: true }, { TERM: 'xterm' }), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(useColor({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(useColor({ isTTY: true }, { TERM: 'dumb' }), false);
});

test('simulation requests: each bad field named with what is accepted', () => {
  const { requestProblem } = require(`${ROOT}/lib/devtools/simulate`);
  const manager = {
    getHealthMetrics: () => ({ currentUsage: { limitBytes: 512 * 1048576, residentBytes: 112 * 1048576, heapSizeLimit: 4096 * 1048576, heapUsed: 10 * 1048576, limitSource: 'override' } }),
  };
  assert.equal(requestProblem(manager, { mb: 100 }), null);
  assert.deepEqual(requestProblem(manager, { mb: 0 }), { name: 'mb', value: 0, accepted: 'a number of MB greater than 0' });
  assert.equal(requestProblem(manager, { mb: 'x' }).name, 'mb');
  assert.equal(requestProblem(manager, { mb: 1, stepMs: 5 }).accepted, 'a whole number of ms from 10 to 10000');
  assert.equal(requestProblem(manager, { mb: 1, holdMs: -1 }).name, 'holdMs');
  assert.equal(requestProblem(manager, { mb: 1, recoverMs: 1.5 }).name, 'recoverMs');
  const big = requestProblem(manager, { mb: 400 });
  assert.equal(big.code, 'ERR_MEMWARDEN_SIMULATION_TOO_LARGE');
  assert.equal(big.maxMb, 360, '90 % of the 400 MB left below the limit');
  assert.match(big.accepted, /^at most 360 MB here: 400 MB are left below the 512 MB limit \(override\) and 4086 MB below V8's heap limit/);
  assert.equal(requestProblem(manager, { mb: 360 }), null);
});

/** A report as generateMemoryReport() makes it, with chosen series. */
function sampleReport(extra = {}) {
  const t0 = 1_790_000_000_000;
  const samples = Array.from({ length: 30 }, (_, i) => ({ t: t0 + i * 1000, heapUsed: (20 + i) * 1048576, heapTotal: 40 * 1048576, rss: (80 + 2 * i) * 1048576, external: 1048576 }));
  return {
    memwardenReport: 1,
    generatedAt: new Date(t0 + 30_000).toISOString(),
    source: { kind: 'in-process', pid: 1 },
    status: 'warning',
    currentUsage: { pressurePercentage: 72.5, pressureSource: 'resident', residentBytes: 138 * 1048576, limitBytes: 190 * 1048576, limitSource: 'override', heapUsed: 49 * 1048576, heapSizeLimit: 4096 * 1048576 },
    thresholds: { warning: 70, critical: 85, emergency: 95, hysteresis: 2 },
    trend: { enoughData: true, growthRateBytesPerSec: 2 * 1048576, minutesToLimit: 0.4 },
    gcStats: { totalCollections: 12, major: 2, averageDuration: 3.5 },
    gcAvailable: true,
    recommendations: ['</script><script>window.pwned = 1</script>', 'Use a bounded cache'],
    leak: { leakSuspected: true, confidence: 81, signal: 'heap', recommendations: [], heap: { signal: 'heap', slopeBytesPerSec: 1048576, currentBytes: 49 * 1048576, windowMs: 20_000 } },
    history: { intervalMs: 1000, samples, gc: [{ t: t0 + 10_500, durationMs: 4.2, kind: 'major', forced: true, heapBefore: 31 * 1048576, heapAfter: 29 * 1048576 }] },
    requests: { routes: [{ route: 'GET /a', count: 3, serverErrors: 0, latencyMs: { p50: 1, p95: 2 }, memory: { meanHeapDeltaBytes: 1024 } }] },
    alerts: { active: [], history: [{ id: 1, type: 'high_usage', level: 'warning', message: 'Memory warning', timestamp: t0 + 20_000, resolved: false }] },
    cleanup: { strategies: [{ name: 'cache' }], last: null },
    ...extra,
  };
}

test('the HTML report parses, inlines uPlot, holds the data series and escapes text', () => {
  const report = sampleReport();
  const html = renderReportHtml(report);
  assert.match(html, /^<!doctype html>\n<html lang="en">\n<head>/);
  assert.ok(html.trimEnd().endsWith('</html>'));
  const scripts = [...html.matchAll(/<script( type="application\/json" id="memwarden-data")?>([\s\S]*?)<\/script>/g)];
  const code = scripts.filter((m) => !m[1]).map((m) => m[2]);
  assert.equal(code.length, 3, 'uPlot, the chart code, the report script');
  for (const c of code) assert.doesNotThrow(() => new vm.Script(c), 'each inline script parses');
  const uplot = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  assert.equal(code[0], uplot, 'uPlot inlined verbatim');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)[1].replace(/&#39;/g, "'");
  for (const c of code) assert.ok(csp.includes(`'sha256-${crypto.createHash('sha256').update(c).digest('base64')}'`), 'each script allowed by its hash');
  assert.match(csp, /connect-src 'none'/, 'the report makes no requests');
  assert.ok(!/<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\/(?!github\.com\/leeoniya)/.test(html.replace(code[0], '')), 'nothing from the network');

  const data = JSON.parse(scripts.find((m) => m[1])[2]);
  assert.equal(data.history.samples.length, 30);
  assert.deepEqual(data.history.samples.map((s) => s.rss), report.history.samples.map((s) => s.rss), 'the RSS series');
  assert.deepEqual(data.history.samples.map((s) => s.heapUsed), report.history.samples.map((s) => s.heapUsed), 'the heap series');
  assert.deepEqual(data.history.gc, report.history.gc, 'the GC events');
  assert.deepEqual(data.recommendations, report.recommendations, 'text survives the round trip');
  assert.ok(!html.includes('</script><script>window.pwned'), 'a closing tag in the data cannot end the script');
  assert.deepEqual(data.leakTrend.points.map((p) => p.t), [report.history.samples[29].t - 20_000, report.history.samples[29].t]);
  assert.equal(data.leakTrend.points[1].v - data.leakTrend.points[0].v, 20 * 1048576, 'slope x window');
});

test('leak trend line: none without a slope; a steep line starts where it crosses zero', () => {
  assert.equal(leakTrendLine(sampleReport({ leak: { heap: { slopeBytesPerSec: 0, currentBytes: 1, windowMs: 1000 } } })), null);
  const steep = leakTrendLine(sampleReport({ leak: { signal: 'heap', heap: { signal: 'heap', slopeBytesPerSec: 10 * 1048576, currentBytes: 50 * 1048576, windowMs: 20_000 } } }));
  assert.ok(Math.abs(steep.points[0].v) < 1, `starts at ${steep.points[0].v}`);
  assert.equal(steep.points[1].t - steep.points[0].t, 5000);
});

test('memoryMonitorUtil in a real process: start/stop, simulate, report; nothing keeps it alive', async () => {
  const script = `
    const { memoryMonitorUtil: u, MemoryManagerService } = require(${JSON.stringify(ROOT)});
    const { emitResult } = require(${JSON.stringify(`${ROOT}/__test__/support/child`)});
    const out = {};
    const codeOf = async (f) => { try { await f(); return 'no error'; } catch (e) { return e.code; } };
    (async () => {
      out.reportBeforeInit = await codeOf(() => u.generateMemoryReport());
      out.badInterval = await codeOf(() => u.startDevelopmentMonitoring(50));
      const lines = [];
      const logger = { info: (l) => lines.push(l), warn: (l) => lines.push(l) };
      await u.startDevelopmentMonitoring(150, { logger });
      await new Promise((r) => setTimeout(r, 700));
      out.stopped = u.stopDevelopmentMonitoring();
      const n = lines.length;
      await new Promise((r) => setTimeout(r, 400));
      out.linesAfterStop = lines.length - n;
      out.stoppedAgain = u.stopDevelopmentMonitoring();
      out.lines = lines;
      out.tooLarge = await codeOf(() => u.simulateMemoryPressure(10_000_000));
      const s = await u.simulateMemoryPressure(30, { holdMs: 0 });
      out.sim = { phase: s.phase, recovered: s.recovered, peakHeap: s.peak.heapUsed, targetBytes: s.targetBytes };
      const r = u.generateMemoryReport();
      out.report = { version: r.memwardenReport, kind: r.source.kind, samples: r.history.samples.length, status: r.status };
      await u.startDevelopmentMonitoring(100, { logger: { info() {}, warn() {} } });
      emitResult(out);
      // Neither stopDevelopmentMonitoring() nor shutdown(): the process must still exit.
    })();
  `;
  const run = await runNode(['-e', script], { timeoutMs: 30_000 });
  assert.equal(run.timedOut, false, 'the process exited by itself');
  assert.equal(run.code, 0, run.stderr);
  const r = resultOf(run);
  assert.equal(r.reportBeforeInit, 'ERR_MEMWARDEN_NOT_INITIALIZED');
  assert.equal(r.badInterval, 'ERR_MEMWARDEN_INVALID_ARG');
  assert.equal(r.stopped, true);
  assert.equal(r.stoppedAgain, false);
  assert.equal(r.linesAfterStop, 0);
  const status = r.lines.filter((l) => /^\[memwarden\] \d\d:\d\d:\d\d  healthy\s+pressure\s+[\d.]+%  rss\s+[\d.]+ MB  heap/.test(l));
  assert.ok(status.length >= 3, r.lines.join('\n'));
  assert.equal(r.tooLarge, 'ERR_MEMWARDEN_SIMULATION_TOO_LARGE');
  assert.deepEqual({ phase: r.sim.phase, recovered: r.sim.recovered }, { phase: 'done', recovered: true });
  assert.ok(r.sim.peakHeap > 30 * 1048576, `heap at the peak ${r.sim.peakHeap}`);
  assert.equal(r.report.version, 1);
  assert.equal(r.report.kind, 'in-process');
  assert.ok(r.report.samples >= 2);
});

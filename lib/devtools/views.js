'use strict';
// What the CLI and memoryMonitorUtil print, from the live payload (lib/devtools/live.js):
// the status summary, the one-line status, and the monitor's full-screen frame.
const { STATUS_COLOR, bytes, minutes, percent, bar, sparkline, clock, MB } = require('./format');

function growth(d) {
  const g = d.trend.growthRateBytesPerSec;
  if (!d.trend.enoughData || g === null || g === undefined) return 'collecting data';
  return `${g >= 0 ? '+' : ''}${((g * 60) / MB).toFixed(1)} MB/min${d.trend.isIncreasing ? ', rising' : ''}`;
}

function timeToLimit(d) {
  const m = d.leak.minutesToLimit ?? d.trend.minutesToLimit;
  return m === null || m === undefined ? 'not approaching the limit' : `${minutes(m)} to the limit`;
}

function leakText(d) {
  return d.leak.leakSuspected
    ? `LEAK suspected in ${d.leak.signal} (confidence ${d.leak.confidence.toFixed(0)}%)`
    : `no leak suspected (confidence ${d.leak.confidence.toFixed(0)}%)`;
}

function gcText(d) {
  const s = d.gcStats;
  return `${s.totalCollections} collections, ${s.major} full, avg ${(s.averageDuration || 0).toFixed(1)} ms, ${(s.pauseTimePercent || 0).toFixed(2)}% of the time paused${d.gcAvailable ? '' : ' (no --expose-gc)'}`;
}

/** One line: time, status, pressure, resident, heap, growth, leak confidence. */
function statusLine(d, paint = (c, t) => t) {
  return [
    clock(d.timestamp),
    paint(STATUS_COLOR[d.status], d.status.padEnd(9)),
    `pressure ${percent(d.pressurePercentage).padStart(6)}`,
    `rss ${bytes(d.residentBytes).padStart(9)}`,
    `heap ${bytes(d.heapUsed).padStart(9)}`,
    growth(d),
    `leak ${d.leak.confidence.toFixed(0)}%${d.leak.leakSuspected ? ' LEAK' : ''}`,
    `gc ${d.gcStats.totalCollections}`,
  ].join('  ');
}

/** The `memory status` summary, as lines. */
function statusView(d, { paint = (c, t) => t, width = 80, where = '' } = {}) {
  const t = d.thresholds;
  const usageBar = bar(d.pressurePercentage, Math.max(20, Math.min(50, width - 40)), [t.warning, t.critical, t.emergency]);
  const lines = [
    `${paint('bold', 'memwarden')} ${paint(STATUS_COLOR[d.status], paint('bold', d.status.toUpperCase()))} since ${clock(d.statusSince)}${where ? paint('gray', `  (${where})`) : ''}`,
    `pressure   ${paint(STATUS_COLOR[d.status], usageBar)} ${percent(d.pressurePercentage)} of the ${d.pressureSource} limit`,
    `           thresholds: warning ${t.warning}%, critical ${t.critical}%, emergency ${t.emergency}%`,
    `resident   ${bytes(d.residentBytes)} of ${bytes(d.limitBytes)} (${d.limitSource}), ${percent(d.usagePercentage)}`,
    `heap       ${bytes(d.heapUsed)} of ${bytes(d.heapSizeLimit)} (V8 limit), ${percent(d.heapUsagePercentage)}`,
    `trend      ${growth(d)}; ${timeToLimit(d)}`,
    `leak       ${d.leak.leakSuspected ? paint('red', leakText(d)) : leakText(d)}`,
    `GC         ${gcText(d)}`,
  ];
  for (const s of d.leak.sites || []) lines.push(`           site: ${s.functionName || '(anonymous)'} ${s.url}:${s.lineNumber} +${(s.growthBytesPerSec / 1024).toFixed(0)} KB/s`);
  const active = (d.alerts && d.alerts.active) || [];
  lines.push(`alerts     ${active.length === 0 ? 'none active' : active.map((a) => paint(a.level === 'warning' ? 'yellow' : 'red', `${a.type} (${a.level})`)).join(', ')}`);
  for (const a of active) lines.push(`           ${a.message}`);
  const recs = d.recommendations || [];
  if (recs.length) {
    lines.push('recommendations');
    for (const r of recs.slice(0, 4)) lines.push(`  - ${r}`);
  }
  return lines;
}

/**
 * The monitor's screen: header, sparklines of heap and RSS over the kept samples, status,
 * GC activity and the latest alerts. `events` are lines noted as they happened.
 */
function monitorFrame(d, samples, events, { paint = (c, t) => t, width = 80, height = 24, where = '' } = {}) {
  const w = Math.max(20, width - 16);
  const heap = samples.map((s) => s.heapUsed);
  const rss = samples.map((s) => s.rss);
  const span = samples.length > 1 ? Math.round((samples[samples.length - 1].t - samples[0].t) / 1000) : 0;
  const range = (xs) => (xs.length ? `${bytes(Math.min(...xs.slice(-w)))} .. ${bytes(Math.max(...xs.slice(-w)))}` : '');
  const lines = [
    `${paint('bold', 'memwarden monitor')} ${paint('gray', where)}  ${clock(d.timestamp)}  ${paint('gray', 'Ctrl-C to quit')}`,
    `status   ${paint(STATUS_COLOR[d.status], paint('bold', d.status.toUpperCase()))}  pressure ${percent(d.pressurePercentage)} of the ${d.pressureSource} limit  ${bar(d.pressurePercentage, 30, [d.thresholds.warning, d.thresholds.critical, d.thresholds.emergency])}`,
    '',
    `heap     ${paint('green', sparkline(heap, w))}`,
    `         now ${bytes(d.heapUsed)}  range ${range(heap)}`,
    `rss      ${paint('blue', sparkline(rss, w))}`,
    `         now ${bytes(d.residentBytes)} of ${bytes(d.limitBytes)}  range ${range(rss)}`,
    `         last ${span} s, ${samples.length} samples`,
    '',
    `trend    ${growth(d)}; ${timeToLimit(d)}`,
    `leak     ${leakText(d)}`,
    `GC       ${gcText(d)}`,
    '',
    paint('bold', 'events'),
  ];
  const room = Math.max(1, height - lines.length - 1);
  const shown = events.slice(-room);
  if (shown.length === 0) lines.push(paint('gray', '  none yet'));
  for (const e of shown) lines.push(`  ${e}`);
  return lines.map((l) => l);
}

/** Lines for alerts / status changes / GCs between two live payloads (for the monitor's events). */
function eventsBetween(prev, d) {
  const out = [];
  if (prev === null) return out;
  if (prev.status !== d.status) out.push(`${clock(d.timestamp)} status ${prev.status} -> ${d.status} (${percent(d.pressurePercentage)})`);
  const seen = new Set((prev.alerts.history || []).map((a) => `${a.id}:${a.resolved}:${a.level}`));
  for (const a of d.alerts.history || []) {
    if (!seen.has(`${a.id}:${a.resolved}:${a.level}`)) out.push(`${clock(a.timestamp)} ${a.resolved ? 'resolved' : 'ALERT'} ${a.type} (${a.level}): ${a.message}`);
  }
  if (prev.leak.leakSuspected !== d.leak.leakSuspected) out.push(`${clock(d.timestamp)} ${d.leak.leakSuspected ? `LEAK suspected (${d.leak.signal}, ${d.leak.confidence.toFixed(0)}%)` : 'leak cleared'}`);
  const lastGc = prev.gcStats.major;
  if (d.gcStats.major > lastGc) out.push(`${clock(d.timestamp)} ${d.gcStats.major - lastGc} full GC${d.gcStats.major - lastGc > 1 ? 's' : ''}`);
  return out;
}

module.exports = { statusLine, statusView, monitorFrame, eventsBetween, growth, timeToLimit, leakText };

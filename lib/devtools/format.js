'use strict';
// Text helpers shared by the CLI views: sizes, durations, colour, bars and sparklines.
// Pure functions; colour is decided by the caller (a TTY, NO_COLOR, FORCE_COLOR).

const MB = 1048576;

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 };

/** Whether to colour `stream`: FORCE_COLOR wins, then NO_COLOR, then isTTY. */
function useColor(stream, env = process.env) {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream && stream.isTTY) && env.TERM !== 'dumb';
}

/** A painter: paint('red', text). Identity when colour is off. */
function painter(enabled) {
  return (name, text) => (enabled ? `\x1b[${CODES[name]}m${text}\x1b[0m` : String(text));
}

const STATUS_COLOR = { healthy: 'green', warning: 'yellow', critical: 'red', emergency: 'magenta' };
const STATUS_MARK = { healthy: 'OK', warning: 'WARN', critical: 'CRIT', emergency: 'EMERG' };

function bytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a >= 1024 * MB) return `${(n / 1024 / MB).toFixed(2)} GB`;
  if (a >= MB) return `${(n / MB).toFixed(1)} MB`;
  if (a >= 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${Math.round(n)} B`;
}

function signedBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return `${n >= 0 ? '+' : '-'}${bytes(Math.abs(n))}`;
}

function minutes(m) {
  if (m === null || m === undefined || !Number.isFinite(m)) return 'not approaching';
  if (m < 1) return `${Math.max(1, Math.round(m * 60))} s`;
  if (m < 120) return `${m.toFixed(m < 10 ? 1 : 0)} min`;
  return `${(m / 60).toFixed(1)} h`;
}

function percent(p) {
  return p === null || p === undefined || !Number.isFinite(p) ? 'n/a' : `${p.toFixed(1)}%`;
}

/**
 * A usage bar `[#####·····|··!··]` of `width` cells: filled to `pct`, with the
 * threshold cells marked. Returns plain text (the caller colours it).
 */
function bar(pct, width, marks = []) {
  const w = Math.max(4, width | 0);
  const filled = Math.max(0, Math.min(w, Math.round((Math.max(0, pct) / 100) * w)));
  const cells = [];
  for (let i = 0; i < w; i++) cells.push(i < filled ? '#' : '.');
  for (const m of marks) {
    const i = Math.min(w - 1, Math.max(0, Math.round((m / 100) * w) - 1));
    if (i >= filled) cells[i] = '|';
  }
  return `[${cells.join('')}]`;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline of the last `width` values, scaled between the series' min and max
 * (or `min`/`max` when given). Empty string for no values; a flat line for a constant.
 */
function sparkline(values, width, { min, max } = {}) {
  const vs = values.filter((x) => Number.isFinite(x)).slice(-Math.max(1, width | 0));
  if (vs.length === 0) return '';
  const lo = min !== undefined ? min : Math.min(...vs);
  const hi = max !== undefined ? max : Math.max(...vs);
  const span = hi - lo;
  return vs
    .map((x) => {
      if (!(span > 0)) return SPARKS[0];
      const i = Math.round(((x - lo) / span) * (SPARKS.length - 1));
      return SPARKS[Math.max(0, Math.min(SPARKS.length - 1, i))];
    })
    .join('');
}

/** `text` cut to `width` visible characters (colour codes kept, and reset when cut). */
function fit(text, width) {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; ) {
    const m = /^\x1b\[[0-9;]*m/.exec(text.slice(i, i + 16));
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i));
    if (visible >= width) return `${out}\x1b[0m`;
    out += ch;
    visible++;
    i += ch.length;
  }
  return out;
}

function clock(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

module.exports = { MB, useColor, painter, STATUS_COLOR, STATUS_MARK, bytes, signedBytes, minutes, percent, bar, sparkline, SPARKS, clock, fit };

'use strict';
// The Prometheus text exposition format (version 0.0.4) for memwarden's families,
// without prom-client: GET /api/memory/metrics answers it when asked (Accept:
// text/plain, or application/openmetrics-text as Prometheus sends, or
// ?format=prometheus), and the cluster primary renders its aggregate with it.
const { MetricsSource } = require('./families');

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeHelp = (s) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(x) {
  if (typeof x !== 'number') x = Number(x);
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}

// Formatted label sets by label object: the families reuse their label objects from
// scrape to scrape, so each is formatted once. Label objects are never mutated here.
const formatted = new WeakMap();

function formatLabels(labels) {
  let out = formatted.get(labels);
  if (out !== undefined) return out;
  out = '';
  for (const k in labels) {
    const raw = labels[k];
    const val = typeof raw === 'number' ? formatValue(raw) : String(raw);
    out += `${out ? ',' : ''}${k}="${escapeLabel(val)}"`;
  }
  out = out ? `{${out}}` : '';
  formatted.set(labels, out);
  return out;
}

/**
 * Renders families ({ name, help, type, values: [{ labels, value, metricName? }] })
 * as the text format. A family with no values keeps its HELP and TYPE lines.
 */
function renderText(families) {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const v of f.values) out += `${v.metricName || f.name}${formatLabels(v.labels)} ${formatValue(v.value)}\n`;
  }
  return out;
}

/** True when a request asks for the Prometheus format rather than JSON. */
function wantsPrometheus(req) {
  const url = req.url || '';
  const q = url.indexOf('?');
  if (q !== -1 && /(?:^|&)format=prometheus(?:&|$)/.test(url.slice(q + 1))) return true;
  const accept = req.headers && req.headers.accept;
  if (typeof accept !== 'string') return false;
  // Prometheus sends openmetrics and text/plain, and no application/json: a browser or
  // a JSON client never names text/plain or openmetrics without also preferring JSON/HTML.
  if (!/text\/plain|application\/openmetrics-text/i.test(accept)) return false;
  return !/application\/json|text\/html/i.test(accept);
}

/** A body the router's reader sends as text instead of JSON. */
class TextBody {
  constructor(text, contentType = CONTENT_TYPE) {
    this.text = text;
    this.contentType = contentType;
  }
}

/**
 * The text route's source for a router: built on first use and kept, so the scrape
 * reads a cached snapshot and allocates only the output.
 */
function textExposition(settings) {
  let source = null;
  return function prometheusText() {
    if (source === null) source = new MetricsSource({ workerLabel: 'worker', gcDurations: true, requestDurations: false, ...settings });
    return new TextBody(renderText(source.list()));
  };
}

module.exports = { renderText, formatLabels, formatValue, wantsPrometheus, TextBody, textExposition, CONTENT_TYPE };

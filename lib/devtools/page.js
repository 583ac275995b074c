'use strict';
// Builds self-contained HTML pages (the dashboard and the report): uPlot's script and
// stylesheet from the `uplot` package, memwarden's chart code and the page's own script
// are inlined, so the page needs no network and no CDN. The Content-Security-Policy
// allows exactly these inline scripts (by hash) and fetches to the same origin.
const fs = require('node:fs');
const path = require('node:path');

let assets = null;

/** uPlot's files and the shared chart code, read once. */
function loadAssets() {
  if (assets === null) {
    const read = (file) => fs.readFileSync(file, 'utf8');
    assets = {
      uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js')),
      uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
      uplotVersion: require('uplot/package.json').version,
      chartsJs: read(path.join(__dirname, 'charts.client.js')),
    };
  }
  return assets;
}

/** Text safe inside <script> / <style>: no closing tag can appear. */
function inlineSafe(text) {
  return text.replace(/<\/(script|style)/gi, '<\\/$1');
}

/** JSON safe inside <script type="application/json">. */
function jsonForScript(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// node:crypto loads on first use (memwarden keeps its require-time footprint small).
const hash = (text) => `'sha256-${require('node:crypto').createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * A whole HTML document. `scripts` are the page's own script texts (run after uPlot and
 * the chart code); `data` (optional) is embedded as JSON in #memwarden-data.
 * Returns { html, csp }.
 */
function buildPage({ title, css, body, scripts, data, connectSelf = false }) {
  const a = loadAssets();
  const all = [a.uplotJs, a.chartsJs, ...scripts].map(inlineSafe);
  const csp = [
    "default-src 'none'",
    `script-src ${all.map(hash).join(' ')}`,
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src ${connectSelf ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp.replace("; frame-ancestors 'none'", ''))}">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<!-- charts: uPlot ${escapeHtml(a.uplotVersion)} (MIT, github.com/leeoniya/uPlot), inlined -->
<style>${inlineSafe(a.uplotCss)}</style>
<style>${inlineSafe(css)}</style>
</head>
<body>
${body}
${data === undefined ? '' : `<script type="application/json" id="memwarden-data">${jsonForScript(data)}</script>\n`}${all.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
  return { html, csp };
}

/** Shared look of the two pages. */
const BASE_CSS = `
:root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f9fafb; --card:#fff;
  --healthy:#16a34a; --warning:#d97706; --critical:#dc2626; --emergency:#7e22ce; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; align-items:center; gap:12px; padding:12px 20px; background:#fff; border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0 12px 0 0; }
main { padding:16px 20px; max-width:1400px; margin:0 auto; }
.pill { display:inline-block; padding:2px 10px; border-radius:999px; color:#fff; font-weight:600; text-transform:uppercase; font-size:12px; letter-spacing:.04em; }
.pill.healthy { background:var(--healthy); } .pill.warning { background:var(--warning); }
.pill.critical { background:var(--critical); } .pill.emergency { background:var(--emergency); }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(190px,1fr)); gap:12px; margin-bottom:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.card .k { color:var(--muted); font-size:12px; } .card .v { font-size:20px; font-weight:600; } .card .s { color:var(--muted); font-size:12px; }
.charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(520px,1fr)); gap:12px; }
.chart { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px; min-height:120px; }
section { margin-top:16px; } h2 { font-size:15px; margin:0 0 8px; }
table { border-collapse:collapse; width:100%; background:#fff; } th,td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); font-size:13px; }
th { color:var(--muted); font-weight:600; } .muted { color:var(--muted); }
.bar { height:8px; background:#e5e7eb; border-radius:4px; overflow:hidden; margin-top:6px; } .bar > div { height:100%; }
ul { margin:0; padding-left:18px; }
`;

module.exports = { buildPage, loadAssets, jsonForScript, escapeHtml, BASE_CSS };

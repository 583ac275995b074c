'use strict';
// GET /api/memory/dashboard: one self-contained page (markup in dashboard.html, script in
// dashboard.client.js, uPlot inlined from the `uplot` package; nothing from a CDN).
//
// The page itself holds no figures: everything it shows comes from GET ./live and every
// action goes through POST ./gc and ./emergency-cleanup, each under the router's access
// rules, with the admin token the user types into the page (sent as
// `Authorization: Bearer`, kept in the tab's sessionStorage only). That is why the page
// can be loaded without a token: a browser cannot send a bearer token when it opens a URL.
const fs = require('node:fs');
const path = require('node:path');
const { buildPage, BASE_CSS } = require('./page');
const { liveData, sinceOf } = require('./live');

const DASHBOARD_CSS = `${BASE_CSS}
header .spacer { flex:1; }
header form { display:flex; gap:6px; align-items:center; }
button { font:inherit; padding:4px 12px; border:1px solid #d1d5db; border-radius:6px; background:#fff; cursor:pointer; }
button:hover { background:#f3f4f6; }
input { font:inherit; padding:3px 6px; border:1px solid #d1d5db; border-radius:6px; }
#message { padding:0 20px; min-height:22px; font-size:13px; }
#message.error { color:var(--critical); } #message.ok { color:var(--healthy); }
`;

let page = null;

/** The built page, once per process. */
function dashboardPage() {
  if (page === null) {
    const body = fs.readFileSync(path.join(__dirname, 'dashboard.html'), 'utf8');
    const script = fs.readFileSync(path.join(__dirname, 'dashboard.client.js'), 'utf8');
    const built = buildPage({ title: 'memwarden dashboard', css: DASHBOARD_CSS, body, scripts: [script], connectSelf: true });
    page = { html: Buffer.from(built.html, 'utf8'), csp: built.csp };
  }
  return page;
}

const handler = function memwardenDashboard(req, res) {
  const p = dashboardPage();
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', p.csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', p.html.length);
  res.end(req.method === 'HEAD' ? undefined : p.html);
};

/** The Express handler for GET /dashboard. */
function dashboardHandler() {
  return handler;
}

/** The query string of a request (req.query may not exist yet: see memwarden.express.attach). */
function queryOf(req) {
  const url = req && typeof req.url === 'string' ? req.url : '';
  const i = url.indexOf('?');
  return i === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(i + 1)));
}

/** The body of GET /live for a request (`?since=<epoch ms>` keeps only newer samples). */
function liveFor(manager, req) {
  return liveData(manager, sinceOf(queryOf(req)));
}

module.exports = { dashboardHandler, dashboardPage, liveFor, queryOf };

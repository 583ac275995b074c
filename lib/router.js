'use strict';
// createMemoryRouter(): the /api/memory endpoints (SPEC.md "API Endpoints").
//
//   GET  /health          public: the health report (SPEC.md's example response and more)
//   GET  /metrics         details: history, per-route request statistics, GC, alerts, cleanup
//                         (the Prometheus text format when asked: see lib/metrics/exposition.js)
//   GET  /leak-detection  details: the leak detector's verdict and evidence
//   POST /gc              admin: force a garbage collection
//   POST /emergency-cleanup  admin: run the cleanup strategies
//
// Who may call what is lib/access.js (README "Security"): detailed reads follow the
// admin rule unless publicReads is on; every read added with reader() does too. Admin
// actions are rate-limited. Every refusal and error is JSON with a stable code, never
// a stack.
const { performance } = require('node:perf_hooks');
const { MemoryManagerService } = require('./manager');
const { MemwardenConfigError } = require('./errors');
const { createAccess, forwardedAddresses, parseBooleanEnv, BOOLEAN_ENV_ACCEPTED, TOKEN_ENV, PUBLIC_READS_ENV } = require('./access');
const { v, validateOptions, pathOf, show } = require('./options');
const { wantsPrometheus, TextBody, textExposition } = require('./metrics/exposition');
const devtools = require('./devtools/routes');
const MAX_BODY_BYTES = 4096;

/** require('express'), lazily: memwarden itself runs without express installed. */
function loadExpress(where) {
  try {
    return require('express');
  } catch (err) {
    const e = new Error(
      `memwarden: ${where} needs express (npm install express), or pass { express: require('express') }: ${err && err.message}`,
    );
    e.code = 'ERR_MEMWARDEN_EXPRESS_MISSING';
    throw e;
  }
}

/** Validates an admin token; the problem never shows the token itself. */
function tokenProblem(setting, token) {
  if (typeof token === 'string' && /^[\x21-\x7e]{16,1024}$/.test(token)) return null;
  const shown = typeof token === 'string' ? `(hidden, ${token.length} characters)` : String(token);
  const accepted = '16 to 1024 printable ASCII characters without spaces (e.g. openssl rand -hex 32)';
  return { setting, value: shown, accepted, message: `${setting}=${shown} is invalid; accepted: ${accepted}` };
}

// node:crypto loads on first use (a router with a token), not when memwarden is required.
const sha256 = (s) => require('node:crypto').createHash('sha256').update(s, 'utf8').digest();

function sendJson(res, statusCode, body, headers) {
  const text = JSON.stringify(body);
  res.statusCode = statusCode;
  if (headers) for (const [k, val] of Object.entries(headers)) res.setHeader(k, val);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function sendText(res, body) {
  res.statusCode = 200;
  res.setHeader('Content-Type', body.contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body.text));
  res.end(body.text);
}

function sendError(res, statusCode, code, message, headers, extra) {
  sendJson(res, statusCode, { error: { code, message, statusCode, ...extra } }, headers);
}

class HttpError extends Error {
  constructor(statusCode, code, message, headers) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.headers = headers;
  }
}

// Bodies are parsed by express.json() (body-parser, the module the app's express
// brings); its errors are mapped to memwarden's codes. One check stays hand-written:
// body-parser skips a body whose Content-Type is not JSON, and the admin routes answer
// 415 for it instead of acting as if no body was sent.
const BODY_ERRORS = {
  'entity.parse.failed': [400, 'ERR_MALFORMED_JSON'],
  'entity.too.large': [413, 'ERR_PAYLOAD_TOO_LARGE'],
  'request.aborted': [400, 'ERR_BODY_ABORTED'],
  'request.size.invalid': [400, 'ERR_BODY_ABORTED'],
  'encoding.unsupported': [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
  'charset.unsupported': [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
};

function bodyError(err) {
  const known = err && BODY_ERRORS[err.type];
  if (!known) return new HttpError(400, 'ERR_INVALID_BODY', `the body could not be read: ${err && err.message}`);
  const [status, code] = known;
  if (code === 'ERR_PAYLOAD_TOO_LARGE') return new HttpError(413, code, `the body must be at most ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
  if (code === 'ERR_MALFORMED_JSON') return new HttpError(400, code, `the body is not valid JSON: ${err.message}`);
  if (code === 'ERR_BODY_ABORTED') return new HttpError(400, code, 'the request body was aborted');
  return new HttpError(status, code, `the body's encoding is not supported: ${err.message}`);
}

/** What the app or express.json() left in req.body: undefined for none, else a JSON object (HttpError otherwise). */
function bodyObject(b) {
  if (b === undefined || b === null || (typeof b === 'object' && !Array.isArray(b) && Object.keys(b).length === 0)) return undefined;
  if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'ERR_INVALID_BODY', 'the body must be a JSON object');
  return b;
}

/** Reads a small JSON object body with `jsonParser` (express.json()); undefined when there is none. Rejects with HttpError. */
function readJsonBody(req, res, jsonParser) {
  if (req._body || req.readableEnded) return new Promise((resolve) => resolve(bodyObject(req.body))); // an app-level parser read it
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return Promise.resolve(undefined);
  const type = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    return Promise.reject(new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `the body must be application/json (got ${type || 'no Content-Type'})`));
  }
  return new Promise((resolve, reject) => {
    jsonParser(req, res, (err) => {
      if (err) return reject(bodyError(err));
      try {
        return resolve(bodyObject(req.body));
      } catch (e) {
        return reject(e);
      }
    });
  });
}

/** Checks a parsed body against { field: (value) => accepted-or-null }; throws HttpError 400. */
function checkBody(body, fields) {
  const out = {};
  if (body === undefined) return out;
  for (const [key, value] of Object.entries(body)) {
    if (!Object.hasOwn(fields, key)) {
      throw new HttpError(400, 'ERR_INVALID_BODY', `unknown field ${key}; accepted fields: ${Object.keys(fields).join(', ') || 'none'}`);
    }
    const accepted = fields[key](value);
    if (accepted !== null) throw new HttpError(400, 'ERR_INVALID_BODY', `${key}=${JSON.stringify(value)} is invalid; accepted: ${accepted}`);
    out[key] = value;
  }
  return out;
}

const reasonField = (x) => (typeof x === 'string' && x.length > 0 && x.length <= 200 ? null : 'a non-empty string of at most 200 characters');
const booleanField = (x) => (typeof x === 'boolean' ? null : 'true or false');

/** The summary of the recorded history for GET /metrics, from the trace's tail (manager.traceTail). */
function historySummary(tail) {
  const samples = tail.samples;
  return {
    samples: tail.totalSamples,
    intervalMs: tail.intervalMs,
    limitBytes: tail.limitBytes,
    heapSizeLimit: tail.heapSizeLimit,
    firstSampleAt: tail.firstSampleAt,
    lastSampleAt: samples.length ? samples[samples.length - 1].t : null,
    recentSamples: samples,
    fullGcEvents: tail.totalGc,
    recentFullGc: tail.gc,
  };
}

/** publicReads: the option, else MEMORY_PUBLIC_READS (read now), else false. */
function resolvePublicReads(option) {
  if (option !== undefined) return option;
  const raw = process.env[PUBLIC_READS_ENV];
  if (raw === undefined || raw === '') return false;
  const value = parseBooleanEnv(raw);
  if (value === null) {
    const shown = show(raw);
    throw new MemwardenConfigError([
      { setting: PUBLIC_READS_ENV, value: shown, accepted: BOOLEAN_ENV_ACCEPTED, message: `createMemoryRouter(): ${PUBLIC_READS_ENV}=${shown} is invalid; accepted: ${BOOLEAN_ENV_ACCEPTED}` },
    ]);
  }
  return value;
}

/**
 * The /api/memory router. Options: manager, express (the module to build the router
 * with; default require('express')), adminToken (default MEMORY_ADMIN_TOKEN, read
 * now), publicReads (default MEMORY_PUBLIC_READS, read now, else false), trustProxy
 * (default false), adminRateLimitMs (default 10000; 0 disables), historySamples
 * (default 60).
 */
function createMemoryRouter(options) {
  // Only the token's digest outlives this call: the validated options are not kept.
  const { adminToken, ...o } = validateOptions('createMemoryRouter()', options, {
    manager: { default: null, check: v.manager() },
    express: { default: null, check: v.expressModule() },
    adminToken: { default: undefined, check: (x) => x },
    publicReads: { default: undefined, check: v.boolean() },
    trustProxy: { default: false, check: v.boolean() },
    adminRateLimitMs: { default: 10_000, check: v.integer(0, 86_400_000) },
    historySamples: { default: 60, check: v.integer(0, 100_000) },
  });
  let tokenSource = null;
  let tokenDigest = null;
  {
    let token = null;
    if (adminToken !== undefined && adminToken !== null) {
      token = adminToken;
      tokenSource = 'adminToken';
    } else if (typeof process.env[TOKEN_ENV] === 'string' && process.env[TOKEN_ENV] !== '') {
      token = process.env[TOKEN_ENV];
      tokenSource = TOKEN_ENV;
    }
    if (token !== null) {
      const p = tokenProblem(tokenSource, token);
      if (p) throw new MemwardenConfigError([{ ...p, message: `createMemoryRouter(): ${p.message}` }]);
      tokenDigest = sha256(token);
    }
  }
  const publicReads = resolvePublicReads(o.publicReads);
  const express = o.express || loadExpress('createMemoryRouter()');
  const manager = o.manager || MemoryManagerService.getInstance();
  const { trustProxy, historySamples } = o;
  const rateMs = o.adminRateLimitMs;
  const access = createAccess({ manager, tokenDigest, tokenSource, trustProxy, publicReads, sha256 });
  const jsonParser = express.json({ limit: MAX_BODY_BYTES, strict: true, type: ['application/json', '+json'] });
  let lastAdminAt = -Infinity;
  const prometheusText = textExposition({ manager });

  // What /metrics shows of the history and the leak verdict changes only when the
  // monitor records something, and the manager's health report object changes with it
  // (it is cached per sample): so they are built once per report, and a call costs the
  // same at any history length (bench:endpoints).
  let perSampleKey = null;
  let perSampleValue = null;
  const perSample = (report) => {
    if (report !== perSampleKey) {
      const l = manager.getLeakDetection();
      perSampleValue = {
        history: historySummary(manager.traceTail(historySamples, 20)),
        leak: { leakSuspected: l.leakSuspected, confidence: l.confidence, signal: l.signal },
      };
      perSampleKey = report;
    }
    return perSampleValue;
  };

  const notInitialized = (res) =>
    sendError(res, 503, 'ERR_MEMWARDEN_NOT_INITIALIZED', 'memwarden is not initialized (await MemoryManagerService.getInstance().initialize())');

  /**
   * A GET handler: never throws into Express. Private (the admin rule, unless
   * publicReads) unless `{ public: true }`: only /health is public. Every read route
   * goes through here, so a new one (a dashboard, another format of /metrics) gets the
   * same rule without doing anything.
   */
  const reader = (build, { public: isPublic = false } = {}) =>
    function memwardenRead(req, res) {
      if (!manager.initialized) return notInitialized(res);
      if (!isPublic) {
        const denied = access.read(req);
        if (denied !== null) return sendError(res, denied[0], denied[1], denied[2], denied[3]);
      }
      try {
        const body = build(req);
        if (body instanceof TextBody) sendText(res, body);
        else sendJson(res, 200, body);
      } catch (err) {
        sendError(res, 500, 'ERR_INTERNAL', `memwarden could not build the response: ${err && err.message}`);
      }
      return undefined;
    };

  /** An admin handler: authorization, rate limit, body, then the action. */
  const admin = (fields, action) =>
    async function memwardenAdmin(req, res) {
      try {
        // Before the access check: whether this is local development comes from the resolved configuration.
        if (!manager.initialized) return notInitialized(res);
        const denied = access.admin(req);
        if (denied !== null) return sendError(res, denied[0], denied[1], denied[2], denied[3]);
        const now = performance.now();
        const wait = lastAdminAt + rateMs - now;
        if (rateMs > 0 && wait > 0) {
          const seconds = Math.max(1, Math.ceil(wait / 1000));
          return sendError(res, 429, 'ERR_RATE_LIMITED', `one admin action per ${rateMs} ms; retry in ${seconds} s`, { 'Retry-After': String(seconds) }, { retryAfterSeconds: seconds });
        }
        // The slot is taken now (two concurrent requests cannot both pass) and given
        // back if the request turns out to be invalid.
        const previous = lastAdminAt;
        lastAdminAt = now;
        let body;
        try {
          body = checkBody(await readJsonBody(req, res, jsonParser), fields);
          if (!manager.initialized) {
            lastAdminAt = previous;
            return notInitialized(res);
          }
        } catch (err) {
          lastAdminAt = previous;
          throw err;
        }
        return sendJson(res, 200, await action(body));
      } catch (err) {
        if (res.headersSent) return undefined;
        if (err instanceof HttpError) return sendError(res, err.statusCode, err.code, err.message, err.headers);
        return sendError(res, 500, 'ERR_INTERNAL', `the admin action failed: ${err && err.message}`);
      }
    };

  const methodNotAllowed = (allow) =>
    function memwardenMethodNotAllowed(req, res) {
      if (req.method === 'OPTIONS') {
        res.statusCode = 204;
        res.setHeader('Allow', allow);
        return res.end();
      }
      return sendError(res, 405, 'ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; allowed: ${allow}`, { Allow: allow });
    };

  const router = express.Router();
  router
    .route('/health')
    .get(
      reader(() => {
        // SPEC.md's example order first, then the rest of the report.
        const r = manager.getHealthMetrics();
        return { status: r.status, currentUsage: r.currentUsage, trend: r.trend, gcStats: r.gcStats, recommendations: r.recommendations, ...r };
      }, { public: true }),
    )
    .all(methodNotAllowed('GET, HEAD'));
  router
    .route('/metrics')
    .get(
      reader((req) => {
        // The Prometheus text format when asked (Accept: text/plain or openmetrics, ?format=prometheus).
        if (wantsPrometheus(req)) return prometheusText();
        const report = manager.getHealthMetrics();
        const { history, leak } = perSample(report);
        return {
          timestamp: report.timestamp,
          status: report.status,
          statusSince: report.statusSince,
          currentUsage: report.currentUsage,
          thresholds: report.thresholds,
          trend: report.trend,
          gcStats: report.gcStats,
          gcAvailable: report.gcAvailable,
          history,
          requests: manager.requestStatsEnabled ? manager.requestStats.report(performance.now()) : { enabled: false, hint: 'add memoryMonitoring.monitorRequestMemory() to collect per-route statistics' },
          alerts: typeof manager.getAlerts === 'function' ? manager.getAlerts() : { active: [], history: [] },
          alertDelivery: manager.getAlertDelivery(),
          cleanup: {
            strategies: manager.getCleanupStrategies(),
            last: manager.getLastCleanup(),
            proactive: { ...manager.cleanupSettings },
          },
          leak,
          recommendations: report.recommendations,
        };
      }),
    )
    .all(methodNotAllowed('GET, HEAD'));
  router
    .route('/leak-detection')
    .get(reader(() => manager.getLeakDetection()))
    .all(methodNotAllowed('GET, HEAD'));
  router
    .route('/gc')
    .post(admin({ reason: reasonField }, (body) => manager.forceGarbageCollection(body.reason || 'api_request')))
    .all(methodNotAllowed('POST'));
  router
    .route('/emergency-cleanup')
    .post(
      admin({ force: booleanField, reason: reasonField }, async (body) => {
        const force = body.force === undefined ? true : body.force;
        const reason = body.reason || 'api_emergency_cleanup';
        const actions = await manager.performEmergencyCleanup({ force, reason });
        const last = manager.getLastCleanup();
        return {
          reason: last ? last.reason : reason,
          force: last ? last.force : force,
          status: last ? last.status : null,
          pressurePercentage: last ? last.pressurePercentage : null,
          timestamp: last ? last.timestamp : Date.now(),
          actions,
        };
      }),
    )
    .all(methodNotAllowed('POST'));
  // Developer tools (lib/devtools/): the dashboard page holds no figures (a browser cannot
  // send a bearer token when it opens a URL); its data and actions use the rules above.
  router.route('/dashboard').get(devtools.dashboardHandler()).all(methodNotAllowed('GET, HEAD'));
  router.route('/live').get(reader((req) => devtools.liveFor(manager, req))).all(methodNotAllowed('GET, HEAD'));
  router.route('/simulate').post(admin(devtools.simulateFields(manager), (body) => devtools.startSimulation(manager, body))).all(methodNotAllowed('POST'));
  router.use(function memwardenNotFound(req, res) {
    // req.url, not Express's req.path: memwarden.express.attach() can dispatch here before Express's set-up.
    sendError(res, 404, 'ERR_NOT_FOUND', `no memwarden endpoint at ${req.method} ${req.baseUrl}${pathOf(req.url)}; endpoints: GET health, metrics, leak-detection, live, dashboard; POST gc, emergency-cleanup, simulate`);
  });
  // eslint-disable-next-line no-unused-vars
  router.use(function memwardenError(err, req, res, next) {
    if (res.headersSent) return next(err);
    const status = err && Number.isInteger(err.status) && err.status >= 400 && err.status < 500 ? err.status : 500;
    return sendError(res, status, status === 500 ? 'ERR_INTERNAL' : 'ERR_BAD_REQUEST', status === 500 ? 'internal error in the memwarden router' : String(err.message));
  });
  return router;
}

module.exports = { createMemoryRouter, loadExpress, forwardedAddresses, readJsonBody, tokenProblem, TOKEN_ENV, PUBLIC_READS_ENV };

'use strict';
// createMemoryRouter(): the /api/memory endpoints (SPEC.md "API Endpoints").
//
//   GET  /health          the health report (SPEC.md's example response and more)
//   GET  /metrics         details: history, per-route request statistics, GC, alerts, cleanup
//   GET  /leak-detection  the leak detector's verdict and evidence
//   POST /gc              admin: force a garbage collection
//   POST /emergency-cleanup  admin: run the cleanup strategies
//
// Admin actions are closed by default: with a token (adminToken or
// MEMORY_ADMIN_TOKEN) they need `Authorization: Bearer <token>`; without one, only
// requests from loopback that no proxy forwarded are allowed. They are
// rate-limited. Every refusal and error is JSON with a stable code, never a stack.
const { performance } = require('node:perf_hooks');
const { MemoryManagerService } = require('./manager');
const { MemwardenConfigError } = require('./errors');
const { isLoopbackAddress } = require('./address');
const { v, validateOptions, pathOf } = require('./options');

const TOKEN_ENV = 'MEMORY_ADMIN_TOKEN';
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

/** Addresses a proxy said it forwarded for (X-Forwarded-For, Forwarded, X-Real-IP), or null when none. */
function forwardedAddresses(req) {
  const h = req.headers;
  const out = [];
  let present = false;
  const add = (raw) => {
    let a = raw.trim().replace(/^"|"$/g, '');
    if (a.startsWith('[')) a = a.slice(1, a.indexOf(']') === -1 ? undefined : a.indexOf(']'));
    else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
    out.push(a);
  };
  if (h['x-forwarded-for'] !== undefined) {
    present = true;
    for (const part of String(h['x-forwarded-for']).split(',')) add(part);
  }
  if (h.forwarded !== undefined) {
    present = true;
    for (const element of String(h.forwarded).split(',')) {
      const m = /(?:^|;)\s*for=("[^"]*"|[^;,\s]*)/i.exec(element);
      add(m ? m[1] : 'unknown');
    }
  }
  if (h['x-real-ip'] !== undefined) {
    present = true;
    add(String(h['x-real-ip']));
  }
  return present ? out : null;
}

/** Reads a small JSON object body; undefined when there is none. Rejects with HttpError. */
function readJsonBody(req) {
  if (req._body || req.readableEnded) {
    // An app-level body parser already read it.
    const b = req.body;
    if (b === undefined || b === null || (typeof b === 'object' && !Array.isArray(b) && Object.keys(b).length === 0)) {
      return Promise.resolve(undefined);
    }
    if (typeof b !== 'object' || Array.isArray(b)) {
      return Promise.reject(new HttpError(400, 'ERR_INVALID_BODY', 'the body must be a JSON object'));
    }
    return Promise.resolve(b);
  }
  const length = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (length === undefined || length === '0')) return Promise.resolve(undefined);
  const type = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    return Promise.reject(new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `the body must be application/json (got ${type || 'no Content-Type'})`));
  }
  if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
    return Promise.reject(new HttpError(413, 'ERR_PAYLOAD_TOO_LARGE', `the body must be at most ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }));
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.pause();
        finish(new HttpError(413, 'ERR_PAYLOAD_TOO_LARGE', `the body must be at most ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return finish(null, undefined);
      let value;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return finish(new HttpError(400, 'ERR_MALFORMED_JSON', `the body is not valid JSON: ${err.message}`));
      }
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        return finish(new HttpError(400, 'ERR_INVALID_BODY', 'the body must be a JSON object'));
      }
      return finish(null, value);
    };
    const onError = () => finish(new HttpError(400, 'ERR_BODY_ABORTED', 'the request body was aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
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

/** The summary of the recorded history for GET /metrics. */
function historySummary(trace, recent) {
  const samples = Array.isArray(trace.samples) ? trace.samples : [];
  const gc = Array.isArray(trace.gc) ? trace.gc : [];
  return {
    samples: samples.length,
    intervalMs: trace.intervalMs,
    limitBytes: trace.limitBytes,
    heapSizeLimit: trace.heapSizeLimit,
    firstSampleAt: samples.length ? samples[0].t : null,
    lastSampleAt: samples.length ? samples[samples.length - 1].t : null,
    recentSamples: recent > 0 ? samples.slice(-recent) : [],
    fullGcEvents: gc.length,
    recentFullGc: gc.slice(-20),
  };
}

/**
 * The /api/memory router. Options: manager, express (the module to build the router
 * with; default require('express')), adminToken (default MEMORY_ADMIN_TOKEN, read
 * now), trustProxy (default false), adminRateLimitMs (default 10000; 0 disables),
 * historySamples (default 60).
 */
function createMemoryRouter(options) {
  const o = validateOptions('createMemoryRouter()', options, {
    manager: { default: null, check: v.manager() },
    express: { default: null, check: v.expressModule() },
    adminToken: { default: undefined, check: (x) => x },
    trustProxy: { default: false, check: v.boolean() },
    adminRateLimitMs: { default: 10_000, check: v.integer(0, 86_400_000) },
    historySamples: { default: 60, check: v.integer(0, 100_000) },
  });
  let token = null;
  let tokenSource = null;
  if (o.adminToken !== undefined && o.adminToken !== null) {
    token = o.adminToken;
    tokenSource = 'adminToken';
  } else if (typeof process.env[TOKEN_ENV] === 'string' && process.env[TOKEN_ENV] !== '') {
    token = process.env[TOKEN_ENV];
    tokenSource = TOKEN_ENV;
  }
  if (token !== null) {
    const p = tokenProblem(tokenSource, token);
    if (p) throw new MemwardenConfigError([{ ...p, message: `createMemoryRouter(): ${p.message}` }]);
  }
  const tokenDigest = token === null ? null : sha256(token);
  token = null; // only the digest is kept
  const express = o.express || loadExpress('createMemoryRouter()');
  const manager = o.manager || MemoryManagerService.getInstance();
  const trustProxy = o.trustProxy;
  const rateMs = o.adminRateLimitMs;
  let lastAdminAt = -Infinity;

  /** null when allowed, else [statusCode, code, message, headers]. */
  function refusal(req) {
    if (tokenDigest !== null) {
      const header = req.headers.authorization;
      if (header === undefined) {
        return [401, 'ERR_UNAUTHORIZED', `this admin action needs Authorization: Bearer <token> (the ${tokenSource === 'adminToken' ? 'adminToken option' : TOKEN_ENV})`, { 'WWW-Authenticate': 'Bearer realm="memwarden"' }];
      }
      const m = /^Bearer +(\S+) *$/i.exec(String(header));
      if (m === null || !require('node:crypto').timingSafeEqual(sha256(m[1]), tokenDigest)) {
        return [401, 'ERR_INVALID_TOKEN', 'the bearer token is not valid', { 'WWW-Authenticate': 'Bearer realm="memwarden", error="invalid_token"' }];
      }
      return null;
    }
    const peer = req.socket ? req.socket.remoteAddress : undefined;
    const hint = `set ${TOKEN_ENV} to allow admin actions from elsewhere with a bearer token`;
    if (!isLoopbackAddress(peer)) {
      return [403, 'ERR_FORBIDDEN', `without ${TOKEN_ENV}, admin actions are allowed only from this machine (loopback); ${hint}`];
    }
    const forwarded = forwardedAddresses(req);
    if (forwarded !== null) {
      if (!trustProxy) {
        return [403, 'ERR_FORBIDDEN', `this request came through a proxy (forwarding headers present) and trustProxy is off; ${hint}`];
      }
      if (!forwarded.every(isLoopbackAddress)) {
        return [403, 'ERR_FORBIDDEN', `this request was forwarded for a non-loopback address; ${hint}`];
      }
    }
    return null;
  }

  const notInitialized = (res) =>
    sendError(res, 503, 'ERR_MEMWARDEN_NOT_INITIALIZED', 'memwarden is not initialized (await MemoryManagerService.getInstance().initialize())');

  /** A GET handler: never throws into Express. */
  const reader = (build) =>
    function memwardenRead(req, res) {
      if (!manager.initialized) return notInitialized(res);
      try {
        sendJson(res, 200, build());
      } catch (err) {
        sendError(res, 500, 'ERR_INTERNAL', `memwarden could not build the response: ${err && err.message}`);
      }
      return undefined;
    };

  /** An admin handler: authorization, rate limit, body, then the action. */
  const admin = (fields, action) =>
    async function memwardenAdmin(req, res) {
      try {
        const denied = refusal(req);
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
          body = checkBody(await readJsonBody(req), fields);
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
      }),
    )
    .all(methodNotAllowed('GET, HEAD'));
  router
    .route('/metrics')
    .get(
      reader(() => {
        const report = manager.getHealthMetrics();
        const leak = manager.getLeakDetection();
        return {
          timestamp: report.timestamp,
          status: report.status,
          statusSince: report.statusSince,
          currentUsage: report.currentUsage,
          thresholds: report.thresholds,
          trend: report.trend,
          gcStats: report.gcStats,
          gcAvailable: report.gcAvailable,
          history: historySummary(manager.exportTrace(), o.historySamples),
          requests: manager.requestStatsEnabled ? manager.requestStats.report(performance.now()) : { enabled: false, hint: 'add memoryMonitoring.monitorRequestMemory() to collect per-route statistics' },
          alerts: typeof manager.getAlerts === 'function' ? manager.getAlerts() : { active: [], history: [] },
          alertDelivery: manager.getAlertDelivery(),
          cleanup: {
            strategies: manager.getCleanupStrategies(),
            last: manager.getLastCleanup(),
            proactive: { ...manager.cleanupSettings },
          },
          leak: { leakSuspected: leak.leakSuspected, confidence: leak.confidence, signal: leak.signal },
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
  router.use(function memwardenNotFound(req, res) {
    // req.url, not Express's req.path: memwarden.express.attach() can dispatch here before Express's set-up.
    sendError(res, 404, 'ERR_NOT_FOUND', `no memwarden endpoint at ${req.method} ${req.baseUrl}${pathOf(req.url)}; endpoints: GET health, metrics, leak-detection; POST gc, emergency-cleanup`);
  });
  // eslint-disable-next-line no-unused-vars
  router.use(function memwardenError(err, req, res, next) {
    if (res.headersSent) return next(err);
    const status = err && Number.isInteger(err.status) && err.status >= 400 && err.status < 500 ? err.status : 500;
    return sendError(res, status, status === 500 ? 'ERR_INTERNAL' : 'ERR_BAD_REQUEST', status === 500 ? 'internal error in the memwarden router' : String(err.message));
  });
  return router;
}

module.exports = { createMemoryRouter, loadExpress, forwardedAddresses, readJsonBody, tokenProblem, TOKEN_ENV };

'use strict';
// memwarden.express(options): the common case in one line. Returns an
// express.Router holding one middleware that runs the three memoryMonitoring steps
// (headers, request monitoring, load shedding) in that order without an Express
// layer each, and the /api/memory router mounted at `path`.
// memwarden.express.attach(app, options): the same, installed at the application's
// entry instead of as a middleware (cheaper per request; see attach()).
const { MemoryManagerService } = require('./manager');
const { addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, DEFAULT_EXEMPT_PATHS, kStep, kMinLevel, kCallsApp } = require('./middleware');
const { createMemoryRouter, loadExpress } = require('./router');
const { v, validateOptions, fail, underPrefix, pathOf } = require('./options');
const { invalidArgument } = require('./errors');

const kAttached = Symbol('memwarden.attached');

const section = (x) => (x === false ? false : v.object()(x));
const sectionOrFail = (x) => {
  try {
    return section(x);
  } catch {
    return fail('an options object, or false to leave it out');
  }
};

/** The per-request step of a memoryMonitoring middleware, or null. */
const stepOf = (middleware) => (middleware === null ? null : middleware[kStep]);
/** Whether a memoryMonitoring middleware calls app code (a `skip` or `handler` option). */
const callsApp = (middleware) => middleware !== null && middleware[kCallsApp] === true;

/**
 * Validates memwarden.express() options and builds the parts: the three middlewares
 * (each null when left out), the memory router (null when left out), the mount path,
 * and the manager.
 */
function buildParts(where, options) {
  const o = validateOptions(where, options, {
    manager: { default: null, check: v.manager() },
    express: { default: null, check: v.expressModule() },
    path: { default: '/api/memory', check: (x) => (x === false ? false : v.mountPath()(x)) },
    headers: { default: {}, check: sectionOrFail },
    monitor: { default: {}, check: sectionOrFail },
    pressure: { default: {}, check: sectionOrFail },
    router: { default: {}, check: sectionOrFail },
  });
  const express = o.express || loadExpress(where);
  const manager = o.manager || MemoryManagerService.getInstance();
  const withManager = (x) => (x === false ? false : { manager, ...x });

  const headers = withManager(o.headers);
  const monitor = withManager(o.monitor);
  const pressure = withManager(o.pressure);
  let pressureMiddleware = null;
  if (pressure !== false) {
    if (pressure.exemptPaths === undefined && o.path !== false && o.path !== '/api/memory') {
      pressure.exemptPaths = [o.path, ...DEFAULT_EXEMPT_PATHS.filter((p) => p !== '/api/memory')];
    }
    pressureMiddleware = handleMemoryPressure(pressure);
  }
  const memoryRouter = o.path !== false && o.router !== false ? createMemoryRouter({ express, ...withManager(o.router) }) : null;
  const mount = memoryRouter === null ? null : o.path;
  return {
    express,
    manager,
    headers: headers === false ? null : addMemoryHeaders(headers),
    monitor: monitor === false ? null : monitorRequestMemory(monitor),
    pressure: pressureMiddleware,
    memoryRouter,
    mount,
    /**
     * Whether the request is for memwarden's own endpoints (req.url is relative to
     * where the router is mounted). Reflect.get: see "Request timing" in middleware.js.
     */
    forUs: (req) => mount !== null && underPrefix(pathOf(Reflect.get(req, 'url')), mount),
  };
}

/**
 * Options: `path` (default '/api/memory'; false to leave the router out), `headers`,
 * `monitor`, `pressure`, `router` (each the options of addMemoryHeaders(),
 * monitorRequestMemory(), handleMemoryPressure(), createMemoryRouter(), or false to
 * leave it out), `manager`, `express`.
 */
function memwardenExpress(options) {
  const parts = buildParts('memwarden.express()', options);
  const { memoryRouter, forUs } = parts;
  const a = stepOf(parts.headers);
  const b = stepOf(parts.monitor);
  const c = stepOf(parts.pressure);
  /** Runs the steps; true when the request goes on. */
  const run = (req, res, next, ours) =>
    (a === null || a(req, res, next)) && (b === null || b(req, res, next)) && (c === null || c(req, res, next, ours));

  const router = parts.express.Router();
  if (a !== null || b !== null || c !== null) {
    router.use(function memwardenMiddleware(req, res, next) {
      if (run(req, res, next, forUs(req))) next();
    });
  }
  if (memoryRouter !== null) router.use(parts.mount, memoryRouter);

  // Fast path. A Router's dispatch (URL parsing, layer matching, baseUrl
  // bookkeeping) measured several % of an Express hello world, so while the stack
  // is the one built here, a request outside `path` runs the steps directly and
  // goes on; requests under `path`, and every request once routes have been added
  // to this router, take the Router's own dispatch. Both Express 4 and 5 routers
  // call `router.handle(req, res, next)` through the instance.
  const layers = router.stack.length;
  const handle = router.handle;
  router.handle = function memwardenHandle(req, res, next) {
    if (router.stack.length !== layers || typeof next !== 'function' || forUs(req)) return handle.call(router, req, res, next);
    if (run(req, res, next, false)) next();
    return undefined;
  };
  return router;
}

/**
 * memwarden.express.attach(app, options?): what app.use(memwarden.express(options))
 * does, with the per-request work moved to where it is cheapest. Returns `app`.
 *
 * Express gives each request's req and res objects a shape of their own when it
 * sets them up (Object.setPrototypeOf to app.request / app.response), which makes
 * every property access on them from a middleware a lookup the JIT cannot cache;
 * and each middleware layer costs the router's dispatch. So everything runs where
 * Node's request enters the application (its `handle`), before that set-up: the
 * header and monitoring steps for every request; the pressure step and the memory
 * router only for a request for memwarden's endpoints, or any request while the
 * status is at the pressure middleware's levels. All of these need only Node's req
 * and res. App code given as options (a `skip` function of the header or monitor
 * step, a pressure `handler`) may use Express's additions (req.path, res.json), so
 * with such options those steps, and the rest, run for the requests marked at the
 * entry once Express has set up req and res: on Express 5 when the application's
 * router (`app.router`) starts on the request, before its first layer; on Express 4
 * in a middleware added where attach() is called.
 */
function attach(app, options) {
  if (typeof app !== 'function' || typeof app.use !== 'function' || typeof app.handle !== 'function') {
    throw invalidArgument('memwarden.express.attach(): app', app, 'an Express application (const app = express())');
  }
  if (app[kAttached] === true) {
    throw invalidArgument('memwarden.express.attach(): app', '[an application memwarden is attached to]', 'an application without memwarden attached');
  }
  const parts = buildParts('memwarden.express.attach()', options);
  const { manager, forUs } = parts;
  const pressure = stepOf(parts.pressure);
  const pressureMinLevel = pressure === null ? Infinity : parts.pressure[kMinLevel];
  // Steps that call app code run after Express's set-up ("late"), the others at the entry.
  const headers = callsApp(parts.headers) ? null : stepOf(parts.headers);
  const monitor = callsApp(parts.monitor) ? null : stepOf(parts.monitor);
  const lateHeaders = callsApp(parts.headers) ? stepOf(parts.headers) : null;
  const lateMonitor = callsApp(parts.monitor) ? stepOf(parts.monitor) : null;
  const markAll = lateHeaders !== null || lateMonitor !== null;
  const afterSetUp = markAll || callsApp(parts.pressure);
  // The memory router mounted at `path`, dispatched to directly (no steps: they ran).
  let routes = null;
  if (parts.memoryRouter !== null) {
    routes = parts.express.Router();
    routes.use(parts.mount, parts.memoryRouter);
  }
  /** The rest of a marked request: late steps, pressure, memory routes; then `next`. */
  const rest = (req, res, next, ours) => {
    if (lateHeaders !== null) lateHeaders(req, res);
    if (lateMonitor !== null) lateMonitor(req, res);
    if (pressure !== null && !pressure(req, res, next, ours)) return;
    if (ours && routes !== null) routes.handle(req, res, next);
    else next();
  };
  // With afterSetUp: requests marked at the entry, req → whether it is for the memory routes.
  const pending = afterSetUp ? new WeakMap() : null;

  const appHandle = app.handle;
  app.handle = function memwardenAppHandle(req, res, callback) {
    if (headers !== null) headers(req, res);
    if (monitor !== null) monitor(req, res);
    const ours = forUs(req);
    let marked = markAll || ours;
    if (!marked && pressure !== null) {
      const snap = manager.getRequestSnapshot();
      marked = snap !== null && snap.level >= pressureMinLevel;
    }
    if (!marked) return appHandle.call(this, req, res, callback);
    if (pending !== null) {
      pending.set(req, ours);
      return appHandle.call(this, req, res, callback);
    }
    const self = this;
    // The memory router passes an error on only once its response has started.
    rest(req, res, (err) => (err ? res.destroy() : appHandle.call(self, req, res, callback)), ours);
    return undefined;
  };

  if (pending !== null) {
    // Express 4 has app.lazyrouter() and an `app.router` getter that throws.
    const express5 = typeof app.lazyrouter !== 'function' && app.router != null && typeof app.router.handle === 'function';
    if (express5) {
      const appRouter = app.router;
      const routerHandle = appRouter.handle;
      appRouter.handle = function memwardenRouterHandle(req, res, done) {
        const ours = pending.get(req);
        if (ours === undefined) return routerHandle.call(this, req, res, done);
        pending.delete(req);
        const self = this;
        rest(req, res, (err) => (err ? done(err) : routerHandle.call(self, req, res, done)), ours);
        return undefined;
      };
    } else {
      app.use(function memwardenAttached(req, res, next) {
        const ours = pending.get(req);
        if (ours === undefined) return next();
        pending.delete(req);
        return rest(req, res, next, ours);
      });
    }
  }
  app[kAttached] = true;
  return app;
}
memwardenExpress.attach = attach;

module.exports = { memwardenExpress };

'use strict';
// memwarden.express(options): the common case in one line. Returns an
// express.Router holding one middleware that runs the three memoryMonitoring steps
// (headers, request monitoring, load shedding) in that order without an Express
// layer each, and the /api/memory router mounted at `path`.
const { MemoryManagerService } = require('./manager');
const { addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, DEFAULT_EXEMPT_PATHS, kStep, kMinLevel, kCallsApp } = require('./middleware');
const { createMemoryRouter, loadExpress } = require('./router');
const { v, validateOptions, fail, underPrefix } = require('./options');
const { invalidArgument } = require('./errors');

const kAttached = Symbol('memwarden.attached');

const pathOf = (url) => {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
};

const section = (x) => (x === false ? false : v.object()(x));
const sectionOrFail = (x) => {
  try {
    return section(x);
  } catch {
    return fail('an options object, or false to leave it out');
  }
};

/**
 * Validates memwarden.express() options and builds the parts: the three steps (each
 * null when left out), the memory router (null when left out), the mount path, and
 * the manager.
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
  const headersMiddleware = headers === false ? null : addMemoryHeaders(headers);
  const monitorMiddleware = monitor === false ? null : monitorRequestMemory(monitor);
  return {
    express,
    manager,
    headers: headersMiddleware === null ? null : headersMiddleware[kStep],
    headersCallsApp: headersMiddleware !== null && headersMiddleware[kCallsApp],
    monitor: monitorMiddleware === null ? null : monitorMiddleware[kStep],
    monitorCallsApp: monitorMiddleware !== null && monitorMiddleware[kCallsApp],
    pressure: pressureMiddleware === null ? null : pressureMiddleware[kStep],
    pressureMinLevel: pressureMiddleware === null ? Infinity : pressureMiddleware[kMinLevel],
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
  const { headers: a, monitor: b, pressure: c, memoryRouter, forUs } = parts;
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
 * does, without a middleware layer in the application (on Express 5 any layer, even
 * an empty one, measured ~2.5 % of a hello world's server work). Returns `app`.
 *
 * Express 5: the application's `handle` (where a request enters it) runs the
 * header and monitoring steps, which need only Node's req and res, and goes on.
 * A request for memwarden's endpoints, or any request while the memory status is at
 * the pressure middleware's levels, is also marked; the application's router
 * (`app.router`, documented), entered synchronously by `handle` once Express has set
 * up req and res, then runs the pressure step (a custom handler gets Express's req
 * and res) and the memory router before the application's first layer. Everything
 * memwarden does thus happens before the application's own middleware, as with a
 * first app.use(). Express 4 (no `app.router`): app.use(memwarden.express(options)).
 */
function attach(app, options) {
  if (typeof app !== 'function' || typeof app.use !== 'function' || typeof app.handle !== 'function') {
    throw invalidArgument('memwarden.express.attach(): app', app, 'an Express application (const app = express())');
  }
  if (app[kAttached] === true) {
    throw invalidArgument('memwarden.express.attach(): app', '[an application memwarden is attached to]', 'an application without memwarden attached');
  }
  // Express 4 has app.lazyrouter() and an `app.router` getter that throws.
  const express5 = typeof app.lazyrouter !== 'function' && app.router != null && typeof app.router.handle === 'function';
  if (!express5) {
    app.use(memwardenExpress(options));
    app[kAttached] = true;
    return app;
  }
  const parts = buildParts('memwarden.express.attach()', options);
  const { pressure, pressureMinLevel, manager, forUs } = parts;
  // Steps with a `skip` function run after Express's set-up (it may use req.path,
  // req.query...), for every request; the others at the entry.
  const headers = parts.headersCallsApp ? null : parts.headers;
  const monitor = parts.monitorCallsApp ? null : parts.monitor;
  const lateHeaders = parts.headersCallsApp ? parts.headers : null;
  const lateMonitor = parts.monitorCallsApp ? parts.monitor : null;
  const markAll = lateHeaders !== null || lateMonitor !== null;
  // The memory router mounted at `path`, dispatched to directly (no steps: they ran).
  let routes = null;
  if (parts.memoryRouter !== null) {
    routes = parts.express.Router();
    routes.use(parts.mount, parts.memoryRouter);
  }
  const appHandle = app.handle;
  const appRouter = app.router;
  const routerHandle = appRouter.handle;
  // The request `handle` marked for the router's slow path: set just before the
  // synchronous call into Express's handle, which ends by calling the router.
  let marked = null;
  let markedOurs = false;

  app.handle = function memwardenAppHandle(req, res, callback) {
    if ((headers === null || headers(req, res)) && (monitor === null || monitor(req, res))) {
      const ours = forUs(req);
      const snap = ours || pressure === null ? null : manager.getRequestSnapshot();
      if (markAll || ours || (snap !== null && snap.level >= pressureMinLevel)) {
        marked = req;
        markedOurs = ours;
        try {
          return appHandle.call(this, req, res, callback);
        } finally {
          if (marked === req) routerNotEntered();
          marked = null;
        }
      }
    }
    return appHandle.call(this, req, res, callback);
  };
  appRouter.handle = function memwardenRouterHandle(req, res, done) {
    if (marked !== req) return routerHandle.call(this, req, res, done);
    marked = null;
    const self = this;
    const go = (err) => (err ? done(err) : routerHandle.call(self, req, res, done));
    if (lateHeaders !== null) lateHeaders(req, res);
    if (lateMonitor !== null) lateMonitor(req, res);
    if (pressure !== null && !pressure(req, res, go, markedOurs)) return undefined;
    if (markedOurs && routes !== null) return routes.handle(req, res, go);
    return routerHandle.call(self, req, res, done);
  };
  app[kAttached] = true;
  return app;
}
memwardenExpress.attach = attach;

let warnedRouterNotEntered = false;
/** Express's handle returned without entering app.router: a request marked for the pressure step or the memory routes missed them. */
function routerNotEntered() {
  if (warnedRouterNotEntered) return;
  warnedRouterNotEntered = true;
  process.emitWarning(
    "memwarden: express.attach(): the application's handle returned without entering app.router; load shedding and the memory routes " +
      'did not run for that request (use app.use(memwarden.express()) with this Express version)',
    'MemwardenWarning',
  );
}

module.exports = { memwardenExpress };

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
 * does, with the per-request work moved to where it is cheapest. Returns `app`.
 *
 * Express gives each request's req and res objects a shape of their own when it
 * sets them up (Object.setPrototypeOf to app.request / app.response), which makes
 * every property access on them from a middleware a lookup the JIT cannot cache;
 * and on Express 5 any middleware layer, even an empty one, costs ~1.5-2 % of a hello
 * world's server work. So the application's `handle` (where Node's request enters
 * it, before that set-up) runs the header and monitoring steps, which need only
 * Node's req and res, and goes on. A request for memwarden's endpoints, any request
 * while the status is at the pressure middleware's levels, and every request when
 * a header or monitor step has a `skip` function (app code, which may use req.path)
 * is also marked for the rest: the late steps, the pressure step (a custom handler
 * gets Express's req and res) and the memory router. That runs once Express has set
 * up req and res: on Express 5 when the application's router (`app.router`, created
 * on first access) starts, before the app's first layer; on Express 4 (no
 * `app.router`) in a middleware added where attach() is called (Express 4's layers
 * cost next to nothing).
 */
function attach(app, options) {
  if (typeof app !== 'function' || typeof app.use !== 'function' || typeof app.handle !== 'function') {
    throw invalidArgument('memwarden.express.attach(): app', app, 'an Express application (const app = express())');
  }
  if (app[kAttached] === true) {
    throw invalidArgument('memwarden.express.attach(): app', '[an application memwarden is attached to]', 'an application without memwarden attached');
  }
  const parts = buildParts('memwarden.express.attach()', options);
  const { pressure, pressureMinLevel, manager, forUs } = parts;
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
  // Requests marked at the entry: req → whether it is for the memory routes.
  const pending = new WeakMap();

  const appHandle = app.handle;
  app.handle = function memwardenAppHandle(req, res, callback) {
    if (headers !== null) headers(req, res);
    if (monitor !== null) monitor(req, res);
    const ours = forUs(req);
    if (markAll || ours) pending.set(req, ours);
    else if (pressure !== null) {
      const snap = manager.getRequestSnapshot();
      if (snap !== null && snap.level >= pressureMinLevel) pending.set(req, false);
    }
    return appHandle.call(this, req, res, callback);
  };
  /** The rest of a marked request, once Express has set up req and res. */
  const rest = (req, res, next, ours) => {
    if (lateHeaders !== null) lateHeaders(req, res);
    if (lateMonitor !== null) lateMonitor(req, res);
    if (pressure !== null && !pressure(req, res, next, ours)) return;
    if (ours && routes !== null) routes.handle(req, res, next);
    else next();
  };

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
  app[kAttached] = true;
  return app;
}
memwardenExpress.attach = attach;

module.exports = { memwardenExpress };

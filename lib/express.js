'use strict';
// memwarden.express(options): the common case in one line. Returns an
// express.Router holding one middleware that runs the three memoryMonitoring steps
// (headers, request monitoring, load shedding) in that order without an Express
// layer each, and the /api/memory router mounted at `path`. As an application's
// first middleware it moves its work to the application's entry after the first
// request (promote()).
// memwarden.express.attach(app, options): the same, installed at the application's
// entry instead of as a middleware (cheaper per request; see attach()).
const { MemoryManagerService } = require('./manager');
const { addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, DEFAULT_EXEMPT_PATHS, kStep, kMinLevel, kCallsApp } = require('./middleware');
const { createMemoryRouter, loadExpress } = require('./router');
const { v, validateOptions, fail, underPrefix, pathOf } = require('./options');
const { invalidArgument } = require('./errors');

const kAttached = Symbol('memwarden.attached');
// On an application whose app.use(memwarden.express()) runs at its entry (see promote()).
const kPromoted = Symbol('memwarden.promoted');
// On the router memwarden.express() returns: the number of layers it was built with.
const kLayers = Symbol('memwarden.layers');

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
  // Promotion to the application's entry (see promote()): 'pending' until the first
  // request, then 'done' or 'never'. Only without app code among the options: the
  // steps then need nothing but Node's req and res.
  let promotion = callsApp(parts.headers) || callsApp(parts.monitor) || callsApp(parts.pressure) ? 'never' : 'pending';
  router.handle = function memwardenHandle(req, res, next) {
    if (promotion === 'pending') promotion = promote(req, router, parts) ? 'done' : 'never';
    if (router.stack.length !== layers || typeof next !== 'function' || forUs(req)) return handle.call(router, req, res, next);
    if (run(req, res, next, false)) next();
    return undefined;
  };
  router[kLayers] = layers;
  return router;
}

// The layers Express puts before the application's own (Express 4's lazy router).
const EXPRESS_OWN_LAYERS = new Set(['query', 'expressInit']);

/**
 * The application router's stack without memwarden's layer, as the `stack` of an
 * object inheriting from that router (Router#handle reads `this.stack` once per
 * request, and everything else through the prototype): dispatching a request through
 * it skips the layer. Rebuilt when the application's stack changes; `current()` is
 * null while the layer is not the application's first (or is gone).
 */
class StackWithout {
  constructor(appRouter, layerHandle) {
    this.appRouter = appRouter;
    this.layerHandle = layerHandle;
    this.source = null;
    this.length = -1;
    this.index = -1;
    this.view = null;
  }

  current() {
    const stack = this.appRouter.stack;
    if (stack !== this.source || stack.length !== this.length || this.index === -1 || stack[this.index].handle !== this.layerHandle) this.rebuild(stack);
    return this.view;
  }

  rebuild(stack) {
    this.source = stack;
    this.length = Array.isArray(stack) ? stack.length : -1;
    this.index = -1;
    this.view = null;
    if (!Array.isArray(stack)) return;
    const index = stack.findIndex((layer) => layer != null && layer.handle === this.layerHandle);
    if (index === -1) return;
    for (let i = 0; i < index; i++) {
      const h = stack[i] && stack[i].handle;
      if (typeof h !== 'function' || !EXPRESS_OWN_LAYERS.has(h.name)) return;
    }
    this.index = index;
    this.view = Object.create(this.appRouter, { stack: { value: stack.slice(0, index).concat(stack.slice(index + 1)), writable: true, configurable: true } });
  }
}

/**
 * The first request through app.use(memwarden.express()) looks at where the layer
 * is. When it is the application's first middleware (after Express's own), mounted
 * at '/', and no option is app code, from then on the work happens where attach()
 * does it, at the application's entry (app.handle), with Node's req and res:
 * requests outside `path` get the header and monitoring steps there and are then
 * dispatched through the application's router without memwarden's layer (which stays
 * in `app.router.stack`; see StackWithout). Requests under `path`, requests while
 * the status is at the pressure step's levels, and every request once the layer is
 * no longer first or routes were added to memwarden's router, go through the layer
 * as before. Returns whether it was installed.
 */
function promote(req, router, parts) {
  if (Reflect.get(req, 'baseUrl') !== '') return false;
  const app = Reflect.get(req, 'app');
  if (typeof app !== 'function' || typeof app.handle !== 'function' || app[kAttached] === true || app[kPromoted] === true) return false;
  // Express 4 has app.lazyrouter() and an `app.router` getter that throws.
  const appRouter = typeof app.lazyrouter === 'function' ? app._router : app.router;
  if (appRouter == null || typeof appRouter.handle !== 'function') return false;
  const without = new StackWithout(appRouter, router);
  if (without.current() === null) return false;

  const { manager, forUs } = parts;
  const layers = router[kLayers];
  const headers = stepOf(parts.headers);
  const monitor = stepOf(parts.monitor);
  const pressureMinLevel = parts.pressure === null ? Infinity : parts.pressure[kMinLevel];
  // The request whose steps ran at the entry, on its way (synchronously) to the app router.
  let entered = null;
  let enteredView = null;

  const appHandle = app.handle;
  app.handle = function memwardenAppEntry(req, res, callback) {
    if (router.stack.length === layers && !forUs(req)) {
      const view = without.current();
      const snap = pressureMinLevel === Infinity ? null : manager.getRequestSnapshot();
      if (view !== null && (snap === null || snap.level < pressureMinLevel)) {
        if (headers !== null) headers(req, res);
        if (monitor !== null) monitor(req, res);
        entered = req;
        enteredView = view;
      }
    }
    return appHandle.call(this, req, res, callback);
  };
  const routerHandle = appRouter.handle;
  appRouter.handle = function memwardenAppRouter(req, res, done) {
    if (req !== entered) return routerHandle.call(this, req, res, done);
    const view = enteredView;
    entered = null;
    enteredView = null;
    return routerHandle.call(view, req, res, done);
  };
  app[kPromoted] = true;
  return true;
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

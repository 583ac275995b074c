'use strict';
// memwarden.express(options): the common case in one line. Returns an
// express.Router holding one middleware that runs the three memoryMonitoring steps
// (headers, request monitoring, load shedding) in that order without an Express
// layer each, and the /api/memory router mounted at `path`.
const { MemoryManagerService } = require('./manager');
const { addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, DEFAULT_EXEMPT_PATHS, kStep } = require('./middleware');
const { createMemoryRouter, loadExpress } = require('./router');
const { v, validateOptions, fail, underPrefix } = require('./options');

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
 * Options: `path` (default '/api/memory'; false to leave the router out), `headers`,
 * `monitor`, `pressure`, `router` (each the options of addMemoryHeaders(),
 * monitorRequestMemory(), handleMemoryPressure(), createMemoryRouter(), or false to
 * leave it out), `manager`, `express`.
 */
function memwardenExpress(options) {
  const o = validateOptions('memwarden.express()', options, {
    manager: { default: null, check: v.manager() },
    express: { default: null, check: v.expressModule() },
    path: { default: '/api/memory', check: (x) => (x === false ? false : v.mountPath()(x)) },
    headers: { default: {}, check: sectionOrFail },
    monitor: { default: {}, check: sectionOrFail },
    pressure: { default: {}, check: sectionOrFail },
    router: { default: {}, check: sectionOrFail },
  });
  const express = o.express || loadExpress('memwarden.express()');
  const manager = o.manager || MemoryManagerService.getInstance();
  const withManager = (x) => (x === false ? false : { manager, ...x });

  const steps = [];
  const headers = withManager(o.headers);
  if (headers !== false) steps.push(addMemoryHeaders(headers)[kStep]);
  const monitor = withManager(o.monitor);
  if (monitor !== false) steps.push(monitorRequestMemory(monitor)[kStep]);
  const pressure = withManager(o.pressure);
  if (pressure !== false) {
    if (pressure.exemptPaths === undefined && o.path !== false && o.path !== '/api/memory') {
      pressure.exemptPaths = [o.path, ...DEFAULT_EXEMPT_PATHS.filter((p) => p !== '/api/memory')];
    }
    steps.push(handleMemoryPressure(pressure)[kStep]);
  }
  const memoryRouter = o.path !== false && o.router !== false ? createMemoryRouter({ express, ...withManager(o.router) }) : null;

  const a = steps[0] || null;
  const b = steps[1] || null;
  const c = steps[2] || null;
  const mount = o.path === false || memoryRouter === null ? null : o.path;
  /**
   * Whether the request is for memwarden's own endpoints (req.url is relative to where
   * this router is mounted). Reflect.get: see "Request timing" in middleware.js.
   */
  const forUs = (req) => mount !== null && underPrefix(pathOf(Reflect.get(req, 'url')), mount);
  /** Runs the steps; true when the request goes on. */
  const run = (req, res, next, ours) =>
    (a === null || a(req, res, next)) && (b === null || b(req, res, next)) && (c === null || c(req, res, next, ours));

  const router = express.Router();
  if (steps.length > 0) {
    router.use(function memwardenMiddleware(req, res, next) {
      if (run(req, res, next, forUs(req))) next();
    });
  }
  if (memoryRouter !== null) router.use(o.path, memoryRouter);

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

module.exports = { memwardenExpress };

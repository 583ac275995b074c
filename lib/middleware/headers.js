'use strict';
// addMemoryHeaders() and omitMemoryHeaders(): the X-Memory-Status / X-Memory-Usage
// response headers, set from the manager's cached request snapshot.
const { MemoryManagerService } = require('../manager');
const { v, validateOptions, requestPath, matchesPaths } = require('../options');
const { kStep, kCallsApp, managerOption } = require('./steps');

// Every header name an addMemoryHeaders() was configured with (omitMemoryHeaders removes them).
const headerNames = new Set(['X-Memory-Status', 'X-Memory-Usage']);

/**
 * Response headers with the memory status and pressure (% of the limit, the worse of
 * resident and heap; what the status follows). Set before the route runs, from the
 * cached snapshot; none before initialize().
 */
function addMemoryHeaders(options) {
  const o = validateOptions('addMemoryHeaders()', options, {
    manager: managerOption,
    statusHeader: { default: 'X-Memory-Status', check: v.headerName() },
    usageHeader: { default: 'X-Memory-Usage', check: v.headerName() },
    excludePaths: { default: Object.freeze([]), check: v.paths() },
    skip: { default: null, check: v.func() },
  });
  const manager = o.manager || MemoryManagerService.getInstance();
  const statusName = o.statusHeader;
  const usageName = o.usageHeader;
  if (statusName !== null) headerNames.add(statusName);
  if (usageName !== null) headerNames.add(usageName);
  const exclude = o.excludePaths;
  const hasExclude = exclude.length > 0;
  const skip = o.skip;
  function step(req, res) {
    const snap = manager.getRequestSnapshot();
    if (snap !== null && !(hasExclude && matchesPaths(requestPath(req), exclude)) && !(skip !== null && skip(req, res))) {
      // One lookup of setHeader for both headers, through Reflect.get (see the top of
      // responseEnd.js on property access to Express's req and res).
      const setHeader = Reflect.get(res, 'setHeader');
      if (statusName !== null) setHeader.call(res, statusName, snap.status);
      if (usageName !== null) setHeader.call(res, usageName, snap.usageHeader);
    }
    return true;
  }
  function memwardenMemoryHeaders(req, res, next) {
    step(req, res);
    next();
  }
  memwardenMemoryHeaders[kStep] = step;
  memwardenMemoryHeaders[kCallsApp] = skip !== null;
  return memwardenMemoryHeaders;
}

/** Route-level opt-out: `app.get('/public', memoryMonitoring.omitMemoryHeaders(), handler)`. */
function omitMemoryHeaders() {
  return function memwardenOmitMemoryHeaders(req, res, next) {
    if (!res.headersSent) for (const name of headerNames) res.removeHeader(name);
    next();
  };
}


module.exports = { addMemoryHeaders, omitMemoryHeaders };

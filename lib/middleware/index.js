'use strict';
// memoryMonitoring (SPEC.md's MemoryMonitoringMiddleware): Express middleware
// factories. Each validates its options once and returns a named function. The
// per-request path reads the manager's precomputed request snapshot (a frozen
// object rebuilt only when a sample changes the report): no sampling, no native
// call, no forced GC, no closure or listener added per request.
//   headers.js         addMemoryHeaders(), omitMemoryHeaders()
//   monitorRequest.js  monitorRequestMemory() (per-route statistics)
//   responseEnd.js     how the end of a timed response is seen (diagnostics channel, per-connection list)
//   pressure.js        handleMemoryPressure() (load shedding, proactive cleanup)
//   steps.js           what memwarden.express() reads from them (per-request step, flags)
const { addMemoryHeaders, omitMemoryHeaders } = require('./headers');
const { monitorRequestMemory } = require('./monitorRequest');
const { handleMemoryPressure, DEFAULT_EXEMPT_PATHS } = require('./pressure');
const { kStep, kMinLevel, kCallsApp } = require('./steps');

const memoryMonitoring = Object.freeze({
  addMemoryHeaders,
  monitorRequestMemory,
  handleMemoryPressure,
  omitMemoryHeaders,
  DEFAULT_EXEMPT_PATHS,
});

module.exports = { memoryMonitoring, addMemoryHeaders, monitorRequestMemory, handleMemoryPressure, omitMemoryHeaders, DEFAULT_EXEMPT_PATHS, kStep, kMinLevel, kCallsApp };

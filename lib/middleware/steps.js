'use strict';
// What the memoryMonitoring middlewares expose to memwarden.express() and
// memwarden.express.attach() (lib/express.js), and the option they share.
const { v } = require('../options');

// The per-request step of each middleware, for memwarden.express() to chain them
// without an Express layer each: (req, res, next) => true to continue.
const kStep = Symbol('memwarden.step');
// handleMemoryPressure()'s lowest level with something to do (cleanup or shedding).
const kMinLevel = Symbol('memwarden.minLevel');
// true on a middleware whose step calls the app's own code (a `skip` or `handler` option), which
// may use Express's additions to req and res: memwarden.express.attach() runs it after
// Express has set them up.
const kCallsApp = Symbol('memwarden.callsApp');

/** The `manager` option of every factory (default: MemoryManagerService.getInstance()). */
const managerOption = { default: null, check: v.manager() };

module.exports = { kStep, kMinLevel, kCallsApp, managerOption };

'use strict';
// memoryMonitorUtil (SPEC.md "Development Monitoring"): development helpers over the
// process's manager, sharing their code with the `memory` CLI (lib/devtools/*).
const { MemoryManagerService } = require('../manager');
const { invalidArgument } = require('../errors');
const { liveData } = require('./live');
const { statusLine } = require('./views');
const { generateMemoryReport, renderReportHtml, writeReport } = require('./report');
const { simulateMemoryPressure } = require('./simulate');
const { useColor, painter } = require('./format');

let dev = null; // { timer, manager, listeners, intervalMs }

function managerOf(options) {
  return (options && options.manager) || MemoryManagerService.getInstance();
}

async function ready(manager) {
  if (!manager.initialized) await manager.initialize();
  return manager;
}

/**
 * Logs a one-line status every `intervalMs` (default 5000) and each status change, alert
 * and leak flag as it happens (through `logger.info`/`warn`, default console). Initializes
 * the manager if needed. The timer is unref'd. Calling it again restarts it with the new
 * interval. Resolves once started.
 */
async function startDevelopmentMonitoring(intervalMs = 5000, options = {}) {
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 3_600_000) {
    throw invalidArgument('intervalMs', intervalMs, 'a whole number of ms from 100 to 3600000');
  }
  const logger = options.logger || console;
  if (typeof logger.info !== 'function' || typeof logger.warn !== 'function') {
    throw invalidArgument('options.logger', logger, 'an object with info and warn methods (console, pino, winston)');
  }
  stopDevelopmentMonitoring();
  const manager = await ready(managerOf(options));
  const paint = painter(options.color !== undefined ? options.color === true : logger === console && useColor(process.stdout));
  const listeners = {
    status: (e) => logger.warn(`[memwarden] status ${e.previous} -> ${e.current} (${e.pressurePercentage.toFixed(1)}% of the ${e.pressureSource} limit)`),
    alert: (a) => logger.warn(`[memwarden] ALERT ${a.type} (${a.level}): ${a.message}`),
    alertResolved: (a) => logger.info(`[memwarden] resolved ${a.type}: ${a.message}`),
    leak: (e) => logger.warn(`[memwarden] leak suspected (${e.signal || 'memory'}), confidence ${Number(e.confidence || 0).toFixed(0)}%`),
  };
  for (const [k, f] of Object.entries(listeners)) manager.on(k, f);
  const tick = () => {
    try {
      if (manager.initialized) logger.info(`[memwarden] ${statusLine(liveData(manager), paint)}`);
    } catch (err) {
      process.emitWarning(`memwarden: development monitoring failed: ${err && err.message}`, 'MemwardenWarning');
    }
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  dev = { timer, manager, listeners, intervalMs };
  tick();
  return { intervalMs };
}

/** Stops what startDevelopmentMonitoring() started; true when it was running. */
function stopDevelopmentMonitoring() {
  if (dev === null) return false;
  clearInterval(dev.timer);
  for (const [k, f] of Object.entries(dev.listeners)) dev.manager.off(k, f);
  dev = null;
  return true;
}

/**
 * Allocates `mb` MB of heap gradually, holds it (`holdMs`, default 2000), releases it and
 * waits for recovery; resolves to what happened: `{ startStatus, peakStatus, transitions,
 * alerts, cleanups, gcs, before, peak, after, recovered, ... }`. Rejects (code
 * ERR_MEMWARDEN_SIMULATION_TOO_LARGE) for a size that would cross the limit.
 */
async function simulate(mb, options = {}) {
  const manager = await ready(managerOf(options));
  return simulateMemoryPressure(manager, mb, options);
}

/** The full report as an object (see `memory report`); the manager must be initialized. */
function generate(options) {
  return generateMemoryReport(managerOf(options));
}

const memoryMonitorUtil = {
  startDevelopmentMonitoring,
  stopDevelopmentMonitoring,
  simulateMemoryPressure: simulate,
  generateMemoryReport: generate,
  /** The self-contained HTML for a report from generateMemoryReport(). */
  renderReportHtml,
  /** Writes `<base>.json` and `<base>.html`; returns `{ jsonPath, htmlPath }`. */
  writeMemoryReport: (base, options) => writeReport(generate(options), base),
};

module.exports = { memoryMonitorUtil };

'use strict';
// MemoryManagerService: the public orchestrator (names from SPEC.md). The engine
// and the sampler thread live in the addon; this layer owns what must run in JS:
// the event emitter, V8 figures, global.gc, and the unref'd heap timer.
const { EventEmitter } = require('node:events');
const native = require('./native');
const { MemwardenConfigError, MemwardenNotInitializedError, invalidArgument } = require('./errors');
const { ingestHeap } = require('./heap');
const { forceGc, confirmationGc, confirmationAvailable, observeGc, gcFunction } = require('./gc');
const { analyzeTrace } = require('./trace');

const ENV_NAMES = native.envVariableNames();

function pickEnv(env) {
  const out = {};
  for (const name of ENV_NAMES) {
    const v = env[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

// Options handled in JS; everything else is validated by the addon.
const JS_OPTIONS = ['logger'];

function checkLogger(logger) {
  if (logger === undefined) return console;
  const ok = logger && typeof logger === 'object' && ['warn', 'error', 'info'].every((m) => typeof logger[m] === 'function');
  if (!ok) {
    throw new MemwardenConfigError([
      {
        setting: 'logger',
        value: String(logger),
        accepted: 'an object with info, warn and error methods (console, pino, winston)',
        message: `logger=${String(logger)} is not a logger; accepted: an object with info, warn and error methods (console, pino, winston)`,
      },
    ]);
  }
  return logger;
}

/** Only defined options are settings; `undefined` fields are dropped. */
function cleanOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new MemwardenConfigError([
      {
        setting: 'options',
        value: String(options),
        accepted: 'an object of settings',
        message: `options=${String(options)} is not an object; accepted: an object of settings`,
      },
    ]);
  }
  const out = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out;
}

// Values the addon's JSON conversion cannot carry (NaN, ±Infinity, functions,
// symbols, bigints, also nested) made it throw a bare napi error ("Failed to convert
// js number to serde_json::Number", code InvalidArg) that names no setting. Such a
// value is sent to the validator as a stand-in string no setting accepts, and the
// problem it raises is reworded with a description of the real value.
const STAND_IN = '\u0000memwarden-unrepresentable';

function unrepresentable(value, depth = 0) {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? null : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'object':
      if (value === null || depth > 8) return null;
      for (const v of Object.values(value)) {
        if (unrepresentable(v, depth + 1) !== null) return Array.isArray(value) ? '[array]' : '[object]';
      }
      return null;
    default:
      return null;
  }
}

/**
 * native.resolveConfig for any JS value: never throws for a value the addon cannot
 * convert, but reports it as a problem of the option (or of `options`).
 */
function resolveSettings(options, env) {
  const whole = options === null || typeof options !== 'object' || Array.isArray(options);
  const top = whole ? unrepresentable(options) : null;
  if (top !== null) {
    return {
      ok: false,
      problems: [
        {
          setting: 'options',
          value: top,
          accepted: 'an object',
          message: `options=${top} is not an object; accepted: an object of settings`,
        },
      ],
    };
  }
  if (whole) return native.resolveConfig(options, env);
  const replaced = new Map();
  const safe = {};
  for (const [k, v] of Object.entries(options)) {
    const shown = unrepresentable(v);
    if (shown === null) {
      safe[k] = v;
    } else {
      replaced.set(k, shown);
      safe[k] = STAND_IN;
    }
  }
  const resolved = native.resolveConfig(safe, env);
  if (resolved.ok || replaced.size === 0) return resolved;
  resolved.problems = resolved.problems.map((p) => {
    if (!replaced.has(p.setting)) return p;
    const shown = replaced.get(p.setting);
    return { ...p, value: shown, message: p.message.split(p.value).join(shown) };
  });
  return resolved;
}

let instance = null;

class MemoryManagerService extends EventEmitter {
  /** The process-wide (per worker thread) manager. */
  static getInstance() {
    if (!instance) instance = new MemoryManagerService();
    return instance;
  }

  constructor() {
    super();
    this._monitor = null;
    this._settings = null;
    this._timer = null;
    this._stopObserving = null;
    this._initializing = null;
    this._cachedVersion = -1;
    this._cachedReport = null;
    this._ownGc = [0, -1];
  }

  /** True between a successful initialize() and shutdown(). */
  get initialized() {
    return this._monitor !== null;
  }

  /** The resolved configuration (`null` before initialize()). */
  get config() {
    return this._settings ? this._settings.config : null;
  }

  /** The memory limit in force: `{ bytes, source, detail }` (`null` before initialize()). */
  get limit() {
    return this._settings ? this._settings.limit : null;
  }

  /**
   * Validates settings (options over MEMORY_* variables over platform presets) and
   * starts monitoring. Idempotent: later calls resolve to the same running manager
   * (their options are ignored; call shutdown() first to change settings).
   */
  initialize(options) {
    if (this._monitor) return Promise.resolve(this);
    if (this._initializing) return this._initializing;
    this._initializing = new Promise((resolve) => resolve(this._start(options))).finally(() => {
      this._initializing = null;
    });
    return this._initializing;
  }

  _start(options) {
    const all = cleanOptions(options);
    const logger = checkLogger(all.logger);
    const opts = {};
    for (const [k, v] of Object.entries(all)) if (!JS_OPTIONS.includes(k)) opts[k] = v;
    const env = pickEnv(process.env);
    const resolved = resolveSettings(opts, env);
    if (!resolved.ok) throw new MemwardenConfigError(resolved.problems);
    const monitor = new native.Monitor(opts, env, (events) => this._emitEvents(events));
    this._monitor = monitor;
    this._settings = monitor.settings;
    this._logger = logger;
    monitor.setGcAvailable(gcFunction() !== null);
    monitor.setConfirmationAvailable(confirmationAvailable());
    this._stopObserving = observeGc(monitor, (t) => t >= this._ownGc[0] && t <= this._ownGc[1]);
    this._emitEvents(monitor.sampleNow());
    this._emitEvents(ingestHeap(monitor));
    const interval = this._settings.config.monitoringIntervalMs;
    this._timer = setTimeout(() => this._tick(), interval);
    this._timer.unref();
    return this;
  }

  _tick() {
    if (!this._monitor) return;
    try {
      this._monitor.setGcAvailable(gcFunction() !== null);
      this._emitEvents(ingestHeap(this._monitor));
      this._runProactiveGc();
      this._runConfirmationGc();
    } finally {
      if (this._timer) this._timer.refresh();
    }
  }

  _runProactiveGc() {
    if (!this._monitor.proactiveGcDue()) return null;
    this._monitor.noteProactiveGc();
    return this._forceGc('proactive_pressure');
  }

  /** A full GC the leak detector asked for, to check suspected growth against the live set. */
  _runConfirmationGc() {
    const monitor = this._monitor;
    if (this._confirming || !monitor.confirmationDue()) return;
    monitor.noteConfirmation();
    this._confirming = true;
    confirmationGc('leak_confirmation', (start, end) => {
      this._ownGc = [start, end];
    })
      .then((action) => {
        if (this._monitor !== monitor) return;
        this._recordGcAction(action);
        this._emit('gc', action);
      })
      .finally(() => {
        this._confirming = false;
      });
  }

  _recordGcAction(action) {
    const monitor = this._monitor;
    if (action.success) {
      const a = action.after;
      monitor.recordFullGc(action.durationMs, true, action.memoryBefore, a.heapUsed, a.oldGeneration, a.external);
    } else {
      monitor.setGcAvailable(gcFunction() !== null);
    }
    this._emitEvents(ingestHeap(monitor));
  }

  _emit(type, payload) {
    try {
      this.emit(type, payload);
    } catch (err) {
      // A throwing listener must not take the process down from a native callback.
      process.emitWarning(`memwarden: a '${type}' listener threw: ${err && err.stack}`, 'MemwardenWarning');
    }
  }

  _onLeakEvent(event) {
    const kb = (b) => `${(b / 1024).toFixed(0)} KB/s`;
    try {
      if (event.type === 'leak') {
        const report = this._monitor.leakReport();
        this._logger.warn(
          `memwarden: memory leak suspected (${event.signal} growing ${kb(event.growthRateBytesPerSec)}, confidence ${report.confidence.toFixed(0)}%): ${report.recommendations.join('; ')}`,
        );
      } else if (event.type === 'leakResolved') {
        this._logger.info(`memwarden: leak resolved (${event.signal} stopped growing after ${(event.durationMs / 1000).toFixed(0)} s)`);
      }
    } catch (err) {
      process.emitWarning(`memwarden: the logger threw: ${err && err.message}`, 'MemwardenWarning');
    }
  }

  _emitEvents(events) {
    for (const event of events) {
      if (event.type === 'leak' || event.type === 'leakResolved') this._onLeakEvent(event);
      this._emit(event.type, event);
    }
  }

  _require(method) {
    if (!this._monitor) throw new MemwardenNotInitializedError(method);
    return this._monitor;
  }

  /**
   * The latest health report (SPEC.md's example response plus the real limit). A
   * frozen snapshot refreshed on every sample; cheap enough to call per request.
   */
  getHealthMetrics() {
    const monitor = this._require('getHealthMetrics');
    const version = monitor.version();
    if (version !== this._cachedVersion || this._cachedReport === null) {
      this._cachedReport = deepFreeze(monitor.report());
      this._cachedVersion = version;
    }
    return this._cachedReport;
  }

  /**
   * Samples now, evaluates, and runs the proactive actions the configuration enables
   * (a proactive GC above gcThreshold, when global.gc exists and the cooldown allows).
   */
  async checkMemoryPressure() {
    const monitor = this._require('checkMemoryPressure');
    const previousStatus = this.getHealthMetrics().status;
    this._emitEvents(monitor.sampleNow());
    this._emitEvents(ingestHeap(monitor));
    const actions = [];
    const gc = this._runProactiveGc();
    if (gc) actions.push(gc);
    const report = this.getHealthMetrics();
    const u = report.currentUsage;
    return {
      status: report.status,
      previousStatus,
      usagePercentage: u.usagePercentage,
      heapUsagePercentage: u.heapUsagePercentage,
      pressurePercentage: u.pressurePercentage,
      pressureSource: u.pressureSource,
      proactiveGcEnabled: this._settings.config.proactiveGc,
      gcAvailable: report.gcAvailable,
      actions,
      timestamp: report.timestamp,
    };
  }

  /**
   * Runs a full collection through global.gc. Never throws for a missing flag:
   * returns `success: false` with the reason and how to enable it.
   */
  async forceGarbageCollection(reason = 'manual') {
    this._require('forceGarbageCollection');
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 200) {
      throw invalidArgument('reason', reason, 'a non-empty string of at most 200 characters');
    }
    return this._forceGc(reason);
  }

  _forceGc(reason) {
    const action = forceGc(reason, (start, end) => {
      this._ownGc = [start, end];
    });
    this._recordGcAction(action);
    this._emit('gc', action);
    return action;
  }

  /**
   * The leak detector's verdict and evidence (the data behind /api/memory/leak-detection):
   * `leakSuspected`, `confidence` and its parts, per-signal evidence, time to the limits,
   * recommendations.
   */
  getLeakDetection() {
    return this._require('getLeakDetection').leakReport();
  }

  /** The recorded trace (newest samples and full GCs) for `analyzeTrace` or `memory analyze`. */
  exportTrace() {
    return this._require('exportTrace').exportTrace();
  }

  /** Replays a trace through the same engine (see `analyzeTrace`). */
  analyzeTrace(trace, options) {
    return analyzeTrace(trace, options);
  }

  /** Stops the sampler thread, the timer and the GC observer. Idempotent. */
  async shutdown() {
    if (this._initializing) await this._initializing.catch(() => {});
    if (!this._monitor) return;
    clearTimeout(this._timer);
    this._timer = null;
    if (this._stopObserving) this._stopObserving();
    this._stopObserving = null;
    this._monitor.shutdown();
    this._monitor = null;
    this._cachedReport = null;
    this._cachedVersion = -1;
  }
}

module.exports = { MemoryManagerService, resolveSettings, pickEnv };

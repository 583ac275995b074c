'use strict';
// MemoryManagerService: the public orchestrator (names from SPEC.md). The engine
// and the sampler thread live in the addon; this layer owns what must run in JS:
// the event emitter, V8 figures, global.gc, and the unref'd heap timer.
const { EventEmitter } = require('node:events');
const native = require('./native');
const { MemwardenConfigError, MemwardenNotInitializedError, invalidArgument } = require('./errors');
const { ingestHeap } = require('./heap');
const { forceGc, observeGc, gcFunction } = require('./gc');

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
    const opts = cleanOptions(options);
    const env = pickEnv(process.env);
    const resolved = native.resolveConfig(opts, env);
    if (!resolved.ok) throw new MemwardenConfigError(resolved.problems);
    const monitor = new native.Monitor(opts, env, (events) => this._emitEvents(events));
    this._monitor = monitor;
    this._settings = monitor.settings;
    monitor.setGcAvailable(gcFunction() !== null);
    this._stopObserving = observeGc(monitor, (t) => t >= this._ownGc[0] && t <= this._ownGc[1]);
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
    } finally {
      if (this._timer) this._timer.refresh();
    }
  }

  _runProactiveGc() {
    if (!this._monitor.proactiveGcDue()) return null;
    this._monitor.noteProactiveGc();
    return this._forceGc('proactive_pressure');
  }

  _emitEvents(events) {
    for (const event of events) {
      try {
        this.emit(event.type, event);
      } catch (err) {
        // A throwing listener must not take the process down from a native callback.
        process.emitWarning(`memwarden: a '${event.type}' listener threw: ${err && err.stack}`, 'MemwardenWarning');
      }
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
    const monitor = this._monitor;
    const action = forceGc(reason, (start, end) => {
      this._ownGc = [start, end];
    });
    if (action.success) {
      monitor.recordGc(1, action.durationMs, true, action.memoryBefore, action.memoryAfter);
    } else {
      monitor.setGcAvailable(gcFunction() !== null);
    }
    this._emitEvents(ingestHeap(monitor));
    this.emit('gc', action);
    return action;
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

module.exports = { MemoryManagerService };

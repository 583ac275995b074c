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
const { LeakAttributor, resolveAutoAttribution } = require('./attribution');
const { attachPlannedRestart, resolveRestartSettings } = require('./restart');
const { performance } = require('node:perf_hooks');
const { CleanupRegistry, runStrategies, builtinStrategies, resolveCleanupSettings } = require('./cleanup');
const { attachAlertDelivery, resolveAlertSettings } = require('./alerts');
const { RequestStats } = require('./requestStats');
const { LEVELS } = require('./options');

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
const JS_OPTIONS = [
  'logger',
  // Express integration (validated in lib/alerts.js and lib/cleanup.js):
  'alertWebhookUrl',
  'alertWebhookTimeoutMs',
  'alertWebhookQueueSize',
  'proactiveCleanup',
  'cleanupCooldownMs',
  // Leak-site attribution (lib/attribution.js):
  'leakAttribution',
  // The planned restart (lib/restart.js):
  'onLeak',
];

/** A problem for a bad `logger` option, or null. */
function loggerProblem(logger) {
  if (logger === undefined) return null;
  const ok = logger && typeof logger === 'object' && ['warn', 'error', 'info'].every((m) => typeof logger[m] === 'function');
  if (ok) return null;
  return {
    setting: 'logger',
    value: String(logger),
    accepted: 'an object with info, warn and error methods (console, pino, winston)',
    message: `logger=${String(logger)} is not a logger; accepted: an object with info, warn and error methods (console, pino, winston)`,
  };
}

/** Only defined options are settings; `undefined` fields are dropped. Null if not an object. */
function cleanOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) return null;
  const out = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Every setting of initialize(), checked at once: the addon's (thresholds, interval,
 * limit, ...) and the JS layer's (logger, alert webhook, cleanup, attribution).
 * Returns { ok, problems } or { ok, config, limit, nativeOptions, env, js }.
 */
function validateOptions(options, processEnv) {
  const all = cleanOptions(options);
  if (all === null) {
    const v = unrepresentable(options) || String(options);
    return {
      ok: false,
      problems: [{ setting: 'options', value: v, accepted: 'an object of settings', message: `options=${v} is not an object; accepted: an object of settings` }],
    };
  }
  const nativeOptions = {};
  for (const [k, v] of Object.entries(all)) if (!JS_OPTIONS.includes(k)) nativeOptions[k] = v;
  const env = pickEnv(processEnv);
  const resolved = resolveSettings(nativeOptions, env);
  const alerting = resolveAlertSettings(all, processEnv);
  const cleaning = resolveCleanupSettings(all);
  const problems = [...alerting.problems, ...cleaning.problems];
  const logger = loggerProblem(all.logger);
  if (logger) problems.push(logger);
  const attribution = resolveAutoAttribution(all.leakAttribution, processEnv);
  problems.push(...attribution.problems);
  const restart = resolveRestartSettings(all.onLeak, processEnv);
  problems.push(...restart.problems);
  if (!resolved.ok) problems.push(...resolved.problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: resolved.config,
    limit: resolved.limit,
    nativeOptions,
    env,
    js: {
      logger: all.logger || console,
      alerting: alerting.settings,
      cleaning: cleaning.settings,
      autoAttribution: attribution.settings,
      restart: restart.settings,
    },
  };
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
    this._initIntegration();
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
    const v = validateOptions(options, process.env);
    if (!v.ok) throw new MemwardenConfigError(v.problems);
    const { logger, alerting, cleaning, autoAttribution, restart } = v.js;
    this._attributor = new LeakAttributor({
      settings: autoAttribution,
      emit: (type, payload) => this._emit(type, payload),
      activeLeakAlert: () => (this._monitor ? this._monitor.alerts().active.find((a) => a.type === 'memory_leak') || null : null),
      logger,
    });
    this._cleanupSettings = cleaning;
    const monitor = new native.Monitor(v.nativeOptions, v.env, (events) => this._emitEvents(events));
    this._monitor = monitor;
    this._settings = monitor.settings;
    this._logger = logger;
    this._alertDelivery = attachAlertDelivery(this, logger, alerting);
    monitor.setGcAvailable(gcFunction() !== null);
    monitor.setConfirmationAvailable(confirmationAvailable());
    this._stopObserving = observeGc(
      monitor,
      (t) => t >= this._ownGc[0] && t <= this._ownGc[1],
      (events) => this._emitEvents(events),
    );
    this._emitEvents(monitor.sampleNow());
    this._emitEvents(ingestHeap(monitor));
    const interval = this._settings.config.monitoringIntervalMs;
    this._plannedRestart = attachPlannedRestart(this, restart, { emit: (type, payload) => this._emit(type, payload), intervalMs: interval });
    this._timer = setTimeout(() => this._tick(), interval);
    this._timer.unref();
    return this;
  }

  _tick() {
    if (!this._monitor) return;
    try {
      this._monitor.setGcAvailable(gcFunction() !== null);
      this._emitEvents(ingestHeap(this._monitor));
      if (this._requestStats !== null) {
        // Request rate is a leak risk factor: growth the traffic does not explain.
        this._monitor.noteRequests((this._requestsBeforeReset || 0) + this._requestStats.totalRequests);
      }
      this._runProactiveGc();
      this._runConfirmationGc();
      this._runProactiveCleanup();
    } catch (err) {
      // A failed tick is reported, never thrown from the timer (that would crash the app).
      process.emitWarning(`memwarden: monitoring tick failed: ${err && err.stack}`, 'MemwardenWarning');
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
      .catch((err) => process.emitWarning(`memwarden: confirmation GC failed: ${err && err.stack}`, 'MemwardenWarning'))
      .finally(() => {
        this._confirming = false;
      });
  }

  _recordGcAction(action) {
    const monitor = this._monitor;
    if (action.success) {
      const a = action.after;
      this._emitEvents(monitor.recordFullGc(action.durationMs, true, action.memoryBefore, a.heapUsed, a.oldGeneration, a.external));
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

  _emitEvents(events) {
    this._refreshRequestSnapshot();
    for (const event of events) {
      // Alerts travel wrapped ({ type: 'alert', alert }): the alert's own `type` is its kind.
      if (event.type === 'alert' || event.type === 'alertResolved') this._emit(event.type, event.alert);
      else this._emit(event.type, event);
      if (event.type === 'leak') this._attributor.onLeak(event);
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
   * recommendations. The native part is cached per sample like getHealthMetrics() (its
   * cost grows with the history); the attribution fields are read on every call.
   */
  getLeakDetection() {
    const monitor = this._require('getLeakDetection');
    const version = monitor.version();
    const cached = this._leakCache;
    if (!cached || cached.monitor !== monitor || cached.version !== version) {
      this._leakCache = { monitor, version, report: deepFreeze(monitor.leakReport()) };
    }
    return { ...this._leakCache.report, attribution: this._attributor.latest, attributionRunning: this._attributor.running };
  }

  /**
   * Finds the code retaining memory: samples allocations with V8's sampling heap profiler
   * for `durationMs` (default 30 s) and resolves to the allocation sites whose live
   * sampled bytes kept growing: `{ sites: [{ functionName, url, lineNumber, retainedBytes,
   * growthBytesPerSec, grewInWindows, windows, shareOfGrowth }], summary, ... }` with paths
   * relative to the app root. Runs automatically whenever a leak is confirmed (one at a
   * time, at most every 10 min; `leakAttribution: false` turns that off). The result also
   * appears in getLeakDetection().attribution and the 'leakAttributed' event.
   */
  async attributeLeak(options) {
    this._require('attributeLeak');
    return this._attributor.run(options);
  }

  /**
   * Alerts raised by the engine: `{ active, history, suppressed, cooldownMs }`. One active
   * alert per type (high_usage, memory_leak, gc_failure, rapid_growth); a type that
   * resolved stays quiet for `alertCooldownMs` unless it comes back at a higher level.
   */
  getAlerts() {
    return this._require('getAlerts').alerts();
  }

  /** The recorded trace (newest samples and full GCs) for `analyzeTrace` or `memory analyze`. */
  exportTrace() {
    return this._require('exportTrace').exportTrace();
  }

  /**
   * The newest `samples` samples and `gc` full GCs of the recorded trace with its totals
   * (`totalSamples`, `totalGc`, `firstSampleAt`): cost independent of the history length.
   */
  traceTail(samples, gc) {
    return this._require('traceTail').traceTail(samples, gc);
  }

  /** Replays a trace through the same engine (see `analyzeTrace`). */
  analyzeTrace(trace, options) {
    return analyzeTrace(trace, options);
  }

  // ---------------------------------------------------------------------------
  // Express integration: request snapshot, request statistics, cleanup strategies,
  // alert delivery (lib/cleanup.js, lib/alerts.js, lib/requestStats.js).

  _initIntegration() {
    this._cleanup = new CleanupRegistry();
    for (const s of builtinStrategies(this)) this._cleanup.register(s, true);
    this._cleanupSettings = { proactiveCleanup: true, cleanupCooldownMs: 60_000 };
    this._cleanupRun = null;
    this._lastCleanup = null;
    this._lastProactiveCleanup = -Infinity;
    this._requestStats = null;
    this._requestSnapshot = null;
    this._alertDelivery = null;
  }

  /**
   * What the per-request middleware reads: `{ status, level (0 healthy … 3 emergency),
   * usagePercentage, pressurePercentage, usageHeader, timestamp, report }`, frozen and
   * rebuilt only when a sample changed the report. `null` before initialize().
   */
  getRequestSnapshot() {
    return this._requestSnapshot;
  }

  _refreshRequestSnapshot() {
    if (!this._monitor) return;
    try {
      const r = this.getHealthMetrics();
      const prev = this._requestSnapshot;
      if (prev !== null && prev.report === r) return;
      const u = r.currentUsage;
      this._requestSnapshot = Object.freeze({
        status: r.status,
        level: LEVELS[r.status],
        usagePercentage: u.usagePercentage,
        pressurePercentage: u.pressurePercentage,
        usageHeader: u.pressurePercentage.toFixed(1),
        timestamp: r.timestamp,
        report: r,
      });
    } catch (err) {
      process.emitWarning(`memwarden: could not refresh the request snapshot: ${err && err.message}`, 'MemwardenWarning');
    }
  }

  /** Per-route request statistics fed by memoryMonitoring.monitorRequestMemory() (created on first use). */
  get requestStats() {
    if (this._requestStats === null) this._requestStats = new RequestStats({ now: performance.now() });
    return this._requestStats;
  }

  _clearRequestStats() {
    if (this._requestStats === null) return { routesDropped: 0, windowsDropped: 0, requestsDropped: 0 };
    // The engine reads a monotonic request total: carry what the reset drops.
    this._requestsBeforeReset = (this._requestsBeforeReset || 0) + this._requestStats.totalRequests;
    return this._requestStats.reset(performance.now());
  }

  _clearMemorySnapshots() {
    return this._monitor ? this._monitor.clearHistory() : 0;
  }

  _proactiveGcAllowed() {
    return this._monitor !== null && this._monitor.proactiveGcDue();
  }

  _noteProactiveGc() {
    if (this._monitor) this._monitor.noteProactiveGc();
  }

  /**
   * Adds a cleanup strategy `{ name, priority, thresholdPercent, run, description?,
   * timeoutMs? }`: `run(context)` may return nothing, a byte count it freed, or
   * `{ success?, error?, freedBytes?, details?, skipped? }`, or a promise of those.
   * Throws ERR_MEMWARDEN_INVALID_ARG naming the bad field. Returns its description.
   */
  registerCleanupStrategy(strategy) {
    return this._cleanup.register(strategy);
  }

  /** Removes a strategy (built-ins too) by name; true when one was removed. */
  unregisterCleanupStrategy(name) {
    return this._cleanup.unregister(name);
  }

  /** The registered strategies, highest priority first. */
  getCleanupStrategies() {
    return this._cleanup.list();
  }

  /** The last cleanup run: `{ reason, trigger, force, pressurePercentage, actions, timestamp }` or null. */
  getLastCleanup() {
    return this._lastCleanup;
  }

  /**
   * Runs the eligible cleanup strategies (thresholdPercent <= current pressure; all of
   * them with `{ force: true }`) in priority order, each isolated and measured.
   * Resolves to one action record per strategy run. A call while a run is in
   * progress resolves to that run's actions.
   */
  async performEmergencyCleanup(options = {}) {
    this._require('performEmergencyCleanup');
    if (!options || typeof options !== 'object' || Array.isArray(options)) {
      throw invalidArgument('options', options, 'an object { force?: boolean, reason?: string }');
    }
    for (const key of Object.keys(options)) {
      if (key !== 'force' && key !== 'reason') throw invalidArgument(`options.${key}`, options[key], 'no such option; options: force, reason');
    }
    const { force = false, reason = 'emergency_cleanup' } = options;
    if (typeof force !== 'boolean') throw invalidArgument('options.force', force, 'true or false');
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 200) {
      throw invalidArgument('options.reason', reason, 'a non-empty string of at most 200 characters');
    }
    return this._performCleanup(force, reason, 'manual');
  }

  _performCleanup(force, reason, trigger) {
    if (this._cleanupRun) return this._cleanupRun;
    const run = (async () => {
      const monitor = this._require('performEmergencyCleanup');
      this._emitEvents(monitor.sampleNow());
      this._emitEvents(ingestHeap(monitor));
      const report = this.getHealthMetrics();
      const pressurePercentage = report.currentUsage.pressurePercentage;
      const context = Object.freeze({ reason, force, trigger, status: report.status, pressurePercentage, manager: this });
      const timestamp = Date.now();
      const actions = await runStrategies(this._cleanup, context);
      this._lastCleanup = { reason, trigger, force, status: report.status, pressurePercentage, actions, timestamp };
      this._emit('cleanup', this._lastCleanup);
      return actions;
    })();
    this._cleanupRun = run;
    const clear = () => {
      if (this._cleanupRun === run) this._cleanupRun = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** Proactive mode: at critical or above, the eligible strategies run, at most once per cleanupCooldownMs. */
  _runProactiveCleanup() {
    const snapshot = this._requestSnapshot;
    if (!this._cleanupSettings.proactiveCleanup || snapshot === null || snapshot.level < LEVELS.critical) return null;
    return this.requestProactiveCleanup('proactive_pressure', this._cleanupSettings.cleanupCooldownMs);
  }

  /**
   * Starts a non-forced cleanup unless one ran (for this caller's purpose) within
   * `cooldownMs`: the periodic check and the pressure middleware use it. Returns the
   * run's promise (never rejecting) or null when cooled down or already running.
   */
  requestProactiveCleanup(reason = 'proactive_pressure', cooldownMs = this._cleanupSettings.cleanupCooldownMs) {
    if (!this._monitor || this._cleanupRun) return null;
    const now = Date.now();
    if (now - this._lastProactiveCleanup < cooldownMs) return null;
    this._lastProactiveCleanup = now;
    return this._performCleanup(false, reason, 'proactive').catch((err) => {
      process.emitWarning(`memwarden: proactive cleanup failed: ${err && err.message}`, 'MemwardenWarning');
      return [];
    });
  }

  /** Alert delivery counters: `{ delivered: { alerts, resolved }, logger, webhook: {...} }`. */
  getAlertDelivery() {
    return this._alertDelivery ? this._alertDelivery.stats() : { delivered: { alerts: 0, resolved: 0 }, logger: false, webhook: { configured: false } };
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
    this._leakCache = null;
    if (this._attributor) this._attributor.close();
    if (this._plannedRestart) this._plannedRestart.detach();
    if (this._alertDelivery) this._alertDelivery.detach();
    this._alertDelivery = null;
    this._requestSnapshot = null;
    this._lastProactiveCleanup = -Infinity;
  }
}

module.exports = { MemoryManagerService, validateOptions };

'use strict';
// MemoryManagerService: the public orchestrator (names from SPEC.md). The engine
// and the sampler thread live in the addon; the JS side is split by job:
//   options.js             the settings of initialize(), validated at once
//   lifecycle.js           a running manager: native Monitor (its sampler thread's callbacks), GC observer, report cache
//   gcActions.js           forced, proactive and confirmation collections
//   requests.js            the request snapshot and the per-route request statistics
//   cleanupRuns.js         cleanup runs (manual, periodic, pressure middleware)
// This file wires them together and holds the public API and the event emitter.
const { EventEmitter } = require('node:events');
const { MemwardenConfigError, MemwardenNotInitializedError, invalidArgument } = require('../errors');
const { analyzeTrace } = require('../trace');
const { validateOptions } = require('./options');
const { Running } = require('./lifecycle');
const { GcActions } = require('./gcActions');
const { LeakAttributor } = require('../attribution');
const { attachPlannedRestart } = require('../restart');
const { RequestSide } = require('./requests');
const { CleanupRuns } = require('./cleanupRuns');

const warn = (message) => process.emitWarning(message, 'MemwardenWarning');

let instance = null;

class MemoryManagerService extends EventEmitter {
  /** The process-wide (per worker thread) manager. */
  static getInstance() {
    if (!instance) instance = new MemoryManagerService();
    return instance;
  }

  /** The Running (lifecycle.js) between initialize() and shutdown(), else null. */
  #running = null;
  #initializing = null;
  #gc;
  /** Leak-site attribution (lib/attribution.js): created by initialize(). */
  #attribution = null;
  /** The planned restart (lib/restart.js), when `onLeak.restart` is set. */
  #plannedRestart = null;
  #requests = new RequestSide();
  #cleanup;
  /** initialize()'s `logger` (kept after shutdown() for runs still finishing). */
  #logger = console;

  constructor() {
    super();
    const monitor = () => (this.#running === null ? null : this.#running.monitor);
    const emit = (type, payload) => this.#emit(type, payload);
    const emitEvents = (events) => this.#emitEvents(events);
    this.#gc = new GcActions({ monitor, emit, emitEvents, warn });
    // What the built-in cleanup strategies may do, and nothing more.
    const cleanupActions = Object.freeze({
      proactiveGcAllowed: () => this.#gc.proactiveAllowed(),
      noteProactiveGc: () => this.#gc.noteProactive(),
      forceGc: (reason) => this.forceGarbageCollection(reason),
      clearRequestStats: () => this.clearRequestStats(),
      clearMemorySnapshots: () => (this.#running === null ? 0 : this.#running.monitor.clearHistory()),
    });
    this.#cleanup = new CleanupRuns(
      {
        requireMonitor: (method) => this.#require(method),
        sampleReport: () => {
          this.#running.sampleNow();
          return this.getHealthMetrics();
        },
        emit,
        warn,
        running: () => this.#running !== null,
        mayStart: (cooldownMs) => this.#running !== null && this.#running.monitor.cleanupMayStart(cooldownMs),
      },
      cleanupActions,
    );
  }

  /** True between a successful initialize() and shutdown(). */
  get initialized() {
    return this.#running !== null;
  }

  /** The resolved configuration (`null` before initialize()). */
  get config() {
    return this.#running ? this.#running.settings.config : null;
  }

  /** The memory limit in force: `{ bytes, source, detail }` (`null` before initialize()). */
  get limit() {
    return this.#running ? this.#running.settings.limit : null;
  }

  /**
   * Validates settings (options over MEMORY_* variables over platform presets) and
   * starts monitoring. Idempotent: later calls resolve to the same running manager
   * (their options are ignored; call shutdown() first to change settings).
   */
  initialize(options) {
    if (this.#running) return Promise.resolve(this);
    if (this.#initializing) return this.#initializing;
    this.#initializing = new Promise((resolve) => resolve(this.#start(options))).finally(() => {
      this.#initializing = null;
    });
    return this.#initializing;
  }

  #start(options) {
    const v = validateOptions(options, process.env);
    if (!v.ok) throw new MemwardenConfigError(v.problems);
    this.#cleanup.settings = v.js.cleaning;
    this.#logger = v.js.logger;
    const emit = (type, payload) => this.#emit(type, payload);
    this.#attribution = new LeakAttributor({
      settings: v.js.autoAttribution,
      emit,
      activeLeakAlert: () => (this.#running ? this.#running.monitor.alerts().active.find((a) => a.type === 'memory_leak') || null : null),
      logger: v.js.logger,
      // Whether an automatic run is due is the engine's decision (a flagged leak, the cooldown on a monotonic clock).
      due: (everyMs) => this.#running !== null && this.#running.monitor.autoAttributionDue(everyMs),
    });
    this.#running = new Running(v, {
      emitter: this,
      emitEvents: (events) => this.#emitEvents(events),
      isOwnGc: (t) => this.#gc.isOwn(t),
      onSample: (monitor) => this.#onSample(monitor),
      onDelivery: (d) => this.#onDelivery(d),
      warn,
    });
    this.#running.begin();
    this.#plannedRestart = attachPlannedRestart(this, v.js.restart, { emit, intervalMs: v.config.monitoringIntervalMs });
    return this;
  }

  /** JS work per heap reading (the addon read the figures just before this call). */
  #onSample(monitor) {
    const total = this.#requests.totalRequests();
    // Request rate is a leak risk factor: growth the traffic does not explain.
    if (total !== null) monitor.noteRequests(total);
  }

  /** What the sampler thread's analysis produced (and the collections the addon ran for it). */
  #onDelivery(d) {
    if (!this.#running) return;
    this.#requests.refresh(d, this.#reportGetter);
    if (d.gcActions.length > 0) this.#gc.ranInAddon(d.gcActions);
    this.#emitAll(d.events);
    if (d.confirmWithInspector) this.#gc.confirmWithInspector();
    this.#cleanup.runProactive(this, this.#requests.snapshot);
  }

  #reportGetter = () => (this.#running ? this.getHealthMetrics() : null);

  #emit(type, payload) {
    try {
      this.emit(type, payload);
    } catch (err) {
      // A throwing listener must not take the process down from a native callback.
      warn(`memwarden: a '${type}' listener threw: ${err && err.stack}`);
    }
  }

  #emitEvents(events) {
    this.#refreshRequestSnapshot();
    this.#emitAll(events);
  }

  #emitAll(events) {
    for (const event of events) {
      // Alerts travel wrapped ({ type: 'alert', alert }): the alert's own `type` is its kind.
      if (event.type === 'alert' || event.type === 'alertResolved') this.#emit(event.type, event.alert);
      else if (event.type === 'error') this.#samplerError(event);
      else this.#emit(event.type, event);
      if (event.type === 'leak' && this.#attribution) this.#attribution.onLeak(event);
    }
  }

  // The sampler thread panicked (and was restarted, or stopped for good): always a
  // warning; an 'error' event too when someone listens (an unheard 'error' would throw).
  #samplerError(event) {
    warn(event.message);
    if (this.listenerCount('error') > 0) {
      const err = Object.assign(new Error(event.message), { code: 'ERR_MEMWARDEN_SAMPLER', sampler: event.sampler, restarts: event.restarts });
      this.#emit('error', err);
    }
  }

  #refreshRequestSnapshot() {
    if (!this.#running) return;
    try {
      this.#requests.refresh(this.#running.monitor.snapshot(), this.#reportGetter);
    } catch (err) {
      warn(`memwarden: could not refresh the request snapshot: ${err && err.message}`);
    }
  }

  #require(method) {
    if (!this.#running) throw new MemwardenNotInitializedError(method);
    return this.#running.monitor;
  }

  /**
   * The latest health report (SPEC.md's example response plus the real limit). A
   * frozen snapshot refreshed on every sample; cheap enough to call per request.
   */
  getHealthMetrics() {
    this.#require('getHealthMetrics');
    return this.#running.report();
  }

  /**
   * Samples now, evaluates, and runs the proactive actions the configuration enables
   * (a proactive GC above gcThreshold, when global.gc exists and the cooldown allows).
   */
  async checkMemoryPressure() {
    this.#require('checkMemoryPressure');
    const previousStatus = this.getHealthMetrics().status;
    this.#running.sampleNow();
    const actions = [];
    const gc = this.#gc.runProactive();
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
      proactiveGcEnabled: this.#running.settings.config.proactiveGc,
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
    this.#require('forceGarbageCollection');
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 200) {
      throw invalidArgument('reason', reason, 'a non-empty string of at most 200 characters');
    }
    return this.#gc.force(reason);
  }

  /**
   * The leak detector's verdict and evidence (the data behind /api/memory/leak-detection):
   * `leakSuspected`, `confidence` and its parts, per-signal evidence, time to the limits,
   * recommendations. The native part is cached per sample like getHealthMetrics() (its
   * cost grows with the history); the attribution fields are read on every call.
   */
  getLeakDetection() {
    this.#require('getLeakDetection');
    return { ...this.#running.leakReport(), attribution: this.#attribution.latest, attributionRunning: this.#attribution.running };
  }

  /**
   * Finds the code retaining memory: samples allocations with V8's sampling heap profiler
   * for `durationMs` (default 30 s) and resolves to the allocation sites whose live
   * sampled bytes kept growing: `{ sites: [{ functionName, url, lineNumber, retainedBytes,
   * growthBytesPerSec, grewInWindows, windows, shareOfGrowth }], summary, ... }` with paths
   * relative to the app root. Runs automatically whenever a leak is confirmed (one at a
   * time, at most every 10 min by default; `leakAttribution: false` turns that off). The
   * result also appears in getLeakDetection().attribution and the 'leakAttributed' event.
   */
  async attributeLeak(options) {
    this.#require('attributeLeak');
    return this.#attribution.run(options);
  }

  /**
   * Alerts raised by the engine: `{ active, history, suppressed, cooldownMs }`. One active
   * alert per type (high_usage, memory_leak, gc_failure, rapid_growth); a type that
   * resolved stays quiet for `alertCooldownMs` unless it comes back at a higher level.
   */
  getAlerts() {
    return this.#require('getAlerts').alerts();
  }

  /** The recorded trace (newest samples and full GCs) for `analyzeTrace` or `memory analyze`. */
  exportTrace() {
    return this.#require('exportTrace').exportTrace();
  }

  /**
   * The newest `samples` samples and `gc` full GCs of the recorded trace with its totals
   * (`totalSamples`, `totalGc`, `firstSampleAt`): cost independent of the history length.
   */
  traceTail(samples, gc) {
    return this.#require('traceTail').traceTail(samples, gc);
  }

  /** Replays a trace through the same engine (see `analyzeTrace`). */
  analyzeTrace(trace, options) {
    return analyzeTrace(trace, options);
  }

  // ---------------------------------------------------------------------------
  // Express integration: request snapshot, request statistics, cleanup strategies,
  // alert delivery (lib/cleanup.js, lib/alerts.js, lib/requestStats.js).

  /**
   * What the per-request middleware reads: `{ status, level (0 healthy … 3 emergency),
   * usagePercentage, pressurePercentage, usageHeader, timestamp, report }`, frozen and
   * rebuilt only when a sample changed the report. `null` before initialize().
   */
  getRequestSnapshot() {
    return this.#requests.snapshot;
  }

  /** Per-route request statistics fed by memoryMonitoring.monitorRequestMemory() (created on first use). */
  get requestStats() {
    return this.#requests.getStats();
  }

  /** Whether per-route request statistics are being collected (`requestStats` was used). */
  get requestStatsEnabled() {
    return this.#requests.stats !== null;
  }

  /**
   * Drops the per-route request statistics and correlation windows (what the
   * clear_performance_metrics strategy does): `{ routesDropped, windowsDropped,
   * requestsDropped }`. The request total the leak detector reads keeps counting.
   */
  clearRequestStats() {
    return this.#requests.clear();
  }

  /** The proactive cleanup settings in force: `{ proactiveCleanup, cleanupCooldownMs }` (a copy). */
  get cleanupSettings() {
    return { ...this.#cleanup.settings };
  }

  /**
   * Adds a cleanup strategy `{ name, priority, thresholdPercent, run, description?,
   * timeoutMs? }`: `run(context)` may return nothing, a byte count it freed, or
   * `{ success?, error?, freedBytes?, details?, skipped? }`, or a promise of those.
   * Throws ERR_MEMWARDEN_INVALID_ARG naming the bad field. Returns its description.
   */
  registerCleanupStrategy(strategy) {
    return this.#cleanup.registry.register(strategy);
  }

  /** Removes a strategy (built-ins too) by name; true when one was removed. */
  unregisterCleanupStrategy(name) {
    return this.#cleanup.registry.unregister(name);
  }

  /** The registered strategies, highest priority first. */
  getCleanupStrategies() {
    return this.#cleanup.registry.list();
  }

  /** The last cleanup run: `{ reason, trigger, force, pressurePercentage, actions, timestamp }` or null. */
  getLastCleanup() {
    return this.#cleanup.last;
  }

  /**
   * Runs the eligible cleanup strategies (thresholdPercent <= current pressure; all of
   * them with `{ force: true }`) in priority order, each isolated and measured.
   * Resolves to one action record per strategy run. A call while a run is in
   * progress resolves to that run's actions.
   */
  async performEmergencyCleanup(options = {}) {
    this.#require('performEmergencyCleanup');
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
    return this.#cleanup.perform(this, force, reason, 'manual');
  }

  /**
   * Starts a non-forced cleanup unless one ran (for this caller's purpose) within
   * `cooldownMs`: the periodic check and the pressure middleware use it. Returns the
   * run's promise (never rejecting) or null when cooled down or already running.
   */
  requestProactiveCleanup(reason = 'proactive_pressure', cooldownMs = this.#cleanup.settings.cleanupCooldownMs) {
    return this.#cleanup.requestProactive(this, reason, cooldownMs);
  }

  /** Alert delivery counters: `{ delivered: { alerts, resolved }, logger, webhook: {...} }`. */
  getAlertDelivery() {
    const running = this.#running;
    return running && running.alertDelivery ? running.alertDelivery.stats() : { delivered: { alerts: 0, resolved: 0 }, logger: false, webhook: { configured: false } };
  }

  /** Stops the sampler thread and the GC observer. Idempotent. */
  async shutdown() {
    if (this.#initializing) await this.#initializing.catch(() => {});
    if (!this.#running) return;
    if (this.#attribution) this.#attribution.close();
    if (this.#plannedRestart) this.#plannedRestart.detach();
    this.#plannedRestart = null;
    this.#running.stop();
    this.#running = null;
    this.#requests.snapshot = null;
  }
}

module.exports = { MemoryManagerService, validateOptions };

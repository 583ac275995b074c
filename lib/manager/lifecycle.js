'use strict';
// A running manager, from initialize() to shutdown(): the native Monitor (its
// sampler thread), the GC observer, the alert delivery, the unref'd heap timer, and
// the cached health report. Everything here is dropped by stop().
const native = require('../native');
const { ingestHeap } = require('../heap');
const { confirmationAvailable, observeGc, gcFunction } = require('../gc');
const { attachAlertDelivery } = require('../alerts');

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

class Running {
  /**
   * `validated`: a successful validateOptions() result. `hooks`: { emitter (the
   * manager, for the alert delivery), emitEvents(events), isOwnGc(t), tick(monitor),
   * warn(message) }. Starts the sampler thread and the GC observer; begin() takes
   * the first sample and arms the timer.
   */
  constructor(validated, hooks) {
    const { logger, alerting } = validated.js;
    this.hooks = hooks;
    this.monitor = new native.Monitor(validated.nativeOptions, validated.env, (events) => hooks.emitEvents(events));
    this.settings = this.monitor.settings;
    this.logger = logger;
    this.cachedVersion = -1;
    this.cachedReport = null;
    this.timer = null;
    this.alertDelivery = attachAlertDelivery(hooks.emitter, logger, alerting);
    this.monitor.setGcAvailable(gcFunction() !== null);
    this.monitor.setConfirmationAvailable(confirmationAvailable());
    this.stopObserving = observeGc(this.monitor, (t) => hooks.isOwnGc(t), (events) => hooks.emitEvents(events));
  }

  /** The first sample (resident and heap), then the periodic heap timer. */
  begin() {
    this.sampleNow();
    this.timer = setTimeout(() => this.tick(), this.settings.config.monitoringIntervalMs);
    this.timer.unref();
  }

  /** A resident sample and a heap reading now, their events emitted. */
  sampleNow() {
    this.hooks.emitEvents(this.monitor.sampleNow());
    this.hooks.emitEvents(ingestHeap(this.monitor));
  }

  tick() {
    if (this.timer === null) return;
    try {
      this.monitor.setGcAvailable(gcFunction() !== null);
      this.hooks.emitEvents(ingestHeap(this.monitor));
      this.hooks.tick(this.monitor);
    } catch (err) {
      // A failed tick is reported, never thrown from the timer (that would crash the app).
      this.hooks.warn(`memwarden: monitoring tick failed: ${err && err.stack}`);
    } finally {
      if (this.timer) this.timer.refresh();
    }
  }

  /** The latest health report, frozen, rebuilt only when the engine's version moved. */
  report() {
    const version = this.monitor.version();
    if (version !== this.cachedVersion || this.cachedReport === null) {
      this.cachedReport = deepFreeze(this.monitor.report());
      this.cachedVersion = version;
    }
    return this.cachedReport;
  }

  /** Stops the timer, the GC observer, the sampler thread and the alert delivery. */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopObserving) this.stopObserving();
    this.stopObserving = null;
    this.monitor.shutdown();
    if (this.alertDelivery) this.alertDelivery.detach();
    this.alertDelivery = null;
  }
}

module.exports = { Running };

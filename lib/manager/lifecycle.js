'use strict';
// A running manager, from initialize() to shutdown(): the native Monitor (its
// sampler thread), the GC observer, the alert delivery and the cached health report.
// There is no JS timer: the addon's sampler thread asks the JS thread for V8's figures
// every interval (the addon reads them itself), analyses them on its own thread and
// hands the results back (onDelivery). Everything here is dropped by stop().
const v8 = require('node:v8');
const native = require('../native');
const { confirmationAvailable, observeGc } = require('../gc');
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
   * manager, for the alert delivery), emitEvents(events), isOwnGc(t),
   * onSample(monitor) (JS work per heap reading), onDelivery(delivery) (the sampler
   * thread's results), warn(message) }. Starts the sampler thread and the GC
   * observer; begin() takes the first sample.
   */
  constructor(validated, hooks) {
    const { logger, alerting } = validated.js;
    this.hooks = hooks;
    this.stopped = false;
    this.monitor = new native.Monitor(
      validated.nativeOptions,
      validated.env,
      v8,
      (periodic) => {
        if (periodic) this.#guard('sample', () => hooks.onSample(this.monitor));
      },
      (events, status, usagePercentage, pressurePercentage, timestamp, gcActions, confirmWithInspector) =>
        this.#guard('delivery', () =>
          hooks.onDelivery({ events, status, usagePercentage, pressurePercentage, timestamp, gcActions, confirmWithInspector }),
        ),
    );
    this.settings = this.monitor.settings;
    this.logger = logger;
    // Reports built by the addon, kept until the engine's version moves (see #perVersion).
    this.cached = { report: { version: -1, value: null }, leak: { version: -1, value: null } };
    this.alertDelivery = attachAlertDelivery(hooks.emitter, logger, alerting);
    this.monitor.setConfirmationAvailable(confirmationAvailable(this.monitor));
    this.stopObserving = observeGc(this.monitor, (t) => hooks.isOwnGc(t), (events) => hooks.emitEvents(events));
  }

  // A callback from the sampler thread is reported, never thrown (that would crash the app).
  #guard(what, fn) {
    if (this.stopped) return;
    try {
      fn();
    } catch (err) {
      this.hooks.warn(`memwarden: monitoring ${what} failed: ${err && err.stack}`);
    }
  }

  /** The first sample (resident and heap, analysed now); the sampler thread takes the next ones. */
  begin() {
    this.sampleNow();
  }

  /** A resident sample and a heap reading now, analysed on this thread, their events emitted. */
  sampleNow() {
    this.hooks.emitEvents(this.monitor.sampleNow());
  }

  /** `build()`'s result, frozen, rebuilt only when the engine's version moved since `slot` was filled. */
  #perVersion(slot, build) {
    const version = this.monitor.version();
    if (version !== slot.version || slot.value === null) {
      slot.value = deepFreeze(build());
      slot.version = version;
    }
    return slot.value;
  }

  /** The latest health report, frozen, rebuilt only when the engine's version moved. */
  report() {
    return this.#perVersion(this.cached.report, () => this.monitor.report());
  }

  /**
   * The leak report, frozen, rebuilt only when the engine's version moved: building it
   * costs more as the history grows, so /leak-detection and the planned restart read it
   * once per sample (bench:endpoints).
   */
  leakReport() {
    return this.#perVersion(this.cached.leak, () => this.monitor.leakReport());
  }

  /** Stops the GC observer, the sampler thread and the alert delivery. */
  stop() {
    this.stopped = true;
    if (this.stopObserving) this.stopObserving();
    this.stopObserving = null;
    this.monitor.shutdown();
    if (this.alertDelivery) this.alertDelivery.detach();
    this.alertDelivery = null;
  }
}

module.exports = { Running };

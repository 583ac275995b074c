'use strict';
// The collections the manager runs: forced (forceGarbageCollection(), the force_gc
// cleanup strategy), proactive (above gcThreshold, when the engine says one is due)
// and confirmation (a full GC the leak detector asks for, to check suspected growth
// against the live set). The addon runs them through global.gc (the sampler's
// proactive and confirmation collections arrive here as finished action records);
// only the inspector fallback for confirmation runs from JS. Each is emitted as a
// 'gc' event. The GC observer asks isOwn(t) to leave our own collections out of the GC stats.
const { performance } = require('node:perf_hooks');
const { inspectorGc } = require('../gc');

/** Slack (ms) around a collection the addon ran, for matching the observer's entry. */
const OWN_SLACK_MS = 5;

class GcActions {
  /**
   * `host`: { monitor() (the running native Monitor or null), emitEvents(events),
   * emit(type, payload), warn(message) }.
   */
  constructor(host) {
    this.host = host;
    // [start, end] (performance.now() ms) of the last collection run here.
    this.ownWindow = [0, -1];
    this.confirming = false;
    this.markOwn = (start, end) => {
      this.ownWindow = [start, end];
    };
  }

  /** Whether a GC observed at `t` is one of ours. */
  isOwn(t) {
    return t >= this.ownWindow[0] && t <= this.ownWindow[1];
  }

  /** A full collection now (through the addon); returns the action record. */
  force(reason) {
    const monitor = this.host.monitor();
    const start = performance.now();
    const { action, events } = monitor.forceGc(reason);
    this.markOwn(start, performance.now());
    this.host.emitEvents(events);
    this.host.emit('gc', action);
    return action;
  }

  /** Collections the addon ran on the sampler's behalf, just before this call. */
  ranInAddon(actions) {
    const now = performance.now();
    for (const action of actions) {
      if (action.success) this.markOwn(now - action.durationMs - OWN_SLACK_MS, now);
      this.host.emit('gc', action);
    }
  }

  /** A proactive collection when the engine says one is due (pressure, cooldown); the action or null. */
  runProactive() {
    const monitor = this.host.monitor();
    if (!monitor.proactiveGcDue()) return null;
    monitor.noteProactiveGc();
    return this.force('proactive_pressure');
  }

  /** Whether a proactive collection is allowed now (running, enabled, cooled down). */
  proactiveAllowed() {
    const monitor = this.host.monitor();
    return monitor !== null && monitor.proactiveGcDue();
  }

  /** Starts the proactive-GC cooldown (a cleanup strategy ran a collection for pressure). */
  noteProactive() {
    const monitor = this.host.monitor();
    if (monitor) monitor.noteProactiveGc();
  }

  /** The confirmation collection through the inspector (global.gc is not exposed), unless one is in flight. */
  confirmWithInspector() {
    const monitor = this.host.monitor();
    if (this.confirming || monitor === null) return;
    this.confirming = true;
    inspectorGc(monitor, 'leak_confirmation', this.markOwn)
      .then((action) => {
        if (action === null || this.host.monitor() !== monitor) return;
        if (action.success) this.host.emitEvents(monitor.recordFullGc(action.durationMs, true, action.memoryBefore));
        // A heap sample right after the collection, analysed on the sampler thread (the
        // addon does the same after the collections it runs itself).
        monitor.handOverHeapSample();
        this.host.emit('gc', action);
      })
      .catch((err) => this.host.warn(`memwarden: confirmation GC failed: ${err && err.stack}`))
      .finally(() => {
        this.confirming = false;
      });
  }
}

module.exports = { GcActions };

'use strict';
// The collections the manager runs: forced (forceGarbageCollection(), the force_gc
// cleanup strategy), proactive (above gcThreshold, when the engine says one is due)
// and confirmation (a full GC the leak detector asks for, to check suspected growth
// against the live set). Each is recorded in the engine and emitted as a 'gc' event.
// The GC observer asks isOwn(t) to leave our own collections out of the GC stats.
const { forceGc, confirmationGc, gcFunction } = require('../gc');
const { ingestHeap } = require('../heap');

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

  /** A full collection now; resolves nothing, returns the action record. */
  force(reason) {
    const action = forceGc(reason, this.markOwn);
    this.record(action);
    this.host.emit('gc', action);
    return action;
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

  /** The confirmation collection, when the leak detector asked for one and none is in flight. */
  runConfirmation() {
    const monitor = this.host.monitor();
    if (this.confirming || !monitor.confirmationDue()) return;
    monitor.noteConfirmation();
    this.confirming = true;
    confirmationGc('leak_confirmation', this.markOwn)
      .then((action) => {
        if (this.host.monitor() !== monitor) return;
        this.record(action);
        this.host.emit('gc', action);
      })
      .catch((err) => this.host.warn(`memwarden: confirmation GC failed: ${err && err.stack}`))
      .finally(() => {
        this.confirming = false;
      });
  }

  /** Feeds an action's outcome to the engine, then a fresh heap reading. */
  record(action) {
    const monitor = this.host.monitor();
    if (action.success) {
      const a = action.after;
      this.host.emitEvents(monitor.recordFullGc(action.durationMs, true, action.memoryBefore, a.heapUsed, a.oldGeneration, a.external));
    } else {
      monitor.setGcAvailable(gcFunction() !== null);
    }
    this.host.emitEvents(ingestHeap(monitor));
  }
}

module.exports = { GcActions };

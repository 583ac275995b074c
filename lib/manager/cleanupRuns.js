'use strict';
// Cleanup runs: performEmergencyCleanup() (manual), the periodic check at critical
// or above, and the pressure middleware (proactive, with a cooldown). One run at a
// time; the strategies themselves and their registry are lib/cleanup.js.
const { LEVELS } = require('../options');
const { CleanupRegistry, runStrategies, builtinStrategies } = require('../cleanup');

class CleanupRuns {
  /**
   * `host`: { requireMonitor(method), sampleReport() (samples now, returns the fresh
   * health report), emit(type, payload), warn(message), running(), mayStart(cooldownMs)
   * (the engine's cleanup cooldown, on a monotonic clock: true starts it) }.
   * `actions`: the operations the built-in strategies need (see builtinStrategies()).
   */
  constructor(host, actions) {
    this.host = host;
    this.registry = new CleanupRegistry();
    for (const s of builtinStrategies(actions)) this.registry.register(s, true);
    /** initialize()'s proactiveCleanup and cleanupCooldownMs. */
    this.settings = { proactiveCleanup: true, cleanupCooldownMs: 60_000 };
    this.inFlight = null;
    this.last = null;
  }

  /**
   * One run of the eligible strategies; `manager` is handed to the strategies in
   * their context. A call while a run is in flight returns that run.
   */
  perform(manager, force, reason, trigger) {
    if (this.inFlight) return this.inFlight;
    const run = (async () => {
      this.host.requireMonitor('performEmergencyCleanup');
      const report = this.host.sampleReport();
      const pressurePercentage = report.currentUsage.pressurePercentage;
      const context = Object.freeze({ reason, force, trigger, status: report.status, pressurePercentage, manager });
      const timestamp = Date.now();
      const actions = await runStrategies(this.registry, context);
      this.last = { reason, trigger, force, status: report.status, pressurePercentage, actions, timestamp };
      this.host.emit('cleanup', this.last);
      return actions;
    })();
    this.inFlight = run;
    const clear = () => {
      if (this.inFlight === run) this.inFlight = null;
    };
    run.then(clear, clear);
    return run;
  }

  /** The periodic check: at critical or above, a proactive run at most once per cleanupCooldownMs. */
  runProactive(manager, snapshot) {
    if (!this.settings.proactiveCleanup || snapshot === null || snapshot.level < LEVELS.critical) return null;
    return this.requestProactive(manager, 'proactive_pressure', this.settings.cleanupCooldownMs);
  }

  /** A non-forced run unless one started within `cooldownMs` (the engine decides); the run's promise (never rejecting) or null. */
  requestProactive(manager, reason, cooldownMs) {
    if (!this.host.running() || this.inFlight) return null;
    if (!this.host.mayStart(cooldownMs)) return null;
    return this.perform(manager, false, reason, 'proactive').catch((err) => {
      this.host.warn(`memwarden: proactive cleanup failed: ${err && err.message}`);
      return [];
    });
  }
}

module.exports = { CleanupRuns };

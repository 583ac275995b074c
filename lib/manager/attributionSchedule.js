'use strict';
// When leak-site attribution runs: on request (attributeLeak()), and automatically
// when the engine says one is due (a flagged leak with confidence >= 70, at most once
// per 10 min on a monotonic clock: src/engine/cooldown.rs). The sampling itself is
// lib/attribution.js.
const { attributeLeak } = require('../attribution');

class AttributionSchedule {
  /** `host`: { monitor(), emit(type, payload), logger(), warn(message) }. */
  constructor(host) {
    this.host = host;
    /** initialize()'s `leakAttribution` (automatic runs on or off). */
    this.automatic = true;
    /** The last result, or null. */
    this.result = null;
    this.running = false;
  }

  /** Samples allocations now (see MemoryManagerService#attributeLeak). */
  async run(options) {
    this.running = true;
    try {
      const result = await attributeLeak(options);
      this.result = result;
      this.host.emit('leakAttribution', result);
      return result;
    } finally {
      this.running = false;
    }
  }

  /** A 'leak' event was emitted: starts an automatic run when due. */
  onLeak() {
    if (!this.automatic || this.running) return;
    const monitor = this.host.monitor();
    if (monitor === null || !monitor.autoAttributionDue()) return;
    this.run()
      .then((r) => {
        const top = r.sites.slice(0, 3).map((x) => `${x.functionName} (${x.url}:${x.lineNumber}) +${(x.growthBytesPerSec / 1024).toFixed(0)} KB/s`);
        this.host.logger().warn(`memwarden: allocation sites still growing: ${top.length ? top.join('; ') : 'none found in the sampled window'}`);
      })
      .catch((err) => this.host.warn(`memwarden: leak attribution failed: ${err && err.message}`));
  }
}

module.exports = { AttributionSchedule };

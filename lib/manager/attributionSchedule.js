'use strict';
// When leak-site attribution runs: on request (attributeLeak()), and automatically
// when the engine flags a leak with enough confidence, at most once per
// AUTO_ATTRIBUTION_EVERY_MS. The sampling itself is lib/attribution.js.
const { attributeLeak } = require('../attribution');

/** Confidence at which a flagged leak starts an automatic attribution. */
const AUTO_ATTRIBUTION_CONFIDENCE = 70;
/** At most one automatic attribution per this many ms. */
const AUTO_ATTRIBUTION_EVERY_MS = 10 * 60_000;

class AttributionSchedule {
  /** `host`: { monitor(), emit(type, payload), logger(), warn(message) }. */
  constructor(host) {
    this.host = host;
    /** initialize()'s `leakAttribution` (automatic runs on or off). */
    this.automatic = true;
    /** The last result, or null. */
    this.result = null;
    this.running = false;
    this.lastAutomatic = 0;
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
    const now = Date.now();
    if (this.lastAutomatic && now - this.lastAutomatic < AUTO_ATTRIBUTION_EVERY_MS) return;
    const report = this.host.monitor().leakReport();
    if (report.confidence < AUTO_ATTRIBUTION_CONFIDENCE) return;
    this.lastAutomatic = now;
    this.run()
      .then((r) => {
        const top = r.sites.slice(0, 3).map((x) => `${x.functionName} (${x.url}:${x.lineNumber}) +${(x.growthBytesPerSec / 1024).toFixed(0)} KB/s`);
        this.host.logger().warn(`memwarden: allocation sites still growing: ${top.length ? top.join('; ') : 'none found in the sampled window'}`);
      })
      .catch((err) => this.host.warn(`memwarden: leak attribution failed: ${err && err.message}`));
  }
}

module.exports = { AttributionSchedule, AUTO_ATTRIBUTION_CONFIDENCE, AUTO_ATTRIBUTION_EVERY_MS };

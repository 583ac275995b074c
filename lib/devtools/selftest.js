'use strict';
// `memory test`: an end-to-end self-test of the memory management system, step by step.
// In-process it starts its own manager against a limit set just above this process's
// footprint, so a simulated allocation crosses the thresholds; against a server it runs
// the same steps through the HTTP endpoints with the server's own limit.
const { MB, bytes, percent } = require('./format');
const { LEVELS } = require('../options');

class StepFailure extends Error {}

/** The CLI prints what happens itself: memwarden's own log lines would repeat it. */
const quietLogger = { info() {}, warn() {}, error() {} };
const must = (ok, message) => {
  if (!ok) throw new StepFailure(message);
};

/** Runs `steps` ([name, async () => detail]) in order; a failed step fails the rest that need it. */
async function runSteps(steps, onStep) {
  const results = [];
  let broken = null;
  for (const [name, fn, needs = true] of steps) {
    const started = Date.now();
    let r;
    if (broken !== null && needs) {
      r = { name, ok: false, detail: `skipped: ${broken} failed`, ms: 0 };
    } else {
      try {
        r = { name, ok: true, detail: String((await fn()) || ''), ms: Date.now() - started };
      } catch (err) {
        r = { name, ok: false, detail: err instanceof StepFailure ? err.message : `threw: ${err && err.message}`, ms: Date.now() - started };
        if (broken === null && needs) broken = name;
      }
    }
    results.push(r);
    onStep(r);
  }
  return results;
}

/** The in-process self-test. `manager` must not be initialized yet (it is shut down at the end). */
async function localSteps(manager) {
  const { simulateMemoryPressure } = require('./simulate');
  const rss = process.memoryUsage.rss();
  const limitMb = Math.ceil(rss / MB) + 160;
  const thresholds = { warningThreshold: 50, criticalThreshold: 70, emergencyThreshold: 90 };
  let sim = null;
  let cleanupRan = false;
  return [
    [
      'initialize',
      async () => {
        await manager.initialize({ memoryLimitMb: limitMb, monitoringIntervalMs: 200, ...thresholds, leakAttribution: false, logger: quietLogger });
        must(manager.initialized, 'the manager did not start');
        return `limit ${limitMb} MB (just above this process's ${bytes(rss)}), thresholds 50/70/90 %`;
      },
    ],
    [
      'sample',
      async () => {
        await new Promise((r) => setTimeout(r, 500));
        await manager.checkMemoryPressure();
        const h = manager.getHealthMetrics();
        const n = manager.exportTrace().samples.length;
        must(n >= 2, `only ${n} samples after 0.5 s at 200 ms`);
        must(h.currentUsage.residentBytes > 0 && h.currentUsage.heapUsed > 0, 'no resident or heap figure');
        must(h.status === 'healthy', `status ${h.status} before any pressure`);
        return `${n} samples, rss ${bytes(h.currentUsage.residentBytes)}, status ${h.status}`;
      },
    ],
    [
      'register a cleanup strategy',
      async () => {
        manager.registerCleanupStrategy({
          name: 'selftest_cache',
          priority: 50,
          thresholdPercent: 0,
          description: 'the self-test\'s stand-in for an application cache',
          run: () => {
            cleanupRan = true;
            return { freedBytes: 0, details: { selftest: true } };
          },
        });
        return `${manager.getCleanupStrategies().length} strategies registered`;
      },
    ],
    [
      'simulate pressure',
      async () => {
        const room = Math.floor(0.9 * (limitMb * MB - process.memoryUsage.rss()) / MB);
        const mb = Math.max(16, Math.min(room, Math.round(limitMb * 0.8 - process.memoryUsage.rss() / MB)));
        sim = await simulateMemoryPressure(manager, mb, { holdMs: 600, recoverMs: 8000 });
        must(sim.phase === 'done', `the simulation ended in phase ${sim.phase}: ${sim.error}`);
        return `${mb} MB: peak ${sim.peakStatus} at ${percent(sim.peak.pressurePercentage)}`;
      },
    ],
    [
      'thresholds crossed',
      async () => {
        must(LEVELS[sim.peakStatus] >= LEVELS.warning, `status stayed ${sim.peakStatus} (peak ${percent(sim.peak.pressurePercentage)})`);
        must(sim.transitions.length > 0, 'no status event was emitted');
        return sim.transitions.map((t) => `${t.from}->${t.to}`).join(', ');
      },
    ],
    [
      'alerts fired',
      async () => {
        const types = sim.alerts.map((a) => `${a.type}(${a.level})`);
        must(sim.alerts.some((a) => a.type === 'high_usage'), `no high_usage alert (alerts: ${types.join(', ') || 'none'})`);
        return types.join(', ');
      },
    ],
    [
      'release and recovery',
      async () => {
        must(sim.recovered, `still ${sim.after.status} at ${percent(sim.after.pressurePercentage)} after release`);
        return `back to ${sim.after.status} at ${percent(sim.after.pressurePercentage)}`;
      },
    ],
    [
      'leak detector quiet',
      async () => {
        // A fast ramp looks like a leak while it lasts; once released, the detector must clear.
        const during = sim.alerts.find((a) => a.type === 'memory_leak');
        const deadline = Date.now() + 20_000;
        let l = manager.getLeakDetection();
        while (l.leakSuspected && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 250));
          await manager.checkMemoryPressure();
          l = manager.getLeakDetection();
        }
        must(!l.leakSuspected, `a leak is still suspected (${l.signal}, confidence ${l.confidence.toFixed(0)}%) 20 s after the release`);
        return `no leak suspected (confidence ${l.confidence.toFixed(0)}%)${during ? `; the ramp was flagged while it lasted (${during.level}), cleared after the release` : ''}`;
      },
      false,
    ],
    [
      'garbage collection',
      async () => {
        const a = await manager.forceGarbageCollection('selftest');
        must(a.success, `GC not run: ${a.error}`);
        return `${a.durationMs.toFixed(1)} ms, freed ${bytes(a.freedBytes)}`;
      },
      false,
    ],
    [
      'emergency cleanup',
      async () => {
        const actions = await manager.performEmergencyCleanup({ force: true, reason: 'selftest' });
        must(cleanupRan, 'the registered strategy did not run');
        const failed = actions.filter((a) => !a.success);
        must(failed.length === 0, `failed strategies: ${failed.map((a) => `${a.strategy}: ${a.error}`).join('; ')}`);
        return actions.map((a) => a.strategy).join(', ');
      },
      false,
    ],
  ];
}

/** The self-test against a server (RemoteSource). */
function remoteSteps(source, onWait) {
  let live = null;
  let sim = null;
  return [
    [
      'server reachable (GET /health)',
      async () => {
        const h = await source.health();
        must(typeof h.status === 'string', 'no status in /health');
        return `status ${h.status}, rss ${bytes(h.currentUsage.residentBytes)} of ${bytes(h.currentUsage.limitBytes)}`;
      },
    ],
    [
      'detailed reads (GET /live)',
      async () => {
        live = await source.live();
        must(live.samples.length > 0, 'no samples recorded yet');
        return `${live.samples.length} samples, interval ${live.intervalMs} ms`;
      },
    ],
    [
      'simulate pressure (POST /simulate)',
      async () => {
        const roomMb = Math.floor((0.9 * Math.min(live.limitBytes - live.residentBytes, live.heapSizeLimit - live.heapUsed)) / MB);
        const mb = Math.max(1, Math.min(64, roomMb));
        sim = await source.simulate(mb, { holdMs: 500, onWait });
        must(sim.phase === 'done', `ended in phase ${sim.phase}: ${sim.error}`);
        const fired = `${sim.transitions.length} transition(s), ${sim.alerts.length} alert(s), ${sim.cleanups.length} cleanup run(s)`;
        return `${mb} MB: peak ${sim.peakStatus} at ${percent(sim.peak.pressurePercentage)}; ${fired}`;
      },
    ],
    [
      'release and recovery',
      async () => {
        must(sim.recovered, `still ${sim.after.status} at ${percent(sim.after.pressurePercentage)} after release`);
        return `back to ${sim.after.status} at ${percent(sim.after.pressurePercentage)}`;
      },
    ],
    [
      'leak detector quiet (GET /leak-detection)',
      async () => {
        // A fast ramp looks like a leak while it lasts; once released, the detector must clear.
        const deadline = Date.now() + 20_000;
        let l = await source.leak();
        while (l.leakSuspected && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          l = await source.leak();
        }
        must(!l.leakSuspected, `a leak is suspected (${l.signal}, confidence ${l.confidence.toFixed(0)}%)${l.attribution && l.attribution.sites && l.attribution.sites[0] ? ` at ${l.attribution.sites[0].functionName} ${l.attribution.sites[0].url}:${l.attribution.sites[0].lineNumber}` : ''}`);
        return `no leak suspected (confidence ${l.confidence.toFixed(0)}%)`;
      },
      false,
    ],
    [
      'garbage collection (POST /gc)',
      async () => {
        const a = await source.gc('selftest', { onWait });
        must(a.success, `GC not run: ${a.error}${a.recommendation ? ` (${a.recommendation})` : ''}`);
        return `${a.durationMs.toFixed(1)} ms, freed ${bytes(a.freedBytes)}`;
      },
      false,
    ],
    [
      'emergency cleanup (POST /emergency-cleanup)',
      async () => {
        const r = await source.cleanup('selftest', { onWait });
        const failed = r.actions.filter((a) => !a.success);
        must(failed.length === 0, `failed strategies: ${failed.map((a) => `${a.strategy}: ${a.error}`).join('; ')}`);
        return `${r.actions.length} strategies: ${r.actions.map((a) => a.strategy).join(', ')}`;
      },
      false,
    ],
  ];
}

module.exports = { runSteps, localSteps, remoteSteps, StepFailure, quietLogger };

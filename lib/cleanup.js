'use strict';
// Cleanup strategies: the built-ins in SPEC.md's priority order and the app's own,
// run by performEmergencyCleanup() in priority order, each isolated (a strategy that
// throws, rejects or hangs yields a failed action; the others still run), each
// measured (V8 heap used before and after, wall time).
const { performance } = require('node:perf_hooks');
const { heapUsedBytes } = require('./heap');
const { invalidArgument } = require('./errors');
const { problem } = require('./options');

const STRATEGY_FIELDS = ['name', 'priority', 'thresholdPercent', 'run', 'description', 'timeoutMs'];
const DEFAULT_TIMEOUT_MS = 10_000;

/** Validates a strategy; throws ERR_MEMWARDEN_INVALID_ARG naming the bad field. */
function validateStrategy(s) {
  if (!s || typeof s !== 'object' || Array.isArray(s)) {
    throw invalidArgument('strategy', s, 'an object { name, priority, thresholdPercent, run }');
  }
  for (const key of Object.keys(s)) {
    if (!STRATEGY_FIELDS.includes(key)) throw invalidArgument(`strategy.${key}`, s[key], `no such field; fields: ${STRATEGY_FIELDS.join(', ')}`);
  }
  if (typeof s.name !== 'string' || !/^[\w.:-]{1,100}$/.test(s.name)) {
    throw invalidArgument('strategy.name', s.name, "1 to 100 characters among letters, digits, '_', '.', ':', '-'");
  }
  if (typeof s.priority !== 'number' || !Number.isFinite(s.priority) || s.priority < 0 || s.priority > 1000) {
    throw invalidArgument('strategy.priority', s.priority, 'a number from 0 to 1000 (higher runs first)');
  }
  if (typeof s.thresholdPercent !== 'number' || !Number.isFinite(s.thresholdPercent) || s.thresholdPercent < 0 || s.thresholdPercent > 100) {
    throw invalidArgument('strategy.thresholdPercent', s.thresholdPercent, 'a number from 0 to 100 (memory pressure, %, from which the strategy is eligible)');
  }
  if (typeof s.run !== 'function') throw invalidArgument('strategy.run', s.run, 'a function (context) => void | result | Promise');
  if (s.description !== undefined && (typeof s.description !== 'string' || s.description.length > 500)) {
    throw invalidArgument('strategy.description', s.description, 'a string of at most 500 characters');
  }
  if (s.timeoutMs !== undefined && !(Number.isInteger(s.timeoutMs) && s.timeoutMs >= 1 && s.timeoutMs <= 600_000)) {
    throw invalidArgument('strategy.timeoutMs', s.timeoutMs, 'a whole number of ms from 1 to 600000');
  }
  return {
    name: s.name,
    priority: s.priority,
    thresholdPercent: s.thresholdPercent,
    run: s.run,
    description: s.description || '',
    timeoutMs: s.timeoutMs || DEFAULT_TIMEOUT_MS,
  };
}

class CleanupRegistry {
  constructor() {
    this._strategies = [];
    this._seq = 0;
  }

  /** Adds a strategy; a name already registered is refused (unregister it first). */
  register(strategy, builtin = false) {
    const s = validateStrategy(strategy);
    if (this._strategies.some((x) => x.name === s.name)) {
      throw invalidArgument('strategy.name', s.name, `a name not registered yet (unregisterCleanupStrategy('${s.name}') first to replace it)`);
    }
    const entry = Object.freeze({ ...s, builtin, order: this._seq++ });
    this._strategies.push(entry);
    return this.describe(entry);
  }

  unregister(name) {
    const i = this._strategies.findIndex((x) => x.name === name);
    if (i === -1) return false;
    this._strategies.splice(i, 1);
    return true;
  }

  describe(s) {
    return { name: s.name, priority: s.priority, thresholdPercent: s.thresholdPercent, builtin: s.builtin, description: s.description, timeoutMs: s.timeoutMs };
  }

  /** Strategies by priority, highest first (registration order among equals). */
  ordered() {
    return this._strategies.slice().sort((a, b) => b.priority - a.priority || a.order - b.order);
  }

  list() {
    return this.ordered().map((s) => this.describe(s));
  }
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    // Ref'd: an awaited cleanup must settle (the timer lives at most `ms`).
    timer = setTimeout(() => reject(new Error(`strategy ${name} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one strategy isolated and measured; resolves (never rejects) to its action record. */
async function runStrategy(s, context) {
  const timestamp = Date.now();
  const heapBefore = heapUsedBytes();
  const start = performance.now();
  let result;
  let error = null;
  try {
    const value = s.run(context);
    if (value && typeof value.then === 'function') {
      const p = Promise.resolve(value);
      p.catch(() => {}); // a late rejection after a timeout must not be unhandled
      result = await withTimeout(p, s.timeoutMs, s.name);
    } else {
      result = value;
    }
  } catch (err) {
    error = err && err.message ? String(err.message) : String(err);
  }
  const durationMs = performance.now() - start;
  const heapAfter = heapUsedBytes();
  const action = {
    type: 'cleanup',
    strategy: s.name,
    priority: s.priority,
    thresholdPercent: s.thresholdPercent,
    reason: context.reason,
    success: error === null,
    freedBytes: Math.max(0, heapBefore - heapAfter),
    heapBefore,
    heapAfter,
    reportedFreedBytes: null,
    durationMs,
    timestamp,
  };
  if (error === null && result !== undefined && result !== null) {
    if (typeof result === 'number' && Number.isFinite(result)) {
      action.reportedFreedBytes = result;
    } else if (typeof result === 'object') {
      if (result.success === false) {
        action.success = false;
        error = typeof result.error === 'string' ? result.error : 'the strategy reported failure';
      }
      if (result.skipped === true) action.skipped = true;
      if (typeof result.freedBytes === 'number' && Number.isFinite(result.freedBytes)) action.reportedFreedBytes = result.freedBytes;
      if (result.details !== undefined) action.details = result.details;
    }
  }
  if (error !== null) action.error = error;
  return action;
}

/**
 * Runs the eligible strategies (thresholdPercent <= pressure, or all with force) in
 * priority order, one at a time. Resolves to one action record per strategy run.
 */
async function runStrategies(registry, context) {
  const actions = [];
  for (const s of registry.ordered()) {
    if (!context.force && s.thresholdPercent > context.pressurePercentage) continue;
    actions.push(await runStrategy(s, context));
  }
  return actions;
}

/**
 * SPEC.md's built-ins: force GC (100, > 70 %), clear performance metrics (80, > 80 %),
 * clear memory snapshots (60, > 85 %). `actions` holds exactly what they need from the
 * manager: { proactiveGcAllowed(), noteProactiveGc(), forceGc(reason) (a promise of
 * the GC action), clearRequestStats() (the counts dropped), clearMemorySnapshots()
 * (native bytes released) }.
 */
function builtinStrategies(actions) {
  return [
    {
      name: 'force_gc',
      priority: 100,
      thresholdPercent: 70,
      description: 'Force a full garbage collection (needs node --expose-gc)',
      run(ctx) {
        if (ctx.trigger === 'proactive' && !actions.proactiveGcAllowed()) {
          return { skipped: true, details: 'a proactive collection ran within gcCooldownMs, or proactive GC is off' };
        }
        return actions.forceGc(ctx.reason).then((gc) => {
          if (ctx.trigger === 'proactive') actions.noteProactiveGc();
          return gc.success
            ? { freedBytes: gc.freedBytes, details: { gcDurationMs: gc.durationMs } }
            : { success: false, error: gc.error, details: { recommendation: gc.recommendation } };
        });
      },
    },
    {
      name: 'clear_performance_metrics',
      priority: 80,
      thresholdPercent: 80,
      description: 'Drop the per-route request statistics and correlation windows',
      run() {
        const dropped = actions.clearRequestStats();
        // The dropped objects are freed by the next collection: the heap delta of
        // this action is ~0; the counts say what was released.
        return { details: dropped };
      },
    },
    {
      name: 'clear_memory_snapshots',
      priority: 60,
      thresholdPercent: 85,
      description: "Trim the resident-memory history and the recorded trace to what reports and the leak detector's longest window need (native memory)",
      run() {
        const bytes = actions.clearMemorySnapshots();
        // Native memory: not in the V8 heap figures; reportedFreedBytes is the addon's count.
        return { freedBytes: bytes, details: { nativeBytesReleased: bytes } };
      },
    },
  ];
}

/**
 * Validates the cleanup options of initialize() ({ proactiveCleanup,
 * cleanupCooldownMs }). Returns { settings, problems }.
 */
function resolveCleanupSettings(options) {
  const problems = [];
  let proactiveCleanup = true;
  let cleanupCooldownMs = 60_000;
  if (options.proactiveCleanup !== undefined) {
    if (typeof options.proactiveCleanup === 'boolean') proactiveCleanup = options.proactiveCleanup;
    else problems.push(problem('', 'proactiveCleanup', options.proactiveCleanup, 'true or false'));
  }
  if (options.cleanupCooldownMs !== undefined) {
    const x = options.cleanupCooldownMs;
    if (Number.isInteger(x) && x >= 1000 && x <= 86_400_000) cleanupCooldownMs = x;
    else problems.push(problem('', 'cleanupCooldownMs', x, 'a whole number of ms from 1000 to 86400000'));
  }
  return { settings: { proactiveCleanup, cleanupCooldownMs }, problems };
}

module.exports = { CleanupRegistry, resolveCleanupSettings, validateStrategy, runStrategies, runStrategy, builtinStrategies, DEFAULT_TIMEOUT_MS };

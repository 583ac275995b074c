'use strict';
// Memory pressure on purpose, for development: allocate N MB of JavaScript heap
// gradually, watch what memwarden does (status transitions, alerts, cleanup strategies,
// GCs), hold, release, and watch it recover. Used by memoryMonitorUtil.simulateMemoryPressure(),
// `memory simulate` in-process, and POST /api/memory/simulate on a server.
//
// The timers here are not unref'd: a simulation is work the caller asked for and waits
// on, and it is bounded (allocation + holdMs + recoverMs).
const { invalidArgument } = require('../errors');
const { LEVELS } = require('../options');

const MB = 1048576;
/** Doubles per 1 MB chunk (a packed double array holds 8 bytes per element on the heap). */
const DOUBLES_PER_MB = MB / 8;

const simulations = new WeakMap(); // manager -> the latest Simulation

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many MB can be allocated without crossing the limit or V8's heap limit. */
function roomMb(manager) {
  const u = manager.getHealthMetrics().currentUsage;
  const belowLimit = u.limitBytes - u.residentBytes;
  const belowHeap = u.heapSizeLimit - u.heapUsed;
  return {
    maxMb: Math.max(0, Math.floor((Math.min(belowLimit, belowHeap) * 0.9) / MB)),
    belowLimitBytes: belowLimit,
    belowHeapBytes: belowHeap,
    limitBytes: u.limitBytes,
    limitSource: u.limitSource,
    heapSizeLimit: u.heapSizeLimit,
  };
}

const SETTINGS = {
  mb: 'a number of MB greater than 0',
  stepMs: 'a whole number of ms from 10 to 10000',
  holdMs: 'a whole number of ms from 0 to 600000',
  recoverMs: 'a whole number of ms from 0 to 600000',
};

/** A problem with a simulation request, `{ name, value, accepted, code? }`, or null. */
function requestProblem(manager, request) {
  const { mb, stepMs = 100, holdMs = 2000, recoverMs = 10_000 } = request;
  if (typeof mb !== 'number' || !Number.isFinite(mb) || mb <= 0) return { name: 'mb', value: mb, accepted: SETTINGS.mb };
  if (!Number.isInteger(stepMs) || stepMs < 10 || stepMs > 10_000) return { name: 'stepMs', value: stepMs, accepted: SETTINGS.stepMs };
  if (!Number.isInteger(holdMs) || holdMs < 0 || holdMs > 600_000) return { name: 'holdMs', value: holdMs, accepted: SETTINGS.holdMs };
  if (!Number.isInteger(recoverMs) || recoverMs < 0 || recoverMs > 600_000) return { name: 'recoverMs', value: recoverMs, accepted: SETTINGS.recoverMs };
  const room = roomMb(manager);
  if (mb > room.maxMb) {
    return {
      name: 'mb',
      value: mb,
      code: 'ERR_MEMWARDEN_SIMULATION_TOO_LARGE',
      maxMb: room.maxMb,
      accepted: `at most ${room.maxMb} MB here: ${(room.belowLimitBytes / MB).toFixed(0)} MB are left below the ${(room.limitBytes / MB).toFixed(0)} MB limit (${room.limitSource}) and ${(room.belowHeapBytes / MB).toFixed(0)} MB below V8's heap limit; more would risk the process being killed`,
    };
  }
  return null;
}

/** Validates { mb, stepMs?, holdMs?, recoverMs? } against the room left; throws ERR_MEMWARDEN_INVALID_ARG. */
function checkRequest(manager, request) {
  const p = requestProblem(manager, request);
  if (p !== null) {
    const err = invalidArgument(p.name, p.value, p.accepted);
    if (p.code) {
      err.code = p.code;
      err.maxMb = p.maxMb;
    }
    throw err;
  }
  const { mb, stepMs = 100, holdMs = 2000, recoverMs = 10_000 } = request;
  return { mb, stepMs, holdMs, recoverMs };
}

/** Whether POST /simulate may run here: not under NODE_ENV=production unless MEMORY_ALLOW_SIMULATION=true. */
function simulationRefusal(env = process.env) {
  if (env.NODE_ENV !== 'production' || /^(1|true|yes|on)$/i.test(env.MEMORY_ALLOW_SIMULATION || '')) return null;
  return 'nothing: simulations are off under NODE_ENV=production (set MEMORY_ALLOW_SIMULATION=true to allow them)';
}

/**
 * The body fields of POST /api/memory/simulate for the router's checkBody(): each
 * returns null when accepted, else what is accepted (the size is checked against the
 * room left below the limits now).
 */
function simulateFields(manager) {
  const field = (name) => (x) => {
    const off = simulationRefusal();
    if (off !== null) return off;
    if (!manager.initialized) return null; // the router answers 503
    const p = requestProblem(manager, { mb: 1, [name]: x });
    return p === null ? null : p.accepted;
  };
  return { mb: field('mb'), stepMs: field('stepMs'), holdMs: field('holdMs'), recoverMs: field('recoverMs') };
}

class Simulation {
  constructor(manager, { mb, stepMs, holdMs, recoverMs }) {
    this.manager = manager;
    this.settings = { mb, stepMs, holdMs, recoverMs };
    this.chunks = [];
    this.s = {
      id: Date.now().toString(36),
      phase: 'starting',
      targetBytes: Math.round(mb * MB),
      allocatedBytes: 0,
      startedAt: Date.now(),
      finishedAt: null,
      startStatus: null,
      status: null,
      peakStatus: null,
      transitions: [],
      alerts: [],
      cleanups: [],
      gcs: [],
      before: null,
      peak: null,
      after: null,
      recovered: null,
      error: null,
    };
  }

  _figures() {
    const r = this.manager.getHealthMetrics();
    const u = r.currentUsage;
    return { status: r.status, residentBytes: u.residentBytes, heapUsed: u.heapUsed, pressurePercentage: u.pressurePercentage, pressureSource: u.pressureSource };
  }

  _note(figures) {
    const s = this.s;
    s.status = figures.status;
    // Each figure's own maximum: resident memory can peak after the release (freed pages
    // go back to the system later), when the heap is already small again.
    const p = s.peak;
    s.peak =
      p === null
        ? { ...figures }
        : {
            status: LEVELS[figures.status] > LEVELS[p.status] ? figures.status : p.status,
            residentBytes: Math.max(p.residentBytes, figures.residentBytes),
            heapUsed: Math.max(p.heapUsed, figures.heapUsed),
            pressurePercentage: Math.max(p.pressurePercentage, figures.pressurePercentage),
            pressureSource: figures.pressurePercentage > p.pressurePercentage ? figures.pressureSource : p.pressureSource,
          };
    if (LEVELS[figures.status] > LEVELS[s.peakStatus]) s.peakStatus = figures.status;
  }

  async _sample() {
    await this.manager.checkMemoryPressure();
    const f = this._figures();
    this._note(f);
    if (LEVELS[f.status] >= LEVELS.critical) {
      // What the periodic check does at critical (see MemoryManagerService#_runProactiveCleanup),
      // without waiting for the next tick: the strategies run, subject to their cooldown.
      const run = this.manager.requestProactiveCleanup('simulated_pressure');
      if (run) await run;
    }
    return f;
  }

  state() {
    return { ...this.s, transitions: [...this.s.transitions], alerts: [...this.s.alerts], cleanups: [...this.s.cleanups], gcs: [...this.s.gcs] };
  }

  async run(onProgress = () => {}) {
    const m = this.manager;
    const s = this.s;
    const { mb, stepMs, holdMs, recoverMs } = this.settings;
    const listeners = {
      status: (e) => s.transitions.push({ t: Date.now(), from: e.previous, to: e.current, pressurePercentage: e.pressurePercentage, phase: s.phase }),
      alert: (a) => s.alerts.push({ t: Date.now(), type: a.type, level: a.level, message: a.message, phase: s.phase }),
      cleanup: (c) =>
        s.cleanups.push({ t: Date.now(), reason: c.reason, actions: (c.actions || []).map((a) => ({ strategy: a.strategy, success: a.success, freedBytes: a.freedBytes ?? null })), phase: s.phase }),
      gc: (g) => s.gcs.push({ t: Date.now(), reason: g.reason, success: g.success, durationMs: g.durationMs ?? null, freedBytes: g.freedBytes ?? null, phase: s.phase }),
    };
    for (const [k, f] of Object.entries(listeners)) m.on(k, f);
    const progress = () => {
      try {
        onProgress(this.state());
      } catch {
        // a progress callback must not break the simulation
      }
    };
    try {
      await m.checkMemoryPressure();
      s.before = this._figures();
      s.startStatus = s.before.status;
      s.peakStatus = s.before.status;
      this._note(s.before);
      s.phase = 'allocating';
      progress();
      const totalMb = Math.ceil(mb);
      const steps = Math.max(10, Math.min(50, totalMb));
      let done = 0;
      for (let i = 1; i <= steps; i++) {
        const upTo = Math.round((totalMb * i) / steps);
        for (; done < upTo; done++) {
          const chunk = new Array(DOUBLES_PER_MB);
          for (let j = 0; j < DOUBLES_PER_MB; j++) chunk[j] = j + 0.5;
          this.chunks.push(chunk);
        }
        s.allocatedBytes = Math.min(s.targetBytes, done * MB);
        await this._sample();
        progress();
        await sleep(stepMs);
      }
      s.phase = 'holding';
      progress();
      const holdUntil = Date.now() + holdMs;
      while (Date.now() < holdUntil) {
        await sleep(Math.min(stepMs * 2, Math.max(1, holdUntil - Date.now())));
        await this._sample();
        progress();
      }
      s.phase = 'releasing';
      this.chunks = [];
      s.allocatedBytes = 0;
      if (m.getHealthMetrics().gcAvailable) await m.forceGarbageCollection('simulation_release');
      s.phase = 'recovering';
      progress();
      const recoverUntil = Date.now() + recoverMs;
      let f = await this._sample();
      while (LEVELS[f.status] > LEVELS[s.startStatus] && Date.now() < recoverUntil) {
        await sleep(200);
        f = await this._sample();
        progress();
      }
      s.after = f;
      s.recovered = LEVELS[f.status] <= LEVELS[s.startStatus];
      s.phase = 'done';
    } catch (err) {
      this.chunks = [];
      s.phase = 'failed';
      s.error = String((err && err.message) || err);
    } finally {
      for (const [k, f] of Object.entries(listeners)) m.off(k, f);
      s.finishedAt = Date.now();
      progress();
    }
    return this.state();
  }
}

/** Runs a simulation to the end; resolves to its final state. Rejects for a bad size or while another runs. */
async function simulateMemoryPressure(manager, mb, options = {}) {
  const request = checkRequest(manager, { ...options, mb, onProgress: undefined });
  const running = simulations.get(manager);
  if (running && running.s.finishedAt === null) {
    const err = new Error('memwarden: a memory pressure simulation is already running');
    err.code = 'ERR_MEMWARDEN_SIMULATION_RUNNING';
    throw err;
  }
  const sim = new Simulation(manager, request);
  simulations.set(manager, sim);
  return sim.run(options.onProgress);
}

/**
 * For POST /api/memory/simulate: validates the body, starts the simulation in the
 * background and returns its first state at once (GET /api/memory/live shows progress).
 */
function startSimulation(manager, body) {
  const off = simulationRefusal();
  if (off !== null) return { started: false, reason: `this server runs ${off.replace('nothing: ', '')}`, simulation: null };
  const running = simulations.get(manager);
  if (running && running.s.finishedAt === null) return { started: false, reason: 'a simulation is already running', simulation: running.state() };
  const p = requestProblem(manager, { mb: 100, ...body });
  if (p !== null) return { started: false, reason: `${p.name}=${p.value} is invalid; accepted: ${p.accepted}`, simulation: null };
  const sim = new Simulation(manager, checkRequest(manager, { mb: 100, ...body }));
  simulations.set(manager, sim);
  sim.run().catch(() => {});
  return { started: true, simulation: sim.state() };
}

/** The latest simulation's state, or null. */
function simulationState(manager) {
  const sim = simulations.get(manager);
  return sim ? sim.state() : null;
}

module.exports = { simulateMemoryPressure, startSimulation, simulationState, simulateFields, checkRequest, requestProblem, roomMb, SETTINGS };

'use strict';
// The planned restart (opt-in): when a confirmed leak's time to the limit falls under
// `beforeLimitMs`, stop accepting connections on the HTTP servers handling requests,
// let in-flight requests finish within `drainMs`, emit 'restart' and exit with
// `exitCode` (75, EX_TEMPFAIL: "try again"), so the platform starts a clean instance
// instead of the kernel or V8 killing this one mid-request.
//
// Servers are found through Node's 'http.server.request.start' diagnostics channel
// (subscribed only while the restart is enabled): every Node http/https server that has
// handled a request, Express or not.
const dc = require('node:diagnostics_channel');

const ENV = 'MEMORY_RESTART_BEFORE_LIMIT';
const EXIT_CODE = 75;
const DEFAULTS = Object.freeze({ beforeLimitMs: null, drainMs: 10_000, exitCode: EXIT_CODE });

/**
 * Validates `onLeak` ({ restart: { beforeLimitMs, drainMs, exitCode } }) and
 * MEMORY_RESTART_BEFORE_LIMIT (ms). Returns { settings, problems }; settings.beforeLimitMs
 * null means off.
 */
function resolveRestartSettings(onLeak, env = process.env) {
  const problems = [];
  const bad = (setting, v, accepted) => problems.push({ setting, value: String(v), accepted, message: `${setting}=${String(v)} is not accepted; accepted: ${accepted}` });
  const settings = { ...DEFAULTS };
  const range = { beforeLimitMs: [1_000, 86_400_000], drainMs: [0, 600_000], exitCode: [1, 125] };
  const int = (name, setting, v) => {
    const [min, max] = range[name];
    if (Number.isInteger(v) && v >= min && v <= max) settings[name] = v;
    else bad(setting, v, `a whole number from ${min} to ${max}`);
  };
  const fromEnv = env[ENV];
  if (typeof fromEnv === 'string' && fromEnv !== '') {
    if (/^\d+$/.test(fromEnv)) int('beforeLimitMs', ENV, Number(fromEnv));
    else bad(ENV, fromEnv, `a whole number of ms from ${range.beforeLimitMs[0]} to ${range.beforeLimitMs[1]}`);
  }
  if (onLeak === undefined) return { settings, problems };
  if (onLeak === null || typeof onLeak !== 'object' || Array.isArray(onLeak)) {
    bad('onLeak', onLeak, 'an object { restart: { beforeLimitMs, drainMs, exitCode } }');
    return { settings, problems };
  }
  for (const [k, v] of Object.entries(onLeak)) {
    if (v === undefined) continue;
    if (k !== 'restart') {
      bad(`onLeak.${k}`, v, 'the field restart');
      continue;
    }
    if (v === false) {
      settings.beforeLimitMs = null;
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      bad('onLeak.restart', v, 'false or an object { beforeLimitMs, drainMs, exitCode }');
      continue;
    }
    for (const [f, x] of Object.entries(v)) {
      if (x === undefined) continue;
      if (range[f]) int(f, `onLeak.restart.${f}`, x);
      else bad(`onLeak.restart.${f}`, x, 'one of the fields beforeLimitMs, drainMs, exitCode');
    }
  }
  return { settings, problems };
}

/**
 * The decision, pure: restart when a leak is flagged and the sooner limit's central
 * estimate is under `beforeLimitMs`. Returns null or { limit, msToLimit }.
 */
function restartDue(report, beforeLimitMs) {
  if (beforeLimitMs === null || !report || !report.leakSuspected || !report.timeToLimit) return null;
  let best = null;
  for (const limit of ['heap', 'resident']) {
    const e = report.timeToLimit[limit];
    if (e && Number.isFinite(e.minutes) && (best === null || e.minutes * 60_000 < best.msToLimit)) best = { limit, msToLimit: e.minutes * 60_000 };
  }
  return best !== null && best.msToLimit < beforeLimitMs ? best : null;
}

/**
 * Attaches the planned restart to `manager` (its 'leak'/'leakResolved' events and
 * getLeakDetection()), when enabled; `emit(type, payload)` emits on the manager, `exit`
 * is injectable for tests. Returns { detach(), servers }.
 */
function attachPlannedRestart(manager, settings, { emit, exit = (code) => process.exit(code), intervalMs = 1000 }) {
  if (settings.beforeLimitMs === null) return { detach() {}, servers: new Set() };
  const servers = new Set();
  const onRequest = ({ server }) => {
    if (server && !servers.has(server)) {
      servers.add(server);
      server.once('close', () => servers.delete(server));
    }
  };
  dc.subscribe('http.server.request.start', onRequest);
  let timer = null;
  let restarting = false;
  const check = () => {
    if (restarting) return;
    let report;
    try {
      report = manager.getLeakDetection();
    } catch {
      return; // shut down meanwhile
    }
    const due = restartDue(report, settings.beforeLimitMs);
    if (due) restart(due, report);
  };
  const restart = (due, report) => {
    restarting = true;
    clearInterval(timer);
    const startedAt = Date.now();
    const event = {
      type: 'restart',
      reason: `memory leak: ${due.limit === 'heap' ? 'V8 heap' : 'resident memory'} limit in about ${(due.msToLimit / 1000).toFixed(0)} s (under ${settings.beforeLimitMs} ms)`,
      limit: due.limit,
      msToLimit: due.msToLimit,
      beforeLimitMs: settings.beforeLimitMs,
      drainMs: settings.drainMs,
      exitCode: settings.exitCode,
      servers: servers.size,
      signal: report.signal,
      timestamp: startedAt,
    };
    emit('restart', event);
    let open = servers.size;
    let exited = false;
    const finish = () => {
      if (exited) return;
      exited = true;
      exit(settings.exitCode);
    };
    // Past the deadline, connections still open are cut and the process exits anyway.
    const deadline = setTimeout(() => {
      for (const s of servers) if (typeof s.closeAllConnections === 'function') s.closeAllConnections();
      finish();
    }, settings.drainMs);
    deadline.unref();
    if (open === 0) return setImmediate(finish);
    for (const s of servers) {
      // No new connections; idle keep-alive connections go now, busy ones after their response.
      s.close(() => {
        open--;
        if (open === 0) {
          clearTimeout(deadline);
          finish();
        }
      });
      if (typeof s.closeIdleConnections === 'function') s.closeIdleConnections();
    }
    return undefined;
  };
  const onLeak = () => {
    if (timer === null && !restarting) {
      timer = setInterval(check, intervalMs);
      timer.unref();
      check();
    }
  };
  const onResolved = () => {
    clearInterval(timer);
    timer = null;
  };
  manager.on('leak', onLeak);
  manager.on('leakResolved', onResolved);
  return {
    servers,
    detach() {
      clearInterval(timer);
      timer = null;
      manager.off('leak', onLeak);
      manager.off('leakResolved', onResolved);
      dc.unsubscribe('http.server.request.start', onRequest);
    },
  };
}

module.exports = { resolveRestartSettings, restartDue, attachPlannedRestart, ENV, EXIT_CODE };

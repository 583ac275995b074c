'use strict';
// The settings of initialize(), checked all at once: the addon's (thresholds,
// interval, limit, ...) through native.resolveConfig, and the JS layer's (logger,
// alert webhook, cleanup, attribution, planned restart). Pure but for process.cwd() (the
// default root attribution paths are shown relative to): reads only the `env` it is given.
const native = require('../native');
const { resolveCleanupSettings } = require('../cleanup');
const { resolveAlertSettings } = require('../alerts');
const { resolveAutoAttribution } = require('../attribution');
const { resolveRestartSettings } = require('../restart');

const ENV_NAMES = native.envVariableNames();

function pickEnv(env) {
  const out = {};
  for (const name of ENV_NAMES) {
    const v = env[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

// Options handled in JS; everything else is validated by the addon.
const JS_OPTIONS = [
  'logger',
  // Express integration (validated in lib/alerts.js and lib/cleanup.js):
  'alertWebhookUrl',
  'alertWebhookTimeoutMs',
  'alertWebhookQueueSize',
  'proactiveCleanup',
  'cleanupCooldownMs',
  // Leak-site attribution (lib/attribution.js):
  'leakAttribution',
  // The planned restart (lib/restart.js):
  'onLeak',
];

/** A problem for a bad `logger` option, or null. */
function loggerProblem(logger) {
  if (logger === undefined) return null;
  const ok = logger && typeof logger === 'object' && ['warn', 'error', 'info'].every((m) => typeof logger[m] === 'function');
  if (ok) return null;
  return {
    setting: 'logger',
    value: String(logger),
    accepted: 'an object with info, warn and error methods (console, pino, winston)',
    message: `logger=${String(logger)} is not a logger; accepted: an object with info, warn and error methods (console, pino, winston)`,
  };
}

/** Only defined options are settings; `undefined` fields are dropped. Null if not an object. */
function cleanOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) return null;
  const out = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Every setting of initialize(), checked at once: the addon's (thresholds, interval,
 * limit, ...) and the JS layer's (logger, alert webhook, cleanup, attribution).
 * Returns { ok, problems } or { ok, config, limit, nativeOptions, env, js }.
 */
function validateOptions(options, processEnv) {
  const all = cleanOptions(options);
  if (all === null) {
    const v = unrepresentable(options) || String(options);
    return {
      ok: false,
      problems: [{ setting: 'options', value: v, accepted: 'an object of settings', message: `options=${v} is not an object; accepted: an object of settings` }],
    };
  }
  const nativeOptions = {};
  for (const [k, v] of Object.entries(all)) if (!JS_OPTIONS.includes(k)) nativeOptions[k] = v;
  const env = pickEnv(processEnv);
  const resolved = resolveSettings(nativeOptions, env);
  const alerting = resolveAlertSettings(all, processEnv);
  const cleaning = resolveCleanupSettings(all);
  const problems = [...alerting.problems, ...cleaning.problems];
  const logger = loggerProblem(all.logger);
  if (logger) problems.push(logger);
  const attribution = resolveAutoAttribution(all.leakAttribution, processEnv);
  problems.push(...attribution.problems);
  const restart = resolveRestartSettings(all.onLeak, processEnv);
  problems.push(...restart.problems);
  if (!resolved.ok) problems.push(...resolved.problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: resolved.config,
    limit: resolved.limit,
    nativeOptions,
    env,
    js: {
      logger: all.logger || console,
      alerting: alerting.settings,
      cleaning: cleaning.settings,
      autoAttribution: attribution.settings,
      restart: restart.settings,
    },
  };
}

// Values the addon's JSON conversion cannot carry (NaN, ±Infinity, functions,
// symbols, bigints, also nested) made it throw a bare napi error ("Failed to convert
// js number to serde_json::Number", code InvalidArg) that names no setting. Such a
// value is sent to the validator as a stand-in string no setting accepts, and the
// problem it raises is reworded with a description of the real value.
const STAND_IN = '\u0000memwarden-unrepresentable';

function unrepresentable(value, depth = 0) {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? null : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'object':
      if (value === null || depth > 8) return null;
      for (const v of Object.values(value)) {
        if (unrepresentable(v, depth + 1) !== null) return Array.isArray(value) ? '[array]' : '[object]';
      }
      return null;
    default:
      return null;
  }
}

/**
 * native.resolveConfig for any JS value: never throws for a value the addon cannot
 * convert, but reports it as a problem of the option (or of `options`).
 */
function resolveSettings(options, env) {
  const whole = options === null || typeof options !== 'object' || Array.isArray(options);
  const top = whole ? unrepresentable(options) : null;
  if (top !== null) {
    return {
      ok: false,
      problems: [
        {
          setting: 'options',
          value: top,
          accepted: 'an object',
          message: `options=${top} is not an object; accepted: an object of settings`,
        },
      ],
    };
  }
  if (whole) return native.resolveConfig(options, env);
  const replaced = new Map();
  const safe = {};
  for (const [k, v] of Object.entries(options)) {
    const shown = unrepresentable(v);
    if (shown === null) {
      safe[k] = v;
    } else {
      replaced.set(k, shown);
      safe[k] = STAND_IN;
    }
  }
  const resolved = native.resolveConfig(safe, env);
  if (resolved.ok || replaced.size === 0) return resolved;
  resolved.problems = resolved.problems.map((p) => {
    if (!replaced.has(p.setting)) return p;
    const shown = replaced.get(p.setting);
    return { ...p, value: shown, message: p.message.split(p.value).join(shown) };
  });
  return resolved;
}

module.exports = { validateOptions, JS_OPTIONS };

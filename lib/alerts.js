'use strict';
// Alert delivery: listens to the manager's 'alert' and 'alertResolved' events (the
// engine raises, deduplicates and resolves alerts) and delivers each one to the
// logger (warn for warning, error for critical and emergency, info when resolved)
// and, when configured, to a webhook. Delivery never throws into the app.
const os = require('node:os');
const { WebhookSender, webhookUrlProblem, redactUrlForError } = require('./webhook');
const { problem } = require('./options');

const WEBHOOK_ENV = 'MEMORY_ALERT_WEBHOOK_URL';
const DEFAULTS = Object.freeze({ alertWebhookTimeoutMs: 5000, alertWebhookQueueSize: 20 });

/**
 * Validates the alert options of initialize() ({ alertWebhookUrl,
 * alertWebhookTimeoutMs, alertWebhookQueueSize }) and MEMORY_ALERT_WEBHOOK_URL.
 * Returns { settings, problems }.
 */
function resolveAlertSettings(options, env) {
  const problems = [];
  let url = null;
  let urlSource = null;
  if (options.alertWebhookUrl !== undefined && options.alertWebhookUrl !== null && options.alertWebhookUrl !== '') {
    url = options.alertWebhookUrl;
    urlSource = 'alertWebhookUrl';
  } else if (typeof env[WEBHOOK_ENV] === 'string' && env[WEBHOOK_ENV] !== '') {
    url = env[WEBHOOK_ENV];
    urlSource = WEBHOOK_ENV;
  }
  if (url !== null) {
    const bad = webhookUrlProblem(url);
    if (bad) {
      problems.push(problem('', urlSource, redactUrlForError(url), bad)); // the path may be a secret
      url = null;
    }
  }
  const int = (name, min, max) => {
    const x = options[name];
    if (x === undefined) return DEFAULTS[name];
    if (Number.isInteger(x) && x >= min && x <= max) return x;
    problems.push(problem('', name, x, `a whole number from ${min} to ${max}`));
    return DEFAULTS[name];
  };
  const timeoutMs = int('alertWebhookTimeoutMs', 100, 120_000);
  const queueSize = int('alertWebhookQueueSize', 1, 1000);
  return { settings: { webhookUrl: url, webhookSource: urlSource, timeoutMs, queueSize }, problems };
}

function safeLog(logger, method, message) {
  try {
    logger[method](message);
  } catch (err) {
    process.emitWarning(`memwarden: the logger threw: ${err && err.message}`, 'MemwardenWarning');
  }
}

function describe(alert) {
  const a = alert && typeof alert === 'object' ? alert : {};
  return { id: a.id, type: String(a.type), level: String(a.level), message: String(a.message === undefined ? '' : a.message) };
}

/**
 * Attaches delivery to `manager`. Returns { detach(), stats(), webhook } where
 * stats() counts what was delivered.
 */
function attachAlertDelivery(manager, logger, settings) {
  const counts = { alerts: 0, resolved: 0 };
  const webhook = settings.webhookUrl
    ? new WebhookSender(settings.webhookUrl, {
        timeoutMs: settings.timeoutMs,
        queueSize: settings.queueSize,
        onFailure: (message) => safeLog(logger, 'warn', `memwarden: alert webhook delivery failed: ${message}`),
      })
    : null;
  const host = os.hostname();

  const post = (event, alert) => {
    if (webhook === null) return;
    const d = describe(alert);
    webhook.send({
      source: 'memwarden',
      event,
      host,
      pid: process.pid,
      text: event === 'alert' ? `[${d.level}] ${d.type}: ${d.message}` : `[resolved] ${d.type}: ${d.message}`,
      alert,
    });
  };

  const onAlert = (alert) => {
    counts.alerts++;
    const d = describe(alert);
    safeLog(logger, d.level === 'warning' ? 'warn' : 'error', `memwarden: [${d.level}] ${d.type} alert: ${d.message}`);
    post('alert', alert);
  };
  const onResolved = (alert) => {
    counts.resolved++;
    const d = describe(alert);
    safeLog(logger, 'info', `memwarden: resolved ${d.type} alert (was ${d.level}): ${d.message}`);
    post('alertResolved', alert);
  };
  manager.on('alert', onAlert);
  manager.on('alertResolved', onResolved);

  return {
    webhook,
    detach() {
      manager.off('alert', onAlert);
      manager.off('alertResolved', onResolved);
      // Deliveries already queued still go out (their sockets do not hold the process).
    },
    stats() {
      return {
        delivered: { ...counts },
        logger: true,
        webhook: webhook ? { ...webhook.stats(), source: settings.webhookSource } : { configured: false },
      };
    },
  };
}

module.exports = { attachAlertDelivery, resolveAlertSettings, WEBHOOK_ENV };

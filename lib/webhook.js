'use strict';
// Alert delivery to a webhook: JSON POST, one request in flight, a small queue
// that drops its oldest entry when full, a timeout per request and no retries.
// Nothing here throws into the caller or leaves a rejected promise behind, and the
// sockets are unref'd (a pending delivery does not keep the process alive).
// http/https (and TLS) load only when a webhook is configured: requiring memwarden
// stays light.

/** Validates a webhook URL: `null` when fine, else what is accepted. */
function webhookUrlProblem(value) {
  if (typeof value !== 'string' || value.length === 0) return 'an http:// or https:// URL';
  let url;
  try {
    url = new URL(value);
  } catch {
    return 'an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `an http:// or https:// URL (not ${url.protocol})`;
  return null;
}

/** The URL without path, query or credentials: safe to show in metrics and logs. */
function redactUrl(value) {
  try {
    return new URL(value).origin;
  } catch {
    return '(invalid)';
  }
}

/**
 * A webhook URL shown in a configuration error: scheme and host only, with path, query
 * and credentials replaced by '/…' (Slack-style hook paths are secrets). A value that
 * is not a URL shows only a leading host name ('hooks.example.com/…'), or nothing but
 * its length.
 */
function redactUrlForError(value) {
  if (typeof value !== 'string') return value;
  try {
    const u = new URL(value);
    const rest = (u.pathname && u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password;
    return `${u.protocol}${u.host ? `//${u.host}` : ''}${rest ? '/…' : ''}`;
  } catch {
    const text = value.trim();
    const head = text.split(/[/?#]/)[0];
    if (/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d{1,5})?$/.test(head)) return head === text ? head : `${head}/…`;
    return `(hidden, ${value.length} characters)`;
  }
}

class WebhookSender {
  /**
   * @param {string} url        http(s) URL (validated by the caller)
   * @param {object} [o]
   * @param {number} [o.timeoutMs=5000]  per request, connection to response end
   * @param {number} [o.queueSize=20]    payloads waiting while one is in flight
   * @param {(message: string) => void} [o.onFailure] told of failures (at most one per failureLogIntervalMs)
   * @param {number} [o.failureLogIntervalMs=60000]
   */
  constructor(url, { timeoutMs = 5000, queueSize = 20, onFailure = () => {}, failureLogIntervalMs = 60_000 } = {}) {
    this.url = new URL(url);
    this.timeoutMs = timeoutMs;
    this.queueSize = queueSize;
    this.onFailure = onFailure;
    this.failureLogIntervalMs = failureLogIntervalMs;
    this.queue = [];
    this.inFlight = false;
    this.closed = false;
    this.sent = 0;
    this.failed = 0;
    this.dropped = 0;
    this.lastError = null;
    this.lastErrorAt = null;
    this.lastSuccessAt = null;
    this._lastFailureLog = -Infinity;
    this._idle = [];
  }

  /** Queues a JSON payload for delivery. Never throws. */
  send(payload) {
    if (this.closed) return;
    let body;
    try {
      body = JSON.stringify(payload);
    } catch (err) {
      this._failure(`payload is not serializable: ${err && err.message}`);
      return;
    }
    this.queue.push(body);
    while (this.queue.length > this.queueSize) {
      this.queue.shift();
      this.dropped++;
    }
    this._pump();
  }

  /** Resolves once nothing is queued or in flight (for tests and graceful shutdown). */
  idle() {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this._idle.push(resolve));
  }

  /** Stops accepting payloads; queued ones are dropped (counted), one in flight finishes. */
  close() {
    this.closed = true;
    this.dropped += this.queue.length;
    this.queue.length = 0;
    this._settleIdle();
  }

  stats() {
    return {
      configured: true,
      target: this.url.origin,
      timeoutMs: this.timeoutMs,
      queueSize: this.queueSize,
      sent: this.sent,
      failed: this.failed,
      dropped: this.dropped,
      queued: this.queue.length,
      inFlight: this.inFlight,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      lastSuccessAt: this.lastSuccessAt,
    };
  }

  _settleIdle() {
    if (this.inFlight || this.queue.length > 0) return;
    const waiting = this._idle;
    this._idle = [];
    for (const resolve of waiting) resolve();
  }

  _failure(message) {
    this.failed++;
    this.lastError = message;
    this.lastErrorAt = Date.now();
    const now = Date.now();
    if (now - this._lastFailureLog >= this.failureLogIntervalMs) {
      this._lastFailureLog = now;
      try {
        this.onFailure(message);
      } catch {
        // a throwing logger must not break delivery
      }
    }
  }

  _pump() {
    if (this.inFlight || this.queue.length === 0) return this._settleIdle();
    const body = this.queue.shift();
    this.inFlight = true;
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) this._failure(error);
      else {
        this.sent++;
        this.lastSuccessAt = Date.now();
      }
      this.inFlight = false;
      // Next one on a later turn: a synchronous failure cannot recurse.
      setImmediate(() => this._pump()).unref();
    };
    let req;
    const timer = setTimeout(() => {
      finish(`timed out after ${this.timeoutMs} ms`);
      if (req) req.destroy();
    }, this.timeoutMs);
    timer.unref();
    try {
      const client = this.url.protocol === 'https:' ? require('node:https') : require('node:http');
      req = client.request(this.url, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'memwarden-alerts',
          connection: 'close',
        },
      });
      req.on('socket', (socket) => socket.unref());
      req.on('error', (err) => finish(`request failed: ${err && (err.code || err.message)}`));
      req.on('response', (res) => {
        res.on('error', () => {});
        res.resume();
        res.on('end', () => {
          if (res.statusCode >= 200 && res.statusCode < 300) finish(null);
          else finish(`the webhook answered HTTP ${res.statusCode}`);
        });
      });
      req.end(body);
    } catch (err) {
      finish(`request failed: ${err && err.message}`);
    }
    return undefined;
  }
}

module.exports = { WebhookSender, webhookUrlProblem, redactUrl, redactUrlForError };

'use strict';
// Where the CLI's figures come from: this Node process's own manager (in-process), or a
// running server's /api/memory endpoints (--url or MEMORY_API_URL, with the admin token
// from MEMORY_ADMIN_TOKEN). Both give the same shapes, so every command has one code path.
const { liveData } = require('./live');
const { generateMemoryReport, assembleReport } = require('./report');
const { simulateMemoryPressure } = require('./simulate');

/** A failure the CLI prints as one line (no stack). */
class SourceError extends Error {
  constructor(message, { status = null, code = null, retryAfterSeconds = null } = {}) {
    super(message);
    this.name = 'SourceError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

class LocalSource {
  constructor(manager) {
    this.manager = manager;
    this.kind = 'in-process';
  }

  get where() {
    return `in-process: this command's own Node process (pid ${process.pid}); use --url or MEMORY_API_URL for a running server`;
  }

  get short() {
    return `in-process, pid ${process.pid}`;
  }

  async live(since = null) {
    return liveData(this.manager, since);
  }

  async gc(reason = 'cli') {
    return this.manager.forceGarbageCollection(reason);
  }

  async cleanup(reason = 'cli') {
    return { actions: await this.manager.performEmergencyCleanup({ force: true, reason }) };
  }

  async leak() {
    return this.manager.getLeakDetection();
  }

  async health() {
    return this.manager.getHealthMetrics();
  }

  async report() {
    return generateMemoryReport(this.manager);
  }

  async simulate(mb, options = {}) {
    return simulateMemoryPressure(this.manager, mb, options);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class RemoteSource {
  /** `url`: the server's memwarden base (…/api/memory); a bare origin gets /api/memory. */
  constructor(url, token, { fetchImpl = globalThis.fetch, timeoutMs = 10_000 } = {}) {
    this.base = RemoteSource.normalize(url);
    this.token = token || null;
    this.fetch = fetchImpl;
    this.timeoutMs = timeoutMs;
    this.kind = 'server';
  }

  /** The base URL, or throws a SourceError naming the bad value. */
  static normalize(url) {
    let u;
    try {
      u = new URL(url);
    } catch {
      throw new SourceError(`--url / MEMORY_API_URL=${JSON.stringify(url)} is not a URL; accepted: http(s)://host:port[/api/memory]`, { code: 'ERR_USAGE' });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new SourceError(`--url / MEMORY_API_URL=${JSON.stringify(url)} is not http(s); accepted: http(s)://host:port[/api/memory]`, { code: 'ERR_USAGE' });
    }
    let p = u.pathname.replace(/\/+$/, '');
    if (p === '') p = '/api/memory';
    return `${u.origin}${p}`;
  }

  get where() {
    return `server: ${this.base}${this.token ? ' (admin token from MEMORY_ADMIN_TOKEN)' : ''}`;
  }

  get short() {
    return this.base;
  }

  async request(method, route, body) {
    const headers = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const url = `${this.base}/${route}`;
    let res;
    try {
      res = await this.fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err && err.cause && (err.cause.code || err.cause.message)) || (err && err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : err && err.message);
      throw new SourceError(`cannot reach the server at ${this.base} (${cause}); is it running? (--url / MEMORY_API_URL)`, { code: 'ERR_UNREACHABLE' });
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = json && json.error;
      let hint = '';
      if ((res.status === 401 || res.status === 403) && !this.token) hint = '; set MEMORY_ADMIN_TOKEN to the server\'s admin token';
      if (res.status === 404 && !e) hint = '; is this a memwarden router? (--url should point at .../api/memory)';
      throw new SourceError(`${method} ${url} answered ${res.status}${e ? ` ${e.code}: ${e.message}` : ''}${hint}`, {
        status: res.status,
        code: e ? e.code : null,
        retryAfterSeconds: e && e.retryAfterSeconds ? e.retryAfterSeconds : Number(res.headers.get('retry-after')) || null,
      });
    }
    if (json === null) throw new SourceError(`${method} ${url} did not answer JSON (is --url the memwarden router, e.g. http://host:port/api/memory?)`);
    return json;
  }

  /** An admin POST; waits out one rate-limit refusal (at most `maxWaitS` seconds). */
  async admin(route, body, { maxWaitS = 15, onWait = () => {} } = {}) {
    try {
      return await this.request('POST', route, body);
    } catch (err) {
      if (err.status !== 429 || !(err.retryAfterSeconds <= maxWaitS)) throw err;
      onWait(err.retryAfterSeconds);
      await sleep(err.retryAfterSeconds * 1000 + 100);
      return this.request('POST', route, body);
    }
  }

  async live(since = null) {
    return this.request('GET', `live${since === null ? '' : `?since=${since}`}`);
  }

  async gc(reason = 'cli', opts) {
    return this.admin('gc', { reason }, opts);
  }

  async cleanup(reason = 'cli', opts) {
    return this.admin('emergency-cleanup', { reason, force: true }, opts);
  }

  async leak() {
    return this.request('GET', 'leak-detection');
  }

  async health() {
    return this.request('GET', 'health');
  }

  async report() {
    const [health, leak, metrics, live] = await Promise.all([this.health(), this.leak(), this.request('GET', 'metrics'), this.live()]);
    return assembleReport({
      source: { kind: 'server', url: this.base },
      health,
      leak,
      samples: live.samples,
      gc: live.gc,
      intervalMs: live.intervalMs,
      requests: metrics.requests && metrics.requests.routes ? metrics.requests : null,
      alerts: metrics.alerts,
      cleanup: metrics.cleanup,
    });
  }

  /** Starts POST /simulate and follows GET /live until it ends; resolves to the final state. */
  async simulate(mb, { holdMs, onProgress = () => {}, onWait } = {}) {
    const body = { mb };
    if (holdMs !== undefined) body.holdMs = holdMs;
    const started = await this.admin('simulate', body, { onWait });
    if (!started.started) throw new SourceError(`the server did not start the simulation: ${started.reason}`);
    const id = started.simulation.id;
    for (;;) {
      await sleep(250);
      const d = await this.live(Date.now());
      const s = d.simulation;
      if (!s || s.id !== id) throw new SourceError('the server lost track of the simulation (another one started?)');
      onProgress(s);
      if (s.finishedAt !== null) return s;
    }
  }
}

module.exports = { LocalSource, RemoteSource, SourceError };

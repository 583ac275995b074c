'use strict';
// Helpers for the Prometheus specs: long-running fixture processes that print their
// port, a real Prometheus server (Debian's `prometheus` binary, run directly with its
// own config and a temporary storage directory on 127.0.0.1), its HTTP API, and
// promtool.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { childEnv } = require('./child');

const RESULT_MARKER = '@@memwarden-result ';

/** Spawns `node args` and resolves with { child, result, output() } once it prints its result line. */
function startFixture(args, { env = {}, timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const output = () => `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture ${args.join(' ')} printed no result in ${timeoutMs} ms\n${output()}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (line && timer) {
        clearTimeout(timer);
        resolve({ child, result: JSON.parse(line.slice(RESULT_MARKER.length)), output });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`fixture ${args.join(' ')} exited (code ${code}, signal ${signal}) before printing a result\n${output()}`));
    });
  });
}

/** Stops a child and waits for it to exit. */
function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port free on 127.0.0.1 right now (for programs that cannot listen on port 0 and report it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Runs promtool with `args` and `input` on stdin: { code, stdout, stderr }. */
function promtool(args, input) {
  return new Promise((resolve) => {
    const p = execFile(which('promtool') || 'promtool', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

/** GET a URL; resolves { status, headers, text }. */
async function get(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Starts Prometheus with `config` (YAML text) on 127.0.0.1, a free port, storage in
 * a temp dir. Resolves { url, query(expr), api(path), stop(), logs() } when ready.
 */
async function startPrometheus(config) {
  const bin = which('prometheus');
  if (!bin) throw new Error('the prometheus binary is not installed (apt-get install -y prometheus; .ci/run installs it)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, config);
  let lastError = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      bin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let logs = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (logs += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await fetch(`${url}/-/ready`)).status === 200) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (ready) {
      const api = async (p) => {
        const res = await get(`${url}${p}`);
        const body = JSON.parse(res.text);
        if (body.status !== 'success') throw new Error(`Prometheus ${p}: ${res.text}`);
        return body.data;
      };
      return {
        url,
        api,
        query: (expr) => api(`/api/v1/query?query=${encodeURIComponent(expr)}`),
        logs: () => logs,
        async stop() {
          await stop(child);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = new Error(`Prometheus did not become ready on ${url}:\n${logs}`);
    await stop(child);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
async function waitFor(fn, { timeoutMs = 30_000, everyMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last || Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

module.exports = { startFixture, stop, freePort, which, promtool, get, startPrometheus, waitFor };

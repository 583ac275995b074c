'use strict';
// Starts examples/demo.js as a real server on 127.0.0.1 with an ephemeral port (PORT=0)
// and reads the URL it prints. Used by the CLI, tmux and browser specs.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { ROOT, childEnv } = require('./child');

const TOKEN = 'devtools-test-token-0123456789abcdef';

/**
 * Resolves to { base, api, child, output(), stop() } once the demo printed its URL.
 * `token: null` starts it without MEMORY_ADMIN_TOKEN (local development with NODE_ENV=development
 * in `env`; elsewhere the demo makes a token and prints it).
 */
function startDemo({ env = {}, token = TOKEN, timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(ROOT, 'examples', 'demo.js')], {
      cwd: ROOT,
      env: childEnv({ PORT: '0', HOST: '127.0.0.1', ...(token === null ? {} : { MEMORY_ADMIN_TOKEN: token }), ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`the demo printed no URL within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const stop = () =>
      new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    function finish(err, value) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(value);
    }
    const onData = (d) => {
      out += d;
      // Ready once the whole banner is out (its last line is the admin rule).
      const m = /memwarden demo on (http:\/\/127\.0\.0\.1:\d+\/)[^]*\n {2}admin .*\n/.exec(out);
      if (m) finish(null, { base: m[1], api: `${m[1]}api/memory`, child, output: () => out, stop });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code, signal) => finish(new Error(`the demo exited (${code}, ${signal}) before printing its URL:\n${out}`)));
  });
}

module.exports = { startDemo, TOKEN };

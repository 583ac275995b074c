'use strict';
// The leak-app fixture (__test__/support/leak-app/app.js) in a child process: its JSON
// event lines as they arrive, its port, and a stop() that kills it.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { childEnv } = require('./child');

const APP_DIR = path.join(__dirname, 'leak-app');

/** Starts the app; resolves with { port, events, lines, waitFor(pred, ms), stop(), child, exited }. */
function startApp({ env = {}, nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, path.join(APP_DIR, 'app.js')], { cwd: APP_DIR, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const events = [];
  const waiters = [];
  let stderr = '';
  let buf = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  let onPort;
  const port = new Promise((resolve, reject) => {
    onPort = resolve;
    exited.then((e) => reject(new Error(`app exited before listening (${JSON.stringify(e)}): ${stderr}`)));
  });
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let o;
      try {
        o = JSON.parse(line);
      } catch {
        continue;
      }
      if (o.port) onPort(o.port);
      else {
        o.receivedAt = Date.now();
        events.push(o);
        for (const w of [...waiters]) if (w.pred(o)) w.resolve(o);
      }
    }
  });
  const api = {
    child,
    events,
    exited,
    stderr: () => stderr,
    /** Resolves with the first event matching `pred` (also one already seen), or null after `ms`. */
    waitFor(pred, ms) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const w = { pred, resolve: (o) => (clearTimeout(timer), waiters.splice(waiters.indexOf(w), 1), resolve(o)) };
        const timer = setTimeout(() => (waiters.splice(waiters.indexOf(w), 1), resolve(null)), ms);
        waiters.push(w);
      });
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
  return port.then((p) => Object.assign(api, { port: p }));
}

module.exports = { startApp, APP_DIR };

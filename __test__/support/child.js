'use strict';
// Helpers for the specs: run child Node processes with a clean memwarden
// environment, read the JSON result a fixture prints, count sampler threads, and
// poll with a deadline instead of sleeping.
//
// This directory holds no *.test.js files, so `node --test __test__/` does not
// run anything here directly.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SUPPORT = __dirname;
const MiB = 1024 * 1024;
const RESULT_MARKER = '@@memwarden-result ';

// Every variable the addon reads (MEMORY_*, PROACTIVE_GC_ENABLED, RENDER, NODE_ENV, ...).
const MEMWARDEN_ENV = require(path.join(ROOT, 'binding.js')).envVariableNames();

/**
 * The test runner's environment without anything memwarden reads, without
 * NODE_OPTIONS (it could carry --expose-gc) and without the runner's own
 * NODE_TEST_CONTEXT, plus `extra`.
 */
function childEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of MEMWARDEN_ENV) delete env[name];
  // Read by the JS layer, not the addon.
  delete env.MEMORY_ALERT_WEBHOOK_URL;
  delete env.MEMORY_ADMIN_TOKEN;
  delete env.MEMORY_APP_ROOT;
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return { ...env, ...extra };
}

/**
 * Runs `node ...args`. Resolves (never rejects) with
 * { code, signal, stdout, stderr, durationMs, timedOut }. durationMs is the wall
 * time from spawn to exit. A child still running after `timeoutMs` is killed
 * and reported with timedOut: true, so a hang fails the test instead of the suite.
 */
function runNode(args, { env = {}, timeoutMs = 30_000, cwd = ROOT } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let durationMs = null;
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', () => {
      durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs, timedOut });
    });
  });
}

/** The JSON a fixture printed with emitResult(); throws with the child's output if there is none. */
function resultOf(run) {
  const line = run.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARKER));
  if (!line) {
    throw new Error(
      `child printed no result (code ${run.code}, signal ${run.signal}, timedOut ${run.timedOut})\n` +
        `--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`,
    );
  }
  return JSON.parse(line.slice(RESULT_MARKER.length));
}

/** For fixtures: prints the result line the parent reads with resultOf(). */
/** Runs a fixture's async main(); an error is printed and fails the process (exit code 1, or exit(1) at once with `exit`). */
function runMain(main, { exit = false } = {}) {
  main().catch((err) => {
    console.error(err);
    if (exit) process.exit(1);
    else process.exitCode = 1;
  });
}

function emitResult(value) {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(value)}\n`);
}

/** Describes a run for assertion messages. */
function describeRun(run) {
  return `code=${run.code} signal=${run.signal} timedOut=${run.timedOut} durationMs=${run.durationMs}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}

// The addon names its sampler thread "memwarden" (Linux keeps at most 15 bytes of a
// thread name, so the name is short enough to read back whole from
// /proc/<pid>/task/<tid>/comm).
const SAMPLER_THREAD_NAME = 'memwarden';
const SAMPLER_COMM = SAMPLER_THREAD_NAME;
const canCountThreads = process.platform === 'linux' && fs.existsSync('/proc/self/task');

/** Threads of this process whose name is memwarden's sampler thread. */
function countSamplerThreads() {
  let n = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let comm;
    try {
      comm = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended while we listed them
    }
    if (comm === SAMPLER_THREAD_NAME || comm === SAMPLER_COMM) n++;
  }
  return n;
}

/**
 * Polls `check` (sync or async) every `everyMs` until it returns a truthy value,
 * which is returned; throws `what` once `timeoutMs` has passed.
 */
async function waitFor(check, { timeoutMs = 5_000, everyMs = 10, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

module.exports = {
  ROOT,
  SUPPORT,
  MiB,
  MEMWARDEN_ENV,
  childEnv,
  runNode,
  resultOf,
  emitResult,
  runMain,
  describeRun,
  SAMPLER_THREAD_NAME,
  SAMPLER_COMM,
  canCountThreads,
  countSamplerThreads,
  waitFor,
};

'use strict';
// Helpers shared by the benchmarks.
const path = require('node:path');

const native = require(path.join(__dirname, '..', 'lib', 'native'));

/** The middle value of `values` (the mean of the two middle ones for an even count). */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The environment for a benchmark's child process: this one's, without the
 * variables memwarden reads (except those named in `keep`) and without NODE_OPTIONS
 * (no preloads or flags from outside), plus `extra`.
 */
function childEnv(extra = {}, keep = new Set()) {
  const env = { ...process.env };
  for (const name of native.envVariableNames()) if (!keep.has(name)) delete env[name];
  delete env.NODE_OPTIONS;
  return { ...env, ...extra };
}

module.exports = { median, childEnv };

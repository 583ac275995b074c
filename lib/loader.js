'use strict';
// Loads the compiled addon through the loader napi-rs generates (binding.js), which
// tries ./memwarden.<platform>.node (a build from source) and then the optional
// dependency memwarden-<platform> (the prebuilt binary). Adds two things to it:
// - `nativeBinding`: which binary was loaded (platform, source, package, path);
// - when nothing loads, an error that names this platform, the supported ones and
//   what to do, instead of the generated loader's generic message.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const BINARY_NAME = 'memwarden';
const README_SECTION = 'README.md, "Install and platforms"';

const CPU = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm', riscv64gc: 'riscv64', loongarch64: 'loong64', powerpc64le: 'ppc64', s390x: 's390x' };
const OS = { linux: 'linux', darwin: 'darwin', windows: 'win32', freebsd: 'freebsd', android: 'android' };

/** napi-rs platform name of a Rust target triple: x86_64-unknown-linux-gnu -> linux-x64-gnu. */
function platformOfTriple(triple) {
  const parts = triple.split('-');
  const cpu = CPU[parts[0]] || parts[0];
  const os = parts.slice(1).map((p) => OS[p]).find(Boolean);
  if (!os) return triple;
  const abi = parts[parts.length - 1];
  return os === 'darwin' || OS[abi] ? `${os}-${cpu}` : `${os}-${cpu}-${abi}`;
}

/** The platforms a prebuilt package is published for: package.json `napi.targets`. */
function supportedPlatforms() {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    return ((pkg.napi && pkg.napi.targets) || []).map(platformOfTriple);
  } catch {
    return [];
  }
}

function isMusl() {
  try {
    const report = process.report && process.report.getReport();
    const header = report && (typeof report === 'string' ? JSON.parse(report) : report).header;
    return !(header && header.glibcVersionRuntime);
  } catch {
    return false;
  }
}

/** This process's platform in napi-rs terms: linux-x64-gnu, darwin-arm64, win32-x64-msvc. */
function currentPlatform({ platform = process.platform, arch = process.arch, musl } = {}) {
  if (platform === 'linux') {
    const libc = (musl === undefined ? isMusl() : musl) ? 'musl' : 'gnu';
    return `linux-${arch}-${libc}${arch === 'arm' ? 'eabihf' : ''}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** First lines of the messages in an error's `cause` chain (the loader's attempts). */
function attempts(error) {
  const lines = [];
  const seen = new Set();
  for (let e = error && error.cause; e && !seen.has(e) && lines.length < 10; e = e.cause) {
    seen.add(e);
    const line = String((e && e.message) || e).split('\n')[0];
    // No WASI build is published; its attempts would only mislead.
    if (!/wasi/i.test(line)) lines.push(line);
  }
  return lines.reverse();
}

/** The error thrown when no native binary loads. Pure: the tests pass every input. */
function nativeBindingError({ error, platform, supported, nodeVersion = process.version }) {
  const isSupported = supported.includes(platform);
  const lines = isSupported
    ? [
        `memwarden could not load its native binary for ${platform} (Node ${nodeVersion}).`,
        `The binary comes from the optional dependency ${BINARY_NAME}-${platform}. Usual causes: an install with --omit=optional`,
        'or --no-optional; node_modules or package-lock.json made on another platform (npm bug https://github.com/npm/cli/issues/4828:',
        'delete both and run npm install again); a binary that does not fit this system (see the attempts below).',
        'Reinstall, or build from source (' + README_SECTION + ').',
      ]
    : [
        `memwarden has no prebuilt native binary for this platform: ${platform} (Node ${nodeVersion}).`,
        'To use it here, build it from source with a Rust toolchain (' + README_SECTION + ').',
      ];
  lines.push(`Supported platforms: ${supported.join(', ') || '(none listed)'}.`);
  const tried = attempts(error);
  if (tried.length) lines.push('Attempts:', ...tried.map((l) => `  - ${l}`));
  const err = new Error(lines.join('\n'));
  err.name = 'MemwardenNativeBindingError';
  err.code = 'ERR_MEMWARDEN_NATIVE_BINDING';
  err.platform = platform;
  err.supportedPlatforms = supported;
  err.cause = error;
  return err;
}

/** Which file `binding` (the addon's exports) was loaded from, and how it was found. */
function describeBinding(binding) {
  let file = null;
  for (const m of Object.values(require.cache)) {
    if (m && m.exports === binding && typeof m.filename === 'string' && m.filename.endsWith('.node')) {
      file = m.filename;
      break;
    }
  }
  const info = { platform: null, source: null, packageName: null, packageVersion: null, path: file };
  if (file) {
    const m = /\.([^.\\/]+)\.node$/.exec(path.basename(file));
    info.platform = m ? m[1] : null;
    let pkg = null;
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'package.json'), 'utf8'));
    } catch {
      // no package.json beside the binary: not a platform package
    }
    if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
      info.source = 'override';
    } else if (pkg && pkg.name && pkg.name !== BINARY_NAME) {
      info.source = 'package';
      info.packageName = pkg.name;
      info.packageVersion = pkg.version || null;
    } else {
      info.source = 'local';
    }
  }
  return Object.freeze(info);
}

let binding;
try {
  binding = require('../binding.js');
} catch (error) {
  throw nativeBindingError({ error, platform: currentPlatform(), supported: supportedPlatforms() });
}

module.exports = {
  binding,
  nativeBinding: describeBinding(binding),
  supportedPlatforms,
  currentPlatform,
  platformOfTriple,
  nativeBindingError,
};

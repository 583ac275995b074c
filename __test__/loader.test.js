'use strict';
// lib/loader.js: which native binary was loaded (memwarden.nativeBinding), and the
// error when none loads: it names this platform, the supported ones and what to do.
// The failures are made in child processes: NAPI_RS_NATIVE_LIBRARY_PATH pointing at
// nothing (a supported platform whose binary is missing) and a process.platform the
// loader does not know (an unsupported platform).

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const loader = require('../lib/loader');

const ROOT = path.join(__dirname, '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const SUPPORTED = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'darwin-arm64', 'darwin-x64', 'win32-x64-msvc'];

/** Requires lib/loader.js in a child after `prelude`; returns the error it threw, as data. */
function loadInChild(prelude, env = {}) {
  const script = `${prelude};
    try { require(${JSON.stringify(path.join(ROOT, 'lib', 'loader.js'))}); console.log(JSON.stringify({ loaded: true })); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, platform: e.platform, supportedPlatforms: e.supportedPlatforms, hasCause: !!e.cause })); }`;
  const childEnv = { ...process.env, ...env };
  if (!env.NAPI_RS_NATIVE_LIBRARY_PATH) delete childEnv.NAPI_RS_NATIVE_LIBRARY_PATH;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: childEnv, timeout: 15_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('nativeBinding names the binary this process loaded', () => {
  const nb = require('..').nativeBinding;
  assert.equal(nb, loader.nativeBinding);
  assert.ok(Object.isFrozen(nb));
  assert.equal(nb.platform, loader.currentPlatform());
  assert.ok(fs.existsSync(nb.path), nb.path);
  assert.equal(path.basename(nb.path), `memwarden.${nb.platform}.node`);
  // From a clone the binary is the one `npm run build` put beside the loader; the
  // installed-package case (source 'package') is covered by npm run test:package.
  assert.equal(nb.source, process.env.NAPI_RS_NATIVE_LIBRARY_PATH ? 'override' : 'local');
  assert.equal(nb.packageName, null);
});

test('the supported platforms are napi.targets, named as the npm/ packages', () => {
  assert.deepEqual(loader.supportedPlatforms(), PKG.napi.targets.map(loader.platformOfTriple));
  assert.deepEqual([...loader.supportedPlatforms()].sort(), [...SUPPORTED].sort());
  assert.deepEqual(fs.readdirSync(path.join(ROOT, 'npm')).sort(), [...SUPPORTED].sort());
  assert.equal(loader.platformOfTriple('armv7-unknown-linux-gnueabihf'), 'linux-arm-gnueabihf');
  assert.equal(loader.platformOfTriple('x86_64-unknown-freebsd'), 'freebsd-x64');
});

test('currentPlatform() follows the napi-rs names', () => {
  const cp = loader.currentPlatform;
  assert.equal(cp({ platform: 'linux', arch: 'x64', musl: false }), 'linux-x64-gnu');
  assert.equal(cp({ platform: 'linux', arch: 'arm64', musl: true }), 'linux-arm64-musl');
  assert.equal(cp({ platform: 'linux', arch: 'arm', musl: false }), 'linux-arm-gnueabihf');
  assert.equal(cp({ platform: 'darwin', arch: 'arm64' }), 'darwin-arm64');
  assert.equal(cp({ platform: 'win32', arch: 'x64' }), 'win32-x64-msvc');
});

test('a supported platform whose binary is missing: the error names the package to reinstall', () => {
  const missing = path.join(ROOT, 'no-such-dir', 'memwarden.node');
  const r = loadInChild('', { NAPI_RS_NATIVE_LIBRARY_PATH: missing });
  const platform = loader.currentPlatform();
  assert.equal(r.code, 'ERR_MEMWARDEN_NATIVE_BINDING');
  assert.equal(r.name, 'MemwardenNativeBindingError');
  assert.equal(r.platform, platform);
  assert.deepEqual(r.supportedPlatforms, loader.supportedPlatforms());
  assert.ok(r.hasCause);
  assert.match(r.message, new RegExp(`could not load its native binary for ${platform}`));
  assert.match(r.message, new RegExp(`optional dependency memwarden-${platform}`));
  assert.match(r.message, /--omit=optional/);
  assert.match(r.message, new RegExp(`Supported platforms: ${SUPPORTED.join(', ')}\\.`));
  assert.ok(r.message.includes(missing), 'the attempt is listed');
});

test('an unsupported platform: the error lists the supported ones and says to build from source', () => {
  const r = loadInChild(`Object.defineProperty(process, 'platform', { value: 'aix' })`);
  assert.equal(r.code, 'ERR_MEMWARDEN_NATIVE_BINDING');
  assert.equal(r.platform, `aix-${process.arch}`);
  assert.match(r.message, new RegExp(`no prebuilt native binary for this platform: aix-${process.arch}`));
  assert.match(r.message, /build it from source with a Rust toolchain/);
  assert.match(r.message, new RegExp(`Supported platforms: ${SUPPORTED.join(', ')}\\.`));
  assert.match(r.message, /Unsupported OS: aix/);
  assert.doesNotMatch(r.message, /wasi/i);
});

test('nativeBindingError() without load attempts still names the platforms', () => {
  const e = loader.nativeBindingError({ error: new Error('x'), platform: 'sunos-x64', supported: ['linux-x64-gnu'], nodeVersion: 'v20.0.0' });
  assert.equal(e.message.split('\n')[0], 'memwarden has no prebuilt native binary for this platform: sunos-x64 (Node v20.0.0).');
  assert.match(e.message, /Supported platforms: linux-x64-gnu\./);
  assert.doesNotMatch(e.message, /Attempts/);
});

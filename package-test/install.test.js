'use strict';
// npm run test:package: what a user of the published package gets, on a host without Rust.
//
// 1. Builds the addon if it is missing or older than the Rust sources.
// 2. Stages a release as .github/workflows/release.yml does: `npm pack` of memwarden,
//    npm/<platform>/ with the binary copied in, and package.json's prepublishOnly script
//    (napi prepublish, which writes optionalDependencies, with --skip-optional-publish and
//    napi.targets narrowed to this host's; then the `prepare` script is dropped from the
//    published manifest). Packs both tarballs.
// 3. For the running Node and each of MEMWARDEN_PACKAGE_TEST_NODE (default 18,22,24: Node
//    binaries from the npm registry's node-<os>-<arch> packages, cached under
//    node_modules/.cache/), makes a fresh Express app that depends on the two tarballs,
//    installs it with cargo and rustc removed from PATH and no --ignore-scripts, and starts
//    it twice: `require('memwarden')` and `import memwarden, { ... } from 'memwarden'`.
//    Each must answer GET /api/memory/health and report the binary it loaded, which must
//    be the one from the memwarden-<platform> package.
// 4. Type-checks an ES module and a CommonJS consumer against the installed package.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { currentPlatform, platformOfTriple } = require('../lib/loader');

const ROOT = path.join(__dirname, '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const PLATFORM = currentPlatform();
const BINARY = `memwarden.${PLATFORM}.node`;
const PLATFORM_PACKAGE = `memwarden-${PLATFORM}`;
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'memwarden-package-test');
const EXTRA_NODE = (process.env.MEMWARDEN_PACKAGE_TEST_NODE ?? '18,22,24').split(',').map((s) => s.trim()).filter(Boolean);
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];
const log = (msg) => process.stdout.write(`${msg}\n`);

let tmp;
let tarballs;
const apps = new Map(); // Node version -> installed app directory

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/** The environment of a host without Rust: PATH without any directory holding cargo or rustc. */
function noRustEnv(nodeDir) {
  const exe = process.platform === 'win32' ? '.exe' : '';
  const dirs = (process.env.PATH || '').split(path.delimiter).filter((d) => d && !['cargo', 'rustc'].some((t) => fs.existsSync(path.join(d, t + exe))));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // npm run's own variables (npm_config_*, npm_lifecycle_*) and Rust's stay out.
    if (!/^(npm_|CARGO|RUSTUP|RUSTC|NAPI_RS_)/i.test(k)) env[k] = v;
  }
  env.PATH = [nodeDir, ...dirs.filter((d) => d !== nodeDir)].join(path.delimiter);
  return env;
}

function newestMtime(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((e) => newestMtime(path.join(p, e))));
}

function ensureBuilt() {
  const binary = path.join(ROOT, BINARY);
  const sources = ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs'].map((p) => path.join(ROOT, p)).filter(fs.existsSync);
  const stale = !fs.existsSync(binary) || Math.max(...sources.map(newestMtime)) > fs.statSync(binary).mtimeMs;
  if (stale) {
    log(`building ${BINARY} (npm run build)`);
    run('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', encoding: undefined });
  }
}

function npmPack(dir, dest) {
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: dir });
  const [info] = JSON.parse(r.stdout);
  return { file: path.join(dest, info.filename), files: info.files.map((f) => f.path) };
}

/** The two tarballs a release publishes for this host, staged as the release workflow does. */
function packRelease() {
  const out = path.join(tmp, 'tarballs');
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(out);
  fs.mkdirSync(stage);
  // The root package as `npm pack` makes it ("files" decides what is in it).
  const raw = npmPack(ROOT, tmp);
  run('tar', ['-xzf', raw.file, '-C', stage, '--strip-components=1']);
  // npm/<platform> with its binary (the workflow's `napi artifacts` step).
  const platformDir = path.join(stage, 'npm', PLATFORM);
  fs.cpSync(path.join(ROOT, 'npm', PLATFORM), platformDir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, BINARY), path.join(platformDir, BINARY));
  // Only this host's binary exists here, so pre-publish is told about this target only.
  const manifestPath = path.join(stage, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  manifest.napi.targets = manifest.napi.targets.filter((t) => platformOfTriple(t) === PLATFORM);
  assert.equal(manifest.napi.targets.length, 1, `napi.targets has no target for ${PLATFORM}`);
  fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  // The workflow's `npm run prepublishOnly`, told not to publish the platform package:
  // napi prepublish writes optionalDependencies, then the prepare script is dropped.
  const script = manifest.scripts.prepublishOnly;
  assert.match(script, /^napi prepublish /);
  const env = { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` };
  run('sh', ['-c', script.replace(/^napi prepublish /, 'napi prepublish --skip-optional-publish ')], { cwd: stage, env });
  return { main: npmPack(stage, out), platform: npmPack(platformDir, out) };
}

function readManifest(tarball) {
  return JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']).stdout);
}

/** A Node binary of this major version: the npm registry's node-<os>-<arch> package, cached. */
function nodeBinary(major) {
  const pkgName = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  fs.mkdirSync(CACHE, { recursive: true });
  const cached = fs.readdirSync(CACHE).filter((d) => d.startsWith(`node-v${major}.`)).sort().pop();
  if (cached) return path.join(CACHE, cached, 'bin', 'node');
  log(`fetching Node ${major} from the npm registry (${pkgName}@${major})`);
  const r = run('npm', ['pack', `${pkgName}@${major}`, '--json', '--pack-destination', CACHE], { cwd: CACHE });
  const [info] = JSON.parse(r.stdout);
  const tgz = path.join(CACHE, info.filename);
  const dir = path.join(CACHE, `node-v${info.version}`);
  fs.mkdirSync(dir, { recursive: true });
  try {
    run('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', 'package/bin/node']);
  } finally {
    fs.rmSync(tgz, { force: true });
  }
  return path.join(dir, 'bin', 'node');
}

/** npm's own entry point, to run it under another Node binary. */
function npmCli() {
  if (process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)) return process.env.npm_execpath;
  const which = spawnSync(process.platform === 'win32' ? 'where' : 'which', ['npm'], { encoding: 'utf8' });
  return fs.realpathSync(which.stdout.split(/\r?\n/)[0].trim());
}

/** A fresh app depending on express (registry) and the two tarballs, installed without Rust. */
function installApp(label, node) {
  const dir = path.join(tmp, `app-${label}`);
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(path.join(__dirname, 'app'))) fs.copyFileSync(path.join(__dirname, 'app', f), path.join(dir, f));
  const pkg = {
    name: `memwarden-package-test-${label}`,
    version: '1.0.0',
    private: true,
    dependencies: {
      express: '^5.1.0',
      memwarden: `file:${tarballs.main.file}`,
      [PLATFORM_PACKAGE]: `file:${tarballs.platform.file}`,
    },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

  const env = noRustEnv(path.dirname(node));
  for (const tool of ['cargo', 'rustc']) {
    const probe = spawnSync(tool, ['--version'], { env });
    assert.equal(probe.error && probe.error.code, 'ENOENT', `${tool} is still resolvable on the stripped PATH`);
  }
  // npm runs under the Node being tested where npm supports that version (npm 11:
  // ^20.17 || >=22.9); under older ones, under the Node running this test.
  const cli = npmCli();
  const probe = spawnSync(node, [cli, '--version'], { encoding: 'utf8', env });
  const npmNode = probe.status === 0 && !/does not support/.test(probe.stderr) ? node : process.execPath;
  const started = Date.now();
  const r = run(npmNode, [cli, 'install', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: dir, env });
  log(`${label}: npm install (npm under Node ${run(npmNode, ['-v']).stdout.trim()}) took ${Date.now() - started} ms`);
  return { dir, env, output: r.stdout + r.stderr };
}

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}

/** Starts one of the consumer apps, checks it, stops it and waits for it to exit by itself. */
async function checkApp(node, app, file) {
  const child = spawn(node, [file], { cwd: app.dir, env: app.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  try {
    const line = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
      });
      exited.then(({ code, signal }) => reject(new Error(`${file} exited (${code ?? signal}) before listening:\n${stderr}`)));
    });
    const info = JSON.parse(line);

    const res = await get(info.port, '/api/memory/health');
    assert.equal(res.status, 200, res.body);
    const health = JSON.parse(res.body);
    assert.ok(['healthy', 'warning', 'critical', 'emergency'].includes(health.status), `status ${health.status}`);
    for (const k of ['heapUsed', 'heapTotal', 'rss', 'limitBytes', 'usagePercentage', 'pressurePercentage']) {
      assert.equal(typeof health.currentUsage[k], 'number', `currentUsage.${k}`);
    }
    assert.ok(health.currentUsage.limitBytes > 0 && health.currentUsage.rss > 0);
    assert.equal(typeof health.trend, 'object');
    assert.equal(typeof health.gcStats.totalCollections, 'number');
    assert.ok(Array.isArray(health.recommendations));
    assert.equal(typeof health.thresholds.warning, 'number');
    assert.equal(res.headers['x-memory-status'], health.status);

    const nb = info.nativeBinding;
    assert.deepEqual(
      { platform: nb.platform, source: nb.source, packageName: nb.packageName, packageVersion: nb.packageVersion },
      { platform: PLATFORM, source: 'package', packageName: PLATFORM_PACKAGE, packageVersion: PKG.version },
    );
    assert.equal(nb.path, path.join(fs.realpathSync(app.dir), 'node_modules', PLATFORM_PACKAGE, BINARY));
    const entry = info.moduleSystem === 'module' ? 'index.mjs' : 'index.js';
    if (info.resolved) assert.ok(info.resolved.endsWith(`/node_modules/memwarden/${entry}`), info.resolved);
    log(`${info.node} ${info.moduleSystem}: GET /api/memory/health ${res.status} (${health.status}), binary ${nb.packageName}/${path.basename(nb.path)}, entry ${info.resolved ? path.basename(info.resolved) : '(not reported)'}`);

    child.stdin.end();
    const { code, signal } = await exited;
    assert.equal(code, 0, `${file} did not exit cleanly after stdin closed (${code ?? signal}):\n${stderr}`);
    return info;
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
}

before(() => {
  ensureBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-package-'));
  tarballs = packRelease();
});

after(() => {
  if (tmp && !process.env.MEMWARDEN_PACKAGE_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  else if (tmp) log(`kept ${tmp}`);
});

test('npm/ holds one package per napi.targets entry, at the root version', () => {
  const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort();
  assert.deepEqual(dirs, PKG.napi.targets.map(platformOfTriple).sort());
  for (const dir of dirs) {
    const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', dir, 'package.json'), 'utf8'));
    assert.equal(m.name, `memwarden-${dir}`);
    assert.equal(m.version, PKG.version);
    assert.equal(m.main, `memwarden.${dir}.node`);
    assert.deepEqual(m.files, [`memwarden.${dir}.node`]);
    assert.deepEqual(m.os, [dir.split('-')[0]]);
    assert.equal(m.cpu.length, 1);
    if (dir.startsWith('linux-')) assert.deepEqual(m.libc, [dir.endsWith('-musl') ? 'musl' : 'glibc']);
    assert.equal(m.engines.node, PKG.engines.node);
    assert.ok(!m.scripts, `${m.name} has scripts`);
  }
});

test('the tarballs hold what a release publishes, and no install script', () => {
  const main = readManifest(tarballs.main.file);
  for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'binding.d.ts', 'lib/loader.js', 'lib/native.js', 'package.json']) {
    assert.ok(tarballs.main.files.includes(f), `memwarden tarball lacks ${f}`);
  }
  assert.deepEqual(tarballs.main.files.filter((f) => f.endsWith('.node') || f.startsWith('src/') || f.startsWith('npm/')), []);
  assert.deepEqual(main.optionalDependencies, { [PLATFORM_PACKAGE]: PKG.version });
  assert.deepEqual(INSTALL_SCRIPTS.filter((s) => main.scripts && main.scripts[s]), []);
  assert.deepEqual(main.exports['.'], { types: './index.d.ts', import: './index.mjs', require: './index.js' });

  const plat = readManifest(tarballs.platform.file);
  assert.equal(plat.name, PLATFORM_PACKAGE);
  assert.equal(plat.version, PKG.version);
  assert.deepEqual(tarballs.platform.files.sort(), ['README.md', BINARY, 'package.json'].sort());
  assert.deepEqual(INSTALL_SCRIPTS.filter((s) => plat.scripts && plat.scripts[s]), []);
  log(`tarballs: ${path.basename(tarballs.main.file)} ${fs.statSync(tarballs.main.file).size} B, ${path.basename(tarballs.platform.file)} ${fs.statSync(tarballs.platform.file).size} B`);
});

const versions = [{ label: `node${process.versions.node.split('.')[0]}-current`, node: () => process.execPath }];
for (const major of EXTRA_NODE) {
  if (major !== process.versions.node.split('.')[0]) versions.push({ label: `node${major}`, node: () => nodeBinary(major) });
}

for (const v of versions) {
  test(`${v.label}: installs without Rust or a build step; require() and import both serve /api/memory/health from the prebuilt binary`, async () => {
    const node = v.node();
    const app = installApp(v.label, node);
    apps.set(v.label, app.dir);
    assert.doesNotMatch(app.output, /install-scripts|napi build|cargo/i, app.output);
    const installed = path.join(app.dir, 'node_modules');
    assert.deepEqual(fs.readdirSync(path.join(installed, 'memwarden')).filter((f) => f.endsWith('.node') || f === 'target'), []);
    assert.ok(fs.existsSync(path.join(installed, PLATFORM_PACKAGE, BINARY)));
    const cjs = await checkApp(node, app, 'server.cjs');
    const esm = await checkApp(node, app, 'server.mjs');
    assert.equal(cjs.node, esm.node);
  });
}

test('types: an ES module and a CommonJS consumer type-check against the installed package', () => {
  const dir = apps.values().next().value;
  assert.ok(dir, 'no app was installed');
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'types-esm.mts', 'types-cjs.cts'];
  run(process.execPath, [tsc, ...args], { cwd: dir });
});

'use strict';
// The ES module entry (index.mjs) and the package's "exports" map: `import` and
// `require` of 'memwarden' give the same single module (index.js loads once), and
// index.mjs names every export of index.js. Adding an export to index.js means adding
// its name to index.mjs too; this test says which.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ROOT = path.join(__dirname, '..');

test('index.mjs exports what index.js exports, as a default and by name', async () => {
  const cjs = require('..');
  const esm = await import(pathToFileURL(path.join(ROOT, 'index.mjs')).href);
  assert.equal(esm.default, cjs);
  const named = Object.keys(esm).filter((k) => k !== 'default');
  const missing = Object.keys(cjs).filter((k) => !named.includes(k));
  const extra = named.filter((k) => !(k in cjs));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'index.mjs and index.js list different exports');
  for (const k of named) assert.equal(esm[k], cjs[k], k);
});

test('the exports map: require() resolves index.js, import resolves index.mjs, package.json is exported', async () => {
  // Self-reference by package name goes through "exports", as it does for a dependant.
  assert.equal(require.resolve('memwarden'), path.join(ROOT, 'index.js'));
  assert.equal(require.resolve('memwarden/package.json'), path.join(ROOT, 'package.json'));
  const esm = await import('memwarden');
  assert.equal(esm.default, require('memwarden'));
  assert.equal(esm.MemoryManagerService, require('..').MemoryManagerService);
  assert.throws(() => require.resolve('memwarden/lib/manager.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

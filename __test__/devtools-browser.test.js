'use strict';
// The dashboard (GET /api/memory/dashboard) and the HTML report in real headless chromium
// (Debian's package, driven by playwright-core): the page loads with no console errors,
// the charts render with data points, the GC button works with the token typed into the
// page and is refused without it. Screenshots go to docs/ with UPDATE_SCREENSHOTS=1
// (README shows them), otherwise to a temporary directory.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runNode, ROOT, waitFor } = require('./support/child');
const { startDemo, TOKEN } = require('./support/demo');

const CHROMIUM = '/usr/bin/chromium';
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const shots = UPDATE ? path.join(ROOT, 'docs') : fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-shots-'));

async function launch(t) {
  const { chromium } = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** A page whose console errors and page errors are collected. */
async function openPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors };
}

const chartCanvases = (page) => page.evaluate(() => document.querySelectorAll('.uplot canvas').length);

/** Non-background pixels drawn on a canvas (0 for an empty chart). */
const inkOn = (page, selector) =>
  page.evaluate((sel) => {
    const c = document.querySelector(sel);
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return n;
  }, selector);

test('dashboard and HTML report in headless chromium', { skip: !fs.existsSync(CHROMIUM) && `${CHROMIUM} is not installed (.ci/run installs it)` }, async (t) => {
  const demo = await startDemo({ env: { MEMORY_LIMIT_MB: '256' } });
  t.after(() => demo.stop());
  const auth = { Authorization: `Bearer ${TOKEN}` };
  // Something to look at: the deliberate leak, and some cached reports.
  assert.equal((await fetch(`${demo.base}leak/start`, { method: 'POST' })).status, 200);
  for (let i = 1; i <= 5; i++) await fetch(`${demo.base}report/${i}`);
  const context = await launch(t);

  await t.test('a new tab: the token typed into the page brings the figures', async () => {
    const { page, errors } = await openPage(context);
    const res = await page.goto(`${demo.api}/dashboard`);
    assert.equal(res.status(), 200);
    // Detailed reads are public or need the token depending on the router's rule: either
    // the figures come, or the page asks for the token once (one 401 in the console) and waits.
    await page.waitForFunction(() => document.body.hasAttribute('data-points') || /admin token/.test(document.getElementById('message').textContent), null, { timeout: 10_000 });
    const live = await fetch(`${demo.api}/live`);
    const before = errors.length;
    assert.deepEqual(errors, live.status === 200 ? [] : ['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    await page.fill('#token', TOKEN);
    await page.click('#token-save');
    await page.waitForFunction(() => Number(document.body.getAttribute('data-points')) >= 2, null, { timeout: 20_000 });
    assert.deepEqual(errors.slice(before), [], 'no console errors once the token is typed');
    await page.close();
  });

  await t.test('with the token (kept in the tab): loads without console errors, charts fill, GC works', async () => {
    const { page, errors } = await openPage(context);
    // A tab where the token was typed before (it lives in the tab's sessionStorage).
    await page.addInitScript((token) => sessionStorage.setItem('memwarden.adminToken', token), TOKEN);
    const res = await page.goto(`${demo.api}/dashboard`);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-security-policy'], /default-src 'none'; script-src 'sha256-/);
    assert.equal(await page.inputValue('#token'), TOKEN, 'the field shows the kept token');
    await page.waitForFunction(() => Number(document.body.getAttribute('data-points')) >= 3, null, { timeout: 20_000 });
    assert.equal(await chartCanvases(page), 4, 'four uPlot charts');
    assert.ok((await inkOn(page, '#chart-memory canvas')) > 1000, 'the memory chart has lines drawn');
    assert.match(await page.textContent('#status'), /^(healthy|warning|critical|emergency)$/);
    assert.match(await page.textContent('#rss'), /^[\d.]+ MB$/);
    assert.match(await page.textContent('#limit'), /^of 256 MB \(override\)/);
    assert.match(await page.textContent('#leak'), /^\d+ %/);
    const legend = await page.textContent('#chart-memory .u-legend');
    for (const label of ['RSS', 'heap used', 'full GC', 'limit', 'warning', 'critical', 'emergency']) assert.ok(legend.includes(label), label);

    await page.click('#gc');
    await page.waitForFunction(() => /GC done|refused|failed/.test(document.getElementById('message').textContent), null, { timeout: 10_000 });
    assert.match(await page.textContent('#message'), /^GC done in [\d.]+ ms, freed [\d.]+ MB$/);
    // The GC shows up as a full-GC point on the chart once the next poll brings it.
    await page.waitForFunction(() => /\d+ full/.test(document.getElementById('gc-detail').textContent) && !/^0 full/.test(document.getElementById('gc-detail').textContent), null, { timeout: 10_000 });

    if (UPDATE) {
      // Let the leak be flagged and its site named before the picture (about 35 s).
      await page.waitForFunction(() => !document.getElementById('sites-section').hidden, null, { timeout: 60_000 });
      await page.waitForTimeout(1500);
    }
    await page.screenshot({ path: path.join(shots, 'dashboard.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no console errors');
    await page.close();
  });

  await t.test('without the token: figures and GC are refused', async () => {
    const { page } = await openPage(context); // a new tab: no token in its sessionStorage
    await page.goto(`${demo.api}/dashboard`);
    // Detailed reads are public or admin-only depending on the router's rule: either the
    // figures come, or the page asks for the token.
    await page.waitForFunction(() => document.body.hasAttribute('data-points') || /admin token/.test(document.getElementById('message').textContent), null, { timeout: 10_000 });
    const readsOpen = await page.evaluate(() => document.body.hasAttribute('data-points'));
    const live = await fetch(`${demo.api}/live`);
    assert.equal(readsOpen, live.status === 200, `the page agrees with GET /live (${live.status})`);
    await page.click('#gc');
    await page.waitForFunction(() => /refused/.test(document.getElementById('message').textContent), null, { timeout: 10_000 });
    assert.match(await page.textContent('#message'), /^gc refused: HTTP 401 ERR_UNAUTHORIZED: /);
    await page.close();
  });

  await t.test('local development without a token: figures and GC from loopback', async () => {
    // NODE_ENV=development says "local development" even in a container (this machine and CI are one).
    const local = await startDemo({ token: null, env: { NODE_ENV: 'development' } });
    t.after(() => local.stop());
    assert.match(local.output(), /admin {6}from this machine only/);
    const { page, errors } = await openPage(context);
    await page.goto(`${local.api}/dashboard`);
    await page.waitForFunction(() => Number(document.body.getAttribute('data-points')) >= 2, null, { timeout: 20_000 });
    assert.equal(await chartCanvases(page), 4);
    await page.click('#gc');
    await page.waitForFunction(() => /GC done|refused|failed/.test(document.getElementById('message').textContent), null, { timeout: 10_000 });
    assert.match(await page.textContent('#message'), /^GC done in [\d.]+ ms/);
    assert.deepEqual(errors, [], 'no console errors');
    await page.close();
  });

  await t.test('the HTML report opens from a file with its charts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwarden-report-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    await waitFor(async () => (await (await fetch(`${demo.api}/live`, { headers: auth })).json()).samples.length >= 5, { timeoutMs: 15_000, everyMs: 250, what: 'samples' });
    const r = await runNode([path.join(ROOT, 'bin', 'memory.js'), 'report', '--url', demo.api, '--out', path.join(dir, 'report')], { env: { MEMORY_ADMIN_TOKEN: TOKEN } });
    assert.equal(r.code, 0, r.stderr);
    const { page, errors } = await openPage(context);
    const requests = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`file://${path.join(dir, 'report.html')}`);
    await page.waitForFunction(() => document.body.getAttribute('data-rendered') === 'true', null, { timeout: 10_000 });
    assert.equal(await chartCanvases(page), 3, 'three uPlot charts');
    assert.ok((await inkOn(page, '#chart-memory canvas')) > 1000, 'the memory chart has lines drawn');
    assert.ok((await page.textContent('#routes')).includes('GET /report/:id'), 'the per-route table');
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file://')),
      [],
      'no network requests',
    );
    await page.screenshot({ path: path.join(shots, 'report.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no console errors');
    await page.close();
  });
});

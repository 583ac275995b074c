'use strict';
// app.use(memwarden.express()) as an application's first middleware runs its steps
// at the application's entry from the second request on (lib/express.js promote()),
// over real Express 4 and 5 apps on 127.0.0.1. What must not change, and is checked
// here for both the promoted and the not-promoted cases: which responses carry the
// memory headers, which requests are timed and under which route, the memory
// routes, shedding, middleware and routes added later, the layer staying in the
// application's stack. And that the promotion happens only where it is invisible:
// first middleware at '/', no app code among the options.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ROOT } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, listen, request } = require('./support/http');

cleanEnv();
const memwarden = require(ROOT);

/** The app's router stack (Express 4 keeps it in app._router). */
const stackOf = (app) => (typeof app.lazyrouter === 'function' ? app._router.stack : app.router.stack);

/** memwarden.express(options) with a counter of the requests its own layer dispatched. */
function counted(express, options = {}) {
  const mw = memwarden.express({ express, ...options });
  const handle = mw.handle;
  const counter = { layer: 0 };
  mw.handle = function (...args) {
    counter.layer++;
    return handle.apply(this, args);
  };
  return { mw, counter };
}

/** Per-route request counts from the manager's statistics. */
function routeCounts(m) {
  const out = {};
  for (const r of m.requestStats.report(performance.now()).routes) out[r.route] = r.count;
  return out;
}

const ADMIN = 'entry-test-token';

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: first middleware: from the second request on the steps run at the entry, with the same headers, statistics and routes`, async (t) => {
    process.env.MEMORY_ADMIN_TOKEN = ADMIN;
    t.after(() => delete process.env.MEMORY_ADMIN_TOKEN);
    const m = await startManager(t, levelOptions('healthy'));
    m.clearRequestStats();
    const app = express();
    const { mw, counter } = counted(express, { monitor: { memorySampleRate: 1 } });
    app.use(mw);
    app.get('/items/:id', (req, res) => res.json({ id: req.params.id }));
    const { base } = await listen(app, t);
    const layersBefore = stackOf(app).length;

    for (let i = 0; i < 5; i++) {
      const r = await request(base, `/items/${i}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { id: String(i) });
      assert.equal(r.headers.get('x-memory-status'), 'healthy');
      assert.equal(r.headers.get('x-memory-usage'), m.getRequestSnapshot().usageHeader);
    }
    assert.equal(counter.layer, 1, 'only the first request went through the layer');
    assert.equal(stackOf(app).length, layersBefore, 'the layer stays in the application stack');
    assert.ok(stackOf(app).some((l) => l.handle === mw));

    // Unmatched requests: headers, timed under (unmatched), 404 from Express.
    const miss = await request(base, '/nowhere');
    assert.equal(miss.status, 404);
    assert.equal(miss.headers.get('x-memory-status'), 'healthy');

    // The memory routes still answer through the layer (with the admin token for a detailed read).
    const health = await request(base, '/api/memory/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'healthy');
    const metrics = await request(base, '/api/memory/metrics', { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(metrics.status, 200, metrics.text.slice(0, 200));
    assert.ok(counter.layer >= 3, `memory routes went through the layer (${counter.layer})`);

    // Middleware and routes added after the first requests run, after memwarden.
    const seen = [];
    app.use((req, res, next) => {
      seen.push(res.getHeader('x-memory-status'));
      next();
    });
    app.get('/late', (req, res) => res.send('late'));
    const late = await request(base, '/late');
    assert.equal(late.text, 'late');
    assert.equal(late.headers.get('x-memory-status'), 'healthy');
    assert.deepEqual(seen, ['healthy'], 'a later middleware sees the header set before it');

    await waitFor(() => (routeCounts(m)['GET /items/:id'] || 0) >= 5);
    const counts = routeCounts(m);
    assert.equal(counts['GET /items/:id'], 5);
    assert.equal(counts['GET /late'], 1);
    assert.ok(counts['(unmatched)'] >= 1, JSON.stringify(counts));
  });

  test(`${name}: not first: a middleware before memwarden answers without memory headers and untimed, before and after the first request`, async (t) => {
    const m = await startManager(t, levelOptions('healthy'));
    m.clearRequestStats();
    const app = express();
    app.use((req, res, next) => (req.url === '/early' ? res.send('early') : next()));
    const { mw, counter } = counted(express);
    app.use(mw);
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    for (let i = 0; i < 3; i++) {
      const early = await request(base, '/early');
      assert.equal(early.text, 'early');
      assert.equal(early.headers.get('x-memory-status'), null);
      const work = await request(base, '/work');
      assert.equal(work.headers.get('x-memory-status'), 'healthy');
    }
    assert.equal(counter.layer, 3, 'every /work request went through the layer');
    assert.equal(routeCounts(m)['(unmatched)'], undefined, 'the early answers were not timed');
  });

  test(`${name}: mounted under a prefix, or with app code among its options, it stays a layer`, async (t) => {
    await startManager(t, levelOptions('healthy'));
    const app = express();
    const prefixed = counted(express, { path: '/mem' });
    app.use('/internal', prefixed.mw);
    const skipping = express();
    const withSkip = counted(express, { headers: { skip: (req) => req.path === '/skipped' } });
    skipping.use(withSkip.mw);
    skipping.get('/skipped', (req, res) => res.send('no headers'));
    skipping.get('/work', (req, res) => res.send('ok'));
    app.use('/app2', skipping);
    app.get('/internal/work', (req, res) => res.send('ok'));
    app.get('/outside', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    for (let i = 0; i < 3; i++) {
      assert.equal((await request(base, '/internal/work')).headers.get('x-memory-status'), 'healthy');
      assert.equal((await request(base, '/outside')).headers.get('x-memory-status'), null, 'outside the prefix: no headers');
      assert.equal((await request(base, '/app2/skipped')).headers.get('x-memory-status'), null);
      assert.equal((await request(base, '/app2/work')).headers.get('x-memory-status'), 'healthy');
    }
    assert.equal(prefixed.counter.layer, 3);
    assert.equal(withSkip.counter.layer, 6);
  });

  test(`${name}: first middleware at emergency: requests shed with 503 through the layer, the memory routes stay 200`, async (t) => {
    await startManager(t, levelOptions('emergency'));
    const app = express();
    const { mw } = counted(express);
    app.use(mw);
    let reached = 0;
    app.get('/work', (req, res) => {
      reached++;
      res.send('ok');
    });
    const { base } = await listen(app, t);
    for (let i = 0; i < 3; i++) {
      const r = await request(base, '/work');
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '10');
      assert.equal(r.headers.get('x-memory-status'), 'emergency');
      assert.equal((await request(base, '/api/memory/health')).status, 200);
    }
    assert.equal(reached, 0);
  });

  test(`${name}: routes added to memwarden's router after the first request still run`, async (t) => {
    await startManager(t, levelOptions('healthy'));
    const app = express();
    const { mw } = counted(express);
    app.use(mw);
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    assert.equal((await request(base, '/work')).text, 'ok');
    assert.equal((await request(base, '/work')).text, 'ok');
    mw.get('/extra', (req, res) => res.send('extra'));
    const extra = await request(base, '/extra');
    assert.equal(extra.text, 'extra');
    assert.equal(extra.headers.get('x-memory-status'), 'healthy');
    const work = await request(base, '/work');
    assert.equal(work.text, 'ok');
    assert.equal(work.headers.get('x-memory-status'), 'healthy');
  });
}

async function waitFor(cond, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

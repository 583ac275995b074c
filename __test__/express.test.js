'use strict';
// memoryMonitoring middleware and memwarden.express() over real Express 4 and 5
// apps on 127.0.0.1 and real HTTP: memory headers (and turning them off), per-route
// request statistics, load shedding at emergency (503 + Retry-After, exempt routes
// still 200, custom exempt paths and handler), proactive cleanup at critical,
// option validation, and memwarden working without express installed.
//
// Status levels come from real measurements: see support/http.js levelOptions().

const test = require('node:test');
const assert = require('node:assert/strict');
const { ROOT, runNode, resultOf, describeRun, waitFor } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, listen, request, noStack } = require('./support/http');

cleanEnv();
// /metrics is private by default (README "Security"): the routers here read the token now.
const TOKEN = 'express-test-token-0123456789abcdef';
process.env.MEMORY_ADMIN_TOKEN = TOKEN;
const bearer = { Authorization: `Bearer ${TOKEN}` };
const memwarden = require(ROOT);
const { memoryMonitoring, MemwardenConfigError } = memwarden;

/** Installs memwarden.express(options) the way `how` says: 'use' (app.use) or 'attach'. */
function install(app, express, options, how) {
  if (how === 'use') app.use(memwarden.express({ express, ...options }));
  else assert.equal(memwarden.express.attach(app, { express, ...options }), app);
}

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: memory headers carry the cached status and pressure; omitted per route and by excludePaths`, async (t) => {
    const m = await startManager(t, levelOptions('healthy'));
    const app = express();
    app.use(memoryMonitoring.addMemoryHeaders({ excludePaths: ['/public', /^\/static\//] }));
    app.get('/work', (req, res) => res.send('ok'));
    app.get('/quiet', memoryMonitoring.omitMemoryHeaders(), (req, res) => res.send('ok'));
    app.get('/public/page', (req, res) => res.send('ok'));
    app.get('/static/x.css', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);

    const r = await request(base, '/work');
    assert.equal(r.status, 200);
    const snap = m.getRequestSnapshot();
    assert.equal(r.headers.get('x-memory-status'), 'healthy');
    assert.equal(r.headers.get('x-memory-status'), m.getHealthMetrics().status);
    assert.equal(r.headers.get('x-memory-usage'), snap.usageHeader);
    assert.equal(Number(r.headers.get('x-memory-usage')), Number(m.getHealthMetrics().currentUsage.pressurePercentage.toFixed(1)));
    for (const p of ['/quiet', '/public/page', '/static/x.css']) {
      const q = await request(base, p);
      assert.equal(q.status, 200);
      assert.equal(q.headers.get('x-memory-status'), null, p);
      assert.equal(q.headers.get('x-memory-usage'), null, p);
    }
  });

  test(`${name}: header names are configurable, and one can be left out`, async (t) => {
    await startManager(t, levelOptions('emergency'));
    const app = express();
    app.use(memoryMonitoring.addMemoryHeaders({ statusHeader: 'X-Mem', usageHeader: false }));
    app.get('/', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    const r = await request(base, '/');
    assert.equal(r.headers.get('x-mem'), 'emergency');
    assert.equal(r.headers.get('x-memory-status'), null);
    assert.equal(r.headers.get('x-memory-usage'), null);
  });

  test(`${name}: at emergency, requests get 503 + Retry-After + ERR_MEMORY_PRESSURE; health and memory routes stay 200`, async (t) => {
    const m = await startManager(t, levelOptions('emergency'));
    assert.equal(m.getHealthMetrics().status, 'emergency');
    const app = express();
    app.use(memwarden.express({ express }));
    let reached = 0;
    app.get('/work', (req, res) => {
      reached++;
      res.send('ok');
    });
    app.get('/healthz', (req, res) => res.send('alive'));
    app.get('/ready', (req, res) => res.send('ready'));
    const { base } = await listen(app, t);

    const r = await request(base, '/work');
    assert.equal(r.status, 503);
    assert.equal(reached, 0, 'the route did not run');
    assert.equal(r.headers.get('retry-after'), '10');
    assert.match(r.headers.get('content-type'), /application\/json/);
    assert.equal(r.headers.get('x-memory-status'), 'emergency', 'the headers are set before shedding');
    const e = r.json.error;
    assert.equal(e.code, 'ERR_MEMORY_PRESSURE');
    assert.equal(e.status, 'emergency');
    assert.equal(e.statusCode, 503);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.usagePercentage > 95, `usage ${e.usagePercentage} (resident over a 16 MB limit)`);
    assert.equal(e.retryAfterSeconds, 10);
    assert.ok(noStack(r.text));

    for (const p of ['/api/memory/health', '/api/memory/metrics', '/healthz', '/ready']) {
      const ok = await request(base, p, { headers: bearer });
      assert.equal(ok.status, 200, `${p}: ${ok.text.slice(0, 200)}`);
    }
    // Not exempt: a path that only starts with an exempt prefix's letters.
    assert.equal((await request(base, '/healthzz')).status, 503);
  });

  test(`${name}: custom exempt paths, Retry-After, shedding level and handler`, async (t) => {
    await startManager(t, levelOptions('critical'));
    const app = express();
    const seen = [];
    app.use(
      memoryMonitoring.handleMemoryPressure({
        level: 'critical',
        cleanupLevel: false,
        retryAfterSeconds: 42,
        exemptPaths: ['/keep', /^\/api\/v\d+\/status$/],
      }),
    );
    const custom = express.Router();
    custom.use(
      memoryMonitoring.handleMemoryPressure({
        level: 'critical',
        cleanupLevel: false,
        handler(req, res, next, snapshot) {
          seen.push(snapshot.status);
          res.status(429).json({ busy: true, level: snapshot.level });
        },
      }),
    );
    custom.get('/x', (req, res) => res.send('never'));
    app.use('/custom', custom);
    app.get('/keep', (req, res) => res.send('kept'));
    app.get('/api/v2/status', (req, res) => res.send('status'));
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);

    const shed = await request(base, '/work');
    assert.equal(shed.status, 503);
    assert.equal(shed.headers.get('retry-after'), '42');
    assert.equal(shed.json.error.status, 'critical');
    assert.equal((await request(base, '/keep')).status, 200);
    assert.equal((await request(base, '/api/v2/status')).status, 200);
    assert.equal((await request(base, '/api/memory/health')).status, 503, 'exemptPaths replaces the defaults');
    // /keep is exempt at the app level; the custom handler answers inside /custom.
    const c = await request(base, '/custom/x');
    assert.equal(c.status, 503, 'the app-level middleware sheds first');
    const app2 = express();
    app2.use('/custom', custom);
    const l2 = await listen(app2, t);
    const c2 = await request(l2.base, '/custom/x');
    assert.equal(c2.status, 429);
    assert.deepEqual(c2.json, { busy: true, level: 2 });
    assert.deepEqual(seen, ['critical']);
  });

  test(`${name}: below the shedding level nothing is rejected (control)`, async (t) => {
    await startManager(t, levelOptions('critical'));
    const app = express();
    app.use(memwarden.express({ express, pressure: { cleanupLevel: false } }));
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    const r = await request(base, '/work');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-memory-status'), 'critical');
  });

  test(`${name}: at critical, a proactive cleanup starts without rejecting, at most once per cooldown`, async (t) => {
    const m = await startManager(t, levelOptions('critical'));
    let runs = 0;
    m.registerCleanupStrategy({ name: 'test_drop_cache', priority: 10, thresholdPercent: 0, run: () => void runs++ });
    t.after(() => m.unregisterCleanupStrategy('test_drop_cache'));
    const cleanups = [];
    m.on('cleanup', (c) => cleanups.push(c));
    const app = express();
    app.use(memoryMonitoring.handleMemoryPressure({ cleanupCooldownMs: 60_000 }));
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    for (let i = 0; i < 5; i++) assert.equal((await request(base, '/work')).status, 200);
    await waitFor(() => cleanups.length >= 1, { what: 'a cleanup run' });
    for (let i = 0; i < 5; i++) assert.equal((await request(base, '/work')).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(cleanups.length, 1, 'rate-limited');
    assert.equal(runs, 1);
    assert.equal(cleanups[0].reason, 'pressure_middleware');
    assert.equal(cleanups[0].trigger, 'proactive');
    assert.equal(cleanups[0].force, false);
    assert.equal(cleanups[0].status, 'critical');
    // Eligible strategies only: the built-ins start at 70 %, usage is ~33 %.
    assert.deepEqual(
      cleanups[0].actions.map((a) => a.strategy),
      ['test_drop_cache'],
    );
  });

  for (const how of ['use', 'attach']) test(`${name}, ${how}: per-route statistics use the route pattern, base URL and method; unmatched requests share one key`, async (t) => {
    const m = await startManager(t, levelOptions('healthy'));
    m.clearRequestStats();
    const app = express();
    install(app, express, { monitor: { memorySampleRate: 1 } }, how);
    app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
    app.get('/slow', (req, res) => setTimeout(() => res.send('slow'), 60));
    const shop = express.Router();
    shop.get('/items/:sku', (req, res) => res.send('item'));
    app.use('/shop', shop);
    const { base } = await listen(app, t);
    for (let i = 0; i < 20; i++) assert.equal((await request(base, `/users/${i}`)).status, 200);
    for (let i = 0; i < 5; i++) await request(base, `/shop/items/${i}`);
    for (let i = 0; i < 3; i++) assert.equal((await request(base, `/nope/${i}`)).status, 404);
    await request(base, '/slow');
    await request(base, '/slow');

    const metrics = (await request(base, '/api/memory/metrics', { headers: bearer })).json;
    const routes = Object.fromEntries(metrics.requests.routes.map((x) => [x.route, x]));
    assert.equal(routes['GET /users/:id'].count, 20);
    assert.equal(routes['GET /shop/items/:sku'].count, 5);
    assert.equal(routes['(unmatched)'].count, 3);
    assert.equal(routes['(unmatched)'].clientErrors, 3);
    const slow = routes['GET /slow'].latencyMs;
    assert.ok(slow.p50 >= 55 && slow.p50 <= 300, JSON.stringify(slow));
    assert.ok(slow.max >= 55, JSON.stringify(slow));
    const users = routes['GET /users/:id'];
    assert.ok(users.latencyMs.p50 > 0 && users.latencyMs.p50 <= users.latencyMs.p95 && users.latencyMs.p95 <= users.latencyMs.max + 1e-9);
    assert.equal(users.memory.samples + users.memory.interruptedByGc, 20, 'memorySampleRate 1 samples every request');
    assert.ok(Object.keys(routes).every((k) => !/\/users\/\d/.test(k)), 'no raw URLs as keys');
    assert.equal(metrics.requests.correlation.gcPauseVsLatency.enoughData, false);
    assert.match(metrics.requests.correlation.gcPauseVsLatency.reason, /not enough data/);
    assert.ok(metrics.requests.totalRequests >= 30);
  });

  test(`${name}: attach() serves the headers (set before the app's own middleware), the memory routes and the app's routes`, async (t) => {
    await startManager(t, levelOptions('healthy'));
    const app = express();
    const order = [];
    app.use((req, res, next) => {
      order.push(`app middleware sees ${res.getHeader('X-Memory-Status')}`);
      next();
    });
    memwarden.express.attach(app, { express });
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    const r = await request(base, '/work');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
    assert.equal(r.headers.get('x-memory-status'), 'healthy');
    assert.match(r.headers.get('x-memory-usage'), /^\d+(\.\d)?$/);
    // The headers are set where the request enters the app, before its first layer.
    assert.deepEqual(order, ['app middleware sees healthy']);
    const h = await request(base, '/api/memory/health?verbose=1');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'healthy');
    assert.equal(h.headers.get('x-memory-status'), 'healthy');
    const missing = await request(base, '/api/memory/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'ERR_NOT_FOUND');
    assert.equal((await request(base, '/nope')).status, 404, "the app's own 404");
    assert.throws(() => memwarden.express.attach(app, { express }), /app=.* is invalid; accepted: an application without memwarden attached/);

    // skip functions get Express's req (req.path, req.query), as with app.use().
    const m = memwarden.MemoryManagerService.getInstance();
    m.clearRequestStats();
    const app2 = express();
    memwarden.express.attach(app2, {
      express,
      headers: { skip: (req) => req.path === '/quiet' },
      monitor: { skip: (req) => req.query.untimed === '1' },
    });
    app2.get('/quiet', (req, res) => res.send('q'));
    app2.get('/loud', (req, res) => res.send('l'));
    const l2 = await listen(app2, t);
    assert.equal((await request(l2.base, '/quiet')).headers.get('x-memory-status'), null);
    assert.equal((await request(l2.base, '/loud')).headers.get('x-memory-status'), 'healthy');
    await request(l2.base, '/loud?untimed=1');
    const routes = (await request(l2.base, '/api/memory/metrics', { headers: bearer })).json.requests.routes;
    assert.equal(routes.find((x) => x.route === 'GET /loud').count, 1, 'the skipped request was not timed');
    assert.equal(routes.find((x) => x.route === 'GET /quiet').count, 1);
  });

  test(`${name}: attach() at emergency sheds with 503 + Retry-After; exempt routes and the memory routes stay 200; a custom handler gets Express's req and res`, async (t) => {
    await startManager(t, levelOptions('emergency'));
    const app = express();
    let reached = 0;
    memwarden.express.attach(app, { express });
    app.get('/work', (req, res) => {
      reached++;
      res.send('ok');
    });
    app.get('/healthz', (req, res) => res.send('alive'));
    const { base } = await listen(app, t);
    const r = await request(base, '/work');
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '10');
    assert.equal(r.json.error.code, 'ERR_MEMORY_PRESSURE');
    assert.equal(r.headers.get('x-memory-status'), 'emergency');
    assert.equal(reached, 0);
    assert.equal((await request(base, '/healthz')).status, 200);
    const h = await request(base, '/api/memory/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'emergency');

    const app2 = express();
    const seen = [];
    memwarden.express.attach(app2, {
      express,
      pressure: {
        cleanupLevel: false,
        handler(req, res, next, snapshot) {
          seen.push(snapshot.status);
          if (req.query.pass === '1') return next();
          return res.status(429).json({ busy: true, path: req.path });
        },
      },
    });
    app2.get('/work', (req, res) => res.send('passed'));
    const l2 = await listen(app2, t);
    const c = await request(l2.base, '/work?x=1');
    assert.equal(c.status, 429);
    assert.deepEqual(c.json, { busy: true, path: '/work' });
    const passed = await request(l2.base, '/work?pass=1');
    assert.equal(passed.status, 200);
    assert.equal(passed.text, 'passed');
    assert.deepEqual(seen, ['emergency', 'emergency']);
  });

  test(`${name}: attach() on a sub-application mounted under a prefix`, async (t) => {
    await startManager(t, levelOptions('emergency'));
    const app = express();
    const sub = express();
    memwarden.express.attach(sub, { express, path: '/mem' });
    sub.get('/work', (req, res) => res.send('ok'));
    app.use('/internal', sub);
    app.get('/outside', (req, res) => res.send('outside'));
    const { base } = await listen(app, t);
    const h = await request(base, '/internal/mem/health');
    assert.equal(h.status, 200, h.text.slice(0, 200));
    assert.equal(h.json.status, 'emergency');
    const w = await request(base, '/internal/work');
    assert.equal(w.status, 503);
    assert.equal(w.headers.get('x-memory-status'), 'emergency');
    const o = await request(base, '/outside');
    assert.equal(o.status, 200, 'the parent app is not shed');
    assert.equal(o.headers.get('x-memory-status'), null);
  });

  test(`${name}: attach() below the shedding level rejects nothing (control)`, async (t) => {
    await startManager(t, levelOptions('critical'));
    const app = express();
    memwarden.express.attach(app, { express, pressure: { cleanupLevel: false } });
    app.get('/work', (req, res) => res.send('ok'));
    const { base } = await listen(app, t);
    const r = await request(base, '/work');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-memory-status'), 'critical');
  });
}

test('memwarden.express() mounted under a prefix still serves and exempts its own endpoints', async (t) => {
  const express = EXPRESS_VERSIONS[0][1];
  await startManager(t, levelOptions('emergency'));
  const app = express();
  app.use('/internal', memwarden.express({ express, path: '/mem' }));
  app.get('/internal/work', (req, res) => res.send('ok'));
  const { base } = await listen(app, t);
  const h = await request(base, '/internal/mem/health');
  assert.equal(h.status, 200, h.text.slice(0, 200));
  assert.equal(h.json.status, 'emergency');
  assert.equal((await request(base, '/internal/work')).status, 503);
  assert.equal((await request(base, '/api/memory/health')).status, 404, 'not mounted at the default path');
});

test('memwarden.express(): routes added to the returned router still run (the fast path steps aside)', async (t) => {
  const express = EXPRESS_VERSIONS[0][1];
  await startManager(t, levelOptions('healthy'));
  const app = express();
  const mw = memwarden.express({ express });
  mw.get('/extra', (req, res) => res.send('extra'));
  app.use(mw);
  app.get('/work', (req, res) => res.send('ok'));
  const { base } = await listen(app, t);
  const extra = await request(base, '/extra');
  assert.equal(extra.text, 'extra');
  assert.equal(extra.headers.get('x-memory-status'), 'healthy');
  const work = await request(base, '/work');
  assert.equal(work.text, 'ok');
  assert.equal(work.headers.get('x-memory-status'), 'healthy');
});

test('memwarden.express.attach() names a bad app and validates its options like memwarden.express()', () => {
  for (const bad of [undefined, null, {}, () => {}, 'app']) {
    assert.throws(
      () => memwarden.express.attach(bad),
      (err) => err instanceof TypeError && err.code === 'ERR_MEMWARDEN_INVALID_ARG' && /memwarden\.express\.attach\(\): app=.* is invalid; accepted: an Express application/.test(err.message),
    );
  }
  const express = EXPRESS_VERSIONS[0][1];
  assert.throws(() => memwarden.express.attach(express(), { express, path: 'api' }), (err) => err instanceof MemwardenConfigError && /memwarden\.express\.attach\(\): path="api" is invalid/.test(err.message));
});

test('factories validate options once, name the option, the value and what is accepted, and return named functions', () => {
  const bad = (fn, setting, pattern) =>
    assert.throws(fn, (err) => {
      assert.ok(err instanceof MemwardenConfigError, err && err.stack);
      assert.equal(err.code, 'ERR_MEMWARDEN_CONFIG');
      const p = err.problems.find((x) => x.setting === setting);
      assert.ok(p, `no problem for ${setting}: ${JSON.stringify(err.problems)}`);
      assert.match(err.message, pattern);
      return true;
    });
  bad(() => memoryMonitoring.addMemoryHeaders({ statusHeader: 'bad header' }), 'statusHeader', /statusHeader="bad header" is invalid; accepted: a valid HTTP header name/);
  bad(() => memoryMonitoring.addMemoryHeaders({ colour: 'red' }), 'colour', /unknown option colour; accepted options: manager, statusHeader/);
  bad(() => memoryMonitoring.addMemoryHeaders({ excludePaths: ['public'] }), 'excludePaths', /excludePaths=\[array\] is invalid; accepted: an array of path prefixes starting with '\/'/);
  bad(() => memoryMonitoring.handleMemoryPressure({ level: 'panic' }), 'level', /level="panic" is invalid; accepted: 'warning', 'critical', 'emergency'/);
  bad(() => memoryMonitoring.handleMemoryPressure({ retryAfterSeconds: 0 }), 'retryAfterSeconds', /retryAfterSeconds=0 is invalid; accepted: a whole number from 1 to 86400/);
  bad(() => memoryMonitoring.handleMemoryPressure({ handler: 'x' }), 'handler', /accepted: a function/);
  bad(() => memoryMonitoring.monitorRequestMemory({ memorySampleRate: 1.5 }), 'memorySampleRate', /memorySampleRate=1.5 is invalid/);
  bad(() => memwarden.express({ pressure: 5 }), 'pressure', /pressure=5 is invalid; accepted: an options object, or false/);
  bad(() => memwarden.express({ path: 'api' }), 'path', /path="api" is invalid/);
  bad(() => memwarden.createMemoryRouter({ adminRateLimitMs: -1 }), 'adminRateLimitMs', /adminRateLimitMs=-1 is invalid/);
  bad(() => memwarden.createMemoryRouter({ trustProxy: 'yes' }), 'trustProxy', /trustProxy="yes" is invalid; accepted: true or false/);
  bad(() => memwarden.terminusHealthCheck({ failAt: 'healthy' }), 'failAt', /failAt="healthy" is invalid/);
  // Nested sections are validated by their own factory, named in the message.
  bad(() => memwarden.express({ headers: { statusHeader: 7 } }), 'statusHeader', /addMemoryHeaders\(\): statusHeader=7/);

  assert.equal(memoryMonitoring.addMemoryHeaders().name, 'memwardenMemoryHeaders');
  assert.equal(memoryMonitoring.monitorRequestMemory().name, 'memwardenMonitorRequest');
  assert.equal(memoryMonitoring.handleMemoryPressure().name, 'memwardenHandleMemoryPressure');
  assert.equal(memoryMonitoring.omitMemoryHeaders().name, 'memwardenOmitMemoryHeaders');
  assert.equal(memwarden.terminusHealthCheck().name, 'memwardenHealthCheck');
  assert.equal(typeof memwarden.express({ express: EXPRESS_VERSIONS[1][1] }), 'function');
});

test('before initialize(), the middleware passes requests through without headers or shedding', async (t) => {
  const { MemoryManagerService } = memwarden;
  await MemoryManagerService.getInstance().shutdown();
  const express = EXPRESS_VERSIONS[1][1];
  const app = express();
  app.use(memwarden.express({ express }));
  app.get('/work', (req, res) => res.send('ok'));
  const { base } = await listen(app, t);
  const r = await request(base, '/work');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-memory-status'), null);
  const h = await request(base, '/api/memory/health');
  assert.equal(h.status, 503);
  assert.equal(h.json.error.code, 'ERR_MEMWARDEN_NOT_INITIALIZED');
});

test('memwarden loads and monitors without express installed; the router factories say what is missing', async () => {
  const script = `
    const Module = require('node:module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'express' || request.startsWith('express/')) {
        const e = new Error("Cannot find module 'express'"); e.code = 'MODULE_NOT_FOUND'; throw e;
      }
      return resolve.call(this, request, ...rest);
    };
    const { emitResult } = require(${JSON.stringify(require.resolve('./support/child'))});
    const out = {};
    const mw = require(${JSON.stringify(ROOT)});
    out.loaded = typeof mw.MemoryManagerService === 'function';
    out.middleware = typeof mw.memoryMonitoring.addMemoryHeaders() === 'function';
    for (const [k, f] of [['router', () => mw.createMemoryRouter()], ['combined', () => mw.express()]]) {
      try { f(); out[k] = 'no error'; } catch (err) { out[k] = { code: err.code, message: err.message }; }
    }
    emitResult(out);
  `;
  const run = await runNode(['-e', script], { timeoutMs: 20_000 });
  assert.equal(run.code, 0, describeRun(run));
  const r = resultOf(run);
  assert.equal(r.loaded, true);
  assert.equal(r.middleware, true);
  for (const k of ['router', 'combined']) {
    assert.equal(r[k].code, 'ERR_MEMWARDEN_EXPRESS_MISSING', JSON.stringify(r[k]));
    assert.match(r[k].message, /needs express \(npm install express\)/);
  }
});

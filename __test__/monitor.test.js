'use strict';
// How monitorRequestMemory() sees a request end, over real connections: the
// response's finish (Node's 'http.server.response.finish' channel), the
// connection's close for aborted requests, keep-alive and pipelined requests on one
// connection, a response ended before the middleware ran, and responses that do not
// come from a Node HTTP server (a per-response 'close' listener instead).

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { EventEmitter, once } = require('node:events');
const { ROOT, runNode, resultOf, describeRun } = require('./support/child');
const { EXPRESS_VERSIONS, cleanEnv, levelOptions, startManager, listen } = require('./support/http');

cleanEnv();
const memwarden = require(ROOT);
const { memoryMonitoring } = memwarden;

const routeCount = (m, key) => {
  const r = m.requestStats.report().routes.find((x) => x.route === key);
  return r ? r.count : 0;
};

/** Writes `raw` on a new connection and resolves with everything read until `until(text)` holds. */
function rawExchange(port, raw, until) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      text += d;
      if (until(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.write(raw);
  });
}

const waitFor = async (cond, what, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

for (const [name, express] of EXPRESS_VERSIONS) {
  test(`${name}: a request whose connection closes before its response finished counts as aborted, not timed`, async (t) => {
    const m = await startManager(t, levelOptions('healthy'));
    m.clearRequestStats();
    const app = express();
    app.use(memwarden.express({ express }));
    let answered = null;
    app.get('/slow', (req, res) => {
      answered = () => res.end('late');
    });
    app.get('/fast', (req, res) => res.send('ok'));
    const { server } = await listen(app, t);
    const { port } = server.address();

    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => answered !== null, 'the route to run');
    socket.destroy();
    await waitFor(() => m.requestStats.aborted === 1, 'the abort to be counted');
    answered(); // writing to a closed connection: nothing more is recorded
    await new Promise((r) => setTimeout(r, 20));
    const report = m.requestStats.report();
    assert.equal(report.abortedRequests, 1);
    assert.equal(report.totalRequests, 0);
    assert.equal(routeCount(m, 'GET /slow'), 0);

    // Keep-alive and pipelining: every request on one connection is timed under its route.
    const text = await rawExchange(
      port,
      'GET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /fast?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n',
      (s) => (s.match(/HTTP\/1\.1 /g) || []).length === 3 && /Cannot GET \/nope/.test(s),
    );
    assert.equal((text.match(/X-Memory-Status: healthy/gi) || []).length, 3);
    await waitFor(() => m.requestStats.totalRequests === 3, 'three requests recorded');
    assert.equal(routeCount(m, 'GET /fast'), 2);
    assert.equal(routeCount(m, '(unmatched)'), 1);
    assert.equal(m.requestStats.aborted, 1, 'closing an idle connection aborts nothing');
  });
}

test('a response that finished before the monitor ran is not timed and does not hold up its connection', async (t) => {
  const express = EXPRESS_VERSIONS[0][1];
  const m = await startManager(t, levelOptions('healthy'));
  m.clearRequestStats();
  const app = express();
  app.use((req, res, next) => {
    if (req.url !== '/ended') return next();
    res.end('ended early');
    // The next requests on the connection (pipelined) reach the monitor meanwhile.
    setTimeout(next, 30);
    return undefined;
  });
  app.use(memoryMonitoring.monitorRequestMemory());
  app.get('/ok', (req, res) => res.send('ok'));
  app.use((req, res, next) => (res.writableEnded ? undefined : next()));
  const { server } = await listen(app, t);
  await rawExchange(
    server.address().port,
    'GET /ended HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n',
    (s) => (s.match(/HTTP\/1\.1 200/g) || []).length === 3,
  );
  await waitFor(() => routeCount(m, 'GET /ok') === 2, 'both /ok requests recorded');
  await new Promise((r) => setTimeout(r, 80)); // the late next() ran, the connection closed
  assert.equal(m.requestStats.totalRequests, 2);
  assert.equal(m.requestStats.aborted, 0, 'nothing left pending when the connection closed');
});

test('the first request of a connection, finished before the monitor ran, is not timed either', async (t) => {
  const express = EXPRESS_VERSIONS[1][1];
  const m = await startManager(t, levelOptions('healthy'));
  m.clearRequestStats();
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const app = express();
  app.use((req, res, next) => {
    if (req.url !== '/ended') return next();
    res.end('ended early');
    res.on('finish', () => setTimeout(next, 10)); // the monitor runs after the finish
    return undefined;
  });
  app.use(memoryMonitoring.monitorRequestMemory());
  app.get('/ok', (req, res) => res.send('ok'));
  app.use((req, res, next) => (res.writableEnded ? undefined : next()));
  const { server } = await listen(app, t);
  const socket = net.connect(server.address().port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  const exchange = (p, body) =>
    new Promise((resolve) => {
      let text = '';
      const onData = (d) => {
        text += d;
        if (text.endsWith(body)) {
          socket.off('data', onData);
          resolve(text);
        }
      };
      socket.on('data', onData);
      socket.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
  await exchange('/ended', 'ended early');
  await new Promise((r) => setTimeout(r, 40)); // the late next() ran
  await exchange('/ok', 'ok');
  await exchange('/ok', 'ok');
  await waitFor(() => routeCount(m, 'GET /ok') === 2, 'both /ok requests recorded');
  socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(m.requestStats.totalRequests, 2);
  assert.equal(m.requestStats.aborted, 0);
  assert.deepEqual(warnings.map((w) => w.message), []);
});

test('two monitors on one request each count it', async (t) => {
  const express = EXPRESS_VERSIONS[1][1];
  const m = await startManager(t, levelOptions('healthy'));
  m.clearRequestStats();
  const app = express();
  app.use(memoryMonitoring.monitorRequestMemory());
  app.use(memoryMonitoring.monitorRequestMemory());
  app.get('/ok', (req, res) => res.send('ok'));
  const { base } = await listen(app, t);
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/ok`).then((r) => r.text())), 'ok');
  await waitFor(() => routeCount(m, 'GET /ok') === 6, 'six records');
});

test('responses that do not come from a Node HTTP server are timed through their own close event', async (t) => {
  const m = await startManager(t, levelOptions('healthy'));
  m.clearRequestStats();
  const monitor = memoryMonitoring.monitorRequestMemory({ memorySampleRate: 1 });
  const route = { path: '/mock/:id' };
  const mock = (finished) => {
    const res = new EventEmitter();
    res.statusCode = 201;
    res.writableEnded = false;
    res.writableFinished = finished;
    const req = { method: 'POST', baseUrl: '', route, socket: null, url: '/mock/1' };
    let nexts = 0;
    monitor(req, res, () => nexts++);
    assert.equal(nexts, 1);
    return res;
  };
  mock(true).emit('close');
  mock(false).emit('close');
  const socketless = mock(true);
  socketless.emit('close');
  socketless.emit('close'); // a second close is not counted twice
  const r = m.requestStats.report();
  const entry = r.routes.find((x) => x.route === 'POST /mock/:id');
  assert.equal(entry.count, 2);
  assert.equal(entry.clientErrors + entry.serverErrors, 0);
  assert.equal(entry.memory.samples + entry.memory.interruptedByGc, 2);
  assert.equal(r.abortedRequests, 1);
});

test('without keep-alive too, a finish the channel did not report is noticed when the connection closes', async () => {
  // In a child process: the switch to close listeners is for the whole process.
  const script = `
    const net = require('node:net');
    const { emitResult } = require(${JSON.stringify(require.resolve('./support/child'))});
    const express = require(${JSON.stringify(require.resolve('express', { paths: [ROOT] }))});
    const memwarden = require(${JSON.stringify(ROOT)});
    (async () => {
      const m = memwarden.MemoryManagerService.getInstance();
      await m.initialize({ memoryLimitMb: 100000, proactiveGc: false, monitoringIntervalMs: 60000 });
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.message));
      require('node:diagnostics_channel').channel('http.server.response.finish').publish = () => {};
      const app = express();
      app.use(memwarden.memoryMonitoring.monitorRequestMemory());
      app.get('/ok', (req, res) => res.send('ok'));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => {
          const c = net.connect(server.address().port, '127.0.0.1', () => c.end('GET /ok HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
          c.resume();
          c.on('close', resolve);
        });
      }
      await new Promise((r) => setTimeout(r, 100));
      const r = m.requestStats.report();
      emitResult({ total: r.totalRequests, aborted: r.abortedRequests, warnings: warnings.filter((w) => /did not report/.test(w)).length });
      await m.shutdown();
      server.close();
    })();
  `;
  const run = await runNode(['-e', script], { timeoutMs: 20_000 });
  assert.equal(run.code, 0, describeRun(run));
  assert.deepEqual(resultOf(run), { total: 3, aborted: 0, warnings: 1 });
});

// Last in this file: it switches this process to per-response close listeners.
test('if the finish channel stops reporting responses, timing falls back to close listeners, with one warning', async (t) => {
  const express = EXPRESS_VERSIONS[0][1];
  const m = await startManager(t, levelOptions('healthy'));
  m.clearRequestStats();
  const app = express();
  app.use(memoryMonitoring.monitorRequestMemory());
  app.get('/ok', (req, res) => res.send('ok'));
  const { server } = await listen(app, t);
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  const channel = require('node:diagnostics_channel').channel('http.server.response.finish');
  channel.publish = () => {}; // what a Node that no longer publishes it would do
  t.after(() => {
    delete channel.publish;
    process.off('warning', onWarning);
  });

  const socket = net.connect(server.address().port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  const exchange = () =>
    new Promise((resolve) => {
      let text = '';
      const onData = (d) => {
        text += d;
        if (text.endsWith('ok')) {
          socket.off('data', onData);
          resolve(text);
        }
      };
      socket.on('data', onData);
      socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    });
  for (let i = 0; i < 3; i++) assert.match(await exchange(), /^HTTP\/1\.1 200/);
  // The first response went unreported until the second started; the others close.
  await waitFor(() => routeCount(m, 'GET /ok') === 3, 'three requests recorded');
  socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(m.requestStats.aborted, 0);
  assert.equal(m.requestStats.totalRequests, 3);
  const ours = warnings.filter((w) => /did not report a finished response/.test(w.message));
  assert.equal(ours.length, 1, warnings.map((w) => w.message).join('\n'));
});

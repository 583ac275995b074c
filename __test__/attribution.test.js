'use strict';
// Leak-site attribution: the automatic run on every confirmed leak over a real Express
// app under load in a child process (the leaking handler named, paths relative to the
// app's root, the 'leakAttributed' event, the alert's follow-up through the webhook),
// and the pure parts (relative paths, summary, option checks, the scheduler's rules).
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const autocannon = require('autocannon');
const { startApp, APP_DIR } = require('./support/app-process');
const { relativeUrl, summarize, resolveAutoAttribution, autoDurationMs, LeakAttributor, rankGrowingSites, bytesBySite, survivorSnapshots, allocatedBytes, measureAllocationRate, autoIntervalBytes, settleInterval, checkOptions } = require('../lib/attribution');

test('paths are made relative to the app root; outside it only the last two segments stay', () => {
  assert.equal(relativeUrl('file:///srv/app/routes/sessions.js', '/srv/app'), 'routes/sessions.js');
  assert.equal(relativeUrl('/srv/app/node_modules/x/index.js', '/srv/app'), 'node_modules/x/index.js');
  assert.equal(relativeUrl('/usr/lib/node/x/y.js', '/srv/app'), '…/x/y.js');
  assert.equal(relativeUrl('node:internal/http', '/srv/app'), 'node:internal/http');
  assert.equal(relativeUrl('(native)', '/srv/app'), '(native)');
});

test("bytes allocated inside Node's own modules or builtins are charged to the application's calling function", () => {
  const frame = (functionName, url, lineNumber) => ({ functionName, url, lineNumber, columnNumber: 0 });
  // (root) -> sessionsRoute (routes/sessions.js) -> toString (node:buffer) -> (builtin, no url)
  //                                              -> push (no url)
  const profile = {
    head: {
      callFrame: frame('(root)', '', -1), selfSize: 0,
      children: [{
        callFrame: frame('sessionsRoute', '/srv/app/routes/sessions.js', 12), selfSize: 100,
        children: [
          { callFrame: frame('toString', 'node:buffer', 833), selfSize: 1000, children: [{ callFrame: frame('slowToString', '', -1), selfSize: 500, children: [] }] },
          { callFrame: frame('push', '', -1), selfSize: 50, children: [] },
        ],
      }, {
        callFrame: frame('bootstrap', 'node:internal/main', 3), selfSize: 7, children: [],
      }],
    },
  };
  const sites = [...bytesBySite(profile).values()];
  const route = sites.find((x) => x.functionName === 'sessionsRoute');
  assert.equal(route.bytes, 100 + 1000 + 500 + 50);
  assert.equal(route.lineNumber, 13);
  assert.ok(!sites.some((x) => x.url === 'node:buffer'), JSON.stringify(sites));
  // With no application frame above it, an internal frame keeps its own bytes rather than losing them.
  assert.equal(sites.find((x) => x.functionName === 'bootstrap').bytes, 7);
});

test('summary line and share of sampled growth', () => {
  const snap = (a, b) => new Map([['a', { functionName: 'rememberSession', url: 'routes/sessions.js', lineNumber: 6, columnNumber: 1, bytes: a }], ['b', { functionName: 'other', url: 'x.js', lineNumber: 1, columnNumber: 1, bytes: b }]]);
  const sites = rankGrowingSites([snap(0, 0), snap(710, 290), snap(1420, 580)], 10_000, 10);
  assert.equal(sites[0].functionName, 'rememberSession');
  assert.ok(Math.abs(sites[0].shareOfGrowth - 0.71) < 1e-9, String(sites[0].shareOfGrowth));
  const line = summarize({ signal: 'heap', growthRateBytesPerSec: 0.5 * 1048576 }, { sites, durationMs: 30_000 });
  assert.equal(line, 'heap grows 0.5 MB/s; top growing site: rememberSession (routes/sessions.js:6), 71 % of sampled growth');
  assert.match(summarize({ signal: 'external', growthRateBytesPerSec: 2048 }, { sites: [], durationMs: 30_000 }), /off-heap memory grows 2 KB\/s; no growing allocation site found in 30 s .*not sampled/);
});

// A sampling profile as V8 gives it: nodes with ids, and live samples with the node they
// belong to, their (scaled) size and their ordinal, in the order they were taken.
function profileOf(sites, samples) {
  const frame = (functionName, url, lineNumber) => ({ functionName, url, lineNumber, columnNumber: 0 });
  const children = sites.map(([id, name], i) => ({ id, callFrame: frame(name, `/srv/app/${name}.js`, i), selfSize: 0, children: [] }));
  for (const x of samples) children.find((c) => c.id === x.nodeId).selfSize += x.size;
  return { head: { id: 1, callFrame: frame('(root)', '', -1), selfSize: 0, children }, samples };
}

test('one read tells which sites still hold objects from the whole run: a leak does, a cache at capacity and garbage do not', () => {
  // 300 samples in order. leak: one sample in 10 all along, all still alive. cache: one in
  // 5, alive only when among its 20 newest (an LRU at capacity). early: allocated once in
  // the first tenth (a lazy initialisation). Request garbage died before the read.
  const samples = [];
  let cacheSeen = 0;
  for (let ordinal = 1; ordinal <= 300; ordinal++) {
    if (ordinal % 10 === 0) samples.push({ nodeId: 2, size: 1000, ordinal });
    if (ordinal % 5 === 1 && ordinal > 300 - 5 * 20) samples.push({ nodeId: 3, size: 1000, ordinal });
    if (ordinal % 5 === 1) cacheSeen++;
    if (ordinal < 30 && ordinal % 3 === 0) samples.push({ nodeId: 4, size: 4000, ordinal });
  }
  assert.equal(cacheSeen, 60);
  const profile = profileOf([[2, 'leak'], [3, 'cache'], [4, 'early']], samples);
  const snapshots = survivorSnapshots(profile, 3);
  assert.equal(snapshots.length, 4);
  assert.equal(snapshots[0].size, 0);
  const bytes = (k, name) => [...snapshots[k].values()].find((x) => x.functionName === name)?.bytes || 0;
  assert.deepEqual([1, 2, 3].map((k) => bytes(k, 'leak')), [10_000, 20_000, 30_000]);
  assert.deepEqual([1, 2, 3].map((k) => bytes(k, 'cache')), [0, 0, 20_000]);
  assert.deepEqual([1, 2, 3].map((k) => bytes(k, 'early')), [36_000, 36_000, 36_000]);
  const sites = rankGrowingSites(snapshots, 30_000, 10);
  assert.deepEqual(sites.map((x) => x.functionName), ['leak']);
  assert.deepEqual([sites[0].grewBytes, sites[0].grewInWindows, sites[0].windows, sites[0].shareOfGrowth], [30_000, 3, 3, 1]);
  assert.equal(sites[0].growthBytesPerSec, 1000);
  // With two windows a site must hold objects from both; a site that grew in the first
  // window only is refused there too.
  assert.deepEqual(rankGrowingSites(survivorSnapshots(profile, 2), 30_000, 10).map((x) => x.functionName), ['leak']);
});

test('survivor snapshots: property: they only grow, they add up to the live samples, a steady site is found and recent survivors are not, whatever the window count', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let run = 0; run < 200; run++) {
    const windows = 2 + Math.floor(random() * 19);
    const samples = [];
    const total = 200 + Math.floor(random() * 2000);
    for (let ordinal = 1; ordinal <= total; ordinal++) {
      // Site 2 keeps every sample (a leak); 3 keeps a random few (retained all along too);
      // 4 only its newest (garbage, or a cache at capacity).
      if (ordinal % 4 === 0) samples.push({ nodeId: 2, size: 100 + Math.floor(random() * 900), ordinal });
      else if (random() < 0.05) samples.push({ nodeId: 3, size: 1 + Math.floor(random() * 5000), ordinal });
      else if (ordinal > total * 0.95) samples.push({ nodeId: 4, size: 1 + Math.floor(random() * 5000), ordinal });
    }
    const profile = profileOf([[2, 'leak'], [3, 'random'], [4, 'recent']], samples);
    const snapshots = survivorSnapshots(profile, windows);
    assert.equal(snapshots.length, windows + 1);
    const sum = (m) => [...m.values()].reduce((a, x) => a + x.bytes, 0);
    for (let k = 1; k <= windows; k++) {
      for (const [key, x] of snapshots[k - 1]) assert.ok(snapshots[k].get(key).bytes >= x.bytes);
    }
    assert.equal(sum(snapshots[windows]), samples.reduce((a, x) => a + x.size, 0));
    assert.equal(sum(snapshots[windows]), sum(bytesBySite(profile)));
    const sites = rankGrowingSites(snapshots, 1000, 10);
    const leak = sites.find((x) => x.functionName === 'leak');
    assert.ok(leak, `${windows} windows, ${total} samples: ${JSON.stringify(sites)}`);
    assert.equal(leak.grewInWindows, windows);
    assert.equal(leak.grewBytes, samples.filter((x) => x.nodeId === 2).reduce((a, x) => a + x.size, 0));
    for (let i = 1; i < sites.length; i++) assert.ok(sites[i - 1].grewBytes >= sites[i].grewBytes);
    assert.ok(!sites.some((x) => x.functionName === 'recent'));
    assert.ok(Math.abs(sites.reduce((a, x) => a + x.shareOfGrowth, 0) - 1) < 1e-9);
  }
});

test('a profile without sample ordinals: every live byte counts in the last window, so no site is named', () => {
  const profile = profileOf([[2, 'leak']], [{ nodeId: 2, size: 500, ordinal: 1 }]);
  delete profile.samples;
  const snapshots = survivorSnapshots(profile, 3);
  assert.deepEqual(snapshots.map((m) => [...m.values()].reduce((a, x) => a + x.bytes, 0)), [0, 0, 0, 500]);
  assert.deepEqual(rankGrowingSites(snapshots, 1000, 10), []);
});

test('leakAttribution options: bad values are named with what is accepted', () => {
  assert.equal(resolveAutoAttribution(undefined, {}).settings.enabled, true);
  assert.equal(resolveAutoAttribution(false, {}).settings.enabled, false);
  const ok = resolveAutoAttribution({ durationMs: 5000, root: '/srv/app' }, {});
  assert.deepEqual([ok.problems, ok.settings.durationMs, ok.settings.root], [[], 5000, '/srv/app']);
  const bad = resolveAutoAttribution({ durationMs: 5, root: 'rel', nope: 1 }, { MEMORY_APP_ROOT: 'relative' });
  assert.deepEqual(bad.problems.map((p) => p.setting).sort(), ['MEMORY_APP_ROOT', 'leakAttribution.durationMs', 'leakAttribution.nope', 'leakAttribution.root']);
  assert.match(bad.problems.find((p) => p.setting === 'leakAttribution.durationMs').message, /durationMs=5 .*a whole number from 1000 to 1800000/);
  assert.equal(resolveAutoAttribution('yes', {}).problems[0].setting, 'leakAttribution');
  assert.equal(resolveAutoAttribution(undefined, { MEMORY_APP_ROOT: '/opt/x' }).settings.root, '/opt/x');
});

test('automatic sampling lasts until a slow leak has grown by 16 sampling intervals, at most 30 minutes', async () => {
  const settings = resolveAutoAttribution(undefined, {}).settings; // 30 s, 'auto'
  assert.equal(settings.samplingIntervalBytes, 'auto');
  const leak = (rate) => ({ type: 'leak', signal: 'heap', growthRateBytesPerSec: rate, timestamp: 1 });
  assert.equal(autoDurationMs(30_000, 524288, leak(512 * 1024)), 30_000); // 15 MB in 30 s: enough
  assert.equal(autoDurationMs(30_000, 524288, leak(20 * 1024)), 409_600); // 8 MB at 20 KB/s
  assert.equal(autoDurationMs(30_000, 2 * 524288, leak(512 * 1024)), 32_000); // a wider interval: 16 MB
  assert.equal(autoDurationMs(30_000, 524288, leak(1024)), 1_800_000); // capped
  assert.equal(autoDurationMs(30_000, 32 * 1024, leak(20 * 1024)), 30_000);
  for (const bad of [0, -5, NaN, Infinity, undefined]) assert.equal(autoDurationMs(30_000, 524288, leak(bad)), 30_000);
  assert.equal(autoDurationMs(30_000, 524288, null), 30_000);

  // The scheduler passes it to the sampler, by the interval it samples at; a manual run
  // keeps its own duration.
  // The allocation rate 'auto' is settled from: 4 MB/s, so 512 KB.
  const asked = [];
  let rate = 4 * 1048576;
  const a = new LeakAttributor({
    settings,
    emit() {},
    activeLeakAlert: () => null,
    logger: { warn() {} },
    due: () => true,
    measure: async () => rate,
    sample: async (o) => {
      asked.push([o.durationMs, o.samplingIntervalBytes]);
      return { durationMs: o.durationMs, samplingIntervalBytes: o.samplingIntervalBytes, sites: [] };
    },
  });
  await a.run(undefined, leak(20 * 1024));
  const fixed = await a.run({ samplingIntervalBytes: 1048576 }, leak(20 * 1024));
  await a.run({ durationMs: 5_000 }, leak(20 * 1024));
  await a.run(undefined, null);
  // An app allocating 64 MB/s: 2 MB, and a 0.5 MB/s leak is sampled for 64 s.
  rate = 64 * 1048576;
  const wide = await a.run(undefined, leak(512 * 1024));
  assert.deepEqual(asked, [[409_600, 524288], [819_200, 1048576], [5_000, 524288], [30_000, 524288], [64_000, 2097152]]);
  assert.equal(fixed.allocationRateBytesPerSec, null); // a given interval: nothing measured
  assert.equal(wide.allocationRateBytesPerSec, 64 * 1048576);
  assert.match(wide.summary, /no growing allocation site found in 64 s of sampling \(one sample per 2\.0 MB allocated, the app allocating 64\.0 MB\/s: a longer durationMs or a smaller samplingIntervalBytes/);
  // A bad option is refused before anything is measured or sampled.
  await assert.rejects(a.run({ samplingIntervalBytes: 'Auto' }), /samplingIntervalBytes.*a whole number from 1024 to 16777216 or 'auto'/);
  assert.equal(asked.length, 5);
});

test("'auto' sampling interval: 512 KB, or wider to keep the sampler at 32 samples a second, at most 16 MB", async () => {
  assert.equal(autoIntervalBytes(0), 524288);
  assert.equal(autoIntervalBytes(null), 524288); // rate unknown (no v8.GCProfiler)
  assert.equal(autoIntervalBytes(NaN), 524288);
  assert.equal(autoIntervalBytes(16 * 1048576), 524288);
  assert.equal(autoIntervalBytes(256 * 1048576), 8388608);
  assert.equal(autoIntervalBytes(10 * 1073741824), 16777216);
  // Property: whole 64 KB steps within the accepted range, never more than 32 samples a
  // second below the cap, and never narrower for a faster app.
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 500; i++) {
    const r = Math.floor(random() * 2 ** (10 + random() * 22));
    const x = autoIntervalBytes(r);
    assert.ok(x % 65536 === 0 && x >= 524288 && x <= 16777216, String(x));
    if (x < 16777216) assert.ok(r / x <= 32, `${r} B/s at ${x}`);
    assert.ok(autoIntervalBytes(r * 2) >= x);
  }
  // Options: 'auto' is accepted by attributeLeak() and leakAttribution alike.
  assert.equal(checkOptions({}).samplingIntervalBytes, 'auto');
  assert.equal(checkOptions({ samplingIntervalBytes: 65536 }).samplingIntervalBytes, 65536);
  assert.throws(() => checkOptions({ samplingIntervalBytes: '524288' }), /samplingIntervalBytes.*"524288".*or 'auto'/);
  const conf = resolveAutoAttribution({ samplingIntervalBytes: 'fast' }, {});
  assert.match(conf.problems[0].message, /^leakAttribution\.samplingIntervalBytes=fast is not accepted; accepted: a whole number from 1024 to 16777216 or 'auto'$/);
  assert.equal(resolveAutoAttribution({ samplingIntervalBytes: 1048576 }, {}).settings.samplingIntervalBytes, 1048576);
  const settled = await settleInterval(checkOptions({ windows: 4 }), async () => 100 * 1048576);
  assert.deepEqual([settled.options.samplingIntervalBytes, settled.options.windows, settled.allocationRateBytesPerSec], [3276800, 4, 100 * 1048576]);
});

test('allocated bytes from the heap readings around each collection: what the heap gained between them', () => {
  const gc = (before, after) => ({ beforeGC: { heapStatistics: { usedHeapSize: before } }, afterGC: { heapStatistics: { usedHeapSize: after } } });
  assert.equal(allocatedBytes(100, [], 150), 50);
  assert.equal(allocatedBytes(100, [gc(300, 120), gc(220, 90)], 130), 200 + 100 + 40);
  // A collection right at the start (nothing gained) and a reading after it that is lower.
  assert.equal(allocatedBytes(100, [gc(100, 60)], 50), 0);
  // Property: a random run of allocations and collections (each frees a part of what is
  // live) is counted exactly, whatever is freed.
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let run = 0; run < 200; run++) {
    const start = Math.floor(random() * 1e6);
    let used = start;
    let allocated = 0;
    const stats = [];
    for (let i = 0; i < 30; i++) {
      const a = Math.floor(random() * 1e5);
      used += a;
      allocated += a;
      if (random() < 0.4) {
        const before = used;
        used -= Math.floor(random() * used);
        stats.push(gc(before, used));
      }
    }
    assert.equal(allocatedBytes(start, stats, used), allocated);
  }
});

test('the allocation rate measured in this process: within 30 % of what it allocated', async () => {
  // ~4 MB a millisecond-tick of arrays of doubles that die young, for about a second:
  // each is a JSArray (32 bytes) and a FixedDoubleArray (16 + 8 x 1000 bytes).
  let allocated = 0;
  let sink = null;
  const each = 32 + 16 + 8 * 1000;
  const tick = setInterval(() => {
    for (let i = 0; i < 100; i++) sink = new Array(1000).fill(i + 0.5);
    allocated += 100 * each;
  }, 1);
  const t0 = performance.now();
  const keepAlive = setTimeout(() => {}, 5000); // the measurement's own timer is unref'd
  const rate = await measureAllocationRate(1000);
  const truth = allocated / ((performance.now() - t0) / 1000);
  clearInterval(tick);
  clearTimeout(keepAlive);
  assert.ok(sink.length === 1000);
  assert.ok(rate > truth * 0.7 && rate < truth * 1.3, `measured ${(rate / 1048576).toFixed(1)} MB/s, allocated ${(truth / 1048576).toFixed(1)} MB/s`);
});

test('the scheduler: one at a time, rate-limited by the engine, a follow-up alert when one is active', async () => {
  // The engine decides whether a run is due (src/engine/cooldown.rs, tested there on a
  // mock clock); here it answers from a queue, and records the everyMs it was asked with.
  const answers = [true, false, true];
  const asked = [];
  const emitted = [];
  let release;
  const a = new LeakAttributor({
    settings: { ...resolveAutoAttribution({ everyMs: 60_000, root: '/srv/app' }, {}).settings },
    emit: (type, payload) => emitted.push([type, payload]),
    activeLeakAlert: () => ({ id: 3, type: 'memory_leak', level: 'warning', message: 'Memory leak suspected', data: { confidence: 80 } }),
    logger: { warn() {} },
    due: (everyMs) => {
      asked.push(everyMs);
      return answers.shift();
    },
    measure: async () => 1048576, // 'auto': 512 KB
    sample: () => new Promise((r) => (release = () => r({ durationMs: 30_000, sites: [{ functionName: 'f', url: '/srv/app/a.js', lineNumber: 2, grewBytes: 10, shareOfGrowth: 1 }] }))),
  });
  const leak = { type: 'leak', signal: 'heap', growthRateBytesPerSec: 1048576, timestamp: 1 };
  assert.equal(a.onLeak(leak), 'started');
  assert.equal(a.onLeak(leak), 'running');
  while (!release) await new Promise((r) => setImmediate(r)); // sampling starts once the interval is settled
  release();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(emitted.map((e) => e[0]), ['leakAttributed', 'leakAttribution', 'alert']);
  assert.equal(emitted[0][1].sites[0].url, 'a.js');
  assert.equal(emitted[2][1].message, 'Memory leak: heap grows 1.0 MB/s; top growing site: f (a.js:2), 100 % of sampled growth');
  assert.equal(emitted[2][1].followUp, 'leakAttributed');
  assert.equal(a.onLeak(leak), 'rate-limited');
  assert.equal(a.onLeak(leak), 'started');
  // The engine was asked only when nothing else held the run back ('running' did not ask).
  assert.deepEqual(asked, [60_000, 60_000, 60_000]);
  a.close();
  assert.equal(a.onLeak(leak), 'disabled');
  assert.equal(asked.length, 3);
});

test('a real Express app under load: the leak is flagged and its handler named', { timeout: 180_000 }, async (t) => {
  const posts = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => {
      posts.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  t.after(() => hook.close());
  const token = 'attribution-test-token';
  const app = await startApp({
    env: { MEMORY_MONITORING_INTERVAL: '500', ATTRIBUTION_DURATION_MS: '15000', MEMORY_LIMIT_MB: '1024', MEMORY_ADMIN_TOKEN: token, MEMORY_ALERT_WEBHOOK_URL: `http://127.0.0.1:${hook.address().port}/hook` },
  });
  t.after(() => app.stop());
  const loadStart = Date.now();
  const load = autocannon({ url: `http://127.0.0.1:${app.port}/sessions`, connections: 8, overallRate: 300, duration: 150 });
  t.after(() => load.stop());
  const leak = await app.waitFor((e) => e.event === 'leak', 90_000);
  assert.ok(leak, `no leak flagged: ${JSON.stringify(app.events.slice(-5))}\n${app.stderr()}`);
  const named = await app.waitFor((e) => e.event === 'leakAttributed', 80_000);
  load.stop();
  const done = await load;
  t.diagnostic(`load: ${(done.requests.average || 0).toFixed(0)} requests/s on average`);
  assert.ok(named, `never attributed: ${JSON.stringify(app.events.map((e) => e.event))}\n${app.stderr()}`);
  const flaggedS = (leak.receivedAt - loadStart) / 1000;
  const namedS = (named.receivedAt - leak.receivedAt) / 1000;
  t.diagnostic(`flagged ${flaggedS.toFixed(1)} s after the load began; named ${namedS.toFixed(1)} s after the flag: ${named.payload.summary}`);
  const top = named.payload.sites[0];
  assert.equal(top.url, 'routes/sessions.js', JSON.stringify(named.payload.sites.slice(0, 3)));
  // V8 charges an inlined function's allocations to its caller: the helper or the route.
  assert.match(top.functionName, /^(rememberSession|sessionsRoute)$/);
  assert.match(named.payload.summary, /^heap grows [\d.]+ [MK]B\/s; top growing site: .+ \(routes\/sessions\.js:\d+\), \d+ % of sampled growth$/);
  assert.equal(named.payload.trigger, 'leak');
  // The interval was settled from the app's allocation rate ('auto', the default).
  assert.ok(named.payload.allocationRateBytesPerSec > 0, JSON.stringify(named.payload.allocationRateBytesPerSec));
  assert.equal(named.payload.samplingIntervalBytes, autoIntervalBytes(named.payload.allocationRateBytesPerSec));
  t.diagnostic(`allocation rate ${(named.payload.allocationRateBytesPerSec / 1048576).toFixed(1)} MB/s, sampled every ${named.payload.samplingIntervalBytes} bytes`);
  for (const s of named.payload.sites) assert.ok(!s.url.startsWith('/') && !s.url.includes(APP_DIR) && !s.url.startsWith('file:'), s.url);
  // After the flag's 'leak' event; the alert's follow-up carries the summary.
  assert.ok(app.events.indexOf(named) > app.events.indexOf(leak));
  const followUp = app.events.find((e) => e.event === 'alert' && e.payload.followUp === 'leakAttributed');
  assert.ok(followUp, JSON.stringify(app.events.map((e) => e.event)));
  assert.equal(followUp.payload.message, `Memory leak: ${named.payload.summary}`);
  // /leak-detection (with the admin token) holds it.
  const res = await fetch(`http://127.0.0.1:${app.port}/api/memory/leak-detection`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const report = await res.json();
  assert.equal(report.attribution.summary, named.payload.summary);
  assert.ok(report.confidence >= 70 && report.leakSuspected, JSON.stringify({ c: report.confidence, s: report.leakSuspected }));
  // The webhook got the follow-up.
  const deadline = Date.now() + 10_000;
  while (!posts.some((p) => p.alert && p.alert.followUp === 'leakAttributed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const posted = posts.find((p) => p.alert && p.alert.followUp === 'leakAttributed');
  assert.ok(posted, JSON.stringify(posts.map((p) => p.text)));
  assert.match(posted.text, /memory_leak: Memory leak: heap grows .* top growing site: .*routes\/sessions\.js/);
  assert.ok(path.isAbsolute(APP_DIR));
});

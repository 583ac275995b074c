'use strict';
// Fixture: creates a router with an adminToken made at run time (so it is in no
// source text), has another process call /metrics with it, then writes a heap
// snapshot and reports whether the token's text is in it. argv[2] 'keep' holds on to
// the token (the control). The token lives in a Buffer (outside V8's heap) except
// while it is handed over. (A client in this process would leave its own copy of the
// header in Node's HTTP client, which is not memwarden's.) Prints { found, status }.

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { once } = require('node:events');
const { spawn } = require('node:child_process');
const { ROOT } = require('./child');

const memwarden = require(ROOT);
const express = require(path.join(ROOT, 'node_modules', 'express'));

// The client: reads the token from stdin, sends it as a bearer token, prints the status.
const CLIENT = `
let token = '';
process.stdin.on('data', (d) => (token += d)).on('end', () => {
  require('http').get({ host: '127.0.0.1', port: Number(process.argv[1]), path: '/api/memory/metrics', agent: false, headers: { authorization: 'Bearer ' + token } }, (res) => {
    res.resume();
    res.on('end', () => process.stdout.write(String(res.statusCode)));
  });
});`;

async function main() {
  const keep = process.argv[2] === 'keep';
  const tokenBytes = Buffer.from(crypto.randomBytes(24).toString('hex'), 'latin1');
  const m = memwarden.MemoryManagerService.getInstance();
  await m.initialize({ memoryLimitMb: 100_000, proactiveGc: false, proactiveCleanup: false, monitoringIntervalMs: 60_000 });
  const app = express();
  const options = { express, adminToken: tokenBytes.toString('latin1'), adminRateLimitMs: 0 };
  if (keep) globalThis.keptToken = options.adminToken;
  app.use('/api/memory', memwarden.createMemoryRouter(options));
  delete options.adminToken; // the caller's own object: what memwarden keeps is the question
  // The same token through memwarden.express() and memwarden.express.attach() (their own option objects).
  app.use('/other', memwarden.express({ express, path: '/api/memory', router: { adminToken: tokenBytes.toString('latin1') } }));
  globalThis.attachedApp = memwarden.express.attach(express(), { express, router: { adminToken: tokenBytes.toString('latin1') } });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // The request comes from another process: only the server side of it is in this heap.
  const status = await new Promise((resolve, reject) => {
    const client = spawn(process.execPath, ['-e', CLIENT, String(server.address().port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.on('data', (d) => (out += d));
    client.on('error', reject);
    client.on('close', () => resolve(Number(out)));
    client.stdin.end(tokenBytes);
  });
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
  const file = path.join(os.tmpdir(), `memwarden-token-${process.pid}.heapsnapshot`);
  v8.writeHeapSnapshot(file);
  const snapshot = fs.readFileSync(file);
  fs.rmSync(file, { force: true });
  const found = snapshot.includes(tokenBytes);
  await m.shutdown();
  process.stdout.write(`${JSON.stringify({ found, status })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

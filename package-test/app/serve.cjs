'use strict';
// The app both consumers start: memwarden on a real Express app (the CommonJS one
// with app.use(memwarden.express()), the ES module one with memwarden.express.attach()), on an
// ephemeral port of 127.0.0.1. Prints one JSON line ({ port, ... }) when it listens,
// and stops when its stdin closes; it must then exit by itself (nothing of memwarden
// keeps the process alive).
module.exports = async function serve({ memwarden, express, moduleSystem, resolved }) {
  const manager = memwarden.MemoryManagerService.getInstance();
  await manager.initialize();
  const app = express();
  if (moduleSystem === 'module') memwarden.express.attach(app);
  else app.use(memwarden.express());
  app.get('/', (req, res) => res.json({ hello: 'world' }));
  const server = app.listen(0, '127.0.0.1', () => {
    const line = {
      port: server.address().port,
      moduleSystem,
      resolved,
      node: process.version,
      nodeApi: process.versions.napi,
      nativeBinding: memwarden.nativeBinding,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  });
  process.stdin.on('end', () => {
    server.close();
    manager.shutdown().catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
  });
  process.stdin.resume();
};

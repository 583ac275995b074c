// ES module consumer: the default import and named imports of 'memwarden'.
import express from 'express';
import memwarden, { MemoryManagerService, nativeBinding } from 'memwarden';
import serve from './serve.cjs';

if (memwarden.MemoryManagerService !== MemoryManagerService || memwarden.nativeBinding !== nativeBinding) {
  throw new Error('the default export and the named exports of memwarden differ');
}
// import.meta.resolve is synchronous from Node 20.6; older versions report null.
let resolved = null;
try {
  resolved = typeof import.meta.resolve === 'function' ? import.meta.resolve('memwarden') : null;
} catch {
  resolved = null;
}
await serve({ memwarden, express, moduleSystem: 'module', resolved });

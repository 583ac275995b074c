'use strict';
// Fixture: a Rust panic inside the addon must surface as a JS exception, not
// abort the process. A failure here shows in the parent as a signal (SIGABRT).

const path = require('node:path');
const { ROOT, emitResult } = require('./child');
const { Monitor } = require(path.join(ROOT, 'binding.js'));

const monitor = new Monitor({}, {}, require('node:v8'), () => {}, () => {});
const out = { threw: false };
try {
  monitor.__panicForTest();
} catch (err) {
  out.threw = true;
  out.isError = err instanceof Error;
  out.message = err && err.message;
}
// The monitor still works after the panic.
out.statusAfter = monitor.report().status;
monitor.shutdown();
emitResult(out);

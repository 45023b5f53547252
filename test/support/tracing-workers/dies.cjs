/**
 * A tracing export worker that dies (exit code 3) on the first batch of spans
 * it is posted: tracing-worker.test.ts checks the gateway's side of a crash.
 */
'use strict';
const { parentPort } = require('node:worker_threads');

parentPort.on('message', (msg) => {
  if (msg.op === 'spans') process.exit(3);
  // Flush and shutdown before any span are answered, as the real worker does.
  parentPort.postMessage({ id: msg.id });
});

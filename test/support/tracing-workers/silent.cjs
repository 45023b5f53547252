/**
 * A tracing export worker that takes every message and never answers (a
 * worker stuck on a collector): flush and shutdown must give up on it.
 */
'use strict';
const { parentPort } = require('node:worker_threads');

parentPort.on('message', () => undefined);

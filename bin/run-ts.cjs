#!/usr/bin/env node
// Runs a TypeScript entry point (a benchmark or a script) without a build step.
require('tsx/cjs');
const path = require('node:path');
const target = process.argv[2];
if (!target) {
  console.error('usage: run-ts <file.ts> [args...]');
  process.exit(2);
}
process.argv.splice(1, 1);
require(path.resolve(target));

#!/usr/bin/env node
// The `hub` CLI: runs the compiled JavaScript in dist/ (`npm run build`; built
// on install by `prepare`, and by `npm start` when a source changed). No
// TypeScript at run time: an install without dev dependencies runs it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(entry)) {
  console.error('hub: dist/ is missing: run `npm run build` (or `npm ci`, which builds it) first');
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  })
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });

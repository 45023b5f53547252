#!/usr/bin/env node
// The `hub` CLI. Runs the TypeScript sources directly (through tsx) so a fresh
// clone works after `npm ci` with no build step.
require('tsx/cjs');
require('../src/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  })
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });

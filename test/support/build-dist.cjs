/**
 * Jest global setup: builds dist/ when a source changed since the last build,
 * so the tests that run the compiled `hub` (bin/hub.cjs: test/graphql/serve,
 * test/build/package) never run stale JavaScript.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function buildDist() {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build.cjs'), '--if-stale'], {
    stdio: 'inherit',
  });
};

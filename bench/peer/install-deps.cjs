#!/usr/bin/env node
/**
 * Installs the peer benchmark's own dependencies (PostGraphile v5 and its
 * packages, see package.json here) into bench/peer/node_modules with `npm ci`,
 * unless the installed tree already matches bench/peer/package-lock.json.
 * Run by `npm run bench:peer` before the bench; the root `npm ci` never
 * installs them (PostGraphile declares Node >= 22, the gateway Node >= 20.19).
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = __dirname;

/** The name@version of every package a lockfile lists (npm writes node_modules/.package-lock.json at install). */
function versions(file) {
  if (!fs.existsSync(file)) return undefined;
  const { packages = {} } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return Object.entries(packages)
    .filter(([key]) => key !== '')
    .map(([key, entry]) => `${key}@${entry.version}`)
    .sort()
    .join('\n');
}

const wanted = versions(path.join(dir, 'package-lock.json'));
if (wanted !== undefined && wanted === versions(path.join(dir, 'node_modules', '.package-lock.json'))) {
  process.exit(0);
}
process.stderr.write('bench:peer: installing PostGraphile into bench/peer/node_modules (npm ci, once)\n');
// PostGraphile declares Node >= 22: npm warns (EBADENGINE) on Node 20, where the
// bench runs it with polyfill.mjs (Promise.withResolvers), as README.md says.
execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'inherit' });

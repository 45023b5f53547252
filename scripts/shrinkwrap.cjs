#!/usr/bin/env node
/**
 * `npm pack` hooks (prepack / postpack): puts an npm-shrinkwrap.json in the
 * package, made from package-lock.json without the dev-only entries, so an
 * install of the packed tarball gets exactly the dependency versions CI tested
 * (and no warnings about development tools it never installs). Removed again
 * after packing: the repository keeps package-lock.json only.
 *
 *   node scripts/shrinkwrap.cjs           write npm-shrinkwrap.json
 *   node scripts/shrinkwrap.cjs --remove  delete it
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const target = path.join(root, 'npm-shrinkwrap.json');

if (process.argv.includes('--remove')) {
  fs.rmSync(target, { force: true });
} else {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  // The workspaces (the client package, the dashboard) are not part of the
  // gateway's package: neither their folders nor their links are shipped.
  const workspaces = new Set(lock.packages[''].workspaces ?? []);
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (entry.dev === true || workspaces.has(key) || (entry.link === true && workspaces.has(entry.resolved)))
      delete lock.packages[key];
  }
  delete lock.packages[''].devDependencies;
  delete lock.packages[''].workspaces;
  fs.writeFileSync(target, `${JSON.stringify(lock, null, 2)}\n`);
}

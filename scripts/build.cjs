#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json, same
 * layout: src/x/y.ts -> dist/x/y.js, so paths relative to a module, such as
 * schema.graphql two folders up, hold in both), copies the files modules read
 * at run time (SQL, the PGlite worker), removes outputs whose source is gone,
 * and stamps dist/.build-stamp.
 *
 *   node scripts/build.cjs             build (incremental)
 *   node scripts/build.cjs --if-stale  build only when a source is newer than the stamp
 *                                      (`prepare` on install, `npm start`)
 *
 * In an installed package (no src/) there is nothing to build: it exits 0.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
const stamp = path.join(dist, '.build-stamp');
/** Files other than TypeScript that modules read at run time, by extension. */
const ASSETS = new Set(['.sql', '.cjs']);
/** Besides src/, what changes the output. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(root, f));

/** Every file and directory under `dir` (directories too: their mtime changes when a file is added or removed). */
function walk(dir, out = []) {
  out.push(dir);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

function isStale() {
  let built;
  try {
    built = fs.statSync(stamp).mtimeMs;
  } catch {
    return true;
  }
  return [...walk(src), ...INPUTS].some((f) => fs.statSync(f).mtimeMs > built);
}

function compile() {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    console.error(
      'hub build: typescript is not installed (a devDependency). Install with dev dependencies ' +
        '(npm ci), or install the packed package (npm pack), which ships dist/ built.',
    );
    return false;
  }
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  return r.status === 0;
}

/** Copies run-time assets next to their compiled modules. */
function copyAssets() {
  for (const file of walk(src)) {
    if (!ASSETS.has(path.extname(file)) || !fs.statSync(file).isFile()) continue;
    const target = path.join(dist, path.relative(src, file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(file, target);
  }
}

/** Removes compiled files and assets whose source no longer exists (renamed or deleted modules). */
function removeOrphans() {
  for (const file of walk(dist)) {
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) continue;
    const rel = path.relative(dist, file);
    if (rel.startsWith('.')) continue; // .tsbuildinfo, .build-stamp
    const source = rel.endsWith('.js') ? path.join(src, rel.replace(/\.js$/, '.ts')) : path.join(src, rel);
    if (!fs.existsSync(source)) fs.rmSync(file);
  }
}

function main() {
  if (!fs.existsSync(src)) return 0;
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) return 0;
  if (ifStale) {
    const why = fs.existsSync(stamp) ? 'sources changed since the last build' : 'no build yet';
    console.error(`hub build: ${why}; building dist/ ...`);
  }
  const started = Date.now();
  if (!compile()) {
    console.error('hub build: failed');
    return 1;
  }
  copyAssets();
  removeOrphans();
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
  if (ifStale) console.error(`hub build: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = main();

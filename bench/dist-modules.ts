/**
 * Where a benchmark loads the Hub's modules from: the compiled JavaScript in
 * dist/ (what `npm start`, `hub serve` and `hub move` run through
 * bin/hub.cjs), or the TypeScript sources in src/ through tsx. esbuild's
 * CommonJS output, which tsx runs, reads every imported name through a
 * getter; code that reads many of them per record (a copy's checks and
 * encoders, tracing) costs more there than in tsc's output, so a figure
 * meant to describe a deployment is taken from dist/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The tree modules are loaded from. */
export type ModulesFrom = 'dist' | 'src';

const ROOT = resolve(__dirname, '..');

/**
 * The tree named by the environment variable `name` (`dist` when unset).
 * @throws Error naming the variable when it holds anything else.
 */
export function modulesFrom(name: string): ModulesFrom {
  const from = process.env[name] ?? 'dist';
  if (from !== 'dist' && from !== 'src') {
    throw new Error(`${name} must be dist or src, not ${JSON.stringify(from)}`);
  }
  return from;
}

/**
 * Loads `path` (relative to the tree, without extension, e.g.
 * `migrate/copy`) from `from`; the caller types it by its source.
 * @throws Error when dist/ was never built.
 */
export function requireFrom(from: ModulesFrom, path: string): unknown {
  if (from === 'dist' && !existsSync(join(ROOT, 'dist', '.build-stamp'))) {
    throw new Error('bench: dist/ is not built: run `npm run build` first');
  }
  // Loaded at run time from the tree chosen by the caller.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(ROOT, from, path)) as unknown;
}

/**
 * Builds dist/ when a source is newer than its build (`scripts/build.cjs
 * --if-stale`, as `npm start` does). Does nothing for `src`.
 * @throws Error when the build fails.
 */
export function buildDistIfStale(from: ModulesFrom): void {
  if (from !== 'dist') return;
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.cjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('bench: building dist/ failed (scripts/build.cjs)');
}

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
function modulesFrom(name: string): ModulesFrom {
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
function requireFrom(from: ModulesFrom, path: string): unknown {
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
function buildDistIfStale(from: ModulesFrom): void {
  if (from !== 'dist') return;
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.cjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('bench: building dist/ failed (scripts/build.cjs)');
}

/** A set of the Hub's modules loaded from one tree (see {@link moduleSet}). */
export interface ModuleSet<T> {
  /** The tree named by the set's environment variable (`dist` when unset). */
  readonly from: () => ModulesFrom;
  /** The modules, loaded once per process (a module's state is shared by every caller). */
  readonly load: () => T;
  /** Builds dist/ when stale, before anything is loaded from it; nothing for `src`. */
  readonly buildIfStale: () => void;
}

/**
 * The modules `paths` names (a name -> its path in the tree, e.g.
 * `{ copy: 'migrate/copy' }`), typed by `T`, from the tree the environment
 * variable `envVar` chooses.
 * @throws Error (from `from`, `load` or `buildIfStale`) for a bad `envVar`
 *   value, a dist/ never built, or a failed build.
 */
export function moduleSet<T>(envVar: string, paths: { readonly [K in keyof T]: string }): ModuleSet<T> {
  let loaded: T | undefined;
  const from = (): ModulesFrom => modulesFrom(envVar);
  return {
    from,
    load: () => {
      if (loaded !== undefined) return loaded;
      const tree = from();
      const modules: Partial<T> = {};
      for (const name of Object.keys(paths) as (keyof T)[]) {
        modules[name] = requireFrom(tree, paths[name]) as T[keyof T];
      }
      loaded = modules as T;
      return loaded;
    },
    buildIfStale: () => buildDistIfStale(from()),
  };
}

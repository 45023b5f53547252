/**
 * The gateway's modules as the benchmarks' gateway children load them: by
 * default the compiled JavaScript in dist/, the code `npm start` and
 * `hub serve` run (bin/hub.cjs), so a figure is the production build's;
 * `BENCH_GATEWAY_FROM=src` loads the TypeScript sources through tsx instead
 * (what these children did before; esbuild's CommonJS output reads every
 * imported name through a getter, which costs the code that reads many of
 * them, tracing among it, more than tsc's output does).
 *
 * dist/ must be current: the parent builds it before it forks a child
 * ({@link buildGatewayIfStale}).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as Server from '../src/http/server';
import type * as Log from '../src/platform/log';
import type * as Tracing from '../src/platform/tracing';
import type * as TracingOtel from '../src/platform/tracing-otel';
import type * as Stores from '../src/stores';

/** The modules a gateway child uses, typed by their sources. */
export interface GatewayModules {
  readonly server: typeof Server;
  readonly log: typeof Log;
  readonly stores: typeof Stores;
  readonly tracing: typeof Tracing;
  readonly tracingOtel: typeof TracingOtel;
}

const ROOT = resolve(__dirname, '..');

/** Where the children load the gateway from: `dist` unless BENCH_GATEWAY_FROM=src. */
export function gatewayFrom(): 'dist' | 'src' {
  const from = process.env.BENCH_GATEWAY_FROM ?? 'dist';
  if (from !== 'dist' && from !== 'src') {
    throw new Error(`BENCH_GATEWAY_FROM must be dist or src, not ${JSON.stringify(from)}`);
  }
  return from;
}

let loaded: GatewayModules | undefined;

/**
 * The gateway's modules from {@link gatewayFrom}, loaded once per process (a
 * module's state, the installed tracer among it, is shared by every caller).
 * @throws Error when dist/ is missing.
 */
export function gatewayModules(): GatewayModules {
  if (loaded !== undefined) return loaded;
  const from = gatewayFrom();
  if (from === 'dist' && !existsSync(join(ROOT, 'dist', '.build-stamp'))) {
    throw new Error('bench: dist/ is not built: run `npm run build` first');
  }
  const base = join(ROOT, from);
  // Loaded at run time from the tree chosen above; typed by the sources.
  /* eslint-disable @typescript-eslint/no-require-imports */
  loaded = {
    server: require(join(base, 'http/server')) as GatewayModules['server'],
    log: require(join(base, 'platform/log')) as GatewayModules['log'],
    stores: require(join(base, 'stores')) as GatewayModules['stores'],
    tracing: require(join(base, 'platform/tracing')) as GatewayModules['tracing'],
    tracingOtel: require(join(base, 'platform/tracing-otel')) as GatewayModules['tracingOtel'],
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return loaded;
}

/**
 * Builds dist/ when a source is newer than its build (`scripts/build.cjs
 * --if-stale`, as `npm start` does); for the parent, before it forks children
 * that load from dist/. Does nothing when they load from src/.
 * @throws Error when the build fails.
 */
export function buildGatewayIfStale(): void {
  if (gatewayFrom() !== 'dist') return;
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.cjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('bench: building dist/ failed (scripts/build.cjs)');
}

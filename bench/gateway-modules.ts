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
import type * as Server from '../src/http/server';
import type * as Log from '../src/platform/log';
import type * as Tracing from '../src/platform/tracing';
import type * as TracingOtel from '../src/platform/tracing-otel';
import type * as Stores from '../src/stores';
import { type ModulesFrom, moduleSet } from './dist-modules';

/** The modules a gateway child uses, typed by their sources. */
export interface GatewayModules {
  readonly server: typeof Server;
  readonly log: typeof Log;
  readonly stores: typeof Stores;
  readonly tracing: typeof Tracing;
  readonly tracingOtel: typeof TracingOtel;
}

const gateway = moduleSet<GatewayModules>('BENCH_GATEWAY_FROM', {
  server: 'http/server',
  log: 'platform/log',
  stores: 'stores',
  tracing: 'platform/tracing',
  tracingOtel: 'platform/tracing-otel',
});

/** Where the children load the gateway from: `dist` unless BENCH_GATEWAY_FROM=src. */
export const gatewayFrom: () => ModulesFrom = gateway.from;

/**
 * The gateway's modules from {@link gatewayFrom}, loaded once per process (a
 * module's state, the installed tracer among it, is shared by every caller).
 * @throws Error when dist/ is missing.
 */
export const gatewayModules: () => GatewayModules = gateway.load;

/**
 * Builds dist/ when a source is newer than its build (`scripts/build.cjs
 * --if-stale`, as `npm start` does); for the parent, before it forks children
 * that load from dist/. Does nothing when they load from src/.
 * @throws Error when the build fails.
 */
export const buildGatewayIfStale: () => void = gateway.buildIfStale;

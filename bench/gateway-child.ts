/**
 * The child side of the benchmarks that run a gateway in its own process
 * (bench:gateway, bench:read-path): serve the gateway over a store, tell the
 * parent its URL, answer `cpu` with the process's CPU time and `stop` by
 * closing everything and exiting. The gateway runs from dist/ unless
 * BENCH_GATEWAY_FROM=src (gateway-modules.ts).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { gatewayModules } from './gateway-modules';

/** What differs between the benchmarks' gateway children. */
export interface GatewayChildOptions {
  /** The tenant's cap on store calls in flight (its other limits are out of reach). */
  readonly maxStoreCalls: number;
  /** Runs after the gateway and the store closed, before the process exits (a tracer's shutdown). */
  readonly afterClose?: () => Promise<void>;
}

/**
 * Serves a gateway over `uri` with `secret` for tokens, one tenant at its raw
 * speed: it gets the whole gateway, not a fair share of it (bench:abuse
 * measures shares). Resolves once the parent has been sent the URL; the
 * process exits on `stop`.
 */
export async function serveGatewayChild(
  uri: string,
  secret: string,
  options: GatewayChildOptions,
): Promise<void> {
  const { server, log, stores } = gatewayModules();
  const store = await stores.openStore(uri);
  const gateway = await server.createGateway({
    store,
    auth: { jwtSecret: secret },
    log: log.silentLogger,
    tenantLimits: {
      maxInFlight: 1024,
      maxStoreCalls: options.maxStoreCalls,
      costPerSecond: 1e12,
      burst: 1e12,
    },
  });
  const url = await gateway.listen(0);
  const gc = gcCounts();
  process.send?.({ url });
  process.on('message', (m: unknown) => {
    if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
    if (m === 'gc') process.send?.({ gc: { ...gc } });
    if (m === 'stop')
      void gateway
        .close(1000)
        .then(() => store.close())
        .then(() => options.afterClose?.())
        .then(() => process.exit(0));
  });
}

/** Garbage collections so far, by kind: how many and their pause time (ms). */
export interface GcCounts {
  minor: number;
  minorMs: number;
  major: number;
  majorMs: number;
  incremental: number;
  incrementalMs: number;
}

/** Counts this process's garbage collections from now on (perf_hooks `gc` entries). */
function gcCounts(): GcCounts {
  const counts: GcCounts = { minor: 0, minorMs: 0, major: 0, majorMs: 0, incremental: 0, incrementalMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        counts.minor++;
        counts.minorMs += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        counts.major++;
        counts.majorMs += e.duration;
      } else if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) {
        counts.incremental++;
        counts.incrementalMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  return counts;
}

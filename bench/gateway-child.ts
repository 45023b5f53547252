/**
 * The child side of the benchmarks that run a gateway in its own process
 * (bench:gateway, bench:read-path): serve the gateway over a store, tell the
 * parent its URL, answer `cpu` with the process's CPU time and `stop` by
 * closing everything and exiting.
 */
import { createGateway } from '../src/http/server';
import { silentLogger } from '../src/platform/log';
import { openStore } from '../src/stores';

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
  const store = await openStore(uri);
  const gateway = await createGateway({
    store,
    auth: { jwtSecret: secret },
    log: silentLogger,
    tenantLimits: {
      maxInFlight: 1024,
      maxStoreCalls: options.maxStoreCalls,
      costPerSecond: 1e12,
      burst: 1e12,
    },
  });
  const url = await gateway.listen(0);
  process.send?.({ url });
  process.on('message', (m: unknown) => {
    if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
    if (m === 'stop')
      void gateway
        .close(1000)
        .then(() => store.close())
        .then(() => options.afterClose?.())
        .then(() => process.exit(0));
  });
}

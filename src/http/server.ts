/**
 * The gateway's HTTP server (node:http): `/graphql`, `/graphiql`, `/dashboard/`, `/healthz`,
 * `/readyz`, `/metrics` and `/ingest/<recordType>`, with a request id on every
 * request, structured access logs, and graceful shutdown that lets in-flight
 * requests finish. It routes requests (gateway-routes.ts); the GraphQL server
 * (src/graphql) owns everything about executing them.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hub } from '../hub/hub';
import type { HubStore } from '../hub/store';
import { type GraphQLServer, createGraphQLServer } from '../graphql';
import { type AuthOptions, type Authenticator, createAuthenticator } from '../platform/auth';
import type { HealthSource } from '../platform/health';
import { type Logger, createLogger, errorFields } from '../platform/log';
import { fairStore } from '../platform/fair-store';
import { GatewayMetrics, instrumentStore } from '../platform/metrics';
import { traceStore } from '../platform/tracing-ports';
import { type TenantPolicy, uniformPolicy } from '../platform/tenant-limits';
import { type CostBudget, LocalBudget } from '../platform/token-bucket';
import { AdmissionControl } from './admission';
import { FairQueue } from './fair-queue';
import { meterStore } from '../platform/usage';
import { PersistedQueries } from './apq';
import { ingestLimits } from './ingest';
import { sendError } from './respond';
import { httpTimeouts, serverTimeoutOptions } from './request-timeouts';
import { InFlight, requestListener } from './request-listener';
import type { Gateway, GatewayOptions } from './gateway-options';
import { type RouteDeps, metricsListener, route } from './gateway-routes';

export type { Gateway, GatewayOptions } from './gateway-options';

function isAuthenticator(a: Authenticator | AuthOptions): a is Authenticator {
  return typeof (a as Authenticator).authenticate === 'function';
}

/**
 * Builds the gateway, in named steps: the tenants' metrics, the instrumented
 * store and the Hub over it, the GraphQL server, what the routes need, and
 * the HTTP server routing to them. It owns the GraphQL server; the store
 * stays the caller's to close after {@link Gateway.close}.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? createLogger('info');
  const metrics = options.metrics ?? new GatewayMetrics();
  const policy = options.tenantPolicy ?? uniformPolicy(options.tenantLimits);
  labelTenants(metrics, policy, options.health);
  const { store, hub } = storeAndHub(options, metrics, policy);
  const graphql = await createGraphQLServer({
    hub,
    log,
    metrics,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.usage ? { usage: options.usage } : {}),
  });
  const budget = options.budget ?? new LocalBudget();
  const deps = routeDeps(options, { store, hub, graphql, metrics, policy, budget });
  const server = createServer(
    serverTimeoutOptions(deps.timeouts),
    requestListener(deps, log, (req, res, url, id, rlog, span) => route(deps, req, res, url, id, rlog, span)),
  );
  // Longer than the idle timeout of the proxies and clients in front of it
  // (load balancers commonly keep idle connections 60 s): the side that closes
  // an idle connection must be the client, or a request it sends on the
  // connection as the server closes it fails with ECONNRESET.
  server.keepAliveTimeout = 65_000;
  return gatewayOver(server, deps, budget, log);
}

/** Metrics of the stores (the health source's), and the tenants' registered operations and labels. */
function labelTenants(metrics: GatewayMetrics, policy: TenantPolicy, health: HealthSource | undefined): void {
  health?.registerMetrics(metrics.registry);
  metrics.useRegisteredOperations((tenant) => policy.operations(tenant));
  metrics.useTenantLabels((tenant) => policy.metricsLabel(tenant));
}

/**
 * The store as the gateway calls it (metered, traced, timed) and the Hub
 * over each tenant's fair share of it.
 */
function storeAndHub(
  options: GatewayOptions,
  metrics: GatewayMetrics,
  policy: TenantPolicy,
): { readonly store: HubStore; readonly hub: Hub } {
  const storeLabel = options.storeLabel ?? 'primary';
  // Spans inside the timing, so a store call's span and its metric measure the same call.
  const store = instrumentStore(
    traceStore(meterStore(options.store, options.usage), storeLabel),
    storeLabel,
    metrics,
  );
  const cursorSecret = options.cursorSecret ?? randomBytes(32).toString('hex');
  const hub = new Hub(fairStore(store, policy).store, { ...options.hubOptions, cursorSecret });
  return { store, hub };
}

/** What {@link routeDeps} builds the routes' dependencies from. */
interface Parts {
  readonly store: HubStore;
  readonly hub: Hub;
  readonly graphql: GraphQLServer;
  readonly metrics: GatewayMetrics;
  readonly policy: TenantPolicy;
  readonly budget: CostBudget;
}

/** The routes' dependencies: authentication, persisted queries, admission, ingest bounds, timeouts, admin. */
function routeDeps(options: GatewayOptions, parts: Parts): RouteDeps {
  const { store, hub, graphql, metrics, policy, budget } = parts;
  const auth = isAuthenticator(options.auth) ? options.auth : createAuthenticator(options.auth);
  const persistedQueries =
    options.persistedQueries ?? new PersistedQueries((tenant) => policy.limits(tenant).persistedQueryChars);
  const admission = new AdmissionControl(policy, budget, new FairQueue(options.sharedConcurrency));
  const deps: RouteDeps = {
    options,
    store,
    hub,
    graphql,
    auth,
    metrics,
    persistedQueries,
    // Built once: an object spread per request showed in the by-id profile.
    graphqlDeps: {
      graphql,
      auth,
      metrics,
      persistedQueries,
      admission,
      maxBodyBytes: options.maxBodyBytes ?? 16 * 1024 * 1024,
    },
    inFlight: new InFlight(),
    ingestLimits: ingestLimits({
      ...options.ingest,
      ...(options.hubOptions?.maxArtifactBodyBytes !== undefined
        ? { maxBodyBytes: options.hubOptions.maxArtifactBodyBytes }
        : {}),
    }),
    admission,
    timeouts: httpTimeouts(options.httpTimeouts),
  };
  if (options.admin)
    deps.admin = { actions: options.admin, authenticate: (h) => auth.authenticate(h), busy: false };
  return deps;
}

/** The {@link Gateway} over its HTTP server: listening, the metrics listener, graceful close. */
function gatewayOver(server: Server, deps: RouteDeps, budget: CostBudget, log: Logger): Gateway {
  let metricsServer: Server | undefined;
  return {
    server,
    hub: deps.hub,
    metrics: deps.metrics,
    listen: (port, host) => listen(server, port, host),
    listenMetrics(port, host) {
      metricsServer ??= createServer(serverTimeoutOptions(deps.timeouts), (req, res) => {
        metricsListener(deps, req, res, log).catch((err: unknown) => {
          log.error('metrics listener error', errorFields(err));
          sendError(res, 500, 'INTERNAL', 'internal error');
        });
      });
      return listen(metricsServer, port, host);
    },
    async close(graceMs = 10_000) {
      const stopMetrics = metricsServer?.listening
        ? new Promise<void>((r) => {
            metricsServer?.close(() => r());
            metricsServer?.closeAllConnections();
          })
        : undefined;
      if (await deps.inFlight.drain(server, graceMs)) {
        await deps.graphql.stop();
        await budget.close();
      }
      await stopMetrics;
    },
  };
}

/** Starts listening; resolves to the base URL (a wildcard address is shown as 127.0.0.1). */
function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve(`http://${h === '0.0.0.0' || h === '[::]' ? '127.0.0.1' : h}:${addr.port}`);
    });
  });
}

/**
 * The gateway's HTTP server (node:http): `/graphql`, `/graphiql`, `/dashboard/`, `/healthz`,
 * `/readyz`, `/metrics` and `/ingest/<recordType>`, with a request id on every
 * request, structured access logs, and graceful shutdown that lets in-flight
 * requests finish. It routes requests; the GraphQL server (src/graphql) owns
 * everything about executing them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hub, type HubOptions } from '../hub/hub';
import type { HubStore } from '../hub/store';
import { type GraphQLServer, type QueryLimits, createGraphQLServer } from '../graphql';
import { type AuthOptions, type Authenticator, createAuthenticator, hasScope } from '../platform/auth';
import type { HealthSource } from '../platform/health';
import { type Logger, createLogger, errorFields } from '../platform/log';
import { fairStore } from '../platform/fair-store';
import { GatewayMetrics, instrumentStore } from '../platform/metrics';
import { traceHub, traceStore } from '../platform/tracing-ports';
import { type TenantLimits, type TenantPolicy, uniformPolicy } from '../platform/tenant-limits';
import { type CostBudget, LocalBudget } from '../platform/token-bucket';
import { AdmissionControl } from './admission';
import { FairQueue } from './fair-queue';
import { type UsageMeter, meterStore } from '../platform/usage';
import { type DashboardOptions, handleDashboard } from './dashboard';
import { type GraphiQLOptions, handleGraphiQL } from './graphiql';
import { PersistedQueries, type PersistedQueryCache } from './apq';
import { type GraphQLHandlerDeps, handleGraphQL } from './graphql-handler';
import { type AdminActions, type AdminRoute, handleAdmin } from './admin';
import { type IngestLimitOptions, type IngestLimits, handleIngest, ingestLimits } from './ingest';
import { sendError, sendJson } from './respond';
import { type HttpTimeouts, httpTimeouts, serverTimeoutOptions } from './request-timeouts';
import { InFlight, requestListener } from './request-listener';

export interface GatewayOptions {
  /** The store behind the Hub (a single store or a routing store: both are HubStores). */
  readonly store: HubStore;
  /** Label of the store in metrics (e.g. the URI scheme). Default `primary`. */
  readonly storeLabel?: string;
  /** An authenticator, or what to build one from. */
  readonly auth: Authenticator | AuthOptions;
  /** Cursor MAC key shared by replicas; default: random per process (cursors then die with it). */
  readonly cursorSecret?: string;
  readonly hubOptions?: Omit<HubOptions, 'cursorSecret'>;
  readonly limits?: Partial<QueryLimits>;
  /** Largest `/graphql` body in bytes (default 16 MiB: a 10 MiB artifact in base64 fits). */
  readonly maxBodyBytes?: number;
  readonly log?: Logger;
  readonly metrics?: GatewayMetrics;
  /**
   * Each tenant's fair-share limits and registered operations (the router's,
   * from the tenants file; src/router/tenant-policy.ts). Default: the same
   * limits for everyone ({@link tenantLimits} over the defaults).
   */
  readonly tenantPolicy?: TenantPolicy;
  /** Limits of every tenant when no {@link tenantPolicy} is given. */
  readonly tenantLimits?: Partial<TenantLimits>;
  /**
   * Requests divided among the tenants active at once (default 8): each runs
   * at most its share, the rest wait their turn (src/http/fair-queue.ts).
   */
  readonly sharedConcurrency?: number;
  /** Where cost buckets live (default: this process; Redis with HUB_REDIS_URL). Closed with the gateway. */
  readonly budget?: CostBudget;
  /** Where persisted queries are kept (default: this process, per tenant; Redis with HUB_REDIS_URL). */
  readonly persistedQueries?: PersistedQueryCache;
  /** Lines per Hub call on /ingest (default 500). */
  readonly ingestChunkLines?: number;
  /** Bounds of /ingest (lines, bytes in flight per request and per gateway, time); see ingest.ts. */
  readonly ingest?: IngestLimitOptions;
  /** Headers and ordinary request timeouts (default 20 s and 60 s); see request-timeouts.ts. */
  readonly httpTimeouts?: Partial<HttpTimeouts>;
  /** GraphiQL at /graphiql (default enabled). */
  readonly graphiql?: GraphiQLOptions | false;
  /** The manager dashboard at /dashboard/ (default enabled). */
  readonly dashboard?: DashboardOptions | false;
  /**
   * Who may read `/metrics` and the detail of `/readyz` (figures of every
   * tenant: an operator's view). `separateListener`: only on the listener
   * started by {@link Gateway.listenMetrics} (`HUB_METRICS_PORT`), never on
   * the main port. Otherwise on the main port with `Authorization: Bearer`
   * and either `token` (`HUB_METRICS_TOKEN`) or a verified token holding the
   * `hub:metrics` scope. Default: the credential rule, with no static token.
   */
  readonly metricsAccess?: { readonly separateListener?: boolean; readonly token?: string };
  /**
   * Metrics and readiness of the stores beyond the store's ping (a routing
   * store's: src/router/router-metrics.ts); the composition root picks it.
   */
  readonly health?: HealthSource;
  /**
   * Per-tenant usage per minute (requests, errors, cost units, rows read,
   * rollups, bytes ingested); the composition root owns it (flushes, closes).
   */
  readonly usage?: UsageMeter;
  /**
   * Operator actions at `/admin/...` (hub:admin; tenant moves run in this
   * process): see src/http/admin.ts. Absent: `/admin/` answers 404.
   */
  readonly admin?: AdminActions;
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  readonly server: Server;
  readonly hub: Hub;
  readonly metrics: GatewayMetrics;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:4000`. */
  listen(port: number, host?: string): Promise<string>;
  /**
   * Starts the metrics listener: `/metrics`, `/readyz` (with detail) and
   * `/healthz` only, without a credential (bind it where only the operator's
   * scraper reaches). Resolves to its base URL.
   */
  listenMetrics(port: number, host?: string): Promise<string>;
  /** Stops accepting requests, waits for in-flight ones (at most `graceMs`), then stops the GraphQL server. */
  close(graceMs?: number): Promise<void>;
}

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
    hub: traceHub(hub),
    log,
    metrics,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.usage ? { usage: options.usage } : {}),
  });
  const budget = options.budget ?? new LocalBudget();
  const deps = routeDeps(options, { store, hub, graphql, metrics, policy, budget });
  const server = createServer(
    serverTimeoutOptions(deps.timeouts),
    requestListener(deps, log, (req, res, url, id, rlog) => route(deps, req, res, url, id, rlog)),
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

/** What the routes need. */
interface RouteDeps {
  readonly options: GatewayOptions;
  /** The instrumented store (every call timed). */
  readonly store: HubStore;
  readonly hub: Hub;
  readonly graphql: GraphQLServer;
  readonly auth: Authenticator;
  readonly metrics: GatewayMetrics;
  readonly persistedQueries: PersistedQueryCache;
  /** What `/graphql` needs (graphql-handler.ts). */
  readonly graphqlDeps: GraphQLHandlerDeps;
  readonly inFlight: InFlight;
  /** The gateway's ingest bounds, its bytes-in-flight budget included. */
  readonly ingestLimits: IngestLimits;
  readonly admission: AdmissionControl;
  readonly timeouts: HttpTimeouts;
  /** The `/admin/` route, when the composition root gave actions. */
  admin?: AdminRoute;
}

/** Routes one request by path. */
async function route(
  deps: RouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  rlog: Logger,
): Promise<void> {
  const { options, metrics } = deps;
  const path = url.pathname;
  if (path === '/graphql') return handleGraphQL(deps.graphqlDeps, req, res, url, requestId, rlog);
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
  if (path === '/favicon.ico') {
    res.statusCode = 204;
    return void res.end();
  }
  if (path === '/readyz') return handleReadiness(deps, res, rlog, await operatorAccess(deps, req));
  if (path === '/metrics') {
    if (options.metricsAccess?.separateListener) return sendError(res, 404, 'NOT_FOUND', `no route ${path}`);
    if (!(await operatorAccess(deps, req))) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(
        res,
        401,
        'UNAUTHENTICATED',
        '/metrics needs a bearer credential: HUB_METRICS_TOKEN or a token with the hub:metrics scope',
      );
    }
    return sendMetrics(metrics, res);
  }
  if (path.startsWith('/ingest/')) {
    const chunk = options.ingestChunkLines ? { chunkLines: options.ingestChunkLines } : {};
    const usage = options.usage ? { usage: options.usage } : {};
    const ingest = { ...deps, ...chunk, ...usage, limits: deps.ingestLimits };
    return handleIngest(ingest, req, res, path.slice('/ingest/'.length), rlog);
  }
  if (deps.admin && path.startsWith('/admin/')) {
    return handleAdmin(deps.admin, req, res, path.slice('/admin/'.length), rlog);
  }
  if (options.graphiql !== false && (path === '/graphiql' || path.startsWith('/graphiql/'))) {
    return handleGraphiQL(options.graphiql ?? {}, req, res, path);
  }
  if (options.dashboard !== false && (path === '/dashboard' || path.startsWith('/dashboard/'))) {
    return handleDashboard(options.dashboard ?? {}, req, res, path);
  }
  return sendError(res, 404, 'NOT_FOUND', `no route ${path}`);
}

async function sendMetrics(metrics: GatewayMetrics, res: ServerResponse): Promise<void> {
  res.setHeader('content-type', metrics.registry.contentType);
  res.end(await metrics.registry.metrics());
}

/** The metrics listener's routes: `/metrics`, `/readyz` with detail, `/healthz`. */
async function metricsListener(
  deps: RouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/metrics') return sendMetrics(deps.metrics, res);
  if (path === '/readyz') return handleReadiness(deps, res, log, true);
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
  return sendError(res, 404, 'NOT_FOUND', `no route ${path}`);
}

/**
 * True when the request carries the operator's credential on the main port:
 * the static metrics token, or a verified token with `hub:metrics`. Never
 * when metrics live on their own listener.
 */
async function operatorAccess(deps: RouteDeps, req: IncomingMessage): Promise<boolean> {
  const access = deps.options.metricsAccess;
  const header = req.headers.authorization;
  if (access?.separateListener || header === undefined) return false;
  if (access?.token !== undefined) {
    const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
    if (timingSafeEqual(digest(header), digest(`Bearer ${access.token}`))) return true;
  }
  try {
    return hasScope(await deps.auth.authenticate(header), 'hub:metrics');
  } catch {
    return false;
  }
}

/**
 * `/readyz`: the store answers its ping, and the health source (a routing
 * store's, given by the composition root) reports ready. Its detail (store
 * labels, relays: every tenant's) is shown only to the operator
 * (`operator`: the metrics credential or listener); anyone else sees the status.
 */
async function handleReadiness(
  deps: RouteDeps,
  res: ServerResponse,
  rlog: Logger,
  operator: boolean,
): Promise<void> {
  if (deps.inFlight.shuttingDown) return sendJson(res, 503, { status: 'shutting down' });
  try {
    await deps.store.ping();
    const readiness = await deps.options.health?.readiness();
    if (readiness && !readiness.ready) return sendJson(res, 503, { status: 'unavailable' });
    return sendJson(res, 200, {
      status: 'ready',
      ...(operator && readiness?.detail ? { detail: readiness.detail } : {}),
    });
  } catch (err) {
    rlog.warn('readiness check failed', errorFields(err));
    return sendJson(res, 503, { status: 'unavailable' });
  }
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

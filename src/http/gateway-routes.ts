/**
 * The gateway's routes: one request routed by path to its handler, and the
 * operator's endpoints (`/metrics`, `/readyz`) on the main port and on the
 * metrics listener, with the credential rule that guards them there.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../hub/hub';
import type { HubStore } from '../hub/store';
import type { GraphQLServer } from '../graphql';
import { type Authenticator, hasScope } from '../platform/auth';
import { type Logger, errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import type { AdmissionControl } from './admission';
import { handleDashboard } from './dashboard';
import { handleGraphiQL } from './graphiql';
import type { PersistedQueryCache } from './apq';
import { type GraphQLHandlerDeps, handleGraphQL } from './graphql-handler';
import { type AdminRoute, handleAdmin } from './admin';
import { type IngestLimits, handleIngest } from './ingest';
import { sendError, sendJson } from './respond';
import type { HttpTimeouts } from './request-timeouts';
import type { InFlight } from './request-listener';
import type { GatewayOptions } from './gateway-options';
import type { Span } from '../platform/tracing';

/** What the routes need. */
export interface RouteDeps {
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
export async function route(
  deps: RouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  rlog: Logger,
  span: Span,
): Promise<void> {
  const { options, metrics } = deps;
  const path = url.pathname;
  if (path === '/graphql') return handleGraphQL(deps.graphqlDeps, req, res, url, requestId, rlog, span);
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
    return handleIngest(ingest, req, res, path.slice('/ingest/'.length), rlog, span);
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
export async function metricsListener(
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

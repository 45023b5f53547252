/**
 * The gateway's HTTP server (node:http): `/graphql`, `/graphiql`, `/healthz`,
 * `/readyz`, `/metrics` and `/ingest/<recordType>`, with a request id on every
 * request, structured access logs, and graceful shutdown that lets in-flight
 * requests finish.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { CursorCodec } from '../hub/cursor';
import { isHubError } from '../hub/errors';
import { Hub, type HubOptions } from '../hub/hub';
import type { HubStore } from '../hub/store';
import { type AuthOptions, type Authenticator, createAuthenticator } from '../graphql/auth';
import type { GraphQLContext } from '../graphql/context';
import { formatError } from '../graphql/errors';
import { DEFAULT_LIMITS, type QueryLimits, enforceDeadline, limitsPlugin } from '../graphql/limits';
import { fieldResolverFor } from '../graphql/resolvers/records';
import { jitGateway, withDefaultResolver } from '../graphql/jit-executor';
import { routeExtensionsPlugin } from '../graphql/route-extensions';
import { buildSchema } from '../graphql/schema';
import { registerRouterMetrics, routerReadiness } from '../router/router-metrics';
import { type GraphiQLOptions, handleGraphiQL } from './graphiql';
import { PersistedQueries } from './apq';
import { handleGraphQL } from './graphql-handler';
import { handleIngest } from './ingest';
import { type Logger, createLogger, errorFields } from './log';
import { GatewayMetrics, instrumentStore } from './metrics';
import { sendError, sendJson } from './respond';

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
  /** Lines per Hub call on /ingest (default 500). */
  readonly ingestChunkLines?: number;
  /** GraphiQL at /graphiql (default enabled). */
  readonly graphiql?: GraphiQLOptions | false;
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  readonly server: Server;
  readonly hub: Hub;
  readonly metrics: GatewayMetrics;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:4000`. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting requests, waits for in-flight ones (at most `graceMs`), then stops Apollo. */
  close(graceMs?: number): Promise<void>;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

function isAuthenticator(a: Authenticator | AuthOptions): a is Authenticator {
  return typeof (a as Authenticator).authenticate === 'function';
}

/** Codes of errors the client caused: not logged as server errors. */
const CLIENT_ERROR_CODES = new Set([
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Apollo plugin: records the operation for logs and metrics and counts errors by code. */
function observePlugin(metrics: GatewayMetrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue }) {
          contextValue.stats.operation = metrics.operationLabel(operationName);
          contextValue.stats.operationType = operation?.operation ?? 'unknown';
        },
        async didEncounterErrors({ errors, contextValue }) {
          // Clients only see a code and a safe message; the cause goes to the log, under the request id.
          for (const e of errors) {
            const original = e.originalError ?? e;
            const code = isHubError(original) ? original.code : e.extensions?.code;
            if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) continue;
            contextValue.log.error('graphql error', { path: e.path?.join('.'), ...errorFields(original) });
          }
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const e of response.body.singleResult.errors ?? []) {
            metrics.errors.inc({ code: String(e.extensions?.code ?? 'INTERNAL') });
          }
        },
      };
    },
  };
}

/**
 * Builds the gateway. It owns Apollo; the store stays the caller's to close
 * after {@link Gateway.close}.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? createLogger('info');
  const metrics = options.metrics ?? new GatewayMetrics();
  registerRouterMetrics(options.store, metrics.registry);
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const cursorSecret = options.cursorSecret ?? randomBytes(32).toString('hex');
  const store = instrumentStore(options.store, options.storeLabel ?? 'primary', metrics);
  const hub = new Hub(store, { ...options.hubOptions, cursorSecret });
  const auth = isAuthenticator(options.auth) ? options.auth : createAuthenticator(options.auth);
  const apollo = new ApolloServer<GraphQLContext>({
    // Operations are compiled once and run by graphql-jit (see jit-executor.ts);
    // the schema carries every resolver itself, the default one included.
    // The deadline wraps only the schema's own resolvers: a default one reads a loaded record.
    gateway: jitGateway(withDefaultResolver(enforceDeadline(buildSchema(), limits), fieldResolverFor)),
    formatError,
    includeStacktraceInErrorResponses: false,
    // Bearer tokens travel in a header a cross-site "simple" request cannot set,
    // so Apollo's CSRF guard (meant for cookie auth) would only block plain GETs.
    csrfPrevention: false,
    // APQ is handled before Apollo, per tenant (src/http/apq.ts): Apollo's cache is shared by all callers.
    persistedQueries: false,
    introspection: true,
    // Route extensions add nothing unless the store is a routing store.
    // No cache hints are used: Apollo's default cache-control plugin only cost a hook on every field.
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      observePlugin(metrics),
      limitsPlugin(limits),
      routeExtensionsPlugin<GraphQLContext>(),
    ],
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => log.warn(String(m)),
      error: (m) => log.error(String(m)),
    },
  });
  await apollo.start();
  const graphql = {
    apollo,
    hub,
    cursors: new CursorCodec(cursorSecret),
    auth,
    limits,
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1024 * 1024,
    metrics,
    persistedQueries: new PersistedQueries(),
  };

  let shuttingDown = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string, rlog: Logger) {
    const path = url.pathname;
    if (path === '/graphql') return handleGraphQL(graphql, req, res, url, requestId, rlog);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/favicon.ico') {
      res.statusCode = 204;
      return res.end();
    }
    if (path === '/readyz') {
      if (shuttingDown) return sendJson(res, 503, { status: 'shutting down' });
      try {
        await store.ping();
        // A routing store adds per-store health and dual-write lag (analytics trouble only degrades rollups).
        const { detail } = await routerReadiness(options.store);
        return sendJson(res, 200, { status: 'ready', ...(detail.stores.length > 0 ? { detail } : {}) });
      } catch (err) {
        rlog.warn('readiness check failed', errorFields(err));
        return sendJson(res, 503, { status: 'unavailable' });
      }
    }
    if (path === '/metrics') {
      res.setHeader('content-type', metrics.registry.contentType);
      return res.end(await metrics.registry.metrics());
    }
    if (path.startsWith('/ingest/')) {
      return handleIngest(
        { hub, auth, metrics, ...(options.ingestChunkLines ? { chunkLines: options.ingestChunkLines } : {}) },
        req,
        res,
        path.slice('/ingest/'.length),
        rlog,
      );
    }
    if (options.graphiql !== false && (path === '/graphiql' || path.startsWith('/graphiql/'))) {
      return handleGraphiQL(options.graphiql ?? {}, req, res, path);
    }
    return sendError(res, 404, 'NOT_FOUND', `no route ${path}`);
  }

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (shuttingDown) res.setHeader('connection', 'close');
    const rlog = log.child({ requestId });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      return sendError(res, 400, 'VALIDATION', 'malformed request URL');
    }
    inFlight++;
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const routeName = url.pathname.startsWith('/ingest/')
        ? '/ingest'
        : url.pathname.startsWith('/graphiql')
          ? '/graphiql'
          : url.pathname;
      metrics.httpRequests.inc({ route: routeName, status: String(res.statusCode) });
      if (url.pathname !== '/healthz' && url.pathname !== '/metrics') {
        rlog.info('request', {
          method: req.method,
          path: url.pathname,
          status: res.statusCode,
          ms: Math.round(ms * 100) / 100,
        });
      }
      inFlight--;
      if (inFlight === 0) for (const f of idle.splice(0)) f();
    });
    route(req, res, url, requestId, rlog).catch((err: unknown) => {
      rlog.error('unhandled error', errorFields(err));
      sendError(res, 500, 'INTERNAL', 'internal error');
    });
  });
  server.keepAliveTimeout = 5000;

  return {
    server,
    hub,
    metrics,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve(`http://${h === '0.0.0.0' || h === '[::]' ? '127.0.0.1' : h}:${addr.port}`);
        });
      });
    },
    async close(graceMs = 10_000) {
      if (shuttingDown) return;
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([drained, grace]);
      if (timer) clearTimeout(timer);
      server.closeIdleConnections();
      server.closeAllConnections();
      await closed;
      await apollo.stop();
    },
  };
}

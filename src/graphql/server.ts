/**
 * The GraphQL server of the gateway, the one thing `src/graphql` offers the
 * layers above (through index.ts): {@link createGraphQLServer} owns the
 * schema, every resolver rewrite (executable-schema.ts, in their order), the
 * graphql-jit executor, Apollo Server and its plugins, and the per-request
 * context and DataLoaders. The HTTP layer hands it an authenticated request
 * and writes back what it answers; it never sees a resolver.
 */
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { Hub } from '../hub/hub';
import type { Identity } from '../platform/auth';
import type { Logger } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import { NOOP_SPAN, type Span, runInSpan, traceFields } from '../platform/tracing';
import { tracedHub } from '../platform/tracing-ports';
import type { UsageMeter } from '../platform/usage';
import { type GraphQLContext, type RequestStats, createContext } from './context';
import { readOnlyPlugin } from './read-only';
import { formatError } from './errors';
import { withInlineBodies } from './inline-bodies';
import { buildExecutableSchema } from './executable-schema';
import { jitGateway } from './jit-executor';
import { DEFAULT_LIMITS, type QueryLimits, limitsPlugin, staticRefusal } from './limits';
import { Preflight } from './preflight';
import { observePlugin, tracePlugin, usagePlugin } from './observe';
import { RouteExtensions } from './route-extensions';
import { throttledPlugin } from './throttled';

export interface GraphQLServerOptions {
  readonly hub: Hub;
  /** Depth, cost and time limits; unset ones take {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<QueryLimits>;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  /** Per-tenant usage: counted per request (usage.ts), and read by the `usage` query. */
  readonly usage?: UsageMeter;
}

/** A GraphQL-over-HTTP request, as read from the wire (APQ already resolved). */
export interface GraphQLHttpRequest {
  readonly method: string;
  /** Request headers by lower-case name (node:http's `IncomingMessage.headers`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The URL's query string with its `?` (GET carries the operation there). */
  readonly search: string;
  /** The parsed JSON body of a POST; undefined for GET. */
  readonly body: unknown;
  /** Bytes of the POST body as received (per-tenant usage counts a mutation's as ingested). */
  readonly bodyBytes?: number;
  /**
   * Characters the HTTP layer appended to the query text (its tenant tag):
   * not the client's, so not counted against the text's length limit.
   */
  readonly appendedChars?: number;
}

/** Who sends a request: the verified identity, and the request's id and logger. */
export interface GraphQLCaller {
  readonly identity: Identity;
  readonly requestId: string;
  readonly log: Logger;
  /** The request's span (the parent of the operation's); absent or not recording: no spans. */
  readonly span?: Span;
}

/** What to answer: a response to write, or `timeout` when the request outlived its deadline. */
export type GraphQLOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Iterable<[string, string]>;
      /** The whole body, or its chunks (incremental delivery). */
      readonly body: string | AsyncIterable<string>;
      readonly stats: RequestStats;
    }
  | { readonly kind: 'timeout'; readonly stats: RequestStats };

export interface GraphQLServer {
  readonly limits: QueryLimits;
  /** Runs one request; resolves once its answer is known (never rejects for a GraphQL error). */
  execute(request: GraphQLHttpRequest, caller: GraphQLCaller): Promise<GraphQLOutcome>;
  /** Stops Apollo (after the HTTP server has drained). */
  stop(): Promise<void>;
}

/** Builds and starts the GraphQL server. */
export async function createGraphQLServer(options: GraphQLServerOptions): Promise<GraphQLServer> {
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const { apollo, preflight } = createApollo(options, limits);
  await apollo.start();
  const engine: Engine = { apollo, preflight, options, limits };
  return {
    limits,
    execute: (request, caller) => execute(engine, request, caller),
    stop: () => apollo.stop(),
  };
}

/** Apollo Server over the executable schema, run by graphql-jit. */
function createApollo(
  options: GraphQLServerOptions,
  limits: QueryLimits,
): { apollo: ApolloServer<GraphQLContext>; preflight: Preflight } {
  const { log } = options;
  const routes = new RouteExtensions();
  const { schema } = buildExecutableSchema(limits, routes);
  const preflight = new Preflight(schema, limits);
  const apollo = new ApolloServer<GraphQLContext>({
    // Operations are compiled once and run by graphql-jit (see jit-executor.ts).
    gateway: jitGateway(schema, limits),
    formatError,
    includeStacktraceInErrorResponses: false,
    // Bearer tokens travel in a header a cross-site "simple" request cannot set,
    // so Apollo's CSRF guard (meant for cookie auth) would only block plain GETs.
    csrfPrevention: false,
    // APQ is handled before Apollo, per tenant (src/http/apq.ts): Apollo's cache is shared by all callers.
    persistedQueries: false,
    // The preflight refuses longer texts first (limits.ts); this bounds Apollo's own parse too.
    parseOptions: { maxTokens: limits.maxTokens },
    introspection: true,
    // Route extensions add nothing unless a routing store recorded routes.
    // No cache hints are used: Apollo's default cache-control plugin only cost a hook on every field.
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      observePlugin(options.metrics),
      limitsPlugin(limits, preflight),
      routes.plugin<GraphQLContext>(),
      readOnlyPlugin(),
      throttledPlugin(),
      // Last: they read what the plugins above put in the response.
      tracePlugin(),
      ...(options.usage ? [usagePlugin(options.usage)] : []),
    ],
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => log.warn(String(m)),
      error: (m) => log.error(String(m)),
    },
  });
  return { apollo, preflight };
}

/** The query text of a request (POST body or GET query string), when it has one. */
function queryText(request: GraphQLHttpRequest): string | undefined {
  if (request.method === 'GET') return new URLSearchParams(request.search).get('query') ?? undefined;
  const query = (request.body as { query?: unknown } | null | undefined)?.query;
  return typeof query === 'string' ? query : undefined;
}

/** What runs a request: Apollo, the preflight, the options and the limits. */
interface Engine {
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly preflight: Preflight;
  readonly options: GraphQLServerOptions;
  readonly limits: QueryLimits;
}

/** Runs one request in a span `graphql.operation`, renamed `<type> <name>` once parsed (observe.ts). */
function execute(
  engine: Engine,
  request: GraphQLHttpRequest,
  caller: GraphQLCaller,
): Promise<GraphQLOutcome> {
  // Only inside a sampled request: unsampled ones run with the no-op span and the untraced Hub.
  const parent = caller.span ?? NOOP_SPAN;
  if (!parent.recording) return executeRequest(engine, request, caller, NOOP_SPAN);
  return runInSpan(parent.child('graphql.operation', 'internal'), async (span) => {
    span.setAttribute('hub.tenant', caller.identity.tenant);
    const outcome = await executeRequest(engine, request, caller, span);
    if (outcome.kind === 'timeout') span.fail('TIMEOUT');
    return outcome;
  });
}

/**
 * One request, in named steps: its context, the static limits (a refusal is
 * answered through Apollo's request-error path, with its status and format),
 * Apollo's execution raced against the outer deadline, and the outcome
 * counted in the metrics.
 */
async function executeRequest(
  engine: Engine,
  request: GraphQLHttpRequest,
  caller: GraphQLCaller,
  span: Span,
): Promise<GraphQLOutcome> {
  const { apollo, preflight, options, limits } = engine;
  const { metrics } = options;
  const ctx = requestContext(engine, request, caller, span);
  // Static limits before Apollo parses and validates (limits.ts).
  const refusal = staticRefusal(preflight, queryText(request), request.appendedChars);
  const tenantLabel = metrics.tenantLabel(caller.identity.tenant);
  if (refusal) {
    metrics.errors.inc({ code: 'VALIDATION', ...tenantLabel });
    ctx.stats.refused = true;
  }
  const end = metrics.requestDuration.startTimer();
  const done = (outcome: string) =>
    end({ operation: ctx.stats.operation, type: ctx.stats.operationType, outcome, ...tenantLabel });
  // Fields stop resolving at the deadline; this outer bound answers even if a store call hangs.
  const result = await withinDeadline(
    apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: request.method,
        headers: headerMap(request.headers),
        search: request.search,
        body: request.body,
      },
      context: async () => {
        if (refusal) throw refusal;
        return ctx;
      },
    }),
    limits.timeoutMs + 1000,
  );
  if (result === 'timeout') {
    done('TIMEOUT');
    metrics.errors.inc({ code: 'TIMEOUT', ...tenantLabel });
    return { kind: 'timeout', stats: ctx.stats };
  }
  const status = result.status ?? 200;
  done(status < 400 ? 'ok' : String(status));
  return {
    kind: 'response',
    status,
    headers: result.headers,
    // Large bodies (`bodyBase64`) are written a slice at a time, never built into the answer's string.
    body:
      result.body.kind === 'complete'
        ? withInlineBodies(ctx.inlineBodies, result.body.string)
        : result.body.asyncIterator,
    stats: ctx.stats,
  };
}

/**
 * The request's context: its caller, the Hub (its traced view under the
 * operation's span when sampled), its deadline, its DataLoaders (counted in the metrics).
 */
function requestContext(
  engine: Engine,
  request: GraphQLHttpRequest,
  caller: GraphQLCaller,
  span: Span,
): GraphQLContext {
  const { options, limits } = engine;
  const { metrics } = options;
  const traced = span.recording;
  return createContext({
    tenant: caller.identity.tenant,
    scopes: caller.identity.scopes,
    hub: traced ? tracedHub(options.hub, span) : options.hub,
    span,
    requestId: caller.requestId,
    log: traced ? caller.log.child(traceFields(span) ?? {}) : caller.log,
    timeoutMs: limits.timeoutMs,
    onBatch: (loader, size) => metrics.loaderBatch.observe({ loader }, size),
    ...(request.bodyBytes !== undefined ? { bodyBytes: request.bodyBytes } : {}),
    ...(options.usage ? { usage: options.usage } : {}),
  });
}

/** The request's headers as Apollo takes them (several values of one header joined). */
function headerMap(given: GraphQLHttpRequest['headers']): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) headers.set(key, typeof value === 'string' ? value : value.join(', '));
  }
  return headers;
}

/** `work`'s result, or `timeout` when it has not settled within `ms` (the timer is cleared either way). */
async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * `/graphql` over HTTP: GET (queries only) and POST, answered by Apollo Server
 * with GraphQL-over-HTTP content negotiation (`application/graphql-response+json`
 * when accepted). The caller is authenticated before Apollo runs, so an
 * unauthenticated request never reaches a resolver.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import type { CursorCodec } from '../hub/cursor';
import type { Hub } from '../hub/hub';
import { isHubError } from '../hub/errors';
import type { Authenticator } from '../graphql/auth';
import { type GraphQLContext, createContext } from '../graphql/context';
import { HTTP_STATUS } from '../graphql/errors';
import type { QueryLimits } from '../graphql/limits';
import { type PersistedQueries, applyPersistedQuery, tagQueryWithTenant } from './apq';
import { type Logger, errorFields } from './log';
import type { GatewayMetrics } from './metrics';
import { BodyTooLargeError, readBody, sendError } from './respond';

export interface GraphQLHandlerDeps {
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly hub: Hub;
  readonly cursors: CursorCodec;
  readonly auth: Authenticator;
  readonly limits: QueryLimits;
  readonly maxBodyBytes: number;
  readonly metrics: GatewayMetrics;
  /** Automatic persisted queries, per tenant. */
  readonly persistedQueries: PersistedQueries;
}

/** Handles one `/graphql` request. Resolves once the response is written. */
export async function handleGraphQL(
  deps: GraphQLHandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  log: Logger,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') {
    res.setHeader('allow', 'GET, POST');
    sendError(res, 405, 'VALIDATION', 'use GET or POST');
    return;
  }
  let body: unknown = undefined;
  if (req.method === 'POST') {
    let raw: Buffer;
    try {
      raw = await readBody(req, deps.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendError(res, 413, 'VALIDATION', `request body exceeds ${deps.maxBodyBytes} bytes`);
        return;
      }
      throw err;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/graphql-response+json') {
      sendError(res, 415, 'VALIDATION', 'POST bodies must be application/json');
      return;
    }
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      sendError(res, 400, 'VALIDATION', 'request body is not valid JSON');
      return;
    }
  }

  let identity;
  try {
    identity = await deps.auth.authenticate(req.headers.authorization);
  } catch (err) {
    const code = isHubError(err) ? err.code : 'INTERNAL';
    if (code === 'INTERNAL') log.error('authentication failed', errorFields(err));
    deps.metrics.errors.inc({ code });
    res.setHeader('www-authenticate', 'Bearer');
    sendError(res, HTTP_STATUS[code], code, isHubError(err) ? err.message : 'internal error');
    return;
  }

  const ctx = createContext({
    tenant: identity.tenant,
    scopes: identity.scopes,
    hub: deps.hub,
    cursors: deps.cursors,
    requestId,
    log: log.child({ tenant: identity.tenant }),
    timeoutMs: deps.limits.timeoutMs,
    onBatch: (loader, size) => deps.metrics.loaderBatch.observe({ loader }, size),
  });

  const apq = applyPersistedQuery(deps.persistedQueries, identity.tenant, req.method, url.search, body);
  if (apq.kind === 'error') {
    deps.metrics.errors.inc({ code: apq.code });
    sendError(res, apq.status, apq.code, apq.message);
    return;
  }

  const tagged = tagQueryWithTenant(identity.tenant, req.method, apq.search, apq.body);

  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const end = deps.metrics.requestDuration.startTimer();
  let timer: NodeJS.Timeout | undefined;
  // Fields stop resolving at the deadline; this outer bound answers even if a store call hangs.
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deps.limits.timeoutMs + 1000);
  });
  try {
    const result = await Promise.race([
      deps.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method, headers, search: tagged.search, body: tagged.body },
        context: async () => ctx,
      }),
      timedOut,
    ]);
    if (result === 'timeout') {
      end({ operation: ctx.stats.operation, type: ctx.stats.operationType, outcome: 'TIMEOUT' });
      deps.metrics.errors.inc({ code: 'TIMEOUT' });
      sendError(res, 504, 'TIMEOUT', 'the operation timed out');
      return;
    }
    const status = result.status ?? 200;
    end({
      operation: ctx.stats.operation,
      type: ctx.stats.operationType,
      outcome: status < 400 ? 'ok' : String(status),
    });
    res.statusCode = status;
    for (const [key, value] of result.headers) res.setHeader(key, value);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * `/graphql` over HTTP: GET (queries only) and POST, answered by the GraphQL
 * server (src/graphql) with GraphQL-over-HTTP content negotiation
 * (`application/graphql-response+json` when accepted). The caller is
 * authenticated before the GraphQL server runs, so an unauthenticated request
 * never reaches a resolver.
 *
 * Steps, one function each: authenticate, read the body, resolve a persisted
 * query for the tenant, tag the query with the tenant, execute, write. The
 * token is checked before a byte of the body is read: a caller without a valid
 * token cannot make the gateway buffer or parse anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHubError } from '../hub/errors';
import type { GraphQLHttpRequest, GraphQLOutcome, GraphQLServer } from '../graphql';
import { type Authenticator, type Identity, type SchemaReader, isSchemaReader } from '../platform/auth';
import { type Logger, errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import { HTTP_STATUS } from '../platform/public-errors';
import { NOOP_SPAN, type Span } from '../platform/tracing';
import { noteTenant } from './access-log';
import type { AdmissionControl } from './admission';
import { type PersistedQueryCache, applyPersistedQuery, tagQueryWithTenant } from './apq';
import { graphqlBodyLimits, parseJsonBody } from './json-values';
import { BodyRefusedError, BodyTooLargeError, readBody, refuseUnreadBody, sendError } from './respond';
import { handleSchemaRead } from './schema-read-handler';

export interface GraphQLHandlerDeps {
  readonly graphql: GraphQLServer;
  readonly auth: Authenticator;
  readonly maxBodyBytes: number;
  readonly metrics: GatewayMetrics;
  /** Automatic persisted queries, per tenant. */
  readonly persistedQueries: PersistedQueryCache;
  /** Per-tenant requests in flight and cost budgets (429 THROTTLED). */
  readonly admission: AdmissionControl;
}

/** Marks a request already answered (with an error) by a step. */
const ANSWERED = Symbol('answered');
type Answered = typeof ANSWERED;
/** Marks a request answered with a refusal by a limit (charged like the largest operation allowed). */
const REFUSED = Symbol('refused');
type Refused = typeof REFUSED;

/** Handles one `/graphql` request. Resolves once the response is written. */
export async function handleGraphQL(
  deps: GraphQLHandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  log: Logger,
  span: Span = NOOP_SPAN,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') {
    res.setHeader('allow', 'GET, POST');
    return sendError(res, 405, 'VALIDATION', 'use GET or POST');
  }
  const identity = await authenticate(deps, req, res, log);
  if (identity === ANSWERED) return;
  if (isSchemaReader(identity)) {
    // A schema-only credential: the SDL and nothing else (schema-read-handler.ts).
    const body =
      req.method === 'POST'
        ? await readJsonBody(req, res, deps.maxBodyBytes, deps.graphql.limits)
        : undefined;
    if (body === ANSWERED || body === REFUSED) return;
    return handleSchemaRead(res, req.headers.accept, url, body?.json, deps.graphql.limits.maxTokens);
  }
  if (span.recording) span.setAttribute('hub.tenant', identity.tenant);
  noteTenant(res, identity.tenant);
  // Admitted (or refused with 429) before the body is read, like the token.
  const ticket = await deps.admission.admit(identity.tenant, req, res, deps.metrics);
  if (ticket === undefined) return;
  const { maxCost } = deps.graphql.limits;
  let cost: number | undefined;
  try {
    const read =
      req.method === 'POST'
        ? await readJsonBody(req, res, deps.maxBodyBytes, deps.graphql.limits)
        : undefined;
    if (read === ANSWERED) return;
    if (read === REFUSED) {
      cost = maxCost;
      return;
    }
    const request = await persistedQuery(deps, res, identity, req, url, read);
    if (request === ANSWERED) return;
    const outcome = await deps.graphql.execute(request, {
      identity,
      requestId,
      log: log.child({ tenant: identity.tenant }),
      span,
    });
    // A request refused by a limit is charged like the largest operation allowed (a refusal
    // costs the attacker's tenant, not the others); an operation that ran, its cost.
    cost = outcome.stats.refused
      ? maxCost
      : outcome.stats.cost === undefined
        ? undefined
        : Math.min(outcome.stats.cost, maxCost);
    await writeOutcome(res, outcome);
  } finally {
    ticket.done(cost);
  }
}

/**
 * Reads and parses a POST body (size limit, JSON values and query text
 * limits, JSON content type); answers the error itself. The limits are
 * checked as the body arrives, so a body over one is never parsed (json-values.ts).
 * @returns the parsed JSON and the body's size in bytes.
 */
async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
  limits: { readonly maxBodyValues: number; readonly maxQueryChars: number },
): Promise<{ readonly json: unknown; readonly bytes: number } | Answered | Refused> {
  let raw: Buffer;
  try {
    raw = await readBody(req, maxBodyBytes, graphqlBodyLimits(limits));
  } catch (err) {
    if (err instanceof BodyRefusedError) {
      sendError(res, 400, 'VALIDATION', err.message);
      return REFUSED;
    }
    if (!(err instanceof BodyTooLargeError)) throw err;
    sendError(res, 413, 'VALIDATION', `request body exceeds ${maxBodyBytes} bytes`);
    return REFUSED;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/graphql-response+json') {
    sendError(res, 415, 'VALIDATION', 'POST bodies must be application/json');
    return ANSWERED;
  }
  try {
    return { json: await parseJsonBody(raw), bytes: raw.length };
  } catch {
    sendError(res, 400, 'VALIDATION', 'request body is not valid JSON');
    return ANSWERED;
  }
}

/** Verifies the bearer token (a schema-only one too); answers 401 (or 500) itself when it does not verify. */
async function authenticate(
  deps: GraphQLHandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
): Promise<Identity | SchemaReader | Answered> {
  try {
    return await deps.auth.authenticateCaller(req.headers.authorization);
  } catch (err) {
    const code = isHubError(err) ? err.code : 'INTERNAL';
    if (code === 'INTERNAL') log.error('authentication failed', errorFields(err));
    deps.metrics.errors.inc({ code });
    res.setHeader('www-authenticate', 'Bearer');
    refuseUnreadBody(req, res);
    sendError(res, HTTP_STATUS[code], code, isHubError(err) ? err.message : 'internal error');
    return ANSWERED;
  }
}

/**
 * Resolves an automatic persisted query for the caller's tenant and tags the
 * query text with the tenant (see apq.ts); answers the protocol's error itself.
 * `read`: the POST body (undefined for GET).
 */
async function persistedQuery(
  deps: GraphQLHandlerDeps,
  res: ServerResponse,
  identity: Identity,
  req: IncomingMessage,
  url: URL,
  read: { readonly json: unknown; readonly bytes: number } | undefined,
): Promise<GraphQLHttpRequest | Answered> {
  const method = req.method as string;
  const apq = await applyPersistedQuery(
    deps.persistedQueries,
    identity.tenant,
    method,
    url.search,
    read?.json,
  );
  if (apq.kind === 'error') {
    deps.metrics.errors.inc({ code: apq.code });
    sendError(res, apq.status, apq.code, apq.message);
    return ANSWERED;
  }
  const tagged = tagQueryWithTenant(identity.tenant, method, apq.search, apq.body);
  return {
    method,
    headers: req.headers,
    search: tagged.search,
    body: tagged.body,
    appendedChars: tagged.appended,
    bodyBytes: read?.bytes,
  };
}

/** Writes the GraphQL server's answer (504 TIMEOUT when the request outlived its deadline). */
async function writeOutcome(res: ServerResponse, outcome: GraphQLOutcome): Promise<void> {
  if (outcome.kind === 'timeout') return sendError(res, 504, 'TIMEOUT', 'the operation timed out');
  const headers = [...outcome.headers];
  res.statusCode = statusFor(outcome.status, headers);
  for (const [key, value] of headers) res.setHeader(key, value);
  if (typeof outcome.body === 'string') {
    res.end(outcome.body);
    return;
  }
  // A chunk at a time, as the socket takes them: a large body is never queued whole.
  for await (const chunk of outcome.body) {
    if (res.destroyed) break;
    if (!res.write(chunk)) await drained(res);
  }
  res.end();
}

/** Resolves when `res` can take more (or is closed: the rest is not written). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * The status of a GraphQL answer per its media type (GraphQL over HTTP): under
 * `application/json` a request error (parse, validation, variables, a limit
 * refused before execution) SHOULD be 200, the errors being in the body, which
 * is what Apollo Router and Gateway then read; under
 * `application/graphql-response+json` it keeps its 4xx. Other statuses (auth,
 * throttling, timeouts) are not request errors and pass unchanged.
 */
function statusFor(status: number, headers: readonly (readonly [string, string])[]): number {
  if (status !== 400) return status;
  const type = headers.find(([key]) => key.toLowerCase() === 'content-type')?.[1] ?? '';
  return type.split(';')[0]?.trim().toLowerCase() === 'application/json' ? 200 : status;
}

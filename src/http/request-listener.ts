/**
 * What happens to every request around its route (src/http/server.ts): a
 * request id, the in-flight count that graceful shutdown waits on, the body
 * time limit, the request's span, and once the response closes its metric
 * and access log line.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type Logger, errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import { NOOP_SPAN, type Span, traceFields, tracer } from '../platform/tracing';
import { accessFields } from './access-log';
import { type HttpTimeouts, limitBodyTime } from './request-timeouts';
import { sendError } from './respond';

/** What the listener needs of the gateway. */
export interface ListenerDeps {
  readonly metrics: GatewayMetrics;
  readonly inFlight: InFlight;
  readonly timeouts: HttpTimeouts;
}

/**
 * Answers one request (the gateway's routes), given its parsed URL, id,
 * logger (with the trace's ids when sampled) and span (the no-op span unless
 * sampled: the parent of the spans the route starts).
 */
export type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  rlog: Logger,
  span: Span,
) => Promise<void>;

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The node:http listener: request id, in-flight tracking, access log and metrics, then `route`. */
export function requestListener(
  deps: ListenerDeps,
  log: Logger,
  route: Route,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { inFlight } = deps;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (inFlight.shuttingDown) res.setHeader('connection', 'close');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      return sendError(res, 400, 'VALIDATION', 'malformed request URL');
    }
    inFlight.start();
    // An ingest stream has its own time limits (ingest.ts); every other request gets these.
    if (!url.pathname.startsWith('/ingest/')) limitBodyTime(req, res, deps.timeouts.requestMs);
    const span = requestSpan(req, url, requestId);
    // A sampled request's lines carry its trace (the access log line among them).
    const rlog = log.child(span.recording ? { requestId, ...traceFields(span) } : { requestId });
    res.on('close', () => finishRequest(deps, { req, res, url, span, rlog, started }));
    void route(req, res, url, requestId, rlog, span).catch((err: unknown) => {
      rlog.error('unhandled error', errorFields(err));
      sendError(res, 500, 'INTERNAL', 'internal error');
    });
  };
}

/** The request's span, continuing the caller's trace (W3C traceparent); tracing off: the no-op span. */
function requestSpan(req: IncomingMessage, url: URL, requestId: string): Span {
  const t = tracer();
  if (!t.enabled) return NOOP_SPAN;
  const span = t.startServerSpan(`${req.method ?? 'GET'} ${routeLabel(url.pathname)}`, req.headers);
  if (span.recording) {
    span.setAttributes({
      'http.request.method': req.method,
      'http.route': routeLabel(url.pathname),
      'url.path': url.pathname,
      'hub.request_id': requestId,
    });
  }
  return span;
}

/** A request whose response has closed. */
interface Finished {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The request's span. */
  readonly span: Span;
  readonly rlog: Logger;
  /** process.hrtime.bigint() when it arrived. */
  readonly started: bigint;
}

/** When the response closes: the span ends, the request is counted and logged, and leaves the in-flight count. */
function finishRequest(deps: ListenerDeps, f: Finished): void {
  const { res, url, span } = f;
  const ms = Number(process.hrtime.bigint() - f.started) / 1e6;
  // Only a sampled request's span is an object of its own; any other is the shared no-op span.
  if (span.recording) {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.fail(String(res.statusCode));
    span.end();
  }
  deps.metrics.httpRequests.inc({ route: routeLabel(url.pathname), status: String(res.statusCode) });
  if (url.pathname !== '/healthz' && url.pathname !== '/metrics') {
    const fields = accessFields(res, f.req.method, url.pathname, Math.round(ms * 100) / 100);
    f.rlog.info('request', fields);
  }
  deps.inFlight.end();
}

/** The `route` label of a path in metrics (bounded: ingest types, GraphiQL and dashboard assets are folded). */
function routeLabel(path: string): string {
  if (path.startsWith('/ingest/')) return '/ingest';
  if (path.startsWith('/admin/')) return '/admin';
  if (path.startsWith('/graphiql')) return '/graphiql';
  if (path.startsWith('/dashboard')) return '/dashboard';
  return path;
}

/** Requests in flight, and the graceful shutdown that waits for them. */
export class InFlight {
  shuttingDown = false;
  private count = 0;
  private readonly idle: (() => void)[] = [];

  start(): void {
    this.count++;
  }

  end(): void {
    this.count--;
    if (this.count === 0) for (const f of this.idle.splice(0)) f();
  }

  /**
   * Stops accepting connections, waits for in-flight requests (at most
   * `graceMs`), then closes every connection. @returns false when already shutting down.
   */
  async drain(server: Server, graceMs: number): Promise<boolean> {
    if (this.shuttingDown) return false;
    this.shuttingDown = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const drained = this.count === 0 ? Promise.resolve() : new Promise<void>((r) => this.idle.push(r));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([drained, grace]);
    if (timer) clearTimeout(timer);
    server.closeIdleConnections();
    server.closeAllConnections();
    await closed;
    return true;
  }
}

/**
 * How long the gateway waits for what a client sends, set deliberately
 * rather than left to node:http's defaults (whose `requestTimeout` of 300 s
 * cut every ingest stream longer than five minutes, with a bare 408):
 *
 * - headers: `HUB_HEADERS_TIMEOUT_MS` (default 20 s), enforced by node:http on
 *   every route (a slow sender of headers is answered 408 and dropped);
 * - an ordinary request's body (`/graphql` and every route but `/ingest`):
 *   `HUB_REQUEST_TIMEOUT_MS` (default 60 s) from its headers to its last
 *   byte, timed here per request ({@link limitBodyTime});
 * - an `/ingest` stream: its own bounds, a whole-stream limit and an idle
 *   limit (`HUB_INGEST_TIMEOUT_MS`, `HUB_INGEST_IDLE_TIMEOUT_MS`), timed by
 *   {@link TimedBody}; when one runs out the lines already read are written
 *   and the answer says where to resume (see ingest.ts).
 *
 * node:http's own whole-request timer is turned off (`requestTimeout: 0`):
 * it is one value for every route, and ingest needs a different one.
 */
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import { sendError } from './respond';

/** Timeouts of the HTTP server, in milliseconds. */
export interface HttpTimeouts {
  /** Receiving a request's headers (`HUB_HEADERS_TIMEOUT_MS`). */
  readonly headersMs: number;
  /** Receiving an ordinary request whole, headers to last byte (`HUB_REQUEST_TIMEOUT_MS`). */
  readonly requestMs: number;
}

/** The defaults: generous for a 16 MiB `/graphql` body on a slow link, short for a stalled one. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 20_000, requestMs: 60_000 };

/**
 * The timeouts with defaults filled in.
 * @throws RangeError when a value is not a positive whole number of milliseconds.
 */
export function httpTimeouts(options: Partial<HttpTimeouts> = {}): HttpTimeouts {
  const t = { ...DEFAULT_HTTP_TIMEOUTS, ...options };
  for (const [name, value] of Object.entries(t)) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new RangeError(`http timeout ${name} must be a positive whole number of ms, got ${value}`);
  }
  return t;
}

/**
 * node:http server options for these timeouts: its headers timeout, its
 * whole-request timer off (see the module comment), and its connection
 * sweep often enough that a headers timeout is applied within a quarter of
 * itself (node:http checks every 30 s by default).
 */
export function serverTimeoutOptions(t: HttpTimeouts): ServerOptions {
  return {
    headersTimeout: t.headersMs,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(t.headersMs / 4))),
  };
}

/** How long a timed-out connection may still drain what its sender has in flight before it is dropped. */
const LINGER_MS = 2_000;

/**
 * Answers a request whose body is left unread, then closes its connection:
 * what the sender still sends is read and dropped for a moment (a socket
 * closed with unread bytes is reset, and a reset can lose the answer on the
 * client's side), then the connection is destroyed, whether or not the
 * sender stopped.
 */
export function answerAndDrop(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  answer();
  req.resume();
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Times the receipt of an ordinary request: if its body has not arrived
 * whole within `ms` of the call (made as the request's headers are
 * handled), the answer is 408 `TIMEOUT` naming the limit and the connection
 * is closed. A request whose body is complete, or whose answer has been
 * sent, is never cut: the time to execute it is bounded elsewhere
 * (`HUB_QUERY_TIMEOUT_MS`).
 */
export function limitBodyTime(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || res.writableEnded) return;
    answerAndDrop(req, res, () =>
      sendError(
        res,
        408,
        'TIMEOUT',
        `the request was not received whole within ${ms} ms (HUB_REQUEST_TIMEOUT_MS)`,
      ),
    );
  }, ms);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  req.once('end', clear);
  res.once('close', clear);
}

/** Why a {@link TimedBody} stopped reading before the body's end. */
export interface BodyStop {
  readonly limit: 'HUB_INGEST_TIMEOUT_MS' | 'HUB_INGEST_IDLE_TIMEOUT_MS';
  readonly message: string;
}

/** Bounds of a {@link TimedBody}, in milliseconds. */
export interface StreamTimeouts {
  /** The whole stream, from the first read (`HUB_INGEST_TIMEOUT_MS`). */
  readonly maxMs: number;
  /** Waiting for the sender's next bytes (`HUB_INGEST_IDLE_TIMEOUT_MS`); time spent writing does not count. */
  readonly idleMs: number;
}

/**
 * A request body read chunk by chunk under a whole-stream limit and an idle
 * limit. Unlike `for await (const chunk of req)`, running out of time does
 * not destroy the request: the caller stops reading, finishes what it has,
 * and still answers on the same connection.
 */
export class TimedBody {
  private ended = false;
  private failure: Error | undefined;
  private stop: BodyStop | undefined;
  private wake: (() => void) | undefined;
  private idle: NodeJS.Timeout | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly onReadable = (): void => this.notify();
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
    this.notify();
  };
  private readonly onClose = (): void => {
    if (!this.ended) this.failure ??= new Error('the sender closed the request before its end');
    this.notify();
  };

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: StreamTimeouts,
  ) {
    req.on('readable', this.onReadable);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('close', this.onClose);
    this.deadline = setTimeout(
      () =>
        this.halt({
          limit: 'HUB_INGEST_TIMEOUT_MS',
          message: `the request took longer than ${limits.maxMs} ms (HUB_INGEST_TIMEOUT_MS)`,
        }),
      limits.maxMs,
    );
    this.deadline.unref();
  }

  /**
   * The next chunk; null at the body's end; a {@link BodyStop} when a limit
   * ran out first (then every later call answers the same).
   * @throws the request's error when the sender went away or the connection failed.
   */
  async next(): Promise<Buffer | null | BodyStop> {
    for (;;) {
      if (this.stop) return this.stop;
      if (this.failure) throw this.failure;
      const chunk = this.req.read() as Buffer | null;
      if (chunk !== null) return chunk;
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.idle = setTimeout(
          () =>
            this.halt({
              limit: 'HUB_INGEST_IDLE_TIMEOUT_MS',
              message: `no bytes arrived for ${this.limits.idleMs} ms (HUB_INGEST_IDLE_TIMEOUT_MS)`,
            }),
          this.limits.idleMs,
        );
        this.idle.unref();
      });
      clearTimeout(this.idle);
    }
  }

  /** Stops timing and listening (call once done with the body). */
  close(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.idle);
    this.req.off('readable', this.onReadable);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.req.off('close', this.onClose);
  }

  private halt(stop: BodyStop): void {
    this.stop ??= stop;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * A local Snowflake wire emulator for tests: an HTTP server (node:http) that
 * speaks the subset of Snowflake's REST protocol that `snowflake-sdk` uses and
 * runs the SQL on DuckDB after a small, documented translation (translate.ts).
 *
 * Implements: login, query-request with binds and array binds, errors with
 * Snowflake codes (always HTTP 200 success:false, never 5xx: the driver would
 * retry those up to 1000 times), query-in-progress polling (333333 +
 * getResultUrl) for slow statements, async queries (333334 + monitoring),
 * multi-statement (MULTI_STATEMENT_COUNT), chunked large results, heartbeat,
 * token renewal, logout, telemetry, abort; de-duplication of retried requests
 * by requestId; statements serialised per session; `PUT` to a table stage
 * (answered with a LOCAL_FS stage in the emulator's temporary folder, which
 * the driver copies the file into) and `COPY INTO` a table from it (CSV, see
 * stage.ts).
 *
 * Does NOT implement (see README.md): TLS/OCSP, key-pair/OAuth/SSO auth, stage
 * binding, GET, named/user stages, cloud stages, file formats other than CSV,
 * Arrow results, explicit transactions, streams/tasks, most Snowflake-only
 * functions, USE DATABASE/SCHEMA, result caching/RESULT_SCAN.
 *
 * Fault controls for tests: `stop()` / `restart()` (same port; sessions and
 * data survive, as they would on a real account during a network outage) and
 * `delayMs` (every statement sleeps first, so clients see a slow warehouse).
 *
 * This file is the HTTP side (listening, faults, routing endpoints);
 * sessions.ts logs in and authenticates, queries.ts runs the statements.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from './engine';
import { Queries } from './queries';
import { Sessions } from './sessions';
import { Stages } from './stage';
import { SnowflakeEmulatorError } from './translate';
import { type Body, errorBody, readBody } from './wire';

/** Options of {@link SnowflakeEmulator.start}. */
export interface SnowflakeEmulatorOptions {
  /** Port to listen on (default 0: any free port). */
  readonly port?: number;
  /** Accepted logins (login name -> password). Default: any login name with password `test`. */
  readonly users?: Readonly<Record<string, string>>;
  /** A statement still running after this long is answered with 333333 and polled (default 1000 ms). */
  readonly queryInProgressMs?: number;
  /** Rows sent inline; the rest goes in chunks of this many rows (default 1000). */
  readonly chunkRows?: number;
  /** Optional request log. */
  readonly log?: (line: string) => void;
  /** Called with the SQL text of every query-request (tests check which databases a statement names). */
  readonly onQuery?: (sqlText: string) => void;
  /**
   * DuckDB's worker threads (default: DuckDB's own, one per core). Semantics do not depend
   * on it; a benchmark sharing a small machine with the emulator's clients may want 1.
   */
  readonly threads?: number;
}

/** The emulator; see the file comment. */
export class SnowflakeEmulator {
  /** Artificial delay applied to every statement before it runs (fault injection). */
  delayMs = 0;
  /** Counters for tests (queries executed, logins, retried requests answered from the de-duplication map). */
  readonly stats = { queries: 0, logins: 0, deduplicated: 0, aborted: 0 };

  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly sessions: Sessions;
  private readonly queries: Queries;
  /** Table stages: a directory per table under a temporary folder, removed by close(). */
  private readonly stages = new Stages(mkdtempSync(join(tmpdir(), 'sf-emulator-stages-')));
  private listenPort: number;

  private constructor(
    readonly engine: Engine,
    private readonly options: SnowflakeEmulatorOptions,
  ) {
    this.listenPort = options.port ?? 0;
    this.sessions = new Sessions(engine, options.users, this.stats);
    this.queries = new Queries(this.stages, {
      queryInProgressMs: options.queryInProgressMs ?? 1000,
      chunkRows: options.chunkRows ?? 1000,
      url: () => this.url,
      delayMs: () => this.delayMs,
      onQuery: options.onQuery,
      stats: this.stats,
    });
  }

  /** Creates the DuckDB engine and starts listening on 127.0.0.1. */
  static async start(options: SnowflakeEmulatorOptions = {}): Promise<SnowflakeEmulator> {
    const emulator = new SnowflakeEmulator(await Engine.create({ threads: options.threads }), options);
    await emulator.restart();
    return emulator;
  }

  /** Base URL for the driver's `accessUrl`. */
  get url(): string {
    return `http://127.0.0.1:${this.listenPort}`;
  }

  get port(): number {
    return this.listenPort;
  }

  /** True while the HTTP server is listening. */
  get running(): boolean {
    return this.server !== undefined;
  }

  /** Stops answering: closes the listener and drops open connections. Sessions and data are kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Starts (again) on the same port. */
  async restart(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    this.listenPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Forgets every session (as after a backend restart or token expiry): clients get 390104 and must log in again. */
  forgetSessions(): void {
    this.sessions.forgetAll();
  }

  /** Stops and releases DuckDB. */
  async close(): Promise<void> {
    await this.stop();
    this.sessions.forgetAll();
    this.engine.close();
    this.stages.dispose();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    let status = 200;
    let payload: Body | string;
    try {
      const raw = await readBody(req);
      this.options.log?.(`${req.method} ${url.pathname}`);
      const result = await this.route(req, url, raw);
      if (typeof result === 'string') payload = result;
      else if ('__status' in result) {
        status = result.__status as number;
        delete result.__status;
        payload = result;
      } else payload = result;
    } catch (err) {
      // Never 5xx: the driver would retry with the same requestId for minutes.
      const e =
        err instanceof SnowflakeEmulatorError
          ? err
          : new SnowflakeEmulatorError('000603', 'XX000', String(err));
      payload = errorBody(e, undefined);
    }
    if (res.destroyed) return;
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': typeof payload === 'string' ? 'text/plain' : 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private async route(req: http.IncomingMessage, url: URL, raw: Buffer): Promise<Body | string> {
    const path = url.pathname;
    const json = (): Body => (raw.length ? (JSON.parse(raw.toString('utf8')) as Body) : {});
    if (req.method === 'POST' && path === '/session/v1/login-request')
      return this.sessions.login(url, json());
    const chunk = /^\/chunks\/([\w-]+)\/(\d+)$/.exec(path);
    if (req.method === 'GET' && chunk) {
      const body = this.queries.chunk(chunk[1] as string, chunk[2] as string);
      if (body === undefined) return { __status: 404, success: false, message: 'no such chunk' };
      return body;
    }
    const session = this.sessions.authenticate(req);
    if (!session)
      return {
        __status: 401,
        success: false,
        code: '390104',
        message: 'Authentication token has expired.  The user must authenticate again.',
        data: null,
      };
    if (req.method === 'POST' && path === '/queries/v1/query-request')
      return this.queries.query(session, url.searchParams.get('requestId') ?? randomUUID(), json());
    const result = /^\/queries\/([\w-]+)\/result$/.exec(path);
    if (req.method === 'GET' && result) return this.queries.poll(result[1] as string);
    const monitor = /^\/monitoring\/queries\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && monitor) return this.queries.monitor(monitor[1] as string);
    if (req.method === 'POST' && path === '/queries/v1/abort-request') return this.queries.abort(json());
    const abortById = /^\/queries\/([\w-]+)\/abort-request$/.exec(path);
    if (req.method === 'POST' && abortById) return this.queries.abort({ queryId: abortById[1] });
    if (req.method === 'POST' && path === '/session/heartbeat') return { success: true, data: {} };
    if (req.method === 'POST' && path === '/telemetry/send') return { success: true, data: 'Log Received' };
    if (req.method === 'POST' && path === '/session/token-request') return this.sessions.renew(session);
    if (req.method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true')
      return this.sessions.logout(session);
    return {
      __status: 404,
      success: false,
      code: '390400',
      message: `emulator: no endpoint ${req.method} ${path}`,
    };
  }
}

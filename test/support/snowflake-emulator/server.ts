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
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bindings, Engine, type EngineConnection, type WireResult } from './engine';
import { Stages } from './stage';
import { SnowflakeEmulatorError, splitStatements } from './translate';
import { type Body, MULTI_STATEMENT_RESULT, errorBody, readBody, resultBody, trim } from './wire';

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
}

interface Session {
  readonly id: number;
  readonly token: string;
  readonly masterToken: string;
  readonly user: string;
  readonly info: Record<string, string | null>;
  readonly parameters: Record<string, unknown>;
  readonly conn: EngineConnection;
  queue: Promise<unknown>;
}

interface Job {
  readonly queryId: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';
  cancelled: boolean;
  readonly result: Promise<Body>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The emulator; see the file comment. */
export class SnowflakeEmulator {
  /** Artificial delay applied to every statement before it runs (fault injection). */
  delayMs = 0;
  /** Counters for tests (queries executed, logins, retried requests answered from the de-duplication map). */
  readonly stats = { queries: 0, logins: 0, deduplicated: 0, aborted: 0 };

  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<string, Session>();
  private readonly jobs = new Map<string, Job>();
  private readonly byRequestId = new Map<string, Job>();
  private readonly chunks = new Map<string, string>();
  private nextSession = 1;
  /** Table stages: a directory per table under a temporary folder, removed by close(). */
  private readonly stages = new Stages(mkdtempSync(join(tmpdir(), 'sf-emulator-stages-')));
  private listenPort: number;
  private readonly queryInProgressMs: number;
  private readonly chunkRows: number;

  private constructor(
    readonly engine: Engine,
    private readonly options: SnowflakeEmulatorOptions,
  ) {
    this.listenPort = options.port ?? 0;
    this.queryInProgressMs = options.queryInProgressMs ?? 1000;
    this.chunkRows = options.chunkRows ?? 1000;
  }

  /** Creates the DuckDB engine and starts listening on 127.0.0.1. */
  static async start(options: SnowflakeEmulatorOptions = {}): Promise<SnowflakeEmulator> {
    const emulator = new SnowflakeEmulator(await Engine.create(), options);
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
    for (const s of this.sessions.values()) s.conn.close();
    this.sessions.clear();
  }

  /** Stops and releases DuckDB. */
  async close(): Promise<void> {
    await this.stop();
    for (const s of this.sessions.values()) s.conn.close();
    this.sessions.clear();
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
    if (req.method === 'POST' && path === '/session/v1/login-request') return this.login(url, json());
    const chunk = /^\/chunks\/([\w-]+)\/(\d+)$/.exec(path);
    if (req.method === 'GET' && chunk) {
      const body = this.chunks.get(`${chunk[1]}/${chunk[2]}`);
      if (body === undefined) return { __status: 404, success: false, message: 'no such chunk' };
      return body;
    }
    const session = this.authenticate(req);
    if (!session)
      return {
        __status: 401,
        success: false,
        code: '390104',
        message: 'Authentication token has expired.  The user must authenticate again.',
        data: null,
      };
    if (req.method === 'POST' && path === '/queries/v1/query-request')
      return this.query(session, url.searchParams.get('requestId') ?? randomUUID(), json());
    const result = /^\/queries\/([\w-]+)\/result$/.exec(path);
    if (req.method === 'GET' && result) return this.poll(result[1] as string);
    const monitor = /^\/monitoring\/queries\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && monitor) {
      const job = this.jobs.get(monitor[1] as string);
      return { success: true, data: { queries: job ? [{ id: job.queryId, status: job.status }] : [] } };
    }
    if (req.method === 'POST' && path === '/queries/v1/abort-request') return this.abort(json());
    const abortById = /^\/queries\/([\w-]+)\/abort-request$/.exec(path);
    if (req.method === 'POST' && abortById) return this.abort({ queryId: abortById[1] });
    if (req.method === 'POST' && path === '/session/heartbeat') return { success: true, data: {} };
    if (req.method === 'POST' && path === '/telemetry/send') return { success: true, data: 'Log Received' };
    if (req.method === 'POST' && path === '/session/token-request')
      return {
        success: true,
        data: { sessionToken: session.token, validityInSecondsST: 3600, masterToken: session.masterToken },
      };
    if (req.method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') {
      this.sessions.delete(session.token);
      session.conn.close();
      return { success: true, data: null };
    }
    return {
      __status: 404,
      success: false,
      code: '390400',
      message: `emulator: no endpoint ${req.method} ${path}`,
    };
  }

  private async login(url: URL, body: Body): Promise<Body> {
    const data = (body.data ?? {}) as Record<string, unknown>;
    const user = String(data.LOGIN_NAME ?? '');
    const password = String(data.PASSWORD ?? '');
    const expected = this.options.users ? this.options.users[user] : 'test';
    if (expected === undefined || password !== expected) {
      return {
        success: false,
        code: '390100',
        message: 'Incorrect username or password was specified.',
        data: { nextAction: 'RETRY_LOGIN', authnMethod: 'USERNAME_PASSWORD' },
      };
    }
    this.stats.logins++;
    const session: Session = {
      id: this.nextSession++,
      token: `emu-token-${randomUUID()}`,
      masterToken: `emu-master-${randomUUID()}`,
      user,
      info: {
        databaseName: url.searchParams.get('databaseName'),
        schemaName: url.searchParams.get('schemaName'),
        warehouseName: url.searchParams.get('warehouse'),
        roleName: url.searchParams.get('roleName'),
      },
      parameters: (data.SESSION_PARAMETERS ?? {}) as Record<string, unknown>,
      conn: await this.engine.connect(),
      queue: Promise.resolve(),
    };
    this.sessions.set(session.token, session);
    return {
      success: true,
      code: null,
      message: null,
      data: {
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        sessionId: session.id,
        parameters: [{ name: 'CLIENT_STAGE_ARRAY_BINDING_THRESHOLD', value: 2147483647 }],
        sessionInfo: session.info,
      },
    };
  }

  private authenticate(req: http.IncomingMessage): Session | undefined {
    const m = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? '');
    return m ? this.sessions.get(m[1] as string) : undefined;
  }

  private async query(session: Session, requestId: string, body: Body): Promise<Body> {
    const existing = this.byRequestId.get(requestId);
    if (existing) {
      // A retry of a request we already have: answer from it, never run it twice.
      this.stats.deduplicated++;
      return this.waitFor(existing);
    }
    const sqlText = String(body.sqlText ?? '');
    this.options.onQuery?.(sqlText);
    const bindings = body.bindings as Bindings | undefined;
    const parameters = (body.parameters ?? {}) as Record<string, unknown>;
    const queryId = randomUUID();
    const job: Job = {
      queryId,
      status: 'RUNNING',
      cancelled: false,
      result: undefined as unknown as Promise<Body>,
    };
    const run = session.queue.then(() => this.run(session, job, sqlText, bindings, parameters));
    (job as { result: Promise<Body> }).result = run;
    session.queue = run.catch(() => undefined);
    this.jobs.set(queryId, job);
    this.byRequestId.set(requestId, job);
    trim(this.byRequestId, 10_000);
    trim(this.jobs, 10_000);
    if (body.asyncExec === true) {
      return {
        success: true,
        code: '333334',
        message: 'Asynchronous execution in progress.',
        data: { queryId },
      };
    }
    return this.waitFor(job);
  }

  private async poll(queryId: string): Promise<Body> {
    const job = this.jobs.get(queryId);
    if (!job)
      return errorBody(
        new SnowflakeEmulatorError('000709', '02000', `Statement ${queryId} not found`),
        queryId,
      );
    return this.waitFor(job);
  }

  /** Answers with the result if it arrives within queryInProgressMs, else with 333333 (the driver polls). */
  private async waitFor(job: Job): Promise<Body> {
    let timer: NodeJS.Timeout | undefined;
    const pending = new Promise<Body>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            success: true,
            code: '333333',
            message: 'Query execution is in progress. Poll the result URL.',
            data: { queryId: job.queryId, getResultUrl: `/queries/${job.queryId}/result` },
          }),
        this.queryInProgressMs,
      );
    });
    try {
      return await Promise.race([job.result, pending]);
    } finally {
      clearTimeout(timer);
    }
  }

  private abort(body: Body): Body {
    const job =
      typeof body.queryId === 'string'
        ? this.jobs.get(body.queryId)
        : this.byRequestId.get(String(body.requestId ?? ''));
    if (job && job.status === 'RUNNING') {
      job.cancelled = true;
      this.stats.aborted++;
    }
    return { success: true, data: null };
  }

  private async run(
    session: Session,
    job: Job,
    sqlText: string,
    bindings: Bindings | undefined,
    parameters: Record<string, unknown>,
  ): Promise<Body> {
    try {
      // The artificial delay ends early when the statement is aborted.
      const until = Date.now() + this.delayMs;
      while (Date.now() < until && !job.cancelled) await sleep(Math.min(10, until - Date.now()));
      if (job.cancelled) {
        job.status = 'ABORTED';
        throw new SnowflakeEmulatorError('000604', '57014', 'SQL execution canceled');
      }
      this.stats.queries++;
      const statements = splitStatements(sqlText);
      const wanted = parameters.MULTI_STATEMENT_COUNT;
      const count = wanted === undefined ? 1 : Number(wanted);
      if (count !== 0 && statements.length !== count) {
        throw new SnowflakeEmulatorError(
          '000008',
          '0A000',
          `Actual statement count ${statements.length} did not match the desired statement count ${count}.`,
        );
      }
      let body: Body;
      const only = statements[0] ?? sqlText;
      if (statements.length === 1 && /^\s*PUT\s/i.test(only)) {
        // The driver uploads the file itself, to the stage location this answer names.
        body = await this.stages.put(session.conn, only, job.queryId);
      } else if (wanted !== undefined && (statements.length > 1 || count !== 1)) {
        const ids: string[] = [];
        for (const sql of statements) {
          const childId = randomUUID();
          const child = this.success(session, childId, await this.execute(session, sql, bindings));
          this.jobs.set(childId, {
            queryId: childId,
            status: 'SUCCESS',
            cancelled: false,
            result: Promise.resolve(child),
          });
          ids.push(childId);
        }
        body = this.success(session, job.queryId, MULTI_STATEMENT_RESULT);
        (body.data as Record<string, unknown>).resultIds = ids.join(',');
      } else {
        body = this.success(session, job.queryId, await this.execute(session, only, bindings));
      }
      job.status = 'SUCCESS';
      return body;
    } catch (err) {
      if (job.status === 'RUNNING') job.status = 'FAILED_WITH_ERROR';
      const e =
        err instanceof SnowflakeEmulatorError
          ? err
          : new SnowflakeEmulatorError('000603', 'XX000', String(err));
      return errorBody(e, job.queryId);
    }
  }

  /** One statement: COPY INTO from a stage here, everything else translated for DuckDB. */
  private execute(session: Session, sql: string, bindings: Bindings | undefined): Promise<WireResult> {
    if (/^\s*COPY\s+INTO\s/i.test(sql)) return this.stages.copyInto(session.conn, sql);
    return session.conn.execute(sql, bindings);
  }

  private success(session: Session, queryId: string, result: WireResult): Body {
    const body = resultBody(queryId, result, {
      chunkRows: this.chunkRows,
      chunkUrl: (n) => `${this.url}/chunks/${queryId}/${n}`,
      saveChunk: (n, text) => this.chunks.set(`${queryId}/${n}`, text),
      parameters: session.parameters,
      info: session.info,
    });
    trim(this.chunks, 5_000);
    return body;
  }
}

/**
 * Statements of the Snowflake wire emulator (server.ts): query-requests run in
 * their session's order, retried requests answered from the first run (by
 * requestId), slow statements answered with 333333 and polled, async queries
 * (333334) and their monitoring, aborts, multi-statement requests, `PUT` and
 * `COPY INTO` through the table stages (stage.ts), and large results served
 * in chunks.
 */
import { randomUUID } from 'node:crypto';
import type { Bindings, WireResult } from './engine';
import type { Session } from './sessions';
import type { Stages } from './stage';
import { SnowflakeEmulatorError, splitStatements } from './translate';
import { type Body, MULTI_STATEMENT_RESULT, errorBody, resultBody, trim } from './wire';

interface Job {
  readonly queryId: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';
  cancelled: boolean;
  readonly result: Promise<Body>;
}

/** What {@link Queries} takes from the emulator. */
export interface QueriesOptions {
  /** A statement still running after this long is answered with 333333 and polled. */
  readonly queryInProgressMs: number;
  /** Rows sent inline; the rest goes in chunks of this many rows. */
  readonly chunkRows: number;
  /** The emulator's base URL (chunk URLs start with it). */
  readonly url: () => string;
  /** The artificial delay every statement sleeps first, read when it starts. */
  readonly delayMs: () => number;
  /** Called with the SQL text of every query-request. */
  readonly onQuery?: (sqlText: string) => void;
  /** Counters: statements executed, retried requests answered from the first run, statements aborted. */
  readonly stats: { queries: number; deduplicated: number; aborted: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The statements of every session, by query id and by request id, and their result chunks. */
export class Queries {
  private readonly jobs = new Map<string, Job>();
  private readonly byRequestId = new Map<string, Job>();
  private readonly chunks = new Map<string, string>();

  constructor(
    private readonly stages: Stages,
    private readonly options: QueriesOptions,
  ) {}

  /**
   * Answers a query-request: queues the statement after the session's
   * previous one (a retried `requestId` is answered from its first run, never
   * run twice), then answers 333334 at once for `asyncExec`, else as
   * {@link waitFor} does.
   */
  async query(session: Session, requestId: string, body: Body): Promise<Body> {
    const existing = this.byRequestId.get(requestId);
    if (existing) {
      // A retry of a request we already have: answer from it, never run it twice.
      this.options.stats.deduplicated++;
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

  /** Answers a poll of the result URL: the result, 333333 again, or 000709 for an unknown query id. */
  async poll(queryId: string): Promise<Body> {
    const job = this.jobs.get(queryId);
    if (!job)
      return errorBody(
        new SnowflakeEmulatorError('000709', '02000', `Statement ${queryId} not found`),
        queryId,
      );
    return this.waitFor(job);
  }

  /** Answers a monitoring request: the query's status, or no queries for an unknown id. */
  monitor(queryId: string): Body {
    const job = this.jobs.get(queryId);
    return { success: true, data: { queries: job ? [{ id: job.queryId, status: job.status }] : [] } };
  }

  /** A saved result chunk (`n` of the query), if any. */
  chunk(queryId: string, n: string): string | undefined {
    return this.chunks.get(`${queryId}/${n}`);
  }

  /** Answers an abort-request (by `queryId` or `requestId`): a running statement is cancelled. */
  abort(body: Body): Body {
    const job =
      typeof body.queryId === 'string'
        ? this.jobs.get(body.queryId)
        : this.byRequestId.get(String(body.requestId ?? ''));
    if (job && job.status === 'RUNNING') {
      job.cancelled = true;
      this.options.stats.aborted++;
    }
    return { success: true, data: null };
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
        this.options.queryInProgressMs,
      );
    });
    try {
      return await Promise.race([job.result, pending]);
    } finally {
      clearTimeout(timer);
    }
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
      const until = Date.now() + this.options.delayMs();
      while (Date.now() < until && !job.cancelled) await sleep(Math.min(10, until - Date.now()));
      if (job.cancelled) {
        job.status = 'ABORTED';
        throw new SnowflakeEmulatorError('000604', '57014', 'SQL execution canceled');
      }
      this.options.stats.queries++;
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
      chunkRows: this.options.chunkRows,
      chunkUrl: (n) => `${this.options.url()}/chunks/${queryId}/${n}`,
      saveChunk: (n, text) => this.chunks.set(`${queryId}/${n}`, text),
      parameters: session.parameters,
      info: session.info,
    });
    trim(this.chunks, 5_000);
    return body;
  }
}

/**
 * One snowflake-sdk session with a deadline on every statement.
 *
 * The driver retries network failures for a long time (up to 1000 attempts,
 * sleeping up to 16 s; not configurable through createConnection), which is
 * right for a warehouse but wrong for a Hub request. So each statement races a
 * deadline: past it the store cancels the statement (best effort) and reports
 * UNAVAILABLE when the endpoint does not accept TCP connections, or TIMEOUT
 * when it does (a slow or queued warehouse). A statement that times out may
 * still commit later (the driver keeps retrying with the same requestId and
 * the server de-duplicates); the writer never acknowledges it, and record_id
 * idempotency turns the caller's retry into "duplicate".
 */
import net from 'node:net';
import type * as SnowflakeSdk from 'snowflake-sdk';
import { HubError } from '../../hub/errors';
import { NOOP_SPAN, type Span, inChildSpan } from '../../platform/tracing';
import type { SnowflakeConfig } from './snowflake-config';
import { isSessionGone, toSnowflakeHubError } from './snowflake-errors';

type Sdk = typeof SnowflakeSdk;
/** A bind value as the driver accepts it: one value, or (array binds) one row per record. */
export type Binds = readonly (string | number | null)[] | readonly (readonly (string | null)[])[];

let sdkPromise: Promise<Sdk> | undefined;

/**
 * Loads snowflake-sdk once. Two process variables must be set BEFORE the
 * driver's modules load, because it reads them at load or connect time and has
 * no option for them: SNOWFLAKE_DISABLE_PLATFORM_DETECTION (else every process
 * probes cloud metadata endpoints, ~200 ms and useless here) and
 * SF_TELEMETRY_DISABLE_CONNECTION_SHAPE (no in-band telemetry of connection
 * shapes). They are written (never read) here, affect only the driver, and are
 * documented in README.md.
 */
export function loadSnowflakeSdk(): Promise<Sdk> {
  sdkPromise ??= (async () => {
    process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
    process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';
    const mod = (await import('snowflake-sdk')) as Sdk & { default?: Sdk };
    const sdk = mod.default ?? mod;
    sdk.configure({ logLevel: 'OFF' });
    await unrefDriverRetrySleeps();
    return sdk;
  })();
  return sdkPromise;
}

/** The driver module holding the sleep of its HTTP retry loop (internal to snowflake-sdk 3.x). */
interface DriverUtil {
  sleep: (ms: number) => Promise<unknown>;
}

/**
 * Makes the driver's HTTP retry back-off sleeps stop holding the process open.
 *
 * The driver retries a request that failed with a network error or a 5xx
 * (statements up to 1000 times, abort/logout requests 7 times), sleeping up to
 * 16 s between attempts on a plain ref'd timer. Nothing stops that loop:
 * `connection.destroy()` logs out but does not abort requests in flight, and
 * a statement the store abandoned at its deadline has no handle left to abort.
 * So after close() such a loop kept the process alive for a minute or more
 * (e.g. Jest "did not exit" after tests that stopped the backend). The store
 * awaits every request it still cares about behind its own (ref'd) deadline
 * timer, so an unref'd back-off only changes what happens to retries nobody
 * waits for: they still run while the process lives (the server de-duplicates
 * them by requestId) but no longer keep it alive. The retry sleep is the only
 * caller of this function in the driver (snowflake-sdk 3.x, http/axios_instance).
 * Returns false (and changes nothing) when the driver's layout differs.
 */
export async function unrefDriverRetrySleeps(): Promise<boolean> {
  let util: Partial<DriverUtil> & { default?: Partial<DriverUtil> };
  try {
    util = (await import('snowflake-sdk/dist/lib/util.js')) as typeof util;
  } catch {
    return false;
  }
  // The module object the driver itself calls through (interop may wrap it in a namespace).
  const target = typeof util.sleep === 'function' ? util : util.default;
  if (!target || typeof target.sleep !== 'function') return false;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      setTimeout(resolve, ms).unref();
    });
  try {
    target.sleep = sleep;
  } catch {
    return false;
  }
  return target.sleep === sleep;
}

/** The driver's connection options for a config (exported for the config tests). */
export function connectionOptions(config: SnowflakeConfig): SnowflakeSdk.ConnectionOptions {
  return {
    account: config.account,
    username: config.username,
    ...(config.authenticator === 'SNOWFLAKE_JWT'
      ? {
          authenticator: 'SNOWFLAKE_JWT',
          privateKeyPath: config.privateKeyPath,
          ...(config.privateKeyPass ? { privateKeyPass: config.privateKeyPass } : {}),
        }
      : { password: config.password }),
    ...(config.warehouse ? { warehouse: config.warehouse } : {}),
    ...(config.role ? { role: config.role } : {}),
    ...(config.accessUrl ? { accessUrl: config.accessUrl } : {}),
    // Fail a broken login fast; the store's caller decides about retrying.
    sfRetryMaxLoginRetries: 1,
    // With fetchAsString the driver would otherwise hand SQL NULL over as the text "NULL".
    representNullAsStringNull: false,
    clientSessionKeepAlive: true,
    timeout: config.timeoutMs,
  } as SnowflakeSdk.ConnectionOptions;
}

/** A connected session; see the file comment. */
export class SnowflakeSession {
  private closed = false;

  private constructor(
    private conn: SnowflakeSdk.Connection,
    private readonly config: SnowflakeConfig,
  ) {}

  /** Logs in. @throws HubError UNAUTHENTICATED, UNAVAILABLE or TIMEOUT. */
  static async connect(config: SnowflakeConfig): Promise<SnowflakeSession> {
    const sdk = await loadSnowflakeSdk();
    const conn = sdk.createConnection(connectionOptions(config));
    const session = new SnowflakeSession(conn, config);
    await session.deadline(
      'login',
      new Promise<void>((resolve, reject) => {
        conn.connect((err) => (err ? reject(err) : resolve()));
      }),
    );
    return session;
  }

  /**
   * Runs one statement and returns its rows as arrays (numbers as exact
   * strings), in a span child of `parent` when that one records.
   * @throws HubError (UNAVAILABLE, TIMEOUT, ... see snowflake-errors.ts).
   */
  async query(
    sqlText: string,
    binds: Binds = [],
    what = 'statement',
    parent: Span = NOOP_SPAN,
  ): Promise<unknown[][]> {
    if (this.closed) throw new HubError('UNAVAILABLE', 'snowflake store is closed');
    if (!parent.recording) return this.queryOnce(sqlText, binds, what, NOOP_SPAN);
    // A span per statement, child of `parent`: its text (binds never), and a reconnect as an event.
    return inChildSpan(parent, `${operationOf(sqlText)} snowflake`, 'client', async (span) => {
      span.setAttributes({
        'db.system': 'snowflake',
        'db.operation': operationOf(sqlText),
        'db.statement': sqlText,
        'hub.statement': what,
      });
      const rows = await this.queryOnce(sqlText, binds, what, span);
      span.setAttribute('db.response.returned_rows', rows.length);
      return rows;
    });
  }

  private async queryOnce(sqlText: string, binds: Binds, what: string, span: Span): Promise<unknown[][]> {
    try {
      return await this.once(sqlText, binds, what);
    } catch (err) {
      // The server forgot the session (expired, or the backend restarted): log in
      // again once and repeat the statement. Safe for writes: the writer's staged
      // rows are keyed by batch id and its insert keeps one row per record_id.
      if (!(err instanceof HubError && isSessionGone(err.cause))) throw err;
      span.addEvent('snowflake.reconnect');
      await this.reconnect();
      return this.once(sqlText, binds, what);
    }
  }

  private reconnecting: Promise<void> | undefined;

  /** Replaces the driver connection with a fresh login (shared by concurrent callers). */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      const sdk = await loadSnowflakeSdk();
      const conn = sdk.createConnection(connectionOptions(this.config));
      await this.deadline(
        'login',
        new Promise<void>((resolve, reject) => {
          conn.connect((err) => (err ? reject(err) : resolve()));
        }),
      );
      const old = this.conn;
      this.conn = conn;
      old.destroy(() => undefined);
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  private once(sqlText: string, binds: Binds, what: string): Promise<unknown[][]> {
    let statement: SnowflakeSdk.RowStatement | undefined;
    const run = new Promise<unknown[][]>((resolve, reject) => {
      statement = this.conn.execute({
        sqlText,
        binds: binds as SnowflakeSdk.Binds,
        rowMode: 'array',
        fetchAsString: ['Number'],
        complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as unknown[][])),
      }) as SnowflakeSdk.RowStatement;
    });
    return this.deadline(what, run, () => statement?.cancel(() => undefined));
  }

  /** Resolves with the work, or rejects with a classified HubError past the deadline. */
  private async deadline<T>(what: string, work: Promise<T>, onTimeout?: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        void probe(this.config).then((reachable) =>
          reject(
            new HubError(
              reachable ? 'TIMEOUT' : 'UNAVAILABLE',
              reachable
                ? `snowflake ${what} did not finish within ${this.config.timeoutMs} ms`
                : `snowflake endpoint unreachable during ${what}`,
            ),
          ),
        );
      }, this.config.timeoutMs);
    });
    try {
      return await Promise.race([work, expired]);
    } catch (err) {
      throw toSnowflakeHubError(err, what);
    } finally {
      clearTimeout(timer);
      // A late driver failure after the deadline must not become an unhandled rejection.
      work.catch(() => undefined);
    }
  }

  /** Logs out. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.conn.destroy(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** True when the endpoint accepts a TCP connection within a second. */
function probe(config: SnowflakeConfig): Promise<boolean> {
  const url = new URL(config.accessUrl ?? `https://${config.account}.snowflakecomputing.com`);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The statement's first keyword (SELECT, MERGE, COPY, ...), upper-cased. */
function operationOf(sql: string): string {
  const m = /^\s*([A-Za-z]+)/.exec(sql);
  return m ? (m[1] as string).toUpperCase() : 'SQL';
}

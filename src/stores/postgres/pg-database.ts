/**
 * {@link TenantDatabase} over a PostgreSQL server with `pg`: one bounded pool
 * per store, clients in pipeline mode so a whole scoped transaction (BEGIN,
 * set_config, the statements, COMMIT) goes out in one write and costs one
 * network round trip. Every connection starts with TimeZone=UTC, DateStyle=ISO, the
 * statement timeout and (when configured) the application role, as startup
 * options, so no extra round trip is spent on session setup. Short reads
 * asked for together share connections and writes (see {@link PgDatabase.run}).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Client, Pool, type PoolClient, type QueryConfig, types as pgTypes } from 'pg';
import { readPathLayerOff } from '../../platform/read-path-layers';
import { isConnectionLoss } from './postgres-errors';
import { CopyInQuery } from './pg-copy';
import { DecodingQuery } from './pg-decode';
import type { PostgresUri } from './postgres-uri';
import {
  type Row,
  type RunOptions,
  type Scope,
  type Statement,
  TYPE_PARSERS,
  beginStatement,
  scopeStatement,
  statementName,
  ticketedStatement,
} from './queryable';
import { type SqlSession, relayRoleFor } from './migrations';
import { type ScopeCredentials, TicketSigner, configuredTicketKey } from './tenant-tickets';

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' && TYPE_PARSERS[oid]
      ? TYPE_PARSERS[oid]
      : pgTypes.getTypeParser(oid, format ?? 'text')) as typeof pgTypes.getTypeParser,
};

/**
 * Connections the short reads of one flush are spread over. Two: both
 * cores of a small server busy, one write per connection (measured on the
 * nested-list benchmark at 32 connections against spreading over the whole
 * pool: 753 vs 706 req/s over three alternating runs).
 */
const LIGHT_CONNECTIONS_PER_FLUSH = 2;

/**
 * The flush and the cork (see {@link PgDatabase.run}), off only when the
 * read-path benchmark measures what each gains: without the flush every
 * transaction takes a connection of its own at once; without the cork each
 * protocol message is its own socket write.
 */
const FLUSH = !readPathLayerOff('flush');
const CORK = !readPathLayerOff('cork');

/** Parameters of this many bytes make a statement heavy (see {@link isHeavy}). */
const HEAVY_PARAM_BYTES = 1024 * 1024;

/** True when a statement's binary parameters (artifact bodies) hold a megabyte or more. */
function isHeavy(statement: Statement): boolean {
  let bytes = 0;
  for (const p of statement.params) if (p instanceof Uint8Array) bytes += p.byteLength;
  return bytes >= HEAVY_PARAM_BYTES;
}

const noop = (): void => undefined;

/** A transaction waiting for the next flush. */
interface PendingRun {
  readonly scope: Scope;
  readonly statements: readonly Statement[];
  readonly options: RunOptions | undefined;
  readonly resolve: (rows: Row[][]) => void;
  readonly reject: (err: unknown) => void;
}

/** Startup options for every connection (`-c name=value`, sent in the startup packet). */
function startupOptions(uri: PostgresUri, role: string | undefined): string {
  // jit=off: the store's statements are short; JIT compilation (triggered by
  // unnest's row estimates) costs more than whole batches take to run.
  // TimeZone=UTC and DateStyle=ISO: timestamptz text is `2026-03-01 12:00:00.123+00`
  // whatever the server's defaults, which parseTimestamptz reads by position.
  const opts = [
    '-c TimeZone=UTC',
    '-c DateStyle=ISO',
    `-c statement_timeout=${uri.statementTimeoutMs}`,
    '-c jit=off',
  ];
  if (role !== undefined) opts.push(`-c role=${role}`);
  return opts.join(' ');
}

/** Opens a single (non-pipelined) client, e.g. for migrations; the caller ends it. */
export async function connectClient(uri: PostgresUri): Promise<Client & SqlSession> {
  const client = new Client({
    connectionString: uri.connectionString,
    connectionTimeoutMillis: uri.connectTimeoutMs,
    options: startupOptions(uri, undefined),
    types: typeParsers,
  });
  client.on('error', () => undefined); // surfaced by the next query instead
  await client.connect();
  return Object.assign(client, {
    exec: async (script: string) => {
      await client.query(script);
    },
  }) as Client & SqlSession;
}

export class PgDatabase {
  private readonly pool: Pool;
  private readonly prepare: boolean;
  private readonly genericLookups: boolean;
  private closing: Promise<void> | undefined;
  private queue: PendingRun[] = [];
  private flushScheduled = false;
  /**
   * Signs the tenant tickets and names the relay role. The default signs with
   * HUB_PG_TICKET_KEY (else the development key) and takes the relay role
   * from the URI or `<role>_relay`; the driver replaces it once it knows the
   * session's role.
   */
  credentials: ScopeCredentials;

  constructor(
    uri: PostgresUri,
    role: string | undefined,
    log?: (event: string, f?: Record<string, unknown>) => void,
    credentials?: ScopeCredentials,
  ) {
    this.prepare = uri.prepare;
    this.genericLookups = uri.genericLookups;
    this.credentials = credentials ?? {
      signer: new TicketSigner(configuredTicketKey()),
      relayRole: relayRoleFor(role ?? loginOf(uri), uri.relayRole),
    };
    this.pool = new Pool({
      connectionString: uri.connectionString,
      max: uri.max,
      idleTimeoutMillis: uri.idleTimeoutMs,
      connectionTimeoutMillis: uri.connectTimeoutMs,
      options: startupOptions(uri, role),
      types: typeParsers,
      pipeline: true,
    } as ConstructorParameters<typeof Pool>[0]);
    // An idle client whose backend was terminated emits 'error'; the pool
    // drops it. Without a listener Node would crash the process.
    // A checked-out client whose connection dies emits 'error' too; its
    // pending queries reject and run() destroys it, so the event itself only
    // needs a listener.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.pool.on('error', (err) =>
      log?.('postgres.idle_client_error', { code: (err as { code?: string }).code }),
    );
  }

  /** Connections currently open (busy + idle). */
  get connections(): number {
    return this.pool.totalCount;
  }

  /** Query config for a statement: named (kept prepared per connection) when marked and enabled. */
  private config(s: Statement): QueryConfig {
    return this.prepare && s.prepare
      ? { text: s.sql, values: [...s.params], name: statementName(s.sql) }
      : { text: s.sql, values: [...s.params] };
  }

  /** Sends one statement on `client`; resolves to pg's result (its rows decoded when the statement says how). */
  private send(client: PoolClient, s: Statement): Promise<unknown> {
    if (s.decode === undefined) return client.query(this.config(s));
    const query = new DecodingQuery(this.config(s), s.decode);
    void client.query(query);
    return query.result;
  }

  private release(client: PoolClient, err: unknown): void {
    // A client that lost its connection (or whose state is unknown) is destroyed, not reused.
    client.release(err !== undefined && isConnectionLoss(err) ? (err as Error) : undefined);
  }

  /**
   * Runs `statements` in one transaction scoped to `scope` (see
   * TenantDatabase.run). Short reads (`options.light`) asked for in the same
   * turn of the event loop (concurrent requests) are coalesced: spread over
   * at most two connections, several go out in ONE write, each still its own
   * transaction (BEGIN, set_config, its statements, COMMIT), so an error in
   * one rolls back only that one. In this VM a socket write to PostgreSQL
   * (and the backend wake-up it causes) was the largest single cost of a
   * saturated gateway; a lookup takes PostgreSQL a fraction of a millisecond,
   * so queuing a few on one backend costs less than a write each. Other
   * transactions (rollups, bulk writes) get a connection to themselves, so a
   * slow one never holds up the lookups behind it.
   */
  run(scope: Scope, statements: readonly Statement[], options?: RunOptions): Promise<Row[][]> {
    return new Promise((resolve, reject) => {
      if (options?.ticketed === true) {
        try {
          // Signed now: the run goes out as this one statement, nothing around it.
          statements = [ticketedStatement(scope, statements, this.credentials)];
        } catch (err) {
          reject(err);
          return;
        }
      }
      const pending = { scope, statements, options, resolve, reject };
      if (!FLUSH) {
        void this.runOnOneConnection([pending]);
        return;
      }
      this.queue.push(pending);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the I/O callbacks of this loop turn: every request parsed in it has queued by then.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const runs = this.queue;
    this.queue = [];
    const light: PendingRun[] = [];
    for (const r of runs) {
      if (r.options?.light) light.push(r);
      else void this.runOnOneConnection([r]);
    }
    const perConnection = Math.max(1, Math.ceil(light.length / LIGHT_CONNECTIONS_PER_FLUSH));
    for (let i = 0; i < light.length; i += perConnection) {
      void this.runOnOneConnection(light.slice(i, i + perConnection));
    }
  }

  /** Sends `runs` down one pooled connection in one write; settles each run on its own. */
  private async runOnOneConnection(runs: readonly PendingRun[]): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      for (const r of runs) r.reject(err);
      return;
    }
    // pg writes every protocol message (Parse, Bind, Describe, Execute, Sync)
    // to the socket on its own; corked, the whole pipeline leaves in one write
    // (one syscall) instead of a dozen or more per transaction.
    const socket = CORK ? socketOf(client) : undefined;
    socket?.cork();
    const pending = await this.submit(client, socket, runs);
    socket?.uncork();
    let connectionError: unknown;
    await Promise.all(
      runs.map(async (r, i) => {
        const settled = await Promise.allSettled(pending[i] as Promise<unknown>[]);
        // The first failure is the cause; later ones are "transaction aborted" echoes.
        const failure = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
        if (failure) {
          if (isConnectionLoss(failure.reason)) connectionError ??= failure.reason;
          r.reject(failure.reason);
          return;
        }
        if (r.options?.ticketed === true) {
          r.resolve([(settled[0] as PromiseFulfilledResult<{ rows: Row[] }>).value.rows]);
          return;
        }
        const last = settled[settled.length - 1] as PromiseFulfilledResult<{ command: string }>;
        if (last.value.command !== 'COMMIT') {
          r.reject(new Error('transaction did not commit'));
          return;
        }
        r.resolve(
          settled
            .slice(2, 2 + r.statements.length)
            .map((x) => (x as PromiseFulfilledResult<{ rows: Row[] }>).value.rows),
        );
      }),
    );
    this.release(client, connectionError);
  }

  /**
   * Queues every statement of `runs` on `client` (pipelined: they leave when
   * the socket is uncorked). A statement with megabytes of parameters
   * (artifact bodies) is serialized in a turn of its own, after what was
   * queued before it has left, so a batch's statements are not all copied in one turn.
   * @returns each run's queries, BEGIN to COMMIT.
   */
  private async submit(
    client: PoolClient,
    socket: ReturnType<typeof socketOf> | undefined,
    runs: readonly PendingRun[],
  ): Promise<Promise<unknown>[][]> {
    const pending: Promise<unknown>[][] = [];
    for (const r of runs) {
      if (r.options?.ticketed === true) {
        // Its own implicit transaction (no BEGIN: the statement's Sync ends it).
        pending.push([this.send(client, r.statements[0] as Statement)]);
        continue;
      }
      const queries: Promise<unknown>[] = [
        client.query(beginStatement(r.options)),
        client.query(
          this.config(
            scopeStatement(
              r.scope,
              this.credentials,
              this.genericLookups && r.options?.genericPlans === true,
            ),
          ),
        ),
      ];
      for (const s of r.statements) {
        if (isHeavy(s)) {
          for (const q of queries) q.catch(noop); // settled below; not unhandled meanwhile
          socket?.uncork();
          await nextTurn();
          socket?.cork();
        }
        if (s.copyIn !== undefined) {
          const copy = new CopyInQuery(s.sql, s.copyIn);
          void client.query(copy);
          queries.push(copy.result);
        } else queries.push(this.send(client, s));
      }
      queries.push(client.query('COMMIT'));
      pending.push(queries);
    }
    return pending;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  purgeTicket(tenant: string): string {
    return this.credentials.signer.ticket('p', tenant);
  }

  /** Runs one statement outside any tenant scope (catalog checks at open). */
  async queryUnscoped(sql: string): Promise<Row[]> {
    return (await this.pool.query(sql)).rows as Row[];
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

/** The client's socket, when pg exposes it (it does: `connection.stream`), to cork and uncork. */
function socketOf(client: PoolClient): { cork(): void; uncork(): void } | undefined {
  const stream = (client as unknown as { connection?: { stream?: { cork?: unknown; uncork?: unknown } } })
    .connection?.stream;
  return stream && typeof stream.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as { cork(): void; uncork(): void })
    : undefined;
}

/** The login role named in the URI (`hub_app` when it names none). */
function loginOf(uri: PostgresUri): string {
  const user = decodeURIComponent(new URL(uri.connectionString).username);
  return /^[a-z_][a-z0-9_]{0,62}$/.test(user) ? user : 'hub_app';
}

/**
 * {@link TenantDatabase} over PGlite, PostgreSQL compiled to WebAssembly and
 * running in this process (in a worker thread, see pglite-worker.cjs): the
 * embedded default (`pglite:<dir>`). PGlite has one connection, so
 * transactions are serialised here (a promise-chain lock held for the whole
 * transaction). The schema is migrated at open as PGlite's built-in
 * superuser, then the session switches for good to the application role with
 * `SET ROLE`, so the same row-level security applies as on a server.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HubError } from '../../hub/errors';
import { type DirectoryLock, lockDirectory } from './pglite-lock';
import { Worker } from 'node:worker_threads';
import type { SqlSession } from './migrations';
import { applyMigrations, relayRoleFor } from './migrations';
import { type ScopeCredentials, TicketSigner, generateTicketKey, parseTicketKey } from './tenant-tickets';
import {
  type Row,
  type RunOptions,
  type Scope,
  type Statement,
  TYPE_PARSERS,
  beginStatement,
  scopeStatement,
  ticketedStatement,
} from './queryable';

interface Shaped {
  rows: Row[];
  fields: [string, number][];
}

/** Error raised inside the worker, rebuilt with its SQLSTATE. */
class PgliteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'PgliteError';
  }
}

/** Applies TYPE_PARSERS to the columns the worker sent as text. */
function parsed(r: Shaped): Row[] {
  const parsers = r.fields.filter(([, oid]) => TYPE_PARSERS[oid] !== undefined);
  if (parsers.length === 0) return r.rows;
  for (const row of r.rows) {
    for (const [name, oid] of parsers) {
      const v = row[name];
      if (typeof v === 'string') row[name] = (TYPE_PARSERS[oid] as (t: string) => unknown)(v);
    }
  }
  return r.rows;
}

/**
 * A statement's rows: decoded by the statement's own decoder (the worker sent
 * them raw, as arrays of column texts), else as {@link parsed} makes them.
 */
function rowsOf(s: Statement, r: Shaped): Row[] {
  if (s.decode === undefined) return parsed(r);
  const decode = s.decode;
  return (r.rows as unknown as (string | null)[][]).map((texts) => decode(texts));
}

/** The worker running one PGlite, with request/response matching. */
class PgliteWorker {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;

  constructor(dataDir: string | undefined) {
    this.worker = new Worker(resolve(__dirname, 'pglite-worker.cjs'), { workerData: { dataDir } });
    this.worker.on('message', (msg: { id: number; error?: { message: string; code?: string } }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.error) p.reject(new PgliteError(msg.error.message, msg.error.code));
      else p.resolve(msg as never);
    });
    const fail = (err: Error): void => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.unref();
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(Object.assign(new Error('PGlite worker exited'), { code: '57P01' })));
  }

  request<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      // The worker keeps the process alive only while a request is waiting on
      // it: an idle store never holds up exit, a pending one is never cut off.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<{ rows: Row[] }> {
    return { rows: parsed(await this.request<Shaped>({ op: 'query', sql, params })) };
  }

  /** One statement alone, its rows decoded as it says (see {@link rowsOf}). */
  async statement(s: Statement): Promise<Row[]> {
    const raw = s.decode !== undefined;
    return rowsOf(s, await this.request<Shaped>({ op: 'query', sql: s.sql, params: s.params, raw }));
  }

  async close(): Promise<void> {
    if (this.dead) return;
    await this.request({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

export interface PgliteOpenOptions {
  /** Ticket key (64 hex digits); default: a random key for this open. */
  readonly ticketKey?: string;
  /** The outbox relay's role (default `<app role>_relay`). */
  readonly relayRole?: string;
  /**
   * Create the data directory when it does not exist (default true). False:
   * a missing directory is an error (NOT_FOUND) rather than a new, empty database.
   */
  readonly create?: boolean;
}

/** One PGlite per data directory per process: two instances on one directory would corrupt it. */
const shared = new Map<string, { db: Promise<PgliteDatabase>; refs: number }>();

export class PgliteDatabase {
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly worker: PgliteWorker,
    /** Lines of the migrations applied at open. */
    readonly migrated: readonly string[],
    private readonly credentials: ScopeCredentials,
    private readonly dirLock: DirectoryLock | undefined,
  ) {}

  private static async start(
    dataDir: string | undefined,
    appRole: string,
    options: PgliteOpenOptions,
  ): Promise<PgliteDatabase> {
    // One process opens a directory at a time, so the key need not outlive
    // it: without HUB_PG_TICKET_KEY each open installs a fresh random key.
    const key =
      options.ticketKey !== undefined && options.ticketKey !== ''
        ? parseTicketKey(options.ticketKey)
        : generateTicketKey();
    const relayRole = relayRoleFor(appRole, options.relayRole);
    let dirLock: DirectoryLock | undefined;
    if (dataDir !== undefined) {
      if (!existsSync(dataDir)) {
        if (options.create === false) {
          throw new HubError(
            'NOT_FOUND',
            `pglite store: folder ${dataDir} does not exist; not creating a new database there ` +
              '(check the path, or ask for a new one: --create on the command line)',
          );
        }
        await mkdir(dataDir, { recursive: true });
      }
      dirLock = await lockDirectory(dataDir);
    }
    const worker = new PgliteWorker(dataDir);
    try {
      const session: SqlSession = {
        query: (sql, params) => worker.query(sql, params),
        exec: async (script) => {
          await worker.request({ op: 'exec', sql: script });
        },
      };
      await session.exec("SET TimeZone = 'UTC'");
      const lines = await applyMigrations(session, appRole, {
        relayRole,
        ticketKey: key,
        replaceTicketKeys: true,
      });
      await session.exec(`SET ROLE "${appRole}"`);
      return new PgliteDatabase(worker, lines, { signer: new TicketSigner(key), relayRole }, dirLock);
    } catch (err) {
      await worker.close();
      await dirLock?.release();
      throw err;
    }
  }

  /**
   * Opens (or shares) the PGlite for `dataDir` (undefined: a new in-memory
   * database), migrated, with the session running as `appRole`.
   */
  static async open(
    dataDir: string | undefined,
    appRole: string,
    options: PgliteOpenOptions = {},
  ): Promise<PgliteDatabase> {
    if (dataDir === undefined) return PgliteDatabase.start(undefined, appRole, options);
    const key = resolve(dataDir);
    let entry = shared.get(key);
    if (!entry) {
      entry = { db: PgliteDatabase.start(key, appRole, options), refs: 0 };
      shared.set(key, entry);
      entry.db.catch(() => shared.delete(key));
    }
    entry.refs++;
    const db = await entry.db.catch((err: unknown) => {
      if (entry) entry.refs--;
      throw err;
    });
    return new SharedHandle(db, key) as unknown as PgliteDatabase;
  }

  /** Runs `fn` alone on the single connection (queued behind earlier work). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.lock.then(fn);
    this.lock = result.catch(() => undefined);
    return result;
  }

  run(scope: Scope, statements: readonly Statement[], options?: RunOptions): Promise<Row[][]> {
    if (options?.ticketed === true) {
      let s: Statement;
      try {
        s = ticketedStatement(scope, statements, this.credentials);
      } catch (err) {
        return Promise.reject(err);
      }
      // Alone, outside any transaction block: its own implicit transaction.
      return this.exclusive(async () => [await this.worker.statement(s)]);
    }
    const all = [scopeStatement(scope, this.credentials), ...statements].map((s) => ({
      sql: s.sql,
      params: [...s.params],
      ...(s.copyIn !== undefined ? { copyIn: s.copyIn } : {}),
      ...(s.decode !== undefined ? { raw: true } : {}),
    }));
    return this.exclusive(async () => {
      const out = await this.worker.request<{ results: Shaped[] }>({
        op: 'batch',
        begin: beginStatement(options),
        statements: all,
      });
      return out.results.slice(1).map((r, i) => rowsOf(statements[i] as Statement, r));
    });
  }

  async ping(): Promise<void> {
    await this.exclusive(() => this.worker.query('SELECT 1'));
  }

  purgeTicket(tenant: string): string {
    return this.credentials.signer.ticket('p', tenant);
  }

  queryUnscoped(sql: string): Promise<Row[]> {
    return this.exclusive(async () => (await this.worker.query(sql)).rows);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lock;
    await this.worker.close();
    await this.dirLock?.release();
  }
}

/** A reference to a shared (per directory) database; the last close closes it. */
class SharedHandle {
  private closed = false;
  constructor(
    private readonly db: PgliteDatabase,
    private readonly key: string,
  ) {}
  get migrated(): readonly string[] {
    return this.db.migrated;
  }
  run(scope: Scope, statements: readonly Statement[], options?: RunOptions): Promise<Row[][]> {
    return this.db.run(scope, statements, options);
  }
  ping(): Promise<void> {
    return this.db.ping();
  }
  purgeTicket(tenant: string): string {
    return this.db.purgeTicket(tenant);
  }
  queryUnscoped(sql: string): Promise<Row[]> {
    return this.db.queryUnscoped(sql);
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entry = shared.get(this.key);
    if (entry && --entry.refs <= 0) {
      shared.delete(this.key);
      await this.db.close();
    }
  }
}

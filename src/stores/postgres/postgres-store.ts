/**
 * The PostgreSQL {@link HubStore} (the default backend), over either driver
 * behind {@link TenantDatabase}: a server through `pg`, or PGlite in-process.
 *
 * Every call is one transaction scoped to the tenant (`app.tenant_id`, read by
 * the row-level security policies) and, on `pg`, one network round trip. The
 * SQL also filters on tenant_id explicitly, so indexes are used; RLS is the
 * safety net that holds even if a query forgot to.
 *
 * Calls that are safe to repeat (all but drainOutbox's shipping step) are
 * retried once when the connection is lost mid-call: putBatch is idempotent,
 * so a retry after an unacknowledged commit reports those records as
 * duplicates, never writes them twice.
 */
import { HubError } from '../../hub/errors';
import { checkSealedBatch } from '../../hub/sealed';
import type { HubRecord, RecordType } from '../../hub/model';
import type {
  ChildListQuery,
  PageWithChildren,
  ArchetypeProgressionQuery,
  ArchetypeProgressionRow,
  CostPerSkillQuery,
  CostPerSkillRow,
  HubStore,
  ListQuery,
  ManagerDashboard,
  ManagerDashboardQuery,
  ManagerRow,
  ManagersQuery,
  MaintenanceSource,
  RollupVersionSource,
  OutboxEntry,
  OutboxSource,
  PutOutcome,
  ReadProjection,
  ScanQuery,
  SkillRow,
  SkillsQuery,
  StoreCapabilities,
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { isUuid } from '../../hub/uuid';
import { ListBatcher } from './postgres-batch';
import type { ConsumerOptions } from './postgres-preagg-consumer';
import { FORGET_ROLLUPS, PostgresRollups } from './postgres-store-rollups';
import { childrenByParent, nestedListStatements } from './postgres-nested';
import {
  insertChunks,
  outcomesOfInsert,
  planChunks,
  resolveConcurrent,
  resolveRepeats,
} from './postgres-put';
import { isConnectionLoss, toPostgresHubError } from './postgres-errors';
import { arrayLiteral } from './postgres-columns';
import { getByIdsStatement, recordFromRow } from './postgres-sql';
import { scanStatements } from './postgres-scan';
import type { Row, Statement, TenantDatabase } from './queryable';
import { traceDatabase } from './postgres-tracing';
import { DEFAULT_STAGE_ROWS } from './postgres-uri';
import { afterLargeBodies } from './postgres-bodies';
import { backlogOf, outboxRecords } from './postgres-outbox';
import { viewWith } from '../../hub/tracing-ports';
import type { Span } from '../../platform/tracing';

export interface PostgresStoreOptions {
  /** Write an outbox row per created record (see OutboxSource). */
  readonly outbox?: boolean;
  /**
   * Write list pages for generic plans, which the database runs generic
   * (RunOptions.genericPlans): planned once per connection. The `pg` driver's
   * `generic_lookups` (default true); PGlite, which plans as it chooses, false.
   */
  readonly genericPlans?: boolean;
  /** Largest putBatch (default 50,000). */
  readonly maxBatchSize?: number;
  /** Rows per insert statement; a batch is several statements in one transaction (default 5,000). */
  readonly chunkSize?: number;
  /** Chunks of this many rows or more go through COPY into a staging table (default 500; 0: never). */
  readonly stageRows?: number;
  /** Artifact body bytes (sent as binary bytea) per insert statement (default 24 MiB: two largest bodies). */
  readonly chunkBytes?: number;
  /** How long a drained outbox entry stays leased before another relay may take it (default 300 s). */
  readonly outboxLeaseSeconds?: number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
  /**
   * Runs the background consumer folding the change feed into the rollup
   * cells (see postgres-preagg-consumer.ts) with these options. Default:
   * none (the driver turns it on; tests call `maintain` when they choose).
   */
  readonly rollupConsumer?: ConsumerOptions | false;
}

/** Creates the store over an open database; `close()` closes the database. */
export function createPostgresStore(
  db: TenantDatabase,
  options: PostgresStoreOptions,
): HubStore & OutboxSource & MaintenanceSource & RollupVersionSource {
  return new PostgresStore(db, options);
}

class PostgresStore implements HubStore, OutboxSource, MaintenanceSource, RollupVersionSource {
  readonly capabilities: StoreCapabilities;
  private closed = false;
  private readonly chunkSize: number;
  private readonly lists: ListBatcher;
  private readonly chunkBytes: number;
  private readonly rollups: PostgresRollups;

  constructor(
    private readonly db: TenantDatabase,
    private readonly options: PostgresStoreOptions,
  ) {
    this.capabilities = {
      maxBatchSize: options.maxBatchSize ?? 50_000,
      outbox: true,
      nestedLists: true,
      recordCounts: true,
      tenantOutbox: true,
      maintenance: true,
      rollupVersions: true,
      // Three statements of 2,000 rows side by side (one pooled connection each) keep both the
      // database and the copier busy; one 5,000-row statement at a time left each idle half the time.
      bulkWrite: { batchSize: Math.min(2_000, options.maxBatchSize ?? 50_000), concurrency: 3 },
    };
    this.chunkSize = options.chunkSize ?? 5_000;
    // Building and sending a statement is synchronous (copies of the bodies into one
    // buffer, then into the socket's): its size bounds how long one holds the event loop.
    this.chunkBytes = options.chunkBytes ?? 24 * 1024 * 1024;
    this.rollups = new PostgresRollups(db, options.rollupConsumer, options.log);
    this.lists = this.listBatcher(db);
  }

  /** A list batcher running its statements on `db`, pages written as `options.genericPlans` asks. */
  private listBatcher(db: TenantDatabase): ListBatcher {
    return new ListBatcher(
      (tenant, statements) =>
        db.run({ tenant }, statements, {
          light: true,
          // Single pages written for a generic plan; a lateral batch keeps custom plans.
          genericPlans: statements.every((s) => s.generic === true),
        }),
      this.options.genericPlans === true,
    );
  }

  /**
   * The view of a traced call: its statements are spans under `parent`. It
   * runs them on the same database (pool, state and the closed flag shared)
   * through a traced handle, with a list batcher of its own: the shared one
   * gathers concurrent requests' lists into one transaction, whose statements
   * would not all be this call's.
   */
  traced(parent: Span): HubStore {
    const db = traceDatabase(this.db, parent);
    return viewWith<PostgresStore>(this, {
      db,
      lists: this.listBatcher(db),
      rollups: viewWith(this.rollups, { db }),
    });
  }

  /** Runs `fn`, mapping errors; repeats it once after a lost connection when `retry` is set. */
  private async call<T>(operation: string, retry: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new HubError('UNAVAILABLE', 'postgres store is closed');
    try {
      return await fn();
    } catch (err) {
      if (!retry || this.closed || !isConnectionLoss(err)) throw toPostgresHubError(err, operation);
      this.options.log?.('postgres.retry', { operation });
      try {
        return await fn();
      } catch (again) {
        throw toPostgresHubError(again, operation);
      }
    }
  }

  async putBatch(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    if (records.length > this.capabilities.maxBatchSize) {
      throw new HubError(
        'VALIDATION',
        `batch of ${records.length} exceeds the store's maximum of ${this.capabilities.maxBatchSize}`,
      );
    }
    checkSealedBatch(tenant, records);
    return this.call('putBatch', true, () => this.put(tenant, records));
  }

  /** One batch, in the named steps of postgres-put.ts. */
  private async put(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    const plan = planChunks(records, { rows: this.chunkSize, bytes: this.chunkBytes });
    const outcomes = new Array<PutOutcome | undefined>(records.length);
    const notInserted = await insertChunks(this.db, tenant, records, plan.chunks, {
      outbox: this.options.outbox === true,
      stageRows: this.options.stageRows ?? DEFAULT_STAGE_ROWS,
    });
    const unresolved = outcomesOfInsert(records, plan.chunks, notInserted, outcomes);
    await resolveConcurrent(this.db, tenant, records, unresolved, outcomes);
    resolveRepeats(records, plan, outcomes);
    return outcomes.map((o) => {
      if (!o) throw new HubError('INTERNAL', 'postgres putBatch: missing outcome');
      return o;
    });
  }

  async getByIds(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]> {
    const wanted = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
    if (wanted.length === 0) {
      if (this.closed) throw new HubError('UNAVAILABLE', 'postgres store is closed');
      return ids.map(() => null);
    }
    const rows = await this.call('getByIds', true, async () => {
      const [found = []] = await this.db.run(
        { tenant },
        [getByIdsStatement(tenant, type, wanted, projection)],
        // By primary key: a generic plan is as good for every id (see RunOptions.genericPlans).
        { light: true, genericPlans: true },
      );
      return found;
    });
    await afterLargeBodies(rows);
    const found = new Map(rows.map((r) => [String(r.record_id), r]));
    return ids.map((id) => {
      const row = typeof id === 'string' ? found.get(id.toLowerCase()) : undefined;
      return row ? recordFromRow(tenant, type, row) : null;
    });
  }

  async list(tenant: TenantId, query: ListQuery): Promise<HubRecord[]> {
    // Lists of one tenant started in the same tick share a transaction (see postgres-batch.ts).
    const rows = await this.call('list', true, () => this.lists.list(tenant, query));
    await afterLargeBodies(rows);
    return rows.map((r) => recordFromRow(tenant, query.type, r));
  }

  /** The page and its records' children in one snapshot and one round trip (see postgres-nested.ts). */
  async listWithChildren(
    tenant: TenantId,
    query: ListQuery,
    children: ChildListQuery,
  ): Promise<PageWithChildren> {
    const statements = nestedListStatements(tenant, query, children);
    const [pageRows = [], childRows = []] = await this.call('list', true, () =>
      this.db.run({ tenant }, statements, { snapshot: true, light: true }),
    );
    const records = pageRows.map((r) => recordFromRow(tenant, query.type, r));
    const toChild = (r: Row): HubRecord => recordFromRow(tenant, children.type, r);
    return { records, children: childrenByParent(records, childRows, children, toChild) };
  }

  async scan(tenant: TenantId, query: ScanQuery): Promise<HubRecord[]> {
    const run = (): Promise<Row[][]> => this.db.run({ tenant }, scanStatements(tenant, query));
    // The page's rows were decoded into records as they arrived (postgres-scan.ts).
    return ((await this.call('scan', true, run))[1] ?? []) as unknown as HubRecord[];
  }

  // Rollups: statements and pre-aggregates in postgres-store-rollups.ts.
  costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
    return this.call('costPerSkill', true, () => this.rollups.costPerSkill(tenant, query));
  }

  archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]> {
    return this.call('archetypeProgression', true, () => this.rollups.archetypeProgression(tenant, query));
  }

  managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard> {
    return this.call('managerDashboard', true, () => this.rollups.managerDashboard(tenant, query));
  }

  managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]> {
    return this.call('managers', true, () => this.rollups.managers(tenant, query));
  }

  skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]> {
    return this.call('skills', true, () => this.rollups.skills(tenant, query));
  }

  /** See RollupVersionSource: the epoch, unfolded feed rows and migration (postgres-store-rollups.ts). */
  rollupVersion(tenant: TenantId): Promise<string | null> {
    return this.call('rollupVersion', true, () => this.rollups.version(tenant));
  }

  async purgeTenant(tenant: TenantId): Promise<number> {
    // The application role may not DELETE: the owner's narrow function does,
    // given a purge ticket signed for this tenant and this call. The tenant's
    // outbox entries are dropped by the relay (their records are gone).
    const rows = await this.call('purgeTenant', true, async () => {
      const statement = { sql: 'SELECT hub.purge_tenant($1) AS n', params: [this.db.purgeTicket(tenant)] };
      // The tenant's feed rows and rollup cells go in the same transaction.
      return (await this.db.run({ tenant }, [statement, FORGET_ROLLUPS]))[0] ?? [];
    });
    return Number(rows[0]?.n ?? 0);
  }

  async ping(): Promise<void> {
    await this.call('ping', false, () => this.db.ping());
  }

  /** Folds up to `limit` change-feed rows into the rollup cells now (one transaction). */
  async maintain(limit: number): Promise<number> {
    this.rollups.checkFoldLimit(limit);
    return this.call('maintain', true, () => this.rollups.fold(limit));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.rollups.stop();
    await this.db.close();
  }

  async drainOutbox(
    limit: number,
    ship: (entries: readonly OutboxEntry[]) => Promise<void>,
  ): Promise<number> {
    const lease = this.options.outboxLeaseSeconds ?? 300;
    const claimed = await this.call('drainOutbox', true, () =>
      this.db.run({ relay: true }, [
        {
          sql: `UPDATE hub.outbox SET claimed_until = clock_timestamp() + make_interval(secs => $2::int)
WHERE id IN (
  SELECT id FROM hub.outbox WHERE claimed_until IS NULL OR claimed_until < clock_timestamp()
  ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED
) RETURNING id::text AS id, tenant_id, record_type, record_id::text AS record_id, enqueued_at`,
          params: [limit, lease],
        },
      ]),
    );
    const rows = (claimed[0] ?? []).sort((a, b) => Number(a.id) - Number(b.id));
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => String(r.id));
    let entries: OutboxEntry[];
    try {
      // Inside the try: entries claimed but not loaded are given back too, not leased for minutes.
      entries = await this.call('drainOutbox', true, () => outboxRecords(this.db, rows));
      if (entries.length > 0) await ship(entries);
    } catch (err) {
      // Give the entries back at once rather than waiting for the lease to expire.
      await this.db
        .run({ relay: true }, [
          {
            sql: 'UPDATE hub.outbox SET claimed_until = NULL WHERE id = ANY($1::int8[])',
            params: [arrayLiteral(ids)],
          },
        ])
        .catch(() => undefined);
      throw err;
    }
    await this.call('drainOutbox', true, () =>
      this.db.run({ relay: true }, [
        { sql: 'DELETE FROM hub.outbox WHERE id = ANY($1::int8[])', params: [arrayLiteral(ids)] },
      ]),
    );
    return entries.length;
  }

  /** Pending outbox entries of one tenant (a move drains them before its switch). */
  async tenantOutboxBacklog(
    tenant: TenantId,
  ): Promise<{ readonly pending: number; readonly oldest: string | null }> {
    const rows = await this.call('outboxBacklog', true, () =>
      this.db
        .run({ relay: true }, [
          {
            sql: 'SELECT count(*) AS pending, min(enqueued_at) AS oldest FROM hub.outbox WHERE tenant_id = $1',
            params: [tenant],
          },
        ])
        .then((r) => r[0] ?? []),
    );
    return backlogOf(rows[0]);
  }

  /** Exact count of a tenant's records of one type (progress totals). */
  async countRecords(tenant: TenantId, type: RecordType): Promise<number> {
    const rows = await this.call('countRecords', true, () =>
      this.one(tenant, {
        sql: `SELECT count(*) AS n FROM hub.${type} WHERE tenant_id = $1`,
        params: [tenant],
      }),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async outboxBacklog(): Promise<{ readonly pending: number; readonly oldest: string | null }> {
    const rows = await this.call('outboxBacklog', true, () =>
      this.db
        .run({ relay: true }, [
          { sql: 'SELECT count(*) AS pending, min(enqueued_at) AS oldest FROM hub.outbox', params: [] },
        ])
        .then((r) => r[0] ?? []),
    );
    return backlogOf(rows[0]);
  }

  private async one(tenant: TenantId, statement: Statement): Promise<Row[]> {
    return (await this.db.run({ tenant }, [statement]))[0] ?? [];
  }
}

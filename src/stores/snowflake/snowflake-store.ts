/**
 * The Snowflake store: one database per tenant (CLARESIA_<TENANT>_HUB by
 * default), six tables, writes through a micro-batch writer, reads and the
 * three rollups in Snowflake SQL. Every statement names one tenant's database
 * only: two tenants never meet in one statement.
 *
 * Provisioning: a tenant's database is created lazily (IF NOT EXISTS DDL) the
 * first time this store writes for it; `migrate` provisions listed tenants
 * ahead. Reads of a never-provisioned tenant answer empty without creating
 * anything (Snowflake's "does not exist" error, 002003, means "no data").
 */
import { HubError } from '../../hub/errors';
import { checkSealedBatch } from '../../hub/sealed';
import type { HubRecord, RecordType } from '../../hub/model';
import type {
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
  PutOutcome,
  ScanQuery,
  SkillRow,
  SkillsQuery,
  StoreCapabilities,
  ReadProjection,
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import type { SnowflakeConfig } from './snowflake-config';
import { type Binds, SnowflakeSession } from './snowflake-connection';
import { isObjectMissing } from './snowflake-errors';
import {
  archetypeProgressionStatement,
  archetypeProgressionRows,
  costPerSkillStatement,
  costPerSkillRows,
  managerDashboardStatements,
  managerDashboardResult,
  managersStatement,
  managersRows,
  skillsStatement,
  skillsRows,
} from './snowflake-rollups';
import { fromRow } from './snowflake-rows';
import { type FlushContext, uploadFlush } from './snowflake-flush';
import {
  type Statement,
  type TenantNames,
  countAllStatement,
  dropTenantStatement,
  provisionedCheckStatement,
  getByIdsStatement,
  listStatement,
  provisionStatements,
  scanStatement,
  tenantNames,
} from './snowflake-sql';
import { streamTaskStatements } from './snowflake-streams';
import { StageFileWriter, stageFilesUsable } from './snowflake-stage-file';
import { type CommitFn, MicroBatchWriter } from './snowflake-writer';
import { viewWith } from '../../hub/tracing-ports';
import type { Span } from '../../platform/tracing';

/** Ids per point-read statement. */
const IDS_CHUNK = 1_000;

/** Opens a Snowflake store (logs in once; the session is shared by all tenants). */
export async function createSnowflakeStore(
  config: SnowflakeConfig,
  options: { log?: (event: string, fields?: Record<string, unknown>) => void } = {},
): Promise<SnowflakeStore> {
  const session = await SnowflakeSession.connect(config);
  return new SnowflakeStore(config, session, options.log);
}

/** See the file comment. Exported for the driver, tests and the benchmark. */
export class SnowflakeStore implements HubStore {
  readonly capabilities: StoreCapabilities = {
    maxBatchSize: 50_000,
    outbox: false,
    nestedLists: false,
    immediateWrites: true,
    // A tenant's commits run one at a time; the next batch uploads meanwhile (submitNow), so
    // reading, verifying and staging it overlap the commit. Large batches amortise the statements.
    bulkWrite: { batchSize: 10_000, concurrency: 2 },
  };
  /** The micro-batch writer (exposed for tests and the benchmark: flush counts). */
  readonly writer: MicroBatchWriter;
  private readonly provisioned = new Map<TenantId, Promise<void>>();
  /** Local CSV files of batches staged by PUT + COPY INTO (see snowflake-stage-file.ts). */
  private readonly stageFiles = new StageFileWriter();
  /** What a flush uses (see snowflake-flush.ts): this store's session, not a traced view's. */
  private readonly flushContext: FlushContext;
  private closed = false;

  constructor(
    readonly config: SnowflakeConfig,
    private readonly session: SnowflakeSession,
    private readonly log?: (event: string, fields?: Record<string, unknown>) => void,
  ) {
    this.flushContext = {
      config,
      session,
      stageFiles: this.stageFiles,
      canStageFiles: stageFilesUsable(),
      log,
    };
    this.writer = new MicroBatchWriter((tenant, records) => this.flush(tenant, records), {
      maxRows: config.batchRows,
      maxDelayMs: config.flushMs,
    });
  }

  /**
   * The view of a traced call: its statements are spans under `parent`, run
   * on the same session; everything else (writer, provisioning, state) is
   * this store's. Writes queued in the shared micro-batch writer are flushed
   * for many callers at once, outside any one trace.
   */
  traced(parent: Span): HubStore {
    const session = this.session;
    return viewWith<SnowflakeStore>(this, {
      session: viewWith(session, {
        query: (sqlText: string, binds?: Binds, what?: string) => session.query(sqlText, binds, what, parent),
      }),
    });
  }

  private open(): void {
    if (this.closed) throw new HubError('UNAVAILABLE', 'snowflake store is closed');
  }

  private names(tenant: TenantId): TenantNames {
    return tenantNames(this.config, tenant);
  }

  /**
   * Creates the tenant's database, schema and tables if missing (and streams
   * and tasks when enabled). Memoised per tenant; a failure is retried next time.
   * @returns the DDL statements run.
   */
  async provision(tenant: TenantId): Promise<string[]> {
    const statements = provisionStatements(this.names(tenant));
    if (this.config.streams) statements.push(...streamTaskStatements(this.config, tenant));
    let done = this.provisioned.get(tenant);
    if (!done) {
      done = (async () => {
        for (const sql of statements) await this.session.query(sql, [], 'provisioning');
      })();
      this.provisioned.set(tenant, done);
      done.catch(() => this.provisioned.delete(tenant));
    }
    await done;
    return statements;
  }

  /**
   * For `migrate`: provisions the tenant unless all its tables already exist.
   * @returns the DDL run (empty when the tenant was already current).
   */
  async migrateTenant(tenant: TenantId): Promise<string[]> {
    const check = { sql: provisionedCheckStatement(this.names(tenant)), params: [] };
    try {
      await this.session.query(check.sql, check.params, 'provisioning check');
      return [];
    } catch (err) {
      if (!(err instanceof HubError && isObjectMissing(err.cause))) throw err;
    }
    return this.provision(tenant);
  }

  async putBatch(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    this.open();
    if (records.length > this.capabilities.maxBatchSize) {
      throw new HubError(
        'VALIDATION',
        `batch of ${records.length} exceeds the store's maximum of ${this.capabilities.maxBatchSize}`,
      );
    }
    // Checked before it joins the tenant's buffer: a bad record never reaches a flush.
    checkSealedBatch(tenant, records);
    return this.writer.submit(tenant, records);
  }

  /** putBatch without the micro-batch timer: the flush starts at once (bulk copies send big batches). */
  async putBatchNow(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    this.open();
    if (records.length > this.capabilities.maxBatchSize) {
      throw new HubError(
        'VALIDATION',
        `batch of ${records.length} exceeds the store's maximum of ${this.capabilities.maxBatchSize}`,
      );
    }
    // The same check as putBatch (the port's contract): a copy's records are checked here too.
    checkSealedBatch(tenant, records);
    return this.writer.submitNow(tenant, records);
  }

  /** The upload phase of a flush (snowflake-flush.ts), after provisioning the tenant. */
  private async flush(tenant: TenantId, records: readonly HubRecord[]): Promise<CommitFn> {
    await this.provision(tenant);
    return uploadFlush(this.flushContext, this.names(tenant), records);
  }

  /** Runs a read; a tenant that was never provisioned has no objects and reads as empty. */
  private async read(q: Statement, what: string): Promise<unknown[][]> {
    try {
      return await this.session.query(q.sql, q.params, what);
    } catch (err) {
      if (err instanceof HubError && isObjectMissing(err.cause)) return [];
      throw err;
    }
  }

  async getByIds(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]> {
    this.open();
    const unique = [...new Set(ids)];
    const found = new Map<string, HubRecord>();
    for (let at = 0; at < unique.length; at += IDS_CHUNK) {
      const rows = await this.read(
        getByIdsStatement(this.names(tenant), type, unique.slice(at, at + IDS_CHUNK), projection),
        'read',
      );
      for (const row of rows) {
        const r = fromRow(type, row, projection);
        found.set(r.record_id, r);
      }
    }
    return ids.map((id) => found.get(id) ?? null);
  }

  async list(tenant: TenantId, query: ListQuery): Promise<HubRecord[]> {
    this.open();
    const rows = await this.read(listStatement(this.names(tenant), query), 'list');
    return rows.map((row) => fromRow(query.type, row, query.projection));
  }

  async scan(tenant: TenantId, query: ScanQuery): Promise<HubRecord[]> {
    this.open();
    const rows = await this.read(scanStatement(this.names(tenant), query), 'scan');
    return rows.map((row) => fromRow(query.type, row));
  }

  async costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
    this.open();
    return costPerSkillRows(
      await this.read(costPerSkillStatement(this.names(tenant), query), 'costPerSkill'),
    );
  }

  async archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]> {
    this.open();
    const q = archetypeProgressionStatement(this.names(tenant), query);
    return archetypeProgressionRows(await this.read(q, 'archetypeProgression'));
  }

  async managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard> {
    this.open();
    const q = managerDashboardStatements(this.names(tenant), query);
    const [members, outputs, decisions, governance] = await Promise.all([
      this.read(q.members as Statement, 'managerDashboard'),
      this.read(q.outputs as Statement, 'managerDashboard'),
      this.read(q.decisions as Statement, 'managerDashboard'),
      this.read(q.governance as Statement, 'managerDashboard'),
    ]);
    return managerDashboardResult(query.managerId, { members, outputs, decisions, governance });
  }

  async managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]> {
    this.open();
    return managersRows(await this.read(managersStatement(this.names(tenant), query), 'managers'));
  }

  async skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]> {
    this.open();
    return skillsRows(await this.read(skillsStatement(this.names(tenant), query), 'skills'));
  }

  async purgeTenant(tenant: TenantId): Promise<number> {
    this.open();
    // Buffered writes of the tenant land first, so they are counted and purged too.
    await this.writer.drain(tenant);
    const names = this.names(tenant);
    const rows = await this.read({ sql: countAllStatement(names), params: [] }, 'purge count');
    await this.session.query(dropTenantStatement(names), [], 'purge');
    this.provisioned.delete(tenant);
    return Number(rows[0]?.[0] ?? 0);
  }

  async ping(): Promise<void> {
    this.open();
    await this.session.query('SELECT 1', [], 'ping');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.drain();
    await this.session.close();
    await this.stageFiles.dispose();
  }
}

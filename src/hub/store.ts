/**
 * The HubStore port: the one interface every backend implements (memory,
 * PostgreSQL, Snowflake, SharePoint) and the router wraps. Nothing above this
 * port knows which backend it talks to; it reads {@link StoreCapabilities}.
 *
 * Contract shared by every method:
 * - `tenant` is already validated; a store answers only from that tenant's
 *   data and never reveals whether an id exists in another tenant.
 * - Records passed in are sealed by the Hub (validated, defaulted, hashed).
 *   Records returned round-trip every field exactly, so their hash verifies.
 * - Errors are thrown only as `HubError` with a code from the closed set; the
 *   driver's error is kept as `cause`.
 */
import type {
  DecisionOutcome,
  GovernanceAction,
  HubRecord,
  Level,
  OutputStatus,
  RecordType,
  Severity,
} from './model';
import type { TenantId } from './tenant';
import type { Bucket } from './time';
import type { Traceable } from './tracing-ports';

/** What a store can do; the router and the conformance suite read these, never the store's name. */
//
// Every flag here has a reader: the Hub and the router split batches by
// `maxBatchSize`; the router picks a store's own outbox or its local one by
// `outbox`; nested lists go to the store in one call by `nestedLists`; the
// copy engine sizes and overlaps its writes by `bulkWrite`. An
// optional part of the port is declared by its flag and checked only through
// it (`hasOutbox`, `hasNestedLists`); the conformance suite checks that a
// store declaring a flag implements the methods behind it.
export interface StoreCapabilities {
  /** Largest batch `putBatch` accepts in one call; callers split bigger ones. */
  readonly maxBatchSize: number;
  /**
   * The store implements {@link OutboxSource}: it can record an outbox entry for
   * every created record in the same transaction as the record itself; the
   * router's dual-write relay needs this from a primary store.
   */
  readonly outbox: boolean;
  /** The store implements {@link NestedListSource} (a page and its children in one call). */
  readonly nestedLists: boolean;
  /** The store implements {@link RecordCounter} (absent: false). */
  readonly recordCounts?: boolean;
  /** The store implements {@link ImmediateWriter} (absent: false). */
  readonly immediateWrites?: boolean;
  /**
   * How bulk copiers (tenant moves) write to this store fastest: records per
   * `putBatch` call (at most `maxBatchSize`) and calls in flight at once for
   * one tenant (1..16), which the store must handle correctly side by side.
   * Absent: one call of up to 5,000 records at a time.
   */
  readonly bulkWrite?: BulkWritePlan;
  /** The store implements {@link TenantOutboxSource} (absent: false). */
  readonly tenantOutbox?: boolean;
  /**
   * The store implements {@link MaintenanceSource} (background upkeep of derived
   * data, such as pre-aggregated rollups, that callers may also step); absent
   * means false.
   */
  readonly maintenance?: boolean;
}

/** See {@link StoreCapabilities.bulkWrite}. */
export interface BulkWritePlan {
  readonly batchSize: number;
  readonly concurrency: number;
}

/** One record waiting to be shipped to a tenant's analytics store. */
export interface OutboxEntry {
  /** Store-assigned, increasing id of the entry. */
  readonly id: string;
  readonly tenant: TenantId;
  readonly record: HubRecord;
  /** When the entry was written (canonical timestamp); the relay's lag is measured from it. */
  readonly enqueued_at: string;
}

/**
 * Optional part of the port, present when `capabilities.outbox` is true.
 * Entries are written by `putBatch` (only for "created" outcomes) atomically
 * with the records, when the store was opened with its outbox enabled.
 */
export interface OutboxSource {
  /**
   * Claims up to `limit` entries that no other relay holds (`FOR UPDATE SKIP
   * LOCKED` or equivalent), calls `ship` with them, and deletes them only when
   * `ship` resolves; if it rejects, the entries stay for a later attempt.
   * @returns how many entries were shipped.
   */
  drainOutbox(limit: number, ship: (entries: readonly OutboxEntry[]) => Promise<void>): Promise<number>;
  /** Entries not yet shipped and the enqueue time of the oldest one. */
  outboxBacklog(): Promise<{ readonly pending: number; readonly oldest: string | null }>;
}

/** True when a store implements {@link OutboxSource}. */
export function hasOutbox(store: HubStore): store is HubStore & OutboxSource {
  return store.capabilities.outbox;
}

/**
 * Optional part of the port, present when `capabilities.tenantOutbox` is
 * true: the pending outbox entries of one tenant (a
 * tenant move drains its lag to zero before switching; other tenants' entries
 * on the same outbox must not hold it up).
 */
export interface TenantOutboxSource {
  tenantOutboxBacklog(
    tenant: TenantId,
  ): Promise<{ readonly pending: number; readonly oldest: string | null }>;
}

/** True when a store implements {@link TenantOutboxSource}. */
export function hasTenantOutbox(store: HubStore): store is HubStore & TenantOutboxSource {
  return store.capabilities.tenantOutbox === true;
}

/**
 * Optional part of the port, present when `capabilities.recordCounts` is
 * true: how many records of one type a tenant has
 * (progress totals and ETAs of copies and verifications). May be an estimate
 * only where documented by the store; never used for correctness.
 */
export interface RecordCounter {
  countRecords(tenant: TenantId, type: RecordType): Promise<number>;
}

/** True when a store implements {@link RecordCounter}. */
export function hasRecordCounts(store: HubStore): store is HubStore & RecordCounter {
  return store.capabilities.recordCounts === true;
}

/**
 * Optional part of the port, present when `capabilities.immediateWrites` is
 * true, for stores whose `putBatch` buffers writes for a while (micro-batching): the same contract as `putBatch`, but the batch is
 * written at once instead of waiting for the buffer's timer. Bulk copiers
 * that already send large batches use it.
 */
export interface ImmediateWriter {
  putBatchNow(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]>;
}

/** True when a store implements {@link ImmediateWriter}. */
export function hasImmediateWrites(store: HubStore): store is HubStore & ImmediateWriter {
  return store.capabilities.immediateWrites === true;
}

/** Outcome of writing one record. */
export type PutOutcome =
  | { readonly status: 'created' }
  /** The record_id already existed with the identical provenance hash: nothing written. */
  | { readonly status: 'duplicate' }
  /** The record_id already existed with a different hash: nothing written for this record. */
  | { readonly status: 'conflict'; readonly existingHash: string };

/** A keyset position: the last record of the previous page. */
export interface Keyset {
  readonly created_at: string;
  readonly record_id: string;
}

/**
 * A manager's team as of an instant: the employees whose current profile as
 * of `asOf` (their latest version with `effective_at < asOf`; ties by
 * `created_at`, then `record_id`) names `managerId` as manager. The same
 * definition as the manager dashboard's team (there `asOf` is `to`).
 */
export interface TeamScope {
  readonly managerId: string;
  /** Canonical timestamp (exclusive: a version taking effect at `asOf` does not count yet). */
  readonly asOf: string;
}

/**
 * List filters. Each is applied only where the type has it (see
 * `TYPE_FILTERS` in filters.ts); the Hub rejects filters that do not apply to
 * a type before calling the store.
 */
export interface ListFilter {
  /** Inclusive lower bound on `created_at` (canonical timestamp). */
  readonly from?: string;
  /** Exclusive upper bound on `created_at`. */
  readonly to?: string;
  /** Any of these skill ids (non-empty when present). */
  readonly skillIds?: readonly string[];
  /**
   * The record's employee. On decisions, which have none: the employee of
   * the output decided on (a decision on an output that is not stored matches
   * no employee).
   */
  readonly employeeId?: string;
  /**
   * Records of the team's members (outputs and governance events by
   * `employee_id`; decisions by the employee of the output decided on).
   */
  readonly team?: TeamScope;
  /** Profile versions whose `manager_id` is this (employee profiles). */
  readonly managerId?: string;
  readonly status?: OutputStatus;
  readonly outcome?: DecisionOutcome;
  readonly severity?: Severity;
  readonly action?: GovernanceAction;
  readonly outputId?: string;
}

/**
 * Which heavy fields a read returns (absent: every field). With `body: false`
 * an artifact comes back with every field but its body, which the store does
 * not read at all (no column selected, no file downloaded, no copy made): the
 * record's `body` is then {@link BODY_NOT_READ}. Its `provenance_hash`,
 * `size_bytes` and `content_sha256` are returned as stored, so the record's
 * hash still verifies; only the body check needs the body. Fields of other
 * types are always returned.
 */
export interface ReadProjection {
  readonly body?: boolean;
}

/** True when a projection leaves the artifact body out. */
export function skipsBody(projection: ReadProjection | undefined): boolean {
  return projection?.body === false;
}

export interface ListQuery {
  readonly type: RecordType;
  /**
   * Validated and normalised by the Hub (`normalizeFilter` in filters.ts, the
   * one layer that checks filters): only filters that apply to `type`, with
   * canonical values. Stores translate it and do not check it again.
   */
  readonly filter: ListFilter;
  /** Records to return, 1..500 (the Hub asks for one extra to learn whether a next page exists). */
  readonly limit: number;
  /** Return records strictly after this position in list order. */
  readonly after?: Keyset;
  /** Heavy fields to leave out (default: none). */
  readonly projection?: ReadProjection;
}

/**
 * The children of each record of a list page: the records of `type` whose
 * `key` filter equals the parent's `record_id` (an output's decisions or
 * artifacts), newest first, at most `limit` per parent.
 */
export interface ChildListQuery {
  readonly type: RecordType;
  /** The child's filter holding the parent's id. */
  readonly key: 'outputId';
  /** Children to return per parent, 1..500 (the Hub asks for one extra, as for pages). */
  readonly limit: number;
  /** Heavy fields of the children to leave out (default: none). */
  readonly projection?: ReadProjection;
}

/** A page with its records' children: `children[i]` belongs to `records[i]`. */
export interface PageWithChildren {
  readonly records: HubRecord[];
  readonly children: HubRecord[][];
}

/**
 * Optional part of the port: a list page and its records' children in one
 * call, read from one consistent snapshot (the children of exactly the
 * records returned), so a nested GraphQL list costs one store round trip.
 * Stores without it are served by `listWithChildren` in nested-list.ts (the
 * page, then one `list` per parent), with the same results.
 */
export interface NestedListSource {
  listWithChildren(tenant: TenantId, query: ListQuery, children: ChildListQuery): Promise<PageWithChildren>;
}

/** True when a store implements {@link NestedListSource}. */
export function hasNestedLists(store: HubStore): store is HubStore & NestedListSource {
  return store.capabilities.nestedLists;
}

export interface ScanQuery {
  readonly type: RecordType;
  readonly limit: number;
  /** Return records strictly after this position in scan order. */
  readonly after?: Keyset;
}

export interface CostPerSkillQuery {
  readonly from: string;
  readonly to: string;
  readonly bucket: Bucket;
  readonly skillIds?: readonly string[];
  /** Only outputs of the team's members. */
  readonly team?: TeamScope;
}

export interface CostPerSkillRow {
  readonly skill_id: string;
  /** Canonical timestamp of the bucket's start (UTC). */
  readonly bucket_start: string;
  readonly invocations: number;
  readonly failed: number;
  /** Exact decimal string. */
  readonly total_cost_usd: string;
  /** Decimal string rounded half away from zero to 6 places (then canonical). */
  readonly avg_cost_usd: string;
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Continuous 95th percentile of non-null latencies, rounded to 1 place; null when none. */
  readonly p95_latency_ms: number | null;
}

export interface ArchetypeProgressionQuery {
  readonly from: string;
  readonly to: string;
  readonly archetype?: string;
  /** Only transitions of the team's members. */
  readonly team?: TeamScope;
}

export interface ArchetypeProgressionRow {
  readonly archetype: string;
  readonly from_level: Level;
  readonly to_level: Level;
  readonly transitions: number;
  readonly employees: number;
  /** Continuous median of days between the two versions, rounded to 2 places. */
  readonly median_days: number;
}

export interface ManagerDashboardQuery {
  readonly managerId: string;
  readonly from: string;
  readonly to: string;
}

export interface ManagerDashboard {
  readonly manager_id: string;
  readonly invocations: number;
  readonly failed: number;
  readonly total_cost_usd: string;
  readonly decisions: {
    readonly accepted: number;
    readonly total: number;
    /** accepted / total rounded to 4 places; null when there are no decisions. */
    readonly acceptance_rate: number | null;
    readonly escalations: number;
  };
  /** Governance events of team members in range, by severity (every severity present, zero when none). */
  readonly governance_by_severity: Readonly<Record<Severity, number>>;
  readonly top_skills: readonly {
    readonly skill_id: string;
    readonly invocations: number;
    readonly total_cost_usd: string;
  }[];
  readonly members: readonly {
    readonly employee_id: string;
    readonly display_name: string;
    readonly archetype: string;
    readonly level: Level;
    readonly invocations: number;
    readonly total_cost_usd: string;
  }[];
}

/** The managers named by current profiles, for pickers: ordered by manager id, one page. */
export interface ManagersQuery {
  /** The instant the teams are taken at (see {@link TeamScope}). */
  readonly asOf: string;
  /** Managers to return, 1..1000. */
  readonly limit: number;
  /** Only managers whose id sorts after this one (byte order): the next page. */
  readonly after?: string;
}

export interface ManagerRow {
  readonly manager_id: string;
  /** The manager's own current profile's display name as of `asOf`; null when they have none. */
  readonly display_name: string | null;
  /** Employees whose current profile as of `asOf` names this manager (at least 1). */
  readonly team_size: number;
}

/** Skills used by outputs in `[from, to)`, for pickers: ordered by skill id, one page. */
export interface SkillsQuery {
  readonly from: string;
  readonly to: string;
  /** Only outputs of the team's members. */
  readonly team?: TeamScope;
  /** Skills to return, 1..1000. */
  readonly limit: number;
  /** Only skills whose id sorts after this one (byte order). */
  readonly after?: string;
}

export interface SkillRow {
  readonly skill_id: string;
  /** Outputs of the skill in range (at least 1). */
  readonly invocations: number;
  /** Exact sum of their cost. */
  readonly total_cost_usd: string;
}

export interface HubStore extends Traceable {
  /** What this store can do. Constant for the store's lifetime. */
  readonly capabilities: StoreCapabilities;

  /**
   * Writes sealed records of one tenant, idempotently per `record_id` (and type).
   * Returns one outcome per input, in input order. A record is acknowledged
   * ("created") only once durable in this store. Records in one call may be of
   * several types. Atomicity across the batch is not promised: each outcome
   * tells exactly what happened to its record.
   */
  putBatch(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]>;

  /**
   * Reads records of one type by id. Returns one entry per id, in the order of
   * `ids` (duplicates allowed), `null` where the tenant has no such record.
   * `projection` leaves heavy fields out (see {@link ReadProjection}).
   */
  getByIds(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]>;

  /** Lists records in `created_at` descending, then `record_id` descending order. */
  list(tenant: TenantId, query: ListQuery): Promise<HubRecord[]>;

  /**
   * Scans one type of a tenant in `created_at` ascending, then `record_id`
   * ascending order (for migration and verification).
   */
  scan(tenant: TenantId, query: ScanQuery): Promise<HubRecord[]>;

  costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]>;
  archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]>;
  managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard>;
  /** Managers and their team sizes; see {@link ManagersQuery}. */
  managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]>;
  /** Skills with their invocations and cost; see {@link SkillsQuery}. */
  skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]>;

  /**
   * Deletes every record of the tenant (offboarding). Returns how many records
   * were deleted. The Hub audits the call; stores just delete.
   */
  purgeTenant(tenant: TenantId): Promise<number>;

  /** Resolves when the backend answers; throws UNAVAILABLE/TIMEOUT otherwise. */
  ping(): Promise<void>;

  /** Releases connections. Idempotent; later calls on the store fail with UNAVAILABLE. */
  close(): Promise<void>;
}

/**
 * Optional part of the port, present when `capabilities.maintenance` is true:
 * a store that maintains derived data (such as pre-aggregated rollup cells)
 * from its writes in the background exposes one bounded step of that work,
 * for tools and tests that want it done now. Answers never depend on it
 * having run.
 */
export interface MaintenanceSource {
  /** Does up to `limit` units of pending work (1..100,000); resolves to the units done. */
  maintain(limit: number): Promise<number>;
}

/** True when a store implements {@link MaintenanceSource}. */
export function hasMaintenance(store: HubStore): store is HubStore & MaintenanceSource {
  return store.capabilities.maintenance === true;
}

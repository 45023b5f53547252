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
  OutputStatus,
  RecordType,
  Severity,
} from './model';
import type {
  ArchetypeProgressionQuery,
  ArchetypeProgressionRow,
  CostPerSkillQuery,
  CostPerSkillRow,
  ManagerDashboard,
  ManagerDashboardQuery,
  ManagerRow,
  ManagersQuery,
  SkillRow,
  SkillsQuery,
} from './store-rollups';
import type { TenantId } from './tenant';
import type { Traceable } from './tracing-ports';

// The optional parts and the rollup reads' arguments live in files of their own; importers
// keep naming only this file.
export * from './store-optional';
export type * from './store-rollups';

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
  /** The store implements {@link RollupVersionSource} (a data version for cached rollups; absent: false). */
  readonly rollupVersions?: boolean;
}

/** See {@link StoreCapabilities.bulkWrite}. */
export interface BulkWritePlan {
  readonly batchSize: number;
  readonly concurrency: number;
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

export interface ScanQuery {
  readonly type: RecordType;
  readonly limit: number;
  /** Return records strictly after this position in scan order. */
  readonly after?: Keyset;
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

/**
 * The optional parts of the HubStore port (store.ts): each is declared by a
 * flag of `StoreCapabilities` (store.ts) and reached only through its guard
 * (`hasOutbox`, `hasNestedLists`, ...), never by asking which store it is.
 * store.ts re-exports everything here, so importers name only the port.
 */
import type { HubRecord, RecordType } from './model';
import type { HubStore, ListQuery, PutOutcome, ReadProjection } from './store';
import type { TenantId } from './tenant';

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

/**
 * Optional part of the port, present when `capabilities.rollupVersions` is
 * true: an opaque version of the data a tenant's versioned rollups read, so a
 * caller may keep an answer and serve it again, without recomputing, while the
 * version it was computed under is still current (src/hub/rollup-cache.ts).
 *
 * The versioned rollups are {@link VERSIONED_ROLLUPS} without a `team` (a
 * team's rollups read profiles, which the version need not cover). Contract:
 * - the version is read in a snapshot that sees every write acknowledged
 *   before the call began (as a rollup call would);
 * - when two calls return the same non-null version, no input of a versioned
 *   rollup of the tenant changed between their snapshots: every such rollup
 *   answers the same at both (and a version never comes back once an input changed);
 * - `null` when the store cannot promise this now: callers then do not cache.
 */
export interface RollupVersionSource {
  rollupVersion(tenant: TenantId): Promise<string | null>;
}

/** The rollups a {@link RollupVersionSource}'s version covers (each without a team). */
export const VERSIONED_ROLLUPS = ['costPerSkill', 'skills'] as const;

/** True when a store implements {@link RollupVersionSource}. */
export function hasRollupVersions(store: HubStore): store is HubStore & RollupVersionSource {
  return store.capabilities.rollupVersions === true;
}

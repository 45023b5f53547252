/**
 * The in-memory store: for tests, demos and the conformance suite's reference
 * runs. NEVER for production: everything is lost when the process exits, and
 * memory grows with every record.
 *
 * Every method does its work synchronously between awaits, so concurrent async
 * callers see each batch applied whole and in one step (JavaScript runs one
 * callback at a time). Records are stored frozen and artifact bodies copied, so
 * no caller can change stored data through a returned object.
 */
import { HubError } from '../../hub/errors';
import { checkSealedBatch } from '../../hub/sealed';
import { isFieldFilter } from '../../hub/filters';
import {
  BODY_NOT_READ,
  type DecisionRecord,
  type EmployeeProfileRecord,
  type GovernanceEventRecord,
  type HubRecord,
  type OutputRecord,
  type RecordType,
} from '../../hub/model';
import {
  archetypeProgression,
  costPerSkill,
  managerDashboard,
  managers,
  skills,
  teamMembers,
} from '../../hub/rollups/reference';
import {
  type ArchetypeProgressionQuery,
  type ArchetypeProgressionRow,
  type CostPerSkillQuery,
  type CostPerSkillRow,
  type HubStore,
  type ListFilter,
  type ListQuery,
  type ManagerDashboard,
  type ManagerDashboardQuery,
  type ManagerRow,
  type ManagersQuery,
  type PutOutcome,
  type ReadProjection,
  type RollupVersionSource,
  type ScanQuery,
  type SkillRow,
  type SkillsQuery,
  type StoreCapabilities,
  type TeamScope,
  skipsBody,
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { SortedIndex } from './sorted-index';

/** One record type of one tenant: primary map plus secondary indexes used by list filters. */
class TypeTable {
  readonly byId = new Map<string, HubRecord>();
  readonly byTime = new SortedIndex();
  /** Secondary indexes: field name -> value -> records sorted by time. */
  readonly secondary = new Map<string, Map<string, SortedIndex>>();

  constructor(private readonly indexedFields: readonly string[]) {
    for (const f of indexedFields) this.secondary.set(f, new Map());
  }

  add(record: HubRecord): void {
    this.byId.set(record.record_id, record);
    this.byTime.insert(record);
    const fields = record as unknown as Record<string, unknown>;
    for (const f of this.indexedFields) {
      const value = fields[f];
      if (typeof value !== 'string') continue;
      const idx = this.secondary.get(f) as Map<string, SortedIndex>;
      let s = idx.get(value);
      if (!s) idx.set(value, (s = new SortedIndex()));
      s.insert(record);
    }
  }
}

/** Fields with a secondary index (the selective list filters). */
const INDEXED: { readonly [T in RecordType]: readonly string[] } = {
  outputs: ['skill_id', 'employee_id'],
  decisions: ['output_id', 'skill_id'],
  governance_events: ['skill_id', 'employee_id'],
  artifacts: ['output_id', 'skill_id', 'employee_id'],
  employee_profiles: ['employee_id'],
  telemetry_events: ['skill_id', 'employee_id'],
};

export interface MemoryStoreOptions {
  /** Largest batch accepted by one putBatch call (default 50,000). */
  readonly maxBatchSize?: number;
}

/** Creates an in-memory {@link HubStore}. */
export function createMemoryStore(options: MemoryStoreOptions = {}): HubStore {
  return new MemoryStore(options);
}

class MemoryStore implements HubStore, RollupVersionSource {
  readonly capabilities: StoreCapabilities;
  private readonly tenants = new Map<TenantId, Map<RecordType, TypeTable>>();
  private closed = false;
  /**
   * Each tenant's data version: the store's change clock when a write created
   * one of its records or a purge removed them. Kept through purges and taken
   * from one clock for all tenants, so a tenant's version never repeats.
   */
  private readonly versions = new Map<TenantId, number>();
  private clock = 0;

  constructor(options: MemoryStoreOptions) {
    this.capabilities = {
      maxBatchSize: options.maxBatchSize ?? 50_000,
      outbox: false,
      nestedLists: false,
      recordCounts: true,
      rollupVersions: true,
    };
  }

  private table(tenant: TenantId, type: RecordType, create: boolean): TypeTable | undefined {
    let types = this.tenants.get(tenant);
    if (!types) {
      if (!create) return undefined;
      this.tenants.set(tenant, (types = new Map()));
    }
    let t = types.get(type);
    if (!t && create) types.set(type, (t = new TypeTable(INDEXED[type])));
    return t;
  }

  private open(): void {
    if (this.closed) throw new HubError('UNAVAILABLE', 'memory store is closed');
  }

  async putBatch(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    this.open();
    if (records.length > this.capabilities.maxBatchSize) {
      throw new HubError(
        'VALIDATION',
        `batch of ${records.length} exceeds the store's maximum of ${this.capabilities.maxBatchSize}`,
      );
    }
    // The whole batch is checked before anything is written.
    checkSealedBatch(tenant, records);
    let created = false;
    const outcomes = records.map((record): PutOutcome => {
      const table = this.table(tenant, record.record_type, true) as TypeTable;
      const existing = table.byId.get(record.record_id);
      if (existing) {
        return existing.provenance_hash === record.provenance_hash
          ? { status: 'duplicate' }
          : { status: 'conflict', existingHash: existing.provenance_hash };
      }
      table.add(freezeRecord(record));
      created = true;
      return { status: 'created' };
    });
    if (created) this.versions.set(tenant, ++this.clock);
    return outcomes;
  }

  /** See RollupVersionSource: covers every rollup (all records, profiles included). */
  async rollupVersion(tenant: TenantId): Promise<string | null> {
    this.open();
    return String(this.versions.get(tenant) ?? 0);
  }

  async getByIds(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]> {
    this.open();
    const table = this.table(tenant, type, false);
    const withBody = !skipsBody(projection);
    return ids.map((id) => {
      const r = table?.byId.get(id);
      return r ? exposed(r, withBody) : null;
    });
  }

  async list(tenant: TenantId, query: ListQuery): Promise<HubRecord[]> {
    this.open();
    const table = this.table(tenant, query.type, false);
    if (!table) return [];
    const { filter } = query;
    const derived = this.derivedMatcher(tenant, query.type, filter);
    const withBody = !skipsBody(query.projection);
    const out: HubRecord[] = [];
    for (const r of this.candidates(table, filter, query.after)) {
      if (!matches(r, filter) || !derived(r)) continue;
      out.push(exposed(r, withBody));
      if (out.length >= query.limit) break;
    }
    return out;
  }

  /** The team's employee ids (the first step of every team-scoped read). */
  private team(tenant: TenantId, scope: TeamScope): Set<string> {
    return teamMembers(this.inRange<EmployeeProfileRecord>(tenant, 'employee_profiles'), scope);
  }

  /**
   * The check of the filters that look at other records (DERIVED_FILTERS): a
   * record's team membership, and a decision's employee through its output.
   */
  private derivedMatcher(tenant: TenantId, type: RecordType, f: ListFilter): (r: HubRecord) => boolean {
    const team = f.team ? this.team(tenant, f.team) : undefined;
    if (type === 'decisions') {
      if (!team && f.employeeId === undefined) return () => true;
      const outputs = this.table(tenant, 'outputs', false);
      return (r) => {
        const output = outputs?.byId.get((r as DecisionRecord).output_id) as OutputRecord | undefined;
        if (!output) return false;
        if (f.employeeId !== undefined && output.employee_id !== f.employeeId) return false;
        return !team || team.has(output.employee_id);
      };
    }
    if (!team) return () => true;
    return (r) => {
      const employee = (r as { employee_id?: string }).employee_id;
      return employee !== undefined && team.has(employee);
    };
  }

  /** Picks the most selective index for the filter; merges per-skill indexes when several skills are asked. */
  private *candidates(table: TypeTable, filter: ListFilter, after: ListQuery['after']): Generator<HubRecord> {
    const range = { after, from: filter.from, to: filter.to };
    const pick = (field: string, value: string | undefined): SortedIndex | null | undefined => {
      if (value === undefined) return undefined;
      const idx = table.secondary.get(field);
      if (!idx) return undefined;
      return idx.get(value) ?? null;
    };
    for (const [field, value] of [
      ['output_id', filter.outputId],
      // A decision's employeeId is its output's (no index of decisions holds it).
      ['employee_id', table.secondary.has('employee_id') ? filter.employeeId : undefined],
    ] as const) {
      const idx = pick(field, value);
      if (idx === null) return;
      if (idx) return yield* idx.descending(range);
    }
    if (filter.skillIds && table.secondary.has('skill_id')) {
      const iters = filter.skillIds
        .map((s) => table.secondary.get('skill_id')?.get(s))
        .filter((s): s is SortedIndex => s !== undefined)
        .map((s) => s.descending(range));
      return yield* mergeDescending(iters);
    }
    yield* table.byTime.descending(range);
  }

  /** Exact count of a tenant's records of one type. */
  async countRecords(tenant: TenantId, type: RecordType): Promise<number> {
    this.open();
    return this.table(tenant, type, false)?.byId.size ?? 0;
  }

  async scan(tenant: TenantId, query: ScanQuery): Promise<HubRecord[]> {
    this.open();
    const table = this.table(tenant, query.type, false);
    if (!table) return [];
    const out: HubRecord[] = [];
    for (const r of table.byTime.ascending({ after: query.after })) {
      out.push(exposed(r, true));
      if (out.length >= query.limit) break;
    }
    return out;
  }

  private inRange<T extends HubRecord>(
    tenant: TenantId,
    type: RecordType,
    from?: string,
    to?: string,
  ): Iterable<T> {
    const table = this.table(tenant, type, false);
    return (table ? table.byTime.ascending({ from, to }) : []) as Iterable<T>;
  }

  async costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
    this.open();
    const team = query.team ? this.team(tenant, query.team) : undefined;
    return costPerSkill(this.inRange<OutputRecord>(tenant, 'outputs', query.from, query.to), query, team);
  }

  async archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]> {
    this.open();
    return archetypeProgression(this.inRange<EmployeeProfileRecord>(tenant, 'employee_profiles'), query);
  }

  async managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard> {
    this.open();
    const outputs = this.table(tenant, 'outputs', false);
    return managerDashboard(
      {
        profiles: this.inRange<EmployeeProfileRecord>(tenant, 'employee_profiles'),
        outputs: this.inRange<OutputRecord>(tenant, 'outputs', query.from, query.to),
        decisions: this.inRange<DecisionRecord>(tenant, 'decisions', query.from, query.to),
        governanceEvents: this.inRange<GovernanceEventRecord>(
          tenant,
          'governance_events',
          query.from,
          query.to,
        ),
        outputById: (id) => outputs?.byId.get(id) as OutputRecord | undefined,
      },
      query,
    );
  }

  async managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]> {
    this.open();
    return managers(this.inRange<EmployeeProfileRecord>(tenant, 'employee_profiles'), query);
  }

  async skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]> {
    this.open();
    const team = query.team ? this.team(tenant, query.team) : undefined;
    return skills(this.inRange<OutputRecord>(tenant, 'outputs', query.from, query.to), query, team);
  }

  async purgeTenant(tenant: TenantId): Promise<number> {
    this.open();
    let n = 0;
    for (const t of this.tenants.get(tenant)?.values() ?? []) n += t.byId.size;
    this.tenants.delete(tenant);
    this.versions.set(tenant, ++this.clock);
    return n;
  }

  async ping(): Promise<void> {
    this.open();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The filters on the record's own fields (the derived ones are checked by derivedMatcher). */
function matches(r: HubRecord, f: ListFilter): boolean {
  const x = r as unknown as Record<string, unknown>;
  if (f.skillIds && !f.skillIds.includes(x.skill_id as string)) return false;
  if (
    f.employeeId !== undefined &&
    isFieldFilter(r.record_type, 'employeeId') &&
    x.employee_id !== f.employeeId
  )
    return false;
  if (f.managerId !== undefined && x.manager_id !== f.managerId) return false;
  if (f.status !== undefined && x.status !== f.status) return false;
  if (f.outcome !== undefined && x.outcome !== f.outcome) return false;
  if (f.severity !== undefined && x.severity !== f.severity) return false;
  if (f.action !== undefined && x.action !== f.action) return false;
  if (f.outputId !== undefined && x.output_id !== f.outputId) return false;
  return true;
}

/** Merges descending iterators into one descending stream (small k: linear pick per step). */
function* mergeDescending(iters: Generator<HubRecord>[]): Generator<HubRecord> {
  const heads = iters.map((it) => ({ it, cur: it.next() }));
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    for (const h of heads) {
      if (h.cur.done) continue;
      if (!best || isAfter(h.cur.value, best.cur.value as HubRecord)) best = h;
    }
    if (!best) return;
    yield best.cur.value as HubRecord;
    best.cur = best.it.next();
  }
}

function isAfter(a: HubRecord, b: HubRecord): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && a.record_id > b.record_id);
}

function freezeRecord(record: HubRecord): HubRecord {
  const copy = { ...record } as HubRecord;
  if (copy.record_type === 'artifacts') copy.body = Buffer.from(copy.body);
  return deepFreeze(structuredCloneJson(copy));
}

/** Clones JSON-valued fields so later mutation of the caller's input cannot reach the store. */
function structuredCloneJson(record: HubRecord): HubRecord {
  const x = record as unknown as Record<string, unknown>;
  for (const key of ['attributes', 'content', 'properties']) {
    if (x[key] !== undefined) x[key] = structuredClone(x[key]);
  }
  return record;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Artifact bodies are Buffers (not freezable): hand out a copy, or, when the
 * read leaves the body out, no copy at all.
 */
function exposed(r: HubRecord, withBody: boolean): HubRecord {
  if (r.record_type !== 'artifacts') return r;
  return { ...r, body: withBody ? Buffer.from(r.body) : BODY_NOT_READ };
}

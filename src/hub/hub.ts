/**
 * The Hub service: the one entry point above the stores. It validates and seals
 * input, computes and verifies provenance, pages lists with opaque cursors
 * (page.ts) and validates rollup arguments (rollup-args.ts), then calls the
 * {@link HubStore} port. Callers pass
 * a tenant that came from a verified identity.
 */
import { CursorCodec } from './cursor';
import { type FieldIssue, HubError, validationError } from './errors';
import { type ListFilterInput, normalizeFilter } from './filters';
import { type HubRecord, type RecordType, RECORD_TYPES, isRecordType } from './model';
import { type Verification, verifyRecord } from './provenance';
import { prepareLargeBodies } from './large-bodies';
import { listWithChildren } from './nested-list';
import { LazyCursorPage, type Page, type PageArgs, pageSize } from './page';
import {
  type ArchetypeProgressionArgs,
  type CostPerSkillArgs,
  type ManagerDashboardArgs,
  type ManagersArgs,
  type SkillsArgs,
  archetypeProgressionQuery,
  costPerSkillQuery,
  managerDashboardQuery,
  managersQuery,
  skillsQuery,
} from './rollup-args';
import {
  type ArchetypeProgressionRow,
  type CostPerSkillRow,
  type HubStore,
  type Keyset,
  type ListQuery,
  type ManagerDashboard,
  type ManagerRow,
  type ReadProjection,
  type SkillRow,
  skipsBody,
} from './store';
import type { TenantId } from './tenant';
import { isUuid } from './uuid';
import { type SealOptions, sealBatch } from './validate';

export { isPageSize, type Page, type PageArgs } from './page';
export {
  type ArchetypeProgressionArgs,
  type CostPerSkillArgs,
  type ManagerDashboardArgs,
  type ManagersArgs,
  type SkillsArgs,
  MAX_PICKER_PAGE,
} from './rollup-args';

export interface HubOptions extends SealOptions {
  /** Key for cursor MACs; replicas must share it. Defaults to a fixed value (cursors then bind but are forgeable). */
  readonly cursorSecret?: string;
}

/** Per-record outcome of {@link Hub.record}, in input order. */
export type RecordResult =
  | { readonly index: number; readonly record_id: string; readonly status: 'created' | 'duplicate' }
  | {
      readonly index: number;
      readonly record_id: string;
      readonly status: 'error';
      readonly error: HubError;
    };

/** The Hub service over one store; see the file comment. */
export class Hub {
  private readonly cursors: CursorCodec;

  constructor(
    readonly store: HubStore,
    private readonly options: HubOptions = {},
  ) {
    this.cursors = new CursorCodec(options.cursorSecret ?? 'hub-cursor-v1');
  }

  /**
   * This Hub over another view of its store (e.g. one that traces its calls):
   * same options and cursor key, so cursors pass between the two.
   */
  over(store: HubStore): Hub {
    const hub = Object.create(Hub.prototype) as Hub;
    return Object.assign(hub, this, { store });
  }

  /**
   * Validates, seals and writes a batch of one type. A batch with any invalid
   * record is rejected whole (VALIDATION listing every problem) and nothing is
   * written. Otherwise each record is created, reported as a duplicate
   * (identical hash), or fails alone with CONFLICT.
   */
  async record(tenant: TenantId, type: RecordType, inputs: readonly unknown[]): Promise<RecordResult[]> {
    if (!isRecordType(type)) throw new HubError('VALIDATION', `unknown record type ${String(type)}`);
    // Large bodies decoded and hashed off the event loop first; validation then reuses both.
    const ready = type === 'artifacts' ? await prepareLargeBodies(inputs) : inputs;
    const sealed = sealBatch(tenant, type, ready, this.options);
    return this.write(tenant, sealed);
  }

  /**
   * Writes records that are already sealed (migration, bulk ingest), after
   * re-verifying every hash. Unverifiable records are rejected whole.
   */
  async writeSealed(tenant: TenantId, records: readonly HubRecord[]): Promise<RecordResult[]> {
    // Large bodies hashed on the thread pool first: the checks below then reuse the digests.
    await prepareLargeBodies(records);
    const issues: FieldIssue[] = [];
    records.forEach((r, index) => {
      if (r.tenant_id !== tenant)
        issues.push({ index, path: 'tenant_id', message: 'does not match the target tenant' });
      else if (!verifyRecord(r).verified)
        issues.push({ index, path: 'provenance_hash', message: 'does not verify' });
    });
    if (issues.length > 0) throw validationError(issues, 'sealed batch');
    return this.write(tenant, records);
  }

  private async write(tenant: TenantId, records: readonly HubRecord[]): Promise<RecordResult[]> {
    const results: RecordResult[] = [];
    const max = Math.max(1, this.store.capabilities.maxBatchSize);
    for (let start = 0; start < records.length; start += max) {
      const chunk = records.slice(start, start + max);
      const outcomes = await this.store.putBatch(tenant, chunk);
      outcomes.forEach((o, i) => {
        const index = start + i;
        const record_id = (chunk[i] as HubRecord).record_id;
        if (o.status === 'conflict') {
          results.push({
            index,
            record_id,
            status: 'error',
            error: new HubError(
              'CONFLICT',
              `record [${index}] ${record_id} already exists with different content (existing hash ${o.existingHash})`,
              { issues: [{ index, path: 'record_id', message: 'already exists with different content' }] },
            ),
          });
        } else results.push({ index, record_id, status: o.status });
      });
    }
    return results;
  }

  /**
   * Reads records by id, one entry per id in order, null where absent (or
   * another tenant's); `projection` leaves heavy fields unread (see ReadProjection).
   */
  async get(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]> {
    if (!isRecordType(type)) throw new HubError('VALIDATION', `unknown record type ${String(type)}`);
    // A malformed id cannot exist: answer null without a store call.
    const wanted = ids.map((id) => (isUuid(id) ? id.toLowerCase() : null));
    const valid = wanted.filter((id): id is string => id !== null);
    const found =
      valid.length === 0
        ? []
        : skipsBody(projection)
          ? await this.store.getByIds(tenant, type, valid, projection)
          : await this.store.getByIds(tenant, type, valid);
    let j = 0;
    return wanted.map((id) => (id === null ? null : (found[j++] ?? null)));
  }

  /** One page of a list, newest first; `projection` leaves heavy fields unread. */
  async list(
    tenant: TenantId,
    type: RecordType,
    filterInput: ListFilterInput = {},
    page: PageArgs = {},
    projection?: ReadProjection,
  ): Promise<Page> {
    const query = this.listQuery(tenant, type, filterInput, page, projection);
    const rows = await this.store.list(tenant, query);
    return this.page(tenant, query, rows, query.limit - 1);
  }

  /**
   * Lists one page (as {@link list}) and, for each of its records, the first
   * page of its children: records of `child.type` whose `child.key` filter is
   * the parent's id (an output's decisions). `children[i]` is exactly the page
   * `list(tenant, child.type, { [child.key]: records[i].record_id }, { first: child.first })`
   * would return, cursors included, read in the same store call as the parents.
   */
  async listWithChildren(
    tenant: TenantId,
    type: RecordType,
    filterInput: ListFilterInput,
    page: PageArgs,
    child: {
      readonly type: RecordType;
      readonly key: 'outputId';
      readonly first?: number | null;
      /** Heavy fields of the children to leave unread. */
      readonly projection?: ReadProjection;
    },
    projection?: ReadProjection,
  ): Promise<{ page: Page; children: Page[] }> {
    const query = this.listQuery(tenant, type, filterInput, page, projection);
    if (!isRecordType(child.type))
      throw new HubError('VALIDATION', `unknown record type ${String(child.type)}`);
    const childFirst = pageSize(child.first, 'child page');
    const result = await listWithChildren(this.store, tenant, query, {
      type: child.type,
      key: child.key,
      limit: childFirst + 1,
      ...(skipsBody(child.projection) ? { projection: { body: false } } : {}),
    });
    const parents = this.page(tenant, query, result.records, query.limit - 1);
    const children = parents.records.map((parent, i) =>
      this.page(
        tenant,
        // Stores hand out canonical (lowercase) ids: this filter is already normalised.
        { type: child.type, filter: { [child.key]: parent.record_id }, limit: childFirst + 1 },
        result.children[i] ?? [],
        childFirst,
      ),
    );
    return { page: parents, children };
  }

  /** Validates a list request into the store's query (one extra record, to learn whether a next page exists). */
  private listQuery(
    tenant: TenantId,
    type: RecordType,
    filterInput: ListFilterInput,
    page: PageArgs,
    projection?: ReadProjection,
  ): ListQuery {
    if (!isRecordType(type)) throw new HubError('VALIDATION', `unknown record type ${String(type)}`);
    const filter = normalizeFilter(type, filterInput);
    const first = pageSize(page.first, 'page');
    const after: Keyset | undefined =
      page.after == null ? undefined : this.cursors.decode(tenant, type, filter, page.after);
    return {
      type,
      filter,
      limit: first + 1,
      ...(after ? { after } : {}),
      // Only a projection that leaves something out reaches the store: the default stays the plain query.
      ...(skipsBody(projection) ? { projection: { body: false } } : {}),
    };
  }

  /** A page of at most `first` of `rows`, with a lazily computed end cursor. */
  private page(tenant: TenantId, query: ListQuery, rows: HubRecord[], first: number): Page {
    const hasNextPage = rows.length > first;
    return new LazyCursorPage(
      this.cursors,
      tenant,
      query,
      hasNextPage ? rows.slice(0, first) : rows,
      hasNextPage,
    );
  }

  /** Cost per skill and bucket over `[from, to)`. */
  async costPerSkill(tenant: TenantId, args: CostPerSkillArgs): Promise<CostPerSkillRow[]> {
    return this.store.costPerSkill(tenant, costPerSkillQuery(args));
  }

  /** Level transitions per archetype over `[from, to)`. */
  async archetypeProgression(
    tenant: TenantId,
    args: ArchetypeProgressionArgs,
  ): Promise<ArchetypeProgressionRow[]> {
    return this.store.archetypeProgression(tenant, archetypeProgressionQuery(args));
  }

  /**
   * The managers named by current profiles as of `asOf` (default now), each
   * with their team size, ordered by manager id, one page of `first`.
   */
  async managers(tenant: TenantId, args: ManagersArgs = {}): Promise<ManagerRow[]> {
    return this.store.managers(tenant, managersQuery(args, Date.now()));
  }

  /** Skills used by outputs in `[from, to)` (optionally the team's), ordered by skill id, one page. */
  async skills(tenant: TenantId, args: SkillsArgs): Promise<SkillRow[]> {
    return this.store.skills(tenant, skillsQuery(args));
  }

  /** A manager's team figures over `[from, to)`. */
  async managerDashboard(tenant: TenantId, args: ManagerDashboardArgs): Promise<ManagerDashboard> {
    return this.store.managerDashboard(tenant, managerDashboardQuery(args));
  }

  /**
   * Every record of a tenant, type by type, oldest first, in pages of `pageSize`
   * (for migration and verification).
   */
  async *scan(
    tenant: TenantId,
    options: { types?: readonly RecordType[]; pageSize?: number } = {},
  ): AsyncGenerator<HubRecord[]> {
    const pageSize = options.pageSize ?? 1000;
    for (const type of options.types ?? RECORD_TYPES) {
      let after: Keyset | undefined;
      for (;;) {
        const page = await this.store.scan(tenant, { type, limit: pageSize, after });
        if (page.length === 0) break;
        yield page;
        const last = page[page.length - 1] as HubRecord;
        after = { created_at: last.created_at, record_id: last.record_id };
        if (page.length < pageSize) break;
      }
    }
  }

  /** Recomputes a record's provenance (and artifact body hash). */
  verify(record: HubRecord): Verification {
    return verifyRecord(record);
  }
}

/**
 * The Hub service: the one entry point above the stores. It validates and seals
 * input, computes and verifies provenance, pages lists with opaque cursors and
 * validates rollup arguments, then calls the {@link HubStore} port. Callers pass
 * a tenant that came from a verified identity.
 */
import { CursorCodec } from './cursor';
import { type FieldIssue, HubError, validationError } from './errors';
import { type ListFilterInput, type TeamScopeInput, normalizeFilter, normalizeTeam } from './filters';
import { type HubRecord, LIMITS, type RecordType, RECORD_TYPES, isRecordType } from './model';
import { type Verification, verifyRecord } from './provenance';
import { prepareLargeBodies } from './large-bodies';
import { listWithChildren } from './nested-list';
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
import { type Bucket, formatTimestamp, parseTimestamp } from './time';
import { isUuid } from './uuid';
import { type SealOptions, sealBatch } from './validate';

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

export interface Page {
  readonly records: HubRecord[];
  readonly hasNextPage: boolean;
  /** Cursor after the last record of this page; null on an empty page. */
  readonly endCursor: string | null;
  /**
   * Cursor after `records[index]`, bound like every cursor of this list to
   * its tenant, type and filter (a GraphQL edge's cursor). Computed when
   * asked: an HMAC each.
   * @throws RangeError when `index` is not a position of this page.
   */
  cursorAt(index: number): string;
}

export interface PageArgs {
  /** Page size, 1..500 (default 50). */
  readonly first?: number | null;
  /** Cursor from a previous page of the same list. */
  readonly after?: string | null;
}

export interface CostPerSkillArgs {
  readonly from: unknown;
  readonly to: unknown;
  readonly bucket: Bucket;
  readonly skillIds?: readonly string[] | null;
  /** Only the team's outputs; `asOf` defaults to `to`. */
  readonly team?: TeamScopeInput | null;
}

/** Arguments of {@link Hub.managers}. */
export interface ManagersArgs {
  /** When the teams are taken (default: now). */
  readonly asOf?: unknown;
  /** 1..1000, default 100. */
  readonly first?: number | null;
  /** The last manager id of the previous page. */
  readonly after?: string | null;
}

/** Arguments of {@link Hub.skills}. */
export interface SkillsArgs {
  readonly from: unknown;
  readonly to: unknown;
  /** Only the team's outputs; `asOf` defaults to `to`. */
  readonly team?: TeamScopeInput | null;
  /** 1..1000, default 100. */
  readonly first?: number | null;
  /** The last skill id of the previous page. */
  readonly after?: string | null;
}

/** Largest page of the picker lists (`managers`, `skills`). */
export const MAX_PICKER_PAGE = 1000;

const ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

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

  async costPerSkill(tenant: TenantId, args: CostPerSkillArgs): Promise<CostPerSkillRow[]> {
    const issues: FieldIssue[] = [];
    const { from, to } = range(args.from, args.to, issues);
    if (!['DAY', 'WEEK', 'MONTH'].includes(args.bucket))
      issues.push({ path: 'bucket', message: 'must be DAY, WEEK or MONTH' });
    const skillIds = args.skillIds ?? undefined;
    if (
      skillIds !== undefined &&
      (skillIds.length === 0 || skillIds.length > 100 || !skillIds.every((s) => ID_RE.test(s)))
    ) {
      issues.push({ path: 'skillIds', message: 'must be 1 to 100 skill ids' });
    }
    const team = args.team == null ? undefined : normalizeTeam(args.team, to || undefined, 'team', issues);
    if (issues.length > 0) throw validationError(issues, 'costPerSkill arguments');
    return this.store.costPerSkill(tenant, {
      from,
      to,
      bucket: args.bucket,
      ...(skillIds ? { skillIds: [...new Set(skillIds)].sort() } : {}),
      ...(team ? { team } : {}),
    });
  }

  async archetypeProgression(
    tenant: TenantId,
    args: { from: unknown; to: unknown; archetype?: string | null; team?: TeamScopeInput | null },
  ): Promise<ArchetypeProgressionRow[]> {
    const issues: FieldIssue[] = [];
    const { from, to } = range(args.from, args.to, issues);
    if (args.archetype != null && !ID_RE.test(args.archetype))
      issues.push({ path: 'archetype', message: 'is not a valid id' });
    const team = args.team == null ? undefined : normalizeTeam(args.team, to || undefined, 'team', issues);
    if (issues.length > 0) throw validationError(issues, 'archetypeProgression arguments');
    return this.store.archetypeProgression(tenant, {
      from,
      to,
      ...(args.archetype != null ? { archetype: args.archetype } : {}),
      ...(team ? { team } : {}),
    });
  }

  /**
   * The managers named by current profiles as of `asOf` (default now), each
   * with their team size, ordered by manager id, one page of `first`.
   */
  async managers(tenant: TenantId, args: ManagersArgs = {}): Promise<ManagerRow[]> {
    const issues: FieldIssue[] = [];
    let asOf = formatTimestamp(Date.now());
    if (args.asOf != null) {
      const t = parseTimestamp(args.asOf);
      if (t.ok) asOf = formatTimestamp(t.ms);
      else issues.push({ path: 'asOf', message: t.message });
    }
    const limit = pickerPage(args.first, issues);
    if (args.after != null && !ID_RE.test(args.after))
      issues.push({ path: 'after', message: 'must be an employee id (the last managerId of a page)' });
    if (issues.length > 0) throw validationError(issues, 'managers arguments');
    return this.store.managers(tenant, { asOf, limit, ...(args.after != null ? { after: args.after } : {}) });
  }

  /** Skills used by outputs in `[from, to)` (optionally the team's), ordered by skill id, one page. */
  async skills(tenant: TenantId, args: SkillsArgs): Promise<SkillRow[]> {
    const issues: FieldIssue[] = [];
    const { from, to } = range(args.from, args.to, issues);
    const team = args.team == null ? undefined : normalizeTeam(args.team, to || undefined, 'team', issues);
    const limit = pickerPage(args.first, issues);
    if (args.after != null && !ID_RE.test(args.after))
      issues.push({ path: 'after', message: 'must be a skill id (the last skillId of a page)' });
    if (issues.length > 0) throw validationError(issues, 'skills arguments');
    return this.store.skills(tenant, {
      from,
      to,
      limit,
      ...(team ? { team } : {}),
      ...(args.after != null ? { after: args.after } : {}),
    });
  }

  async managerDashboard(
    tenant: TenantId,
    args: { managerId: string; from: unknown; to: unknown },
  ): Promise<ManagerDashboard> {
    const issues: FieldIssue[] = [];
    const { from, to } = range(args.from, args.to, issues);
    if (typeof args.managerId !== 'string' || !ID_RE.test(args.managerId)) {
      issues.push({ path: 'managerId', message: 'must be an employee id (1-128 of A-Z a-z 0-9 . _ : @ -)' });
    }
    if (issues.length > 0) throw validationError(issues, 'managerDashboard arguments');
    return this.store.managerDashboard(tenant, { managerId: args.managerId, from, to });
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

function range(fromIn: unknown, toIn: unknown, issues: FieldIssue[]): { from: string; to: string } {
  const f = parseTimestamp(fromIn);
  const t = parseTimestamp(toIn);
  if (!f.ok) issues.push({ path: 'from', message: f.message });
  if (!t.ok) issues.push({ path: 'to', message: t.message });
  const from = f.ok ? formatTimestamp(f.ms) : '';
  const to = t.ok ? formatTimestamp(t.ms) : '';
  if (f.ok && t.ok && from > to) issues.push({ path: 'from', message: 'must not be after to' });
  return { from, to };
}

/** A picker page size: default 100, else an integer 1..{@link MAX_PICKER_PAGE}. */
function pickerPage(value: number | null | undefined, issues: FieldIssue[]): number {
  const first = value ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PICKER_PAGE) {
    issues.push({ path: 'first', message: `must be an integer from 1 to ${MAX_PICKER_PAGE}` });
  }
  return first;
}

/**
 * Whether `value` is a page size {@link Hub.list} accepts (absent means the
 * default): an integer from 1 to {@link LIMITS.maxPageSize}. Callers that
 * plan ahead (look-ahead of nested lists) use it to leave an invalid one to
 * the call that reports it.
 */
export function isPageSize(value: number | null | undefined): boolean {
  const first = value ?? LIMITS.defaultPageSize;
  return Number.isInteger(first) && first >= 1 && first <= LIMITS.maxPageSize;
}

/** A page size argument: default 50, else an integer 1..500. */
function pageSize(value: number | null | undefined, what: string): number {
  const first = value ?? LIMITS.defaultPageSize;
  if (!isPageSize(first)) {
    throw validationError(
      [{ path: 'first', message: `must be an integer from 1 to ${LIMITS.maxPageSize}` }],
      what,
    );
  }
  return first;
}

/**
 * A page whose cursors (an HMAC each) are computed on first read: a page
 * nobody pages on costs none. The one place list cursors are encoded.
 */
class LazyCursorPage implements Page {
  private cursor: string | null | undefined;

  constructor(
    private readonly cursors: CursorCodec,
    private readonly tenant: TenantId,
    private readonly query: ListQuery,
    readonly records: HubRecord[],
    readonly hasNextPage: boolean,
  ) {}

  get endCursor(): string | null {
    if (this.cursor === undefined) {
      this.cursor = this.records.length > 0 ? this.cursorAt(this.records.length - 1) : null;
    }
    return this.cursor;
  }

  cursorAt(index: number): string {
    const record = this.records[index];
    if (record === undefined)
      throw new RangeError(`no record at ${index} of a page of ${this.records.length}`);
    return this.cursors.encode(this.tenant, this.query.type, this.query.filter, record);
  }
}

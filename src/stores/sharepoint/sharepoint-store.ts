/**
 * The SharePoint Online store: one site per tenant
 * (`/sites/claresia-<tenant>` by default), one list per record type, artifact
 * bodies in the site's document library, through the real @pnp/sp v4. Every
 * request names one tenant's site only, so two tenants never meet in one call.
 *
 * Provisioning: a tenant's lists and columns are created lazily on its first
 * write in each process (idempotent), or ahead by `hub db migrate`. Reads of a
 * never-provisioned tenant answer empty without creating anything. Lists and
 * scans filter and order only on indexed columns (list view threshold);
 * rollups are the reference implementations over scanned records.
 */
import { HubError } from '../../hub/errors';
import { checkSealedBatch } from '../../hub/sealed';
import { isFieldFilter } from '../../hub/filters';
import type { DecisionRecord, HubRecord, OutputRecord, RecordType } from '../../hub/model';
import { RECORD_TYPES } from '../../hub/model';
import {
  type ArchetypeProgressionQuery,
  type ArchetypeProgressionRow,
  type CostPerSkillQuery,
  type CostPerSkillRow,
  type HubStore,
  type Keyset,
  type ListFilter,
  type ListQuery,
  type ManagerDashboard,
  type ManagerDashboardQuery,
  type ManagerRow,
  type ManagersQuery,
  type PutOutcome,
  type ReadProjection,
  type ScanQuery,
  type SkillRow,
  type SkillsQuery,
  type StoreCapabilities,
  skipsBody,
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { SpClient, loadPnp } from './sharepoint-client';
import { viewWith } from '../../hub/tracing-ports';
import type { Span } from '../../platform/tracing';
import { type SharePointConfig, tenantSiteUrl } from './sharepoint-config';
import { httpStatus, isNotFound, toSharePointHubError } from './sharepoint-errors';
import { filterClauses, keysetClause, matches } from './sharepoint-filter';
import { odataString } from './sharepoint-schema';
import {
  archetypeProgressionOf,
  costPerSkillOf,
  managerDashboardOf,
  managersOf,
  skillsOf,
  teamOf,
} from './sharepoint-rollups';
import { type ItemRow, MAX_PAGE, READ_SELECT, TenantSite, listPath } from './sharepoint-site';
import { WritePacer } from './sharepoint-pacer';
import { UnackedWrites, writeRecords } from './sharepoint-writer';

type Log = (event: string, fields?: Record<string, unknown>) => void;

/** Ids per `HubRecordId eq ... or ...` read. */
const IDS_CHUNK = 40;
/** Largest team whose members go into a list's `$filter` (`HubEmployeeId eq ... or ...`); larger ones are checked in process. */
const TEAM_IN_FILTER = 25;

/** Which records of a page pass the filters resolved through other records (team, a decision's employee). */
type DerivedCheck = (records: readonly HubRecord[]) => Promise<boolean[]>;

/** Opens a SharePoint store (loads pnp; sites are reached on first use). */
export async function createSharePointStore(
  config: SharePointConfig,
  options: { log?: Log } = {},
): Promise<SharePointStore> {
  await loadPnp();
  return new SharePointStore(config, options.log);
}

/** See the file comment. Exported for the driver and tests. */
export class SharePointStore implements HubStore {
  readonly capabilities: StoreCapabilities;
  private readonly sites = new Map<TenantId, Promise<TenantSite>>();
  private readonly provisioned = new Map<TenantId, Promise<string[]>>();
  /** Items failed calls may have landed unacknowledged (see sharepoint-writer.ts). */
  readonly unacked = new UnackedWrites();
  /** One pace for every site: SharePoint throttles the tenant's app, not a site. */
  private readonly pacer = new WritePacer();
  private closed = false;

  constructor(
    readonly config: SharePointConfig,
    private readonly log?: Log,
  ) {
    this.capabilities = {
      // One putBatch is one $batch request (SharePoint plans on ~100 sub-requests per batch).
      maxBatchSize: config.batchSize,
      outbox: false,
      nestedLists: false,
      // Several $batch requests side by side keep a throttled site at its allowed rate (parts
      // refused with 429 are re-sent after Retry-After); one at a time waits a round trip per batch.
      bulkWrite: { batchSize: config.batchSize, concurrency: 6 },
    };
  }

  private open(): void {
    if (this.closed) throw new HubError('UNAVAILABLE', 'sharepoint store is closed');
  }

  /**
   * The view of a traced call: each REST request it sends is a span under
   * `parent`, through the tenant's client with a traced sending behaviour;
   * everything else (clients, provisioning, state) is this store's.
   */
  traced(parent: Span): HubStore {
    const site = (tenant: TenantId): Promise<TenantSite> =>
      this.site(tenant).then((s) => new TenantSite(tenant, s.client.traced(parent)));
    return viewWith<SharePointStore>(this, { site });
  }

  private site(tenant: TenantId): Promise<TenantSite> {
    let site = this.sites.get(tenant);
    if (!site) {
      site = SpClient.open(tenantSiteUrl(this.config, tenant), this.config.token, this.config, this.log).then(
        (client) => new TenantSite(tenant, client),
      );
      this.sites.set(tenant, site);
    }
    return site;
  }

  /**
   * Creates the tenant's lists, columns and library where missing. Memoised
   * per tenant; a failure is retried next time.
   * @returns the steps taken (empty when the site was already complete).
   */
  provision(tenant: TenantId): Promise<string[]> {
    let done = this.provisioned.get(tenant);
    if (!done) {
      done = this.site(tenant)
        .then((s) => s.provision())
        .catch((err: unknown) => {
          this.provisioned.delete(tenant);
          throw toSharePointHubError(err, 'provisioning');
        });
      this.provisioned.set(tenant, done);
    }
    return done;
  }

  async putBatch(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    this.open();
    if (records.length > this.capabilities.maxBatchSize)
      throw new HubError(
        'VALIDATION',
        `batch of ${records.length} exceeds the store's maximum of ${this.capabilities.maxBatchSize}`,
      );
    checkSealedBatch(tenant, records);
    if (records.length === 0) return [];
    await this.provision(tenant);
    return writeRecords(await this.site(tenant), records, this.config, this.unacked, this.log, this.pacer);
  }

  async getByIds(
    tenant: TenantId,
    type: RecordType,
    ids: readonly string[],
    projection?: ReadProjection,
  ): Promise<(HubRecord | null)[]> {
    this.open();
    const site = await this.site(tenant);
    const unique = [...new Set(ids)];
    const found = new Map<string, HubRecord>();
    for (let at = 0; at < unique.length; at += IDS_CHUNK) {
      const chunk = unique.slice(at, at + IDS_CHUNK);
      const rows = await site.items(type, {
        $filter: chunk.map((id) => `HubRecordId eq ${odataString(id)}`).join(' or '),
        $select: READ_SELECT,
        $top: String(chunk.length * 2),
      });
      // Text comparisons in SharePoint ignore case: keep exact matches only.
      const exact = rows.filter((r) => chunk.includes(r.HubRecordId));
      for (const r of await site.records(type, exact, !skipsBody(projection))) found.set(r.record_id, r);
    }
    return ids.map((id) => found.get(id) ?? null);
  }

  async list(tenant: TenantId, query: ListQuery): Promise<HubRecord[]> {
    this.open();
    const { filter, type } = query;
    const team = filter.team ? await teamOf(await this.site(tenant), filter.team) : undefined;
    if (team && team.size === 0) return [];
    let clauses: string[] = [];
    let check: DerivedCheck | undefined;
    // Records without an employee of their own (decisions) take their output's.
    const viaOutput = !isFieldFilter(type, 'employeeId');
    if (viaOutput && (team || filter.employeeId !== undefined)) {
      check = (records) => this.decisionsOfEmployees(tenant, records, filter.employeeId, team);
    } else if (team) {
      const ids = [...team];
      if (ids.length <= TEAM_IN_FILTER)
        clauses = [`(${ids.map((id) => `HubEmployeeId eq ${odataString(id)}`).join(' or ')})`];
      check = async (records) =>
        records.map((r) => team.has((r as { employee_id?: string }).employee_id ?? '\u0000'));
    }
    const projection = query.projection;
    return this.keysetRead(tenant, type, query.limit, query.after, true, filter, clauses, check, projection);
  }

  /** For each decision: is its output (read by id) of `employeeId` and of the team, when given? */
  private async decisionsOfEmployees(
    tenant: TenantId,
    records: readonly HubRecord[],
    employeeId: string | undefined,
    team: ReadonlySet<string> | undefined,
  ): Promise<boolean[]> {
    const ids = [...new Set(records.map((r) => (r as DecisionRecord).output_id))];
    const outputs = await this.getByIds(tenant, 'outputs', ids);
    const employeeOf = new Map(
      outputs.flatMap((o) => (o ? [[o.record_id, (o as OutputRecord).employee_id] as const] : [])),
    );
    return records.map((r) => {
      const employee = employeeOf.get((r as DecisionRecord).output_id);
      if (employee === undefined) return false;
      if (employeeId !== undefined && employee !== employeeId) return false;
      return !team || team.has(employee);
    });
  }

  async scan(tenant: TenantId, query: ScanQuery): Promise<HubRecord[]> {
    this.open();
    return this.keysetRead(tenant, query.type, query.limit, query.after, false, {});
  }

  /**
   * Pages through a type in (created_at, record_id) order with keyset
   * conditions on the two indexed columns; rows that SharePoint's
   * case-insensitive comparisons let through are dropped by an exact check,
   * and reading continues until `limit` records match.
   */
  private async keysetRead(
    tenant: TenantId,
    type: RecordType,
    limit: number,
    after: Keyset | undefined,
    desc: boolean,
    filter: ListFilter,
    extraClauses: readonly string[] = [],
    derived?: DerivedCheck,
    projection?: ReadProjection,
  ): Promise<HubRecord[]> {
    const site = await this.site(tenant);
    const out: HubRecord[] = [];
    const dir = desc ? 'desc' : 'asc';
    let position = after;
    while (out.length < limit) {
      const top = Math.min(MAX_PAGE, limit - out.length);
      const clauses = [...filterClauses(type, filter), ...extraClauses];
      if (position) clauses.push(keysetClause(position, desc));
      const rows = await site.items(
        type,
        {
          ...(clauses.length ? { $filter: clauses.join(' and ') } : {}),
          $orderby: `HubCreatedAt ${dir},HubRecordId ${dir}`,
          $select: READ_SELECT,
          $top: String(top),
        },
        top,
        desc ? 'list' : 'scan',
      );
      const page = rows.slice(0, top);
      const records = (await site.records(type, page, !skipsBody(projection))).filter((r) =>
        matches(r, filter),
      );
      const pass = derived ? await derived(records) : undefined;
      records.forEach((r, i) => {
        if (!pass || pass[i]) out.push(r);
      });
      if (page.length < top) break;
      const last = page[page.length - 1] as ItemRow;
      position = { created_at: last.HubCreatedAt, record_id: last.HubRecordId };
    }
    return out.slice(0, limit);
  }

  // Rollups: the reference implementations over the site's records, in sharepoint-rollups.ts.
  async costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
    this.open();
    return costPerSkillOf(await this.site(tenant), query);
  }

  async managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]> {
    this.open();
    return managersOf(await this.site(tenant), query);
  }

  async skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]> {
    this.open();
    return skillsOf(await this.site(tenant), query);
  }

  async archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]> {
    this.open();
    return archetypeProgressionOf(await this.site(tenant), query);
  }

  async managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard> {
    this.open();
    return managerDashboardOf(await this.site(tenant), query, (ids) => this.getByIds(tenant, 'outputs', ids));
  }

  async purgeTenant(tenant: TenantId): Promise<number> {
    this.open();
    const { client } = await this.site(tenant);
    let n = 0;
    try {
      for (const type of [...RECORD_TYPES, 'library'] as const) {
        let count: number;
        try {
          count = (await client.get<{ ItemCount: number }>(listPath(type), { $select: 'ItemCount' }))
            .ItemCount;
        } catch (err) {
          if (isNotFound(err)) continue;
          throw err;
        }
        if (type !== 'library') n += count;
        await client.post(listPath(type), undefined, { 'X-HTTP-Method': 'DELETE', 'IF-Match': '*' });
      }
    } catch (err) {
      throw toSharePointHubError(err, 'purge');
    } finally {
      this.provisioned.delete(tenant);
    }
    return n;
  }

  async ping(): Promise<void> {
    this.open();
    const root = await SpClient.open(
      this.config.origin,
      this.config.token,
      { ...this.config, retries: 0 },
      this.log,
    );
    try {
      await root.get('_api/web', { $select: 'Title' });
    } catch (err) {
      // The endpoint answered: an app with access to tenant sites only may be refused the root site.
      const status = httpStatus(err);
      if (status === 403 || status === 404) return;
      throw toSharePointHubError(err, 'ping');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * List micro-batching for the PostgreSQL store. The gateway's DataLoader asks
 * for a page's nested lists together (every output's decisions): without
 * batching that is one transaction, one pooled connection and one round trip
 * per parent. Here the list calls of one tenant made in the same tick share
 * ONE transaction and round trip; and calls that differ only in the value of a
 * single equality filter (`outputId`, `employeeId`, ...) become ONE statement:
 * the values are unnested and each probes its own index range through a
 * LATERAL subquery with its own LIMIT, in list order, so each caller gets
 * exactly the rows its own {@link listStatement} would have returned. A
 * statement the database refuses fails only the callers it answers (see
 * {@link ListBatcher}).
 */
import { isFieldFilter } from '../../hub/filters';
import type { RecordType } from '../../hub/model';
import { type ListQuery, type ReadProjection, skipsBody } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { arrayLiteral } from './postgres-columns';
import { listStatement, readColumnsOf, selectListOf } from './postgres-sql';
import { isConnectionLoss } from './postgres-errors';
import { readPathLayerOff } from '../../platform/read-path-layers';
import type { Row, Statement } from './queryable';

// Off only when the read-path benchmark measures what the batcher gains: each list is then its own transaction.
const BATCHING = !readPathLayerOff('listbatcher');

/** Equality filters that can be batched: column and array cast of the values. */
const BATCHABLE: Readonly<Record<string, readonly [string, string]>> = {
  outputId: ['output_id', 'uuid'],
  employeeId: ['employee_id', 'text'],
  status: ['status', 'text'],
  outcome: ['outcome', 'text'],
  severity: ['severity', 'text'],
  action: ['action', 'text'],
};

interface Pending {
  readonly query: ListQuery;
  readonly statement: Statement;
  readonly resolve: (rows: Row[]) => void;
  readonly reject: (err: unknown) => void;
}

/** The one filter key of a query that can join a lateral batch, else undefined. */
function batchKey(query: ListQuery): string | undefined {
  if (query.after) return undefined;
  const keys = Object.entries(query.filter).filter(([, v]) => v !== undefined);
  if (keys.length !== 1) return undefined;
  const [key, value] = keys[0] as [string, unknown];
  if (!(key in BATCHABLE) || typeof value !== 'string') return undefined;
  // Only equalities on the record's own column (a decision's employeeId is its output's).
  if (!isFieldFilter(query.type, key)) return undefined;
  const body = skipsBody(query.projection) ? 'nobody' : 'body';
  return `${query.type}\u0000${key}\u0000${query.limit}\u0000${body}`;
}

/**
 * One statement answering several pages of `type` that differ only in the
 * value of `key`: rows come back tagged with `batch_ord`, the 1-based
 * position of their value.
 */
export function lateralListStatement(
  tenant: TenantId,
  type: RecordType,
  key: string,
  values: readonly string[],
  limit: number,
  projection?: ReadProjection,
): Statement {
  const [column, cast] = BATCHABLE[key] as readonly [string, string];
  const cols = selectListOf(readColumnsOf(type, projection), 't');
  return {
    sql: `SELECT k.ord::int8 AS batch_ord, x.* FROM unnest($2::${cast}[]) WITH ORDINALITY AS k(v, ord)
CROSS JOIN LATERAL (
  SELECT ${cols} FROM hub.${type} t WHERE t.tenant_id = $1 AND t.${column} = k.v
  ORDER BY t.created_at DESC, t.record_id DESC LIMIT $3::int
) x`,
    params: [tenant, arrayLiteral(values), limit],
    // One text per type and filter key: worth keeping prepared.
    prepare: true,
  };
}

/**
 * Collects list calls per tenant until the end of the current tick, then runs
 * each tenant's calls as one transaction through `run` (see the module comment).
 */
export class ListBatcher {
  private readonly pending = new Map<TenantId, Pending[]>();
  private scheduled = false;

  constructor(
    private readonly run: (tenant: TenantId, statements: readonly Statement[]) => Promise<Row[][]>,
    /** Write single pages for generic plans (listStatement's `genericPlan`): the driver runs them so. */
    private readonly genericPlans = false,
  ) {}

  /** The rows of one page, as `listStatement` would return them. Rejects with the driver's error. */
  list(tenant: TenantId, query: ListQuery): Promise<Row[]> {
    // Built now so that a bad filter rejects this call alone.
    const statement = listStatement(tenant, query, undefined, this.genericPlans);
    if (!BATCHING) return this.run(tenant, [statement]).then(([rows = []]) => rows);
    return new Promise((resolve, reject) => {
      const list = this.pending.get(tenant);
      const entry = { query, statement, resolve, reject };
      if (list) list.push(entry);
      else this.pending.set(tenant, [entry]);
      if (!this.scheduled) {
        this.scheduled = true;
        // After the promise jobs of this tick: every list the DataLoader started is queued by then.
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = [...this.pending];
    this.pending.clear();
    for (const [tenant, entries] of all) void this.runTenant(tenant, entries);
  }

  private async runTenant(tenant: TenantId, entries: readonly Pending[]): Promise<void> {
    // Groups of pages that one lateral statement can answer; the rest run as they are.
    const groups = new Map<string, Pending[]>();
    const units: Unit[] = [];
    for (const e of entries) {
      const key = entries.length === 1 ? undefined : batchKey(e.query);
      if (key === undefined) units.push(single(e));
      else {
        const g = groups.get(key);
        if (g) g.push(e);
        else groups.set(key, [e]);
      }
    }
    for (const group of groups.values()) {
      units.push(group.length === 1 ? single(group[0] as Pending) : lateral(tenant, group));
    }
    await this.runUnits(tenant, units);
  }

  /**
   * Runs `units` as one transaction. When it fails for a reason of its own
   * (a statement the database refused, not a lost connection), the failure may
   * be one caller's: each unit is run again on its own, and a lateral group
   * that fails alone is split into its callers' own statements, so a failure
   * reaches only the callers whose statement fails (at most two more round
   * trips per caller, and only on failure).
   */
  private async runUnits(tenant: TenantId, units: readonly Unit[]): Promise<void> {
    try {
      const results = await this.run(
        tenant,
        units.map((u) => u.statement),
      );
      units.forEach((u, i) => u.finish(results[i] ?? []));
    } catch (err) {
      const only = units.length === 1 ? units[0] : undefined;
      if (isConnectionLoss(err) || (only !== undefined && only.members.length === 1)) {
        for (const u of units) for (const e of u.members) e.reject(err);
        return;
      }
      const alone = only ? only.members.map(single) : units;
      await Promise.all(alone.map((u) => this.runUnits(tenant, [u])));
    }
  }
}

/** One statement of a batch and the callers it answers. */
interface Unit {
  readonly statement: Statement;
  readonly members: readonly Pending[];
  readonly finish: (rows: Row[]) => void;
}

/** A caller's own statement. */
function single(e: Pending): Unit {
  return { statement: e.statement, members: [e], finish: (rows) => e.resolve(rows) };
}

/** One lateral statement answering every caller of `group` (same type, filter key and limit). */
function lateral(tenant: TenantId, group: readonly Pending[]): Unit {
  const first = (group[0] as Pending).query;
  const filterKey = Object.keys(first.filter).find(
    (k) => first.filter[k as keyof typeof first.filter] !== undefined,
  ) as string;
  const valueOf = (e: Pending): string => String(e.query.filter[filterKey as keyof typeof first.filter]);
  // Distinct values only; callers asking for the same value share its rows.
  const values = [...new Set(group.map(valueOf))];
  const position = new Map(values.map((v, i) => [v, i + 1]));
  return {
    statement: lateralListStatement(tenant, first.type, filterKey, values, first.limit, first.projection),
    members: group,
    finish: (rows) => {
      const byOrd = new Map<number, Row[]>();
      for (const row of rows) {
        const ord = Number(row.batch_ord);
        const list = byOrd.get(ord);
        if (list) list.push(row);
        else byOrd.set(ord, [row]);
      }
      for (const e of group) e.resolve(byOrd.get(position.get(valueOf(e)) as number) ?? []);
    },
  };
}

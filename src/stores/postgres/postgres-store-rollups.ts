/**
 * The PostgreSQL store's rollups and the upkeep of their pre-aggregates, in
 * one place: which statement answers each rollup (cells, edges and the feed
 * for cost per skill, skills and the manager dashboard; the profiles
 * directly for archetype progression and managers, which are few), the
 * background consumer folding the change feed, an explicit fold
 * (`maintain`), and the statement that forgets a purged tenant's cells.
 *
 * Each method is one transaction on the database; the store wraps them with
 * its error mapping and retry.
 */
import { HubError } from '../../hub/errors';
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
} from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { type ConsumerOptions, MAX_FOLD_BATCH, RollupConsumer, foldFeed } from './postgres-preagg-consumer';
import { managerDashboardParts, managerDashboardPreaggStatements } from './postgres-preagg-dashboard';
import { costPerSkillPreaggStatement, skillsPreaggStatement } from './postgres-preagg-sql';
import { costPerSkillWholeStatement, wholeCellRows } from './postgres-preagg-whole';
import {
  archetypeProgressionRows,
  archetypeProgressionStatement,
  costPerSkillRows,
  managerDashboardResult,
  managersRows,
  managersStatement,
  skillsRows,
} from './postgres-rollups';
import type { Row, Statement, TenantDatabase } from './queryable';

/**
 * Forgets the scoped tenant's feed rows and cells; run in the purge's
 * transaction after hub.purge_tenant (it acts only on a tenant without records).
 */
export const FORGET_ROLLUPS: Statement = { sql: 'SELECT hub.rollup_forget()', params: [] };

/**
 * The tenant's rollup data version (preagg-versions.sql, README "Rollup data
 * versions and the result cache"): its epoch, its count of unfolded feed rows
 * (`hub.rollup_feed_batches` rows, one per write statement) and the latest
 * migration, read in one snapshot. Any change to what cost per skill or the
 * skills picker (without a team) reads commits with a change of one of the
 * three, and none of them comes back to an earlier value.
 *
 * One statement run alone with the tenant's ticket as its second parameter
 * (a `ticketed` run, queryable.ts): hub.rollup_version verifies the ticket
 * once and reads the three values (preagg-version-read.sql), NULL for a
 * ticket that is not the tenant's.
 */
const VERSION: Statement = {
  sql: 'SELECT hub.rollup_version($1, $2) AS v',
  params: [],
  prepare: true,
};

export class PostgresRollups {
  private readonly consumer: RollupConsumer | undefined;

  /**
   * Starts the background consumer when `consumer` gives its options
   * (`undefined` or `false`: none; tests fold with {@link maintain}).
   */
  constructor(
    private readonly db: TenantDatabase,
    consumer: ConsumerOptions | false | undefined,
    log?: (event: string, fields?: Record<string, unknown>) => void,
  ) {
    if (consumer !== undefined && consumer !== false) {
      this.consumer = new RollupConsumer(db, { ...(log ? { log } : {}), ...consumer });
      this.consumer.start();
    }
  }

  /** Runs one statement; one marked generic is run with generic plans (planned once per connection). */
  private async one(tenant: TenantId, statement: Statement): Promise<Row[]> {
    return (
      (await this.db.run({ tenant }, [statement], { genericPlans: statement.generic === true }))[0] ?? []
    );
  }

  /**
   * A range of whole buckets is read from their cells alone when nothing
   * else counts in it (postgres-preagg-whole.ts), else, and for any other
   * range, by the general statement.
   */
  async costPerSkill(tenant: TenantId, query: CostPerSkillQuery): Promise<CostPerSkillRow[]> {
    const whole = costPerSkillWholeStatement(tenant, query);
    if (whole) {
      const rows = wholeCellRows(await this.one(tenant, whole));
      if (rows) return costPerSkillRows(rows);
    }
    return costPerSkillRows(await this.one(tenant, costPerSkillPreaggStatement(tenant, query)));
  }

  /** The tenant's data version (see {@link VERSION}): a short read, one round trip. */
  async version(tenant: TenantId): Promise<string> {
    const rows = await this.db.run({ tenant }, [{ ...VERSION, params: [tenant] }], {
      light: true,
      ticketed: true,
    });
    const v = rows[0]?.[0]?.v;
    // NULL: the database refused the ticket the store signed (a key it no longer accepts).
    if (typeof v !== 'string') throw new HubError('INTERNAL', 'postgres rollup version: refused or no row');
    return v;
  }

  async skills(tenant: TenantId, query: SkillsQuery): Promise<SkillRow[]> {
    return skillsRows(await this.one(tenant, skillsPreaggStatement(tenant, query)));
  }

  async archetypeProgression(
    tenant: TenantId,
    query: ArchetypeProgressionQuery,
  ): Promise<ArchetypeProgressionRow[]> {
    return archetypeProgressionRows(await this.one(tenant, archetypeProgressionStatement(tenant, query)));
  }

  /** One statement (one snapshot). */
  async managerDashboard(tenant: TenantId, query: ManagerDashboardQuery): Promise<ManagerDashboard> {
    const statements = managerDashboardPreaggStatements(tenant, query);
    const results = await this.db.run({ tenant }, statements, {
      genericPlans: statements.every((s) => s.generic === true),
    });
    return managerDashboardResult(query, managerDashboardParts(results));
  }

  async managers(tenant: TenantId, query: ManagersQuery): Promise<ManagerRow[]> {
    return managersRows(await this.one(tenant, managersStatement(tenant, query)));
  }

  /** @throws HubError VALIDATION when `limit` is not an integer 1..MAX_FOLD_BATCH. */
  checkFoldLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FOLD_BATCH) {
      throw new HubError(
        'VALIDATION',
        `maintain: limit must be an integer 1..${MAX_FOLD_BATCH}, got ${limit}`,
      );
    }
  }

  /** Folds up to `limit` feed rows (checked by {@link checkFoldLimit}); @returns the rows folded. */
  fold(limit: number): Promise<number> {
    return foldFeed(this.db, limit);
  }

  /** Stops the background consumer, waiting for a tick in flight. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}

/**
 * What the pre-aggregation tests share (postgres-preagg-*.test.ts): loading a
 * generated dataset, comparing two hubs' rollup answers over ranges that cut
 * days, weeks and months in several offsets, and a throwaway database per
 * test file with stores that fold only when a test asks them to.
 */
import type { Hub } from '../../src/hub/hub';
import type { HubStore, MaintenanceSource } from '../../src/hub/store';
import type { TenantId } from '../../src/hub/tenant';
import type { generateDataset } from '../../src/seed/generator';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { type PgTestDatabase, createTestDatabase, sqlAt } from '../support/pg-harness';

/** A store the tests can fold by hand (`maintain`). */
export type Store = HubStore & MaintenanceSource;

/** Records every type of `data` for the tenant, profiles first. */
export async function load(
  hub: Hub,
  tenant: TenantId,
  data: ReturnType<typeof generateDataset>,
): Promise<void> {
  for (const type of ['employee_profiles', 'decisions', 'governance_events', 'outputs'] as const) {
    await hub.record(tenant, type, data[type]);
  }
}

const RANGES = [
  { from: '2026-01-05T00:00:00Z', to: '2026-02-14T00:00:00Z' },
  // Whole weeks (Mondays): days and weeks read from whole cells alone once folded.
  { from: '2026-01-12T00:00:00Z', to: '2026-02-09T00:00:00Z' },
  { from: '2026-01-07T00:00:00+05:30', to: '2026-02-03T00:00:00+05:30' },
  { from: '2026-01-19T06:17:00Z', to: '2026-01-27T18:00:00-03:45' },
];

/**
 * Expects `a` and `b` to answer every rollup (cost per skill by bucket and
 * team, manager dashboards, skills) identically for the tenant; `label` names
 * the moment in a failure.
 */
export async function expectEqualAnswers(a: Hub, b: Hub, tenant: TenantId, label: string): Promise<void> {
  for (const range of RANGES) {
    for (const bucket of ['DAY', 'WEEK', 'MONTH'] as const) {
      expect({ label, rows: await a.costPerSkill(tenant, { ...range, bucket }) }).toEqual({
        label,
        rows: await b.costPerSkill(tenant, { ...range, bucket }),
      });
    }
    for (const managerId of ['mgr-000', 'mgr-001']) {
      expect({ label, d: await a.managerDashboard(tenant, { managerId, ...range }) }).toEqual({
        label,
        d: await b.managerDashboard(tenant, { managerId, ...range }),
      });
      const team = { managerId };
      expect({ label, rows: await a.costPerSkill(tenant, { ...range, bucket: 'WEEK', team }) }).toEqual({
        label,
        rows: await b.costPerSkill(tenant, { ...range, bucket: 'WEEK', team }),
      });
      expect({ label, s: await a.skills(tenant, { ...range, team }) }).toEqual({
        label,
        s: await b.skills(tenant, { ...range, team }),
      });
    }
    expect({ label, s: await a.skills(tenant, range) }).toEqual({ label, s: await b.skills(tenant, range) });
  }
}

/** The test file's throwaway database and the stores opened on it. */
export interface PreaggServer {
  /** The database (available once the file's beforeAll has run). */
  readonly pg: PgTestDatabase;
  /** Opens a store as the application role, without a background consumer, and its database handle. */
  openWithDatabase(): Promise<{ db: PgDatabase; store: Store }>;
  /** `openWithDatabase()`'s store alone. */
  open(): Promise<Store>;
  /** Runs `sql` as the admin user and returns its first row's `n` as a number. */
  count(sql: string): Promise<number>;
}

/**
 * Registers beforeAll/afterAll hooks in the calling test file: a migrated
 * throwaway database created before its tests, and every store opened through
 * the returned object closed, then the database dropped, after them.
 */
export function usePreaggServer(): PreaggServer {
  let pg: PgTestDatabase | undefined;
  let stores: Store[] = [];
  const database = (): PgTestDatabase => {
    if (pg === undefined) throw new Error('the pre-aggregation test database is created in beforeAll');
    return pg;
  };
  const openWithDatabase = async (): Promise<{ db: PgDatabase; store: Store }> => {
    // No background consumer: the tests fold when they choose to.
    const db = new PgDatabase(parsePostgresUri(database().appUri), undefined);
    const store = createPostgresStore(db, { rollupConsumer: false });
    stores.push(store);
    return { db, store };
  };

  beforeAll(async () => {
    pg = await createTestDatabase();
  }, 120_000);

  afterAll(async () => {
    for (const s of stores) await s.close();
    stores = [];
    await pg?.drop();
  }, 120_000);

  return {
    get pg() {
      return database();
    },
    openWithDatabase,
    open: async () => (await openWithDatabase()).store,
    count: async (sql) => Number((await sqlAt(database().adminUri, sql))[0]?.n),
  };
}

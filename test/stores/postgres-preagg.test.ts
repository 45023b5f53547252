/**
 * Pre-aggregation in the PostgreSQL store (preagg.sql): feed rows are folded
 * exactly once whatever the number of concurrent consumers; answers equal the
 * raw computation before, during and after folding; decisions that arrive
 * before their output; purge; tenant isolation of the cells; the background
 * consumer on an injected schedule. The range plan alone, without a
 * database: postgres-preagg-plan.test.ts.
 */
import { Client } from 'pg';
import { Hub } from '../../src/hub/hub';
import { isHubError } from '../../src/hub/errors';
import type { HubStore, MaintenanceSource } from '../../src/hub/store';
import { parseTenantId, type TenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { openStore } from '../../src/stores';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { MIGRATIONS } from '../../src/stores/postgres/migrations';
import { postgresDriver } from '../../src/stores/postgres/postgres-driver';
import { RollupConsumer, backfillAll } from '../../src/stores/postgres/postgres-preagg-consumer';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import {
  TICKET_TTL_SECONDS,
  configuredTicketKey,
  signTicket,
} from '../../src/stores/postgres/tenant-tickets';
import { type PgTestDatabase, createTestDatabase, sqlAt } from '../support/pg-harness';

type Store = HubStore & MaintenanceSource;

async function load(hub: Hub, tenant: TenantId, data: ReturnType<typeof generateDataset>): Promise<void> {
  for (const type of ['employee_profiles', 'decisions', 'governance_events', 'outputs'] as const) {
    await hub.record(tenant, type, data[type]);
  }
}

const RANGES = [
  { from: '2026-01-05T00:00:00Z', to: '2026-02-14T00:00:00Z' },
  { from: '2026-01-07T00:00:00+05:30', to: '2026-02-03T00:00:00+05:30' },
  { from: '2026-01-19T06:17:00Z', to: '2026-01-27T18:00:00-03:45' },
];

async function expectEqualAnswers(a: Hub, b: Hub, tenant: TenantId, label: string): Promise<void> {
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

describe('postgres pre-aggregation (server)', () => {
  let pg: PgTestDatabase;
  let stores: Store[] = [];
  const open = async (): Promise<Store> => {
    // No background consumer: the tests fold when they choose to.
    const db = new PgDatabase(parsePostgresUri(pg.appUri), undefined);
    const store = createPostgresStore(db, { rollupConsumer: false });
    stores.push(store);
    return store;
  };
  const count = async (sql: string): Promise<number> => Number((await sqlAt(pg.adminUri, sql))[0]?.n);

  beforeAll(async () => {
    pg = await createTestDatabase();
  }, 120_000);

  afterAll(async () => {
    for (const s of stores) await s.close();
    stores = [];
    await pg?.drop();
  }, 120_000);

  test('concurrent consumers fold every feed row exactly once; answers equal raw before, during and after', async () => {
    const t = parseTenantId('preagg-once');
    const [s1, s2, s3] = [await open(), await open(), await open()] as [Store, Store, Store];
    const hub = new Hub(s1);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 3, days: 40, outputsPerDay: 40, managers: 2, teamSize: 5 });
    await load(hub, t, data);
    await load(reference, t, data);
    const feed = await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`);
    // One row per output and decision, and per governance event with an employee.
    expect(feed).toBeGreaterThan(data.outputs.length + data.decisions.length);
    await expectEqualAnswers(hub, reference, t, 'nothing folded');

    // Three consumers in small batches, racing each other and the reads.
    let folded = 0;
    const drain = async (s: Store): Promise<void> => {
      for (;;) {
        const n = await s.maintain(37);
        folded += n;
        if (n === 0) return;
      }
    };
    await Promise.all([
      drain(s1),
      drain(s2),
      drain(s3),
      expectEqualAnswers(hub, reference, t, 'while folding'),
    ]);
    expect(folded).toBe(feed);
    expect(await count('SELECT count(*) AS n FROM hub.rollup_feed')).toBe(0);
    // Every output is in exactly one cell of each grain of the all-employees family.
    for (const grain of ['h', 'd', 'w', 'm']) {
      expect(
        await count(
          `SELECT sum(invocations) AS n FROM hub.rollup_cells WHERE tenant_id = '${t}' AND grain = '${grain}' AND employee_id = ''`,
        ),
      ).toBe(data.outputs.length);
    }
    await expectEqualAnswers(hub, reference, t, 'all folded');
  }, 600_000);

  test('a decision written before its output counts once the output arrives, before and after folding', async () => {
    const t = parseTenantId('preagg-orphan');
    const store = await open();
    const hub = new Hub(store);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 9, days: 10, outputsPerDay: 20, managers: 2, teamSize: 4 });
    for (const h of [hub, reference]) {
      await h.record(t, 'employee_profiles', data.employee_profiles);
      await h.record(t, 'decisions', data.decisions);
    }
    const range = { managerId: 'mgr-000', from: '2026-01-05T00:00:00Z', to: '2026-01-20T00:00:00+02:00' };
    await store.maintain(100_000);
    expect(
      await count(`SELECT count(*) AS n FROM hub.rollup_orphan_decisions WHERE tenant_id = '${t}'`),
    ).toBe(data.decisions.length);
    expect(await hub.managerDashboard(t, range)).toEqual(await reference.managerDashboard(t, range));
    for (const h of [hub, reference]) await h.record(t, 'outputs', data.outputs);
    // Not folded yet: the orphans are resolved live by the read.
    expect(await hub.managerDashboard(t, range)).toEqual(await reference.managerDashboard(t, range));
    expect((await hub.managerDashboard(t, range)).decisions.total).toBeGreaterThan(0);
    await store.maintain(100_000);
    expect(
      await count(`SELECT count(*) AS n FROM hub.rollup_orphan_decisions WHERE tenant_id = '${t}'`),
    ).toBe(0);
    expect(await hub.managerDashboard(t, range)).toEqual(await reference.managerDashboard(t, range));
  }, 300_000);

  test("cells are per tenant: another tenant's cells are invisible, unwritable and never counted", async () => {
    const a = parseTenantId('preagg-a');
    const b = parseTenantId('preagg-b');
    const store = await open();
    const hub = new Hub(store);
    const data = generateDataset({ seed: 5, days: 5, outputsPerDay: 20, managers: 1, teamSize: 3 });
    await load(hub, a, data);
    await store.maintain(100_000);
    // B has no records: its rollups are empty although A's cells cover the range.
    const q = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', bucket: 'DAY' as const };
    expect((await hub.costPerSkill(a, q)).length).toBeGreaterThan(0);
    expect(await hub.costPerSkill(b, q)).toEqual([]);
    expect(await hub.skills(b, q)).toEqual([]);
    const c = new Client({ connectionString: pg.appUri });
    c.on('error', () => undefined);
    await c.connect();
    // A transaction scoped to `tenant` with a valid tenant ticket, as the store opens them.
    const scope = async (tenant: string): Promise<void> => {
      const exp = Math.floor(Date.now() / 1000) + TICKET_TTL_SECONDS;
      await c.query(
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ticket', $2, true)",
        [tenant, signTicket(configuredTicketKey(), 't', tenant, exp)],
      );
    };
    try {
      await c.query('BEGIN');
      await scope(b);
      for (const table of [
        'rollup_cells',
        'rollup_bin_counts',
        'rollup_decision_cells',
        'rollup_governance_cells',
      ]) {
        expect((await c.query(`SELECT count(*)::int AS n FROM hub.${table}`)).rows[0].n).toBe(0);
      }
      // The application role cannot write cells or the feed, for any tenant.
      const denied = await c
        .query(`UPDATE hub.rollup_cells SET invocations = 0 WHERE tenant_id = '${a}'`)
        .then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        );
      expect(denied).toBe('42501');
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await scope(b);
      const insert = await c
        .query(
          `INSERT INTO hub.rollup_feed (tenant_id, kind, record_id, created_at, tag) VALUES ('${a}', 'o', gen_random_uuid(), now(), 'FAILED')`,
        )
        .then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        );
      expect(insert).toBe('42501');
      await c.query('ROLLBACK');
      // Forgetting needs a tenant without records: refused for A, which has some.
      await c.query('BEGIN');
      await scope(a);
      const refused = await c.query('SELECT hub.rollup_forget()').then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
      expect(refused).toBe('55000');
      await c.query('ROLLBACK');
      // rollup_forget under B's scope leaves A's cells alone.
      await c.query('BEGIN');
      await scope(b);
      await c.query('SELECT hub.rollup_forget()');
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
    expect(
      await count(`SELECT count(*) AS n FROM hub.rollup_cells WHERE tenant_id = '${a}'`),
    ).toBeGreaterThan(0);
    // Purging A removes its cells and feed rows with its records.
    await load(hub, a, generateDataset({ seed: 6, days: 2, outputsPerDay: 5, managers: 1, teamSize: 2 }));
    await store.purgeTenant(a);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_cells WHERE tenant_id = '${a}'`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${a}'`)).toBe(0);
    expect(await hub.costPerSkill(a, q)).toEqual([]);
  }, 300_000);

  test('a tenant whose records predate the feed is answered from raw records, then backfilled by hub db migrate (resumable, with progress)', async () => {
    const t = parseTenantId('preagg-backfill');
    const store = await open();
    const hub = new Hub(store);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 12, days: 30, outputsPerDay: 30, managers: 2, teamSize: 4 });
    await load(hub, t, data);
    await load(reference, t, data);
    // The state migration 0003 leaves a tenant with older records in: records
    // without feed rows or cells, the tenant pending.
    await sqlAt(pg.adminUri, `DELETE FROM hub.rollup_feed WHERE tenant_id = '${t}'`);
    await sqlAt(pg.adminUri, `INSERT INTO hub.rollup_pending (tenant_id) VALUES ('${t}')`);
    await expectEqualAnswers(hub, reference, t, 'pending, from raw records');
    // Records arriving meanwhile wait in the feed: the consumer leaves a pending tenant alone.
    const late = generateDataset({ seed: 13, days: 30, outputsPerDay: 3, managers: 2, teamSize: 4 });
    for (const h of [hub, reference]) {
      await h.record(t, 'outputs', late.outputs);
      await h.record(t, 'decisions', late.decisions);
    }
    expect(await store.maintain(100_000)).toBe(0);
    // One step by hand (as if a previous run stopped), then hub db migrate finishes.
    const [first] = await sqlAt<{ reached_at: Date }>(
      pg.ownerUri.split('?')[0] as string,
      'SELECT * FROM hub.rollup_backfill(7, 20000)',
    );
    expect(first?.reached_at).toBeDefined();
    await expectEqualAnswers(hub, reference, t, 'part backfilled (still from raw records)');
    const lines: string[] = [];
    await postgresDriver.migrate?.(pg.ownerUri, { log: (line) => lines.push(line) });
    expect(
      lines.some((l) => /^backfill preagg-backfill: .* of .* \(\d+%, \d+ records in this step\)$/.test(l)),
    ).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^backfill preagg-backfill: done/);
    // The run resumes after the step already committed: its first position is past that step's.
    const firstLine = lines.find((l) => l.startsWith('backfill preagg-backfill:')) as string;
    const resumedAt = /: (\S+) of /.exec(firstLine)?.[1] as string;
    expect(Date.parse(resumedAt)).toBeGreaterThan(new Date(first?.reached_at as Date).getTime());
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_pending WHERE tenant_id = '${t}'`)).toBe(0);
    await expectEqualAnswers(hub, reference, t, 'backfilled, feed not yet folded');
    expect(await store.maintain(100_000)).toBeGreaterThan(0);
    await expectEqualAnswers(hub, reference, t, 'backfilled and folded');
    expect(
      await count(
        `SELECT sum(invocations) AS n FROM hub.rollup_cells WHERE tenant_id = '${t}' AND grain = 'm' AND employee_id = ''`,
      ),
    ).toBe(data.outputs.length + late.outputs.length);
  }, 600_000);

  test('backfill steps are bounded by records, and a step cancelled by the statement timeout is run again smaller', async () => {
    const t = parseTenantId('preagg-backfill-steps');
    const store = await open();
    const hub = new Hub(store);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 21, days: 20, outputsPerDay: 40, managers: 2, teamSize: 4 });
    await load(hub, t, data);
    await load(reference, t, data);
    await sqlAt(pg.adminUri, `DELETE FROM hub.rollup_feed WHERE tenant_id = '${t}'`);
    await sqlAt(pg.adminUri, `INSERT INTO hub.rollup_pending (tenant_id) VALUES ('${t}')`);
    const owner = pg.ownerUri.split('?')[0] as string;
    // A year allowed per step, at most 25 records of each type: the step ends early.
    const [first] = await sqlAt<{ folded: number; reached_at: Date; finished: boolean }>(
      owner,
      'SELECT * FROM hub.rollup_backfill(366, 25)',
    );
    expect(first?.finished).toBe(false);
    expect(Number(first?.folded)).toBeGreaterThan(0);
    expect(Number(first?.folded)).toBeLessThanOrEqual(3 * 25);
    await expectEqualAnswers(hub, reference, t, 'one bounded step (still from raw records)');
    // The server cancels every step asked for more than 100 records (as a
    // statement timeout would): the run shrinks its steps and finishes.
    const asked: number[] = [];
    const lines: string[] = [];
    const client = new Client({ connectionString: owner });
    await client.connect();
    try {
      const folded = await backfillAll(
        async (sql, params) => {
          asked.push(Number(params[1]));
          if (Number(params[1]) > 100) {
            throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
          }
          return (await client.query(sql, params as unknown[])).rows;
        },
        (line) => lines.push(line),
      );
      expect(folded).toBe(
        data.outputs.length +
          data.decisions.length +
          data.governance_events.filter((g) => g.employee_id !== undefined).length -
          Number(first?.folded),
      );
    } finally {
      await client.end();
    }
    expect(asked.slice(0, 5)).toEqual([20_000, 5_000, 1_250, 312, 100]);
    expect(lines.filter((l) => l.includes('statement timeout'))).toHaveLength(4);
    expect(lines[lines.length - 1]).toMatch(/^backfill preagg-backfill-steps: done/);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_pending WHERE tenant_id = '${t}'`)).toBe(0);
    await expectEqualAnswers(hub, reference, t, 'backfilled in bounded steps');
  }, 600_000);

  test("migration 12 derives hour cells' bin counts from their millisecond counts, as the fold keeps them", async () => {
    const t = parseTenantId('preagg-hour-bins');
    const store = await open();
    const hub = new Hub(store);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 31, days: 10, outputsPerDay: 60, managers: 2, teamSize: 4 });
    await load(hub, t, data);
    await load(reference, t, data);
    while ((await store.maintain(100_000)) > 0) {
      /* drain */
    }
    const bins = `SELECT start::text, skill_id, lat_bk::text AS bk, lat_bn::text AS bn, lat_ms IS NULL AS no_latency FROM hub.rollup_cells
      WHERE tenant_id = '${t}' AND grain = 'h' ORDER BY start, skill_id`;
    const folded = await sqlAt(pg.adminUri, bins);
    expect(folded.length).toBeGreaterThan(100);
    // Bins wherever there are latencies (a cell of outputs without latency has neither).
    expect(folded.filter((r) => (r.bk === null) !== r.no_latency)).toEqual([]);
    expect(folded.filter((r) => r.bk !== null).length).toBeGreaterThan(100);
    // Hour cells as folded before migration 12 (no bins), then the migration's derivation.
    await sqlAt(
      pg.adminUri,
      `UPDATE hub.rollup_cells SET lat_bk = NULL, lat_bn = NULL WHERE tenant_id = '${t}' AND grain = 'h'`,
    );
    const script = MIGRATIONS.find((m) => m.version === 12)?.sql() ?? '';
    const derivation = script.slice(0, script.indexOf('-- As in preagg-fold-estimates.sql'));
    expect(derivation).toContain('UPDATE hub.rollup_cells');
    const owner = new Client({ connectionString: pg.ownerUri.split('?')[0] as string });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query(derivation);
      await owner.query('COMMIT');
    } finally {
      await owner.end();
    }
    expect(await sqlAt(pg.adminUri, bins)).toEqual(folded);
    await expectEqualAnswers(hub, reference, t, 'hour bins derived');
  }, 600_000);

  test('migration 15 sums per-employee week cells from the day cells, as the fold keeps them', async () => {
    const t = parseTenantId('preagg-employee-weeks');
    const store = await open();
    const hub = new Hub(store);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 37, days: 24, outputsPerDay: 40, managers: 2, teamSize: 4 });
    await load(hub, t, data);
    await load(reference, t, data);
    while ((await store.maintain(100_000)) > 0) {
      /* drain */
    }
    const weeks = `SELECT employee_id, start::text, skill_id, invocations, failed, cost_usd::text AS cost,
      input_tokens::text AS itok, output_tokens::text AS otok FROM hub.rollup_cells
      WHERE tenant_id = '${t}' AND grain = 'w' AND employee_id <> '' ORDER BY employee_id, start, skill_id`;
    const folded = await sqlAt(pg.adminUri, weeks);
    expect(folded.length).toBeGreaterThan(20);
    // Cells as folded before migration 15 (days only), then the migration's sums.
    await sqlAt(
      pg.adminUri,
      `DELETE FROM hub.rollup_cells WHERE tenant_id = '${t}' AND grain = 'w' AND employee_id <> ''`,
    );
    const script = MIGRATIONS.find((m) => m.version === 15)?.sql() ?? '';
    const derivation = script.slice(0, script.indexOf('-- As in preagg-ingest.sql'));
    expect(derivation).toContain('INSERT INTO hub.rollup_cells');
    const owner = new Client({ connectionString: pg.ownerUri.split('?')[0] as string });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query(derivation);
      await owner.query('COMMIT');
    } finally {
      await owner.end();
    }
    expect(await sqlAt(pg.adminUri, weeks)).toEqual(folded);
    await expectEqualAnswers(hub, reference, t, 'employee weeks derived');
  }, 600_000);

  test("the fold's set-based p95 statistics equal the per-cell functions on every all-employee cell", async () => {
    const t = parseTenantId('preagg-p95-sets');
    const store = await open();
    const hub = new Hub(store);
    const data = generateDataset({ seed: 41, days: 20, outputsPerDay: 80, managers: 2, teamSize: 4 });
    // Later days first, then the earlier ones: folds add to cells that already hold counts.
    const cut = Math.floor(data.outputs.length / 2);
    await hub.record(t, 'employee_profiles', data.employee_profiles);
    await hub.record(t, 'outputs', data.outputs.slice(cut));
    while ((await store.maintain(97)) > 0) {
      /* drain in small batches: every cell is folded into many times */
    }
    await hub.record(t, 'outputs', data.outputs.slice(0, cut));
    while ((await store.maintain(1_000)) > 0) {
      /* drain */
    }
    const cells = await count(
      `SELECT count(*) AS n FROM hub.rollup_cells WHERE tenant_id = '${t}' AND employee_id = '' AND lat_n > 0`,
    );
    expect(cells).toBeGreaterThan(500);
    // Every grain: hour cells from their own millisecond counts, the others through bins.
    const differing = await sqlAt(
      pg.adminUri,
      `SELECT c.grain, c.start::text, c.skill_id, c.lat_n, c.lat_a, c.lat_b, p.n, p.a, p.b
       FROM hub.rollup_cells c
       CROSS JOIN LATERAL (
         SELECT q.n, q.a, q.b FROM hub.rollup_counts_p95(c.lat_ms, c.lat_ns) q WHERE c.grain = 'h'
         UNION ALL
         SELECT q.n, q.a, q.b FROM hub.rollup_cell_p95(c.tenant_id, c.grain, c.start, c.skill_id, c.lat_bk, c.lat_bn) q
         WHERE c.grain <> 'h') p
       WHERE c.tenant_id = '${t}' AND c.employee_id = ''
         AND (c.lat_n, c.lat_a, c.lat_b) IS DISTINCT FROM (p.n, p.a, p.b)`,
    );
    expect(differing).toEqual([]);
    expect(
      await count(
        `SELECT count(DISTINCT grain) AS n FROM hub.rollup_cells WHERE tenant_id = '${t}' AND employee_id = '' AND lat_b IS NOT NULL`,
      ),
    ).toBe(4);
  }, 600_000);

  test('maintain refuses a limit out of bounds, naming it', async () => {
    const store = await open();
    for (const bad of [0, -1, 1.5, 100_001]) {
      const err = await store.maintain(bad).catch((e: unknown) => e);
      expect(isHubError(err) && err.code).toBe('VALIDATION');
      expect(String((err as Error).message)).toContain('limit');
    }
  });

  test('the background consumer folds on its (injected) schedule and stops cleanly', async () => {
    const t = parseTenantId('preagg-bg');
    const db = new PgDatabase(parsePostgresUri(pg.appUri), undefined);
    const store = createPostgresStore(db, { rollupConsumer: false });
    stores.push(store);
    // Only this test's rows in the feed.
    while ((await store.maintain(100_000)) > 0) {
      /* drain */
    }
    await load(
      new Hub(store),
      t,
      generateDataset({ seed: 2, days: 3, outputsPerDay: 30, managers: 1, teamSize: 3 }),
    );
    const pending: (() => void)[] = [];
    let scheduled: () => void = () => undefined;
    const nextSchedule = (): Promise<void> => new Promise((resolve) => (scheduled = resolve));
    const consumer = new RollupConsumer(db, {
      batchSize: 10,
      batchesPerTick: 3,
      schedule: (run) => {
        pending.push(run);
        scheduled();
        return () => undefined;
      },
    });
    consumer.start();
    expect(pending).toHaveLength(1);
    const before = await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`);
    // One tick folds at most batchSize x batchesPerTick rows.
    expect(await consumer.tick()).toBe(30);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`)).toBe(
      before - 30,
    );
    // The scheduled tick runs, folds as much again, and schedules the next one.
    const rescheduled = nextSchedule();
    pending.shift()?.();
    await rescheduled;
    expect(pending).toHaveLength(1);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`)).toBe(
      before - 60,
    );
    await consumer.stop();
    // Without a per-tick limit a tick keeps folding until a batch comes back short.
    const unlimited = new RollupConsumer(db, { batchSize: 10, schedule: () => () => undefined });
    expect(await unlimited.tick()).toBe(before - 60);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`)).toBe(0);
    await unlimited.stop();
  }, 300_000);
});

describe('postgres pre-aggregation (PGlite)', () => {
  test('folded or not, answers equal the raw computation', async () => {
    const store = (await openStore('pglite:memory')) as Store;
    try {
      const t = parseTenantId('preagg-pglite');
      const hub = new Hub(store);
      const reference = new Hub(createMemoryStore());
      const data = generateDataset({ seed: 4, days: 30, outputsPerDay: 20, managers: 2, teamSize: 4 });
      await load(hub, t, data);
      await load(reference, t, data);
      await expectEqualAnswers(hub, reference, t, 'pglite, before folding');
      while ((await store.maintain(500)) > 0) {
        /* drain */
      }
      await expectEqualAnswers(hub, reference, t, 'pglite, folded');
    } finally {
      await store.close();
    }
  }, 600_000);
});

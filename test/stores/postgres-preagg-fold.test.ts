/**
 * Folding in the PostgreSQL store's pre-aggregation (preagg.sql): feed rows
 * are folded exactly once whatever the number of concurrent consumers;
 * answers equal the raw computation before, during and after folding;
 * decisions that arrive before their output; the fold's set-based p95
 * statistics; whole buckets read from their cells alone only when nothing
 * else counts in the range; the same answers on PGlite. Tenant isolation of the cells:
 * postgres-preagg-tenancy.test.ts; records older than the feed (backfill,
 * migrations): postgres-preagg-upgrade.test.ts; maintain's bounds and the
 * background consumer's schedule: postgres-preagg-schedule.test.ts. The range
 * plan alone, without a database: postgres-preagg-plan.test.ts.
 */
import { Hub } from '../../src/hub/hub';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { openStore } from '../../src/stores';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { costPerSkillWholeStatement, wholeCellRows } from '../../src/stores/postgres/postgres-preagg-whole';
import { costPerSkillRows } from '../../src/stores/postgres/postgres-rollups';
import type { Row, Statement } from '../../src/stores/postgres/queryable';
import { sqlAt } from '../support/pg-harness';
import { type Store, expectEqualAnswers, load, usePreaggServer } from './postgres-preagg-support';

describe('postgres pre-aggregation (server)', () => {
  const server = usePreaggServer();
  const { open, count } = server;

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
      server.pg.adminUri,
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
  test('whole buckets are read from their cells alone only when nothing else counts in the range', async () => {
    const t = parseTenantId('preagg-whole');
    const { db, store } = await server.openWithDatabase();
    const hub = new Hub(store);
    const reference = new Hub(createMemoryStore());
    const data = generateDataset({ seed: 5, days: 20, outputsPerDay: 30, managers: 1, teamSize: 4 });
    const last = data.outputs.at(-1) as (typeof data.outputs)[number];
    await load(hub, t, { ...data, outputs: data.outputs.slice(0, -1) });
    await load(reference, t, data);
    // Whole days from the data's first midnight, past its last record.
    const q = { from: '2026-01-05T00:00:00.000Z', to: '2026-01-26T00:00:00.000Z', bucket: 'DAY' } as const;
    const whole = costPerSkillWholeStatement(t, q) as Statement;
    expect(whole).not.toBeNull();
    const read = async (): Promise<Row[]> =>
      (await db.run({ tenant: t }, [whole], { genericPlans: true }))[0] ?? [];
    const drain = async (): Promise<void> => {
      while ((await store.maintain(500)) > 0) {
        /* drain */
      }
    };

    // Unfolded feed rows in the range: the cells alone do not answer.
    expect(wholeCellRows(await read())).toBeNull();
    await drain();
    // All folded: they do (exactly: compared once the last output is in, below).
    const rows = wholeCellRows(await read());
    expect(rows?.length).toBeGreaterThan(20);
    await hub.record(t, 'outputs', [last]);
    // One more record, unfolded: back to the general statement; the store's
    // answer equals the raw computation whichever statement answers.
    expect(wholeCellRows(await read())).toBeNull();
    expect(await hub.costPerSkill(t, q)).toEqual(await reference.costPerSkill(t, q));
    await drain();
    expect(costPerSkillRows(wholeCellRows(await read()) ?? [])).toEqual(await reference.costPerSkill(t, q));
    expect(await hub.costPerSkill(t, q)).toEqual(await reference.costPerSkill(t, q));
  }, 600_000);
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

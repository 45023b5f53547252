/**
 * Records older than the PostgreSQL store's pre-aggregation feature: a tenant
 * whose records predate the feed is answered from raw records, then
 * backfilled by hub db migrate (resumable, with progress, in steps bounded by
 * records that shrink when the statement timeout cancels them); migrations 12
 * and 15 derive what later folds keep (hour cells' bin counts, per-employee
 * week cells) exactly as the fold would.
 */
import { Client } from 'pg';
import { Hub } from '../../src/hub/hub';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { MIGRATIONS } from '../../src/stores/postgres/migrations';
import { postgresDriver } from '../../src/stores/postgres/postgres-driver';
import { backfillAll } from '../../src/stores/postgres/postgres-preagg-consumer';
import { sqlAt } from '../support/pg-harness';
import { expectEqualAnswers, load, usePreaggServer } from './postgres-preagg-support';

describe('postgres pre-aggregation (server)', () => {
  const server = usePreaggServer();
  const { open, count } = server;

  /**
   * Runs, as the schema owner in one transaction, the part of migration
   * `version` before `marker` (its derivation of cells for existing tenants,
   * without the function redefinitions after it), checking it holds `expected`.
   */
  async function runDerivation(version: number, marker: string, expected: string): Promise<void> {
    const script = MIGRATIONS.find((m) => m.version === version)?.sql() ?? '';
    const derivation = script.slice(0, script.indexOf(marker));
    expect(derivation).toContain(expected);
    const owner = new Client({ connectionString: server.pg.ownerUri.split('?')[0] as string });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query(derivation);
      await owner.query('COMMIT');
    } finally {
      await owner.end();
    }
  }

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
    await sqlAt(server.pg.adminUri, `DELETE FROM hub.rollup_feed_batches WHERE tenant_id = '${t}'`);
    await sqlAt(server.pg.adminUri, `INSERT INTO hub.rollup_pending (tenant_id) VALUES ('${t}')`);
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
      server.pg.ownerUri.split('?')[0] as string,
      'SELECT * FROM hub.rollup_backfill(7, 20000)',
    );
    expect(first?.reached_at).toBeDefined();
    await expectEqualAnswers(hub, reference, t, 'part backfilled (still from raw records)');
    const lines: string[] = [];
    await postgresDriver.migrate?.(server.pg.ownerUri, { log: (line) => lines.push(line) });
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
    await sqlAt(server.pg.adminUri, `DELETE FROM hub.rollup_feed_batches WHERE tenant_id = '${t}'`);
    await sqlAt(server.pg.adminUri, `INSERT INTO hub.rollup_pending (tenant_id) VALUES ('${t}')`);
    const owner = server.pg.ownerUri.split('?')[0] as string;
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
    const folded = await sqlAt(server.pg.adminUri, bins);
    expect(folded.length).toBeGreaterThan(100);
    // Bins wherever there are latencies (a cell of outputs without latency has neither).
    expect(folded.filter((r) => (r.bk === null) !== r.no_latency)).toEqual([]);
    expect(folded.filter((r) => r.bk !== null).length).toBeGreaterThan(100);
    // Hour cells as folded before migration 12 (no bins), then the migration's derivation.
    await sqlAt(
      server.pg.adminUri,
      `UPDATE hub.rollup_cells SET lat_bk = NULL, lat_bn = NULL WHERE tenant_id = '${t}' AND grain = 'h'`,
    );
    await runDerivation(12, '-- As in preagg-fold-estimates.sql', 'UPDATE hub.rollup_cells');
    expect(await sqlAt(server.pg.adminUri, bins)).toEqual(folded);
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
    const folded = await sqlAt(server.pg.adminUri, weeks);
    expect(folded.length).toBeGreaterThan(20);
    // Cells as folded before migration 15 (days only), then the migration's sums.
    await sqlAt(
      server.pg.adminUri,
      `DELETE FROM hub.rollup_cells WHERE tenant_id = '${t}' AND grain = 'w' AND employee_id <> ''`,
    );
    await runDerivation(15, '-- As in preagg-ingest.sql', 'INSERT INTO hub.rollup_cells');
    expect(await sqlAt(server.pg.adminUri, weeks)).toEqual(folded);
    await expectEqualAnswers(hub, reference, t, 'employee weeks derived');
  }, 600_000);
});

/**
 * Tenant isolation of the PostgreSQL store's pre-aggregation cells: another
 * tenant's cells are invisible to a tenant-scoped transaction, the
 * application role writes neither cells nor the feed, forgetting is refused
 * for a tenant with records and scoped to one tenant, and purging a tenant
 * removes its cells and feed rows.
 */
import { Client } from 'pg';
import { Hub } from '../../src/hub/hub';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import {
  TICKET_TTL_SECONDS,
  configuredTicketKey,
  signTicket,
} from '../../src/stores/postgres/tenant-tickets';
import { load, usePreaggServer } from './postgres-preagg-support';

describe('postgres pre-aggregation (server)', () => {
  const server = usePreaggServer();
  const { open, count } = server;

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
    const c = new Client({ connectionString: server.pg.appUri });
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
          `INSERT INTO hub.rollup_feed_batches (tenant_id, kind, first_at, n, record_ids, created_ats, tags) VALUES ('${a}', 'o', now(), 1, ARRAY[gen_random_uuid()], ARRAY[now()], ARRAY['FAILED'])`,
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
      // A's unfolded feed rows (one per statement, read a row per record
      // through the view) are A's alone.
      const more = generateDataset({ seed: 7, days: 1, outputsPerDay: 3, managers: 1, teamSize: 2 });
      await hub.record(a, 'outputs', more.outputs.slice(0, 3));
      await c.query('BEGIN');
      await scope(b);
      for (const table of ['rollup_feed', 'rollup_feed_batches']) {
        expect((await c.query(`SELECT count(*)::int AS n FROM hub.${table}`)).rows[0].n).toBe(0);
      }
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await scope(a);
      expect((await c.query('SELECT count(*)::int AS n FROM hub.rollup_feed')).rows[0].n).toBe(3);
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
});

/**
 * Durable dual-write from a PostgreSQL primary (outbox rows written in the
 * same transaction as the records) to an analytics store: an outage of the
 * analytics store loses nothing and duplicates nothing, and two gateway
 * replicas racing over one outbox ship every entry once.
 */
import { Hub } from '../../src/hub/hub';
import type { HubStore, OutboxSource } from '../../src/hub/store';
import type { TenantId } from '../../src/hub/tenant';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { withRouteTrace } from '../../src/platform/route-trace';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { openStore } from '../../src/stores/index';
import { OutboxRelay } from '../../src/router/outbox-relay';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';
import {
  type Outage,
  WHOLE_RANGE,
  outputs,
  recordingOpener,
  scanAll,
  sharingOpener,
  tenant,
} from './support';

const WAREHOUSE = 'memory:warehouse';

describe('dual-write: PostgreSQL primary -> analytics', () => {
  let pg: PgTestDatabase;
  beforeAll(async () => {
    pg = await createTestDatabase();
  }, 60_000);
  afterAll(() => pg?.drop());

  /** One gateway replica: its own registry, PostgreSQL pool and relay; the warehouse is shared. */
  async function replica(warehouse: HubStore, outage: Outage): Promise<RoutingStore> {
    const config = parseRegistryConfig(
      { shared: { primary: pg.appUri, analytics: WAREHOUSE, freshnessSeconds: 0, fallback: 'primary' } },
      'test',
    );
    const opener = recordingOpener({ [WAREHOUSE]: outage }, sharingOpener({ [WAREHOUSE]: warehouse }));
    return RoutingStore.open({
      load: async () => config,
      openStore: opener.open,
      relay: { batchSize: 50, idleMs: 10, initialBackoffMs: 20, maxBackoffMs: 200 },
    });
  }

  async function expectSameRecords(
    primary: HubStore,
    warehouse: HubStore,
    tenants: TenantId[],
    total: number,
  ): Promise<void> {
    let n = 0;
    for (const t of tenants) {
      const want = (await scanAll(primary, t)).map((r) => r.record_id);
      const got = (await scanAll(warehouse, t)).map((r) => r.record_id);
      expect(got).toEqual(want);
      n += got.length;
    }
    expect(n).toBe(total);
  }

  test('analytics outage: writes keep being acknowledged, rollups fall back, then every record arrives exactly once', async () => {
    const warehouse = createMemoryStore();
    const outage: Outage = { down: false };
    const store = await replica(warehouse, outage);
    const hub = new Hub(store);
    const ACME = tenant('acme-1');
    const BETA = tenant('beta-1');
    try {
      let total = 0;
      for (let i = 0; i < 4; i++) {
        await hub.record(i % 2 ? ACME : BETA, 'outputs', outputs(100, 100 + i));
        total += 100;
      }
      await settleRouter(store);
      outage.down = true;
      for (let i = 0; i < 8; i++) {
        const results = await hub.record(i % 2 ? ACME : BETA, 'outputs', outputs(100, 200 + i));
        expect(results.every((r) => r.status === 'created')).toBe(true);
        total += 100;
      }
      const { trace } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
      expect(trace.entries[0]).toMatchObject({
        role: 'primary',
        reason: expect.stringMatching(/^fallback-/),
      });
      const [relay] = store.registry.relays();
      expect((await relay?.lag())?.pending).toBeGreaterThan(0);

      outage.down = false;
      await settleRouter(store);
      await expectSameRecords(store, warehouse, [ACME, BETA], total);
      expect(relay?.status().shipped).toBe(total);
      const after = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
      expect(after.trace.entries[0]).toMatchObject({ role: 'analytics', reason: 'analytics' });
    } finally {
      await store.close();
    }
  });

  test('two replicas racing over one outbox: nothing lost, nothing shipped twice', async () => {
    // Tests share the database: each uses its own tenants.
    const ACME = tenant('acme-2');
    const BETA = tenant('beta-2');
    const warehouse = createMemoryStore();
    const up: Outage = { down: false };
    const [a, b] = await Promise.all([replica(warehouse, up), replica(warehouse, up)]);
    try {
      const hubs = [new Hub(a), new Hub(b)];
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        writes.push((hubs[i % 2] as Hub).record(i % 3 ? ACME : BETA, 'outputs', outputs(60, 300 + i)));
      }
      await Promise.all(writes);
      await Promise.all([settleRouter(a), settleRouter(b)]);
      await expectSameRecords(a, warehouse, [ACME, BETA], 1200);
      const shipped = [a, b].map((s) => s.registry.relays()[0]?.status().shipped ?? 0);
      expect(shipped.reduce((x, y) => x + y, 0)).toBe(1200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('a relay that dies after shipping but before deleting causes a re-ship, never a duplicate record', async () => {
    const T = tenant('acme-3');
    const primary = await openStore(pg.appUri, { outbox: true });
    const warehouse = createMemoryStore();
    try {
      await new Hub(primary).record(T, 'outputs', outputs(120, 400));
      let crashes = 1;
      const shipped: string[] = [];
      const relay = new OutboxRelay(
        primary as HubStore & OutboxSource,
        async (t, records) => {
          await warehouse.putBatch(t, records);
          shipped.push(...records.map((r) => r.record_id));
          // Shipped, then "crashed" before the outbox rows could be deleted.
          if (crashes-- > 0) throw new Error('relay process died');
          return 'shipped';
        },
        { label: 'pg', batchSize: 500, initialBackoffMs: 10 },
      );
      await expect(relay.drainOnce()).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(await relay.drainOnce()).toBe(120);
      expect(shipped).toHaveLength(240);
      expect((await relay.lag()).pending).toBe(0);
      const want = (await scanAll(primary, T)).map((r) => r.record_id);
      expect((await scanAll(warehouse, T)).map((r) => r.record_id)).toEqual(want);
    } finally {
      await primary.close();
    }
  });
});

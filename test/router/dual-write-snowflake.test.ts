/**
 * Dual-write from PostgreSQL to the Snowflake store on its wire emulator:
 * stop the emulator, keep writing (every write is still acknowledged by the
 * primary), restart it, and every record arrives in Snowflake exactly once.
 */
import { Hub } from '../../src/hub/hub';
import type { HubStore } from '../../src/hub/store';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { withRouteTrace } from '../../src/platform/route-trace';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { openStore } from '../../src/stores/index';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';
import {
  type SnowflakeEmulator,
  emulatorStoreUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';
import { WHOLE_RANGE, eventually, outputs, scanAll, tenant } from './support';

const ACME = tenant('acme');
const BETA = tenant('beta');

describe('dual-write: PostgreSQL -> Snowflake (emulator) outage and recovery', () => {
  let pg: PgTestDatabase;
  let emulator: SnowflakeEmulator;
  let store: RoutingStore;
  let warehouse: HubStore;

  beforeAll(async () => {
    pg = await createTestDatabase();
    emulator = await startSnowflakeEmulator();
    // Short statement timeout: during the outage a ship fails fast and is retried.
    const uri = emulatorStoreUri(emulator, { timeoutMs: 3000 });
    const config = parseRegistryConfig(
      {
        stores: { pg: pg.appUri, warehouse: uri },
        shared: { primary: 'pg', analytics: 'warehouse', freshnessSeconds: 1, fallback: 'primary' },
      },
      'test',
    );
    store = await RoutingStore.open({
      load: async () => config,
      relay: { batchSize: 200, idleMs: 20, initialBackoffMs: 50, maxBackoffMs: 500 },
    });
    warehouse = await openStore(uri);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await warehouse?.close();
    await emulator?.close();
    await pg?.drop();
  }, 60_000);

  test('stop the emulator, keep writing, restart it: every record arrives exactly once', async () => {
    const hub = new Hub(store);
    let total = 0;
    for (let i = 0; i < 2; i++) {
      await hub.record(i ? ACME : BETA, 'outputs', outputs(150, 10 + i));
      total += 150;
    }
    await settleRouter(store, 60_000);

    await emulator.stop();
    for (let i = 0; i < 6; i++) {
      const results = await hub.record(i % 2 ? ACME : BETA, 'outputs', outputs(100, 20 + i));
      expect(results.every((r) => r.status === 'created')).toBe(true);
      total += 100;
    }
    const relay = store.registry.relays()[0];
    await eventually(async () => (relay?.status().consecutiveFailures ?? 0) > 0, 30_000);
    // Rollups keep being answered, by the primary, saying so.
    const { result, trace } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
    expect(result.reduce((n, r) => n + r.invocations, 0)).toBe(450);
    expect(trace.entries[0]).toMatchObject({ role: 'primary', reason: expect.stringMatching(/^fallback-/) });
    expect((await relay?.lag())?.pending).toBeGreaterThan(0);

    await emulator.restart();
    await settleRouter(store, 60_000);
    let n = 0;
    for (const t of [ACME, BETA]) {
      const want = (await scanAll(store, t)).map((r) => r.record_id);
      const got = (await scanAll(warehouse, t)).map((r) => r.record_id);
      expect(got).toEqual(want);
      n += got.length;
    }
    expect(n).toBe(total);
    // And the same rollup, now from Snowflake, agrees with the primary's.
    await eventually(
      async () =>
        (await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE))).trace.entries[0]?.role ===
        'analytics',
      10_000,
    );
    const again = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
    expect(again.trace.entries[0]).toMatchObject({ role: 'analytics', store: 'warehouse' });
    expect(again.result).toEqual(result);
  }, 90_000);
});

/**
 * The routing store passes the whole conformance suite over a real topology:
 * PostgreSQL primary (outbox in the write transaction) and the Snowflake store
 * on its wire emulator as analytics, fed by the relay. Fallback is `fail`, so
 * every rollup the suite checks was answered by Snowflake; `settle` drains the
 * relay, as the suite calls it before reading rollups.
 */
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { describeStoreConformance } from '../conformance/suite';
import { createTestDatabase } from '../support/pg-harness';
import { emulatorStoreUri, startSnowflakeEmulator } from '../support/snowflake-emulator';

let routed: RoutingStore | undefined;

describeStoreConformance('router (postgres primary + snowflake analytics)', async () => {
  const pg = await createTestDatabase();
  const emulator = await startSnowflakeEmulator();
  const config = parseRegistryConfig(
    {
      stores: { pg: pg.appUri, warehouse: emulatorStoreUri(emulator) },
      shared: { primary: 'pg', analytics: 'warehouse', freshnessSeconds: 0, fallback: 'fail' },
    },
    'test',
  );
  const store = (routed = await RoutingStore.open({ load: async () => config, relay: { idleMs: 20 } }));
  return {
    store,
    settle: () => settleRouter(store, 60_000),
    cleanup: async () => {
      await emulator.close();
      await pg.drop();
    },
  };
});

// The suite cannot see routes: check that its rollups really were answered by the analytics store.
afterAll(() => {
  const routes = [...(routed?.rollupRoutes.values() ?? [])];
  expect(routes.map((r) => [r.role, r.reason])).toEqual([['analytics', 'analytics']]);
  expect(routes[0]?.count).toBeGreaterThan(10);
});

/**
 * The routing store passes the whole conformance suite over SharePoint
 * (primary, REST emulator, fed to analytics through the router's in-process
 * LocalOutbox) and Snowflake (analytics, wire emulator). Fallback is `fail`,
 * so every rollup the suite checks was answered by Snowflake; `settle` drains
 * the relay, as the suite calls it before reading rollups.
 */
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { describeStoreConformance } from '../conformance/suite';
import { emulatorStoreUri as sharePointUri, startSharePointEmulator } from '../support/sharepoint-emulator';
import { emulatorStoreUri as snowflakeUri, startSnowflakeEmulator } from '../support/snowflake-emulator';

let routed: RoutingStore | undefined;

describeStoreConformance('router (sharepoint primary + snowflake analytics)', async () => {
  const sp = await startSharePointEmulator();
  const sf = await startSnowflakeEmulator();
  const config = parseRegistryConfig(
    {
      stores: { sharepoint: sharePointUri(sp), warehouse: snowflakeUri(sf) },
      shared: { primary: 'sharepoint', analytics: 'warehouse', freshnessSeconds: 0, fallback: 'fail' },
    },
    'test',
  );
  const store = (routed = await RoutingStore.open({ load: async () => config, relay: { idleMs: 20 } }));
  return {
    store,
    settle: () => settleRouter(store, 60_000),
    cleanup: async () => {
      await sf.close();
      await sp.close();
    },
  };
});

// The suite cannot see routes: check that its rollups really were answered by the analytics store.
afterAll(() => {
  const routes = [...(routed?.rollupRoutes.values() ?? [])];
  expect(routes.map((r) => [r.role, r.reason])).toEqual([['analytics', 'analytics']]);
  expect(routes[0]?.count).toBeGreaterThan(10);
});

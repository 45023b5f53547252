/**
 * The routing store passes the whole conformance suite wrapping two memory
 * stores: primary `memory:primary`, analytics `memory:analytics` fed by the
 * relay through an in-process outbox. Fallback is `fail` so a rollup can only
 * pass if the analytics store itself answered correctly; `settle` drains the
 * relay, as the suite calls it before reading rollups.
 */
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { describeStoreConformance } from '../conformance/suite';

let routed: RoutingStore | undefined;

describeStoreConformance('router (memory primary + memory analytics)', async () => {
  const config = parseRegistryConfig(
    {
      shared: {
        primary: 'memory:primary',
        analytics: 'memory:analytics',
        freshnessSeconds: 0,
        fallback: 'fail',
      },
    },
    'test',
  );
  const store = (routed = await RoutingStore.open({ load: async () => config }));
  return { store, settle: () => settleRouter(store) };
});

// The suite cannot see routes: check that its rollups really were answered by the analytics store.
afterAll(() => {
  const routes = [...(routed?.rollupRoutes.values() ?? [])];
  expect(routes.map((r) => [r.role, r.reason])).toEqual([['analytics', 'analytics']]);
  expect(routes[0]?.count).toBeGreaterThan(10);
});

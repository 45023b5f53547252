/**
 * The conformance suite over a routing store whose tenants share one topology:
 * a primary and an analytics store, with fallback `fail`, so every rollup the
 * suite checks is answered by analytics (checked after the suite, since the
 * suite cannot see routes); `settle` drains the relay, as the suite calls it
 * before reading rollups.
 */
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { describeStoreConformance } from '../conformance/suite';

/** The stores of one run: URIs, and how to tear them down. */
export interface RoutedBackends {
  readonly primaryUri: string;
  readonly analyticsUri: string;
  readonly cleanup: () => Promise<void>;
}

/** Declares the suite over the router for backends `start` brings up. */
export function describeRoutedConformance(name: string, start: () => Promise<RoutedBackends>): void {
  let routed: RoutingStore | undefined;
  describeStoreConformance(name, async () => {
    const backends = await start();
    const config = parseRegistryConfig(
      {
        stores: { primary: backends.primaryUri, warehouse: backends.analyticsUri },
        shared: { primary: 'primary', analytics: 'warehouse', freshnessSeconds: 0, fallback: 'fail' },
      },
      'test',
    );
    const store = (routed = await RoutingStore.open({ load: async () => config, relay: { idleMs: 20 } }));
    return { store, settle: () => settleRouter(store, 60_000), cleanup: backends.cleanup };
  });

  afterAll(() => {
    const routes = [...(routed?.rollupRoutes.values() ?? [])];
    expect(routes.map((r) => [r.role, r.reason])).toEqual([['analytics', 'analytics']]);
    expect(routes[0]?.count).toBeGreaterThan(10);
  });
}

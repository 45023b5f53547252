/**
 * The rollup result cache under the router, wired as `hub serve` wires it
 * (every store the router opens wrapped, one budget): a tenant with an
 * analytics store is validated against the store that answers each rollup
 * (the analytics store, or the primary when the router falls back), so a
 * record the analytics store has not received yet is never hidden by an
 * answer cached there, and a route is recorded for every answer, cached or not.
 */
import { Hub } from '../../src/hub/hub';
import { RollupCache, withRollupCache } from '../../src/hub/rollup-cache';
import { withRouteTrace } from '../../src/platform/route-trace';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore } from '../../src/router/routing-store';
import { openStore } from '../../src/stores/index';
import { WHOLE_RANGE, outputs, recordingOpener, tenant } from './support';

const ACME = tenant('acme');

test('a routed tenant is validated against the store that answers; hits keep their route', async () => {
  const cache = new RollupCache({ maxBytes: 1 << 20, maxTenantBytes: 1 << 20 });
  const opener = recordingOpener({}, (uri, o) => openStore(uri, o).then((s) => withRollupCache(s, cache)));
  const store = await RoutingStore.open({
    load: async () =>
      parseRegistryConfig(
        {
          tenants: [
            {
              id: 'acme',
              mode: 'A',
              primary: 'memory:p',
              analytics: 'memory:a',
              freshnessSeconds: 0,
              fallback: 'primary',
            },
          ],
        },
        'test',
      ),
    openStore: opener.open,
    relay: { autoStart: false, initialBackoffMs: 20, maxBackoffMs: 100, idleMs: 20 },
  });
  const hub = new Hub(store);
  const invocations = async (): Promise<{ n: number; role: unknown; reason: unknown }> => {
    const { result, trace } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
    const [route] = trace.entries;
    return { n: result.reduce((a, r) => a + r.invocations, 0), role: route?.role, reason: route?.reason };
  };
  try {
    await hub.record(ACME, 'outputs', outputs(20, 3));
    // The relay is stopped: analytics is behind, the primary answers (computed, then cached).
    const primary = { n: 20, role: 'primary', reason: 'fallback-lag' };
    expect(await invocations()).toEqual(primary);
    const hits = cache.stats.hits;
    expect(await invocations()).toEqual(primary);
    expect(cache.stats.hits).toBe(hits + 1);

    // Shipped: analytics answers, from its own version (the primary's entry is not its).
    const [relay] = store.registry.relays();
    expect(await relay?.drainOnce()).toBe(20);
    const analytics = { n: 20, role: 'analytics', reason: 'analytics' };
    const misses = cache.stats.misses;
    expect(await invocations()).toEqual(analytics);
    expect(cache.stats.misses).toBe(misses + 1);
    expect(await invocations()).toEqual(analytics);

    // Five more on the primary only: the router falls back and the primary's new version recomputes.
    await hub.record(ACME, 'outputs', outputs(5, 4));
    expect(await invocations()).toEqual({ ...primary, n: 25 });
    // Once shipped, analytics' version has moved too: never its 20 again.
    expect(await relay?.drainOnce()).toBe(5);
    expect(await invocations()).toEqual({ ...analytics, n: 25 });
  } finally {
    await store.close();
  }
});

/**
 * Routing over real memory stores: where each call goes, tenant isolation
 * across topologies, freshness and fallback (lag and outage), route traces.
 */
import { Hub } from '../../src/hub/hub';
import { isHubError } from '../../src/hub/errors';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { withRouteTrace } from '../../src/platform/route-trace';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { type Outage, WHOLE_RANGE, eventually, outputs, recordingOpener, scanAll, tenant } from './support';

const ACME = tenant('acme');
const BETA = tenant('beta');
const GAMMA = tenant('gamma');

async function router(
  doc: Record<string, unknown>,
  opts: { outages?: Record<string, Outage>; autoStart?: boolean } = {},
): Promise<{ store: RoutingStore; hub: Hub; opener: ReturnType<typeof recordingOpener> }> {
  const opener = recordingOpener(opts.outages);
  const config = parseRegistryConfig(doc, 'test');
  const store = await RoutingStore.open({
    load: async () => config,
    openStore: opener.open,
    relay: { autoStart: opts.autoStart ?? true, initialBackoffMs: 20, maxBackoffMs: 100, idleMs: 20 },
  });
  return { store, hub: new Hub(store), opener };
}

describe('routing store', () => {
  test('two tenants with different topologies in one process never mix', async () => {
    const { store, hub, opener } = await router({
      stores: { wh: 'memory:warehouse' },
      tenants: [
        {
          id: 'acme',
          mode: 'B',
          primary: 'memory:acme',
          analytics: 'wh',
          freshnessSeconds: 0,
          fallback: 'fail',
        },
        { id: 'beta', mode: 'C', primary: 'memory:beta' },
      ],
    });
    try {
      // The same inputs (same record ids) for both tenants: two independent copies.
      await hub.record(ACME, 'outputs', outputs(40, 1));
      await hub.record(BETA, 'outputs', outputs(40, 1));
      await hub.record(BETA, 'outputs', outputs(5, 2));
      await settleRouter(store);

      expect(await scanAll(opener.real('memory:acme'), ACME)).toHaveLength(40);
      expect(await scanAll(opener.real('memory:acme'), BETA)).toHaveLength(0);
      expect(await scanAll(opener.real('memory:beta'), BETA)).toHaveLength(45);
      expect(await scanAll(opener.real('memory:beta'), ACME)).toHaveLength(0);
      // Only acme feeds the warehouse; beta's records never reach it.
      expect(await scanAll(opener.real('memory:warehouse'), ACME)).toHaveLength(40);
      expect(await scanAll(opener.real('memory:warehouse'), BETA)).toHaveLength(0);

      const { result: acmeRows, trace: t1 } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
      const { result: betaRows, trace: t2 } = await withRouteTrace(() => hub.costPerSkill(BETA, WHOLE_RANGE));
      expect(t1.entries).toEqual([
        expect.objectContaining({
          op: 'costPerSkill',
          tenant: ACME,
          role: 'analytics',
          store: 'wh',
          reason: 'analytics',
        }),
      ]);
      expect(t2.entries).toEqual([
        expect.objectContaining({
          tenant: BETA,
          role: 'primary',
          store: 'memory:beta',
          reason: 'no-analytics',
        }),
      ]);
      const count = (rows: typeof acmeRows): number => rows.reduce((n, r) => n + r.invocations, 0);
      expect(count(acmeRows)).toBe(40);
      expect(count(betaRows)).toBe(45);

      // No catch-all: an unknown tenant is refused, never served from someone else's store.
      const err = await store.costPerSkill(GAMMA, WHOLE_RANGE).catch((e: unknown) => e);
      expect(isHubError(err, 'FORBIDDEN')).toBe(true);
      expect((err as Error).message).toBe('this gateway does not serve tenant "gamma"');
      await expect(store.getByIds(GAMMA, 'outputs', ['x'])).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(store.putBatch(GAMMA, [])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await store.close();
    }
  });

  test('Mode A: every valid tenant id shares one store (opened once), isolated by tenant', async () => {
    const { store, hub, opener } = await router({ shared: { primary: 'memory:pg' } });
    try {
      await hub.record(ACME, 'outputs', outputs(3, 1));
      await hub.record(GAMMA, 'outputs', outputs(2, 2));
      expect(opener.calls.map((c) => c.uri)).toEqual(['memory:pg']);
      expect(opener.calls[0]?.options?.outbox).toBe(false);
      expect((await scanAll(store, ACME)).every((r) => r.tenant_id === ACME)).toBe(true);
      expect(await scanAll(store, GAMMA)).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  test('reads, lists, scans and writes go to the primary; rollups to analytics with a watermark', async () => {
    const { store, hub } = await router({
      shared: { primary: 'memory:p', analytics: 'memory:a', freshnessSeconds: 0, fallback: 'fail' },
    });
    try {
      const before = Date.now();
      const { result, trace } = await withRouteTrace(async () => {
        const written = await hub.record(ACME, 'outputs', outputs(10));
        await hub.get(ACME, 'outputs', [written[0]?.record_id ?? '']);
        await hub.list(ACME, 'outputs', {}, { first: 5 });
        await settleRouter(store);
        return hub.managerDashboard(ACME, { managerId: 'm-1', from: WHOLE_RANGE.from, to: WHOLE_RANGE.to });
      });
      expect(result.manager_id).toBe('m-1');
      expect(trace.entries.map((e) => [e.op, e.role, e.store, e.reason])).toEqual([
        ['putBatch', 'primary', 'memory:p', 'primary'],
        ['getByIds', 'primary', 'memory:p', 'primary'],
        ['list', 'primary', 'memory:p', 'primary'],
        ['managerDashboard', 'analytics', 'memory:a', 'analytics'],
      ]);
      const rollup = trace.entries[3];
      expect(rollup?.lagMs).toBe(0);
      // Nothing pending: the watermark is the time of the backlog reading, taken during the calls
      // (bounds from the test's own readings of the clock, not a guess of how long they take).
      const watermark = Date.parse(rollup?.watermark ?? '');
      expect(watermark).toBeGreaterThanOrEqual(before);
      expect(watermark).toBeLessThanOrEqual(Date.now());
    } finally {
      await store.close();
    }
  });

  test('fallback on lag: primary answers (and says so) or UNAVAILABLE, per tenant policy', async () => {
    const { store, hub } = await router(
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
          {
            id: 'beta',
            mode: 'A',
            primary: 'memory:p',
            analytics: 'memory:a',
            freshnessSeconds: 0,
            fallback: 'fail',
          },
        ],
      },
      { autoStart: false },
    );
    try {
      await hub.record(ACME, 'outputs', outputs(20, 3));
      await hub.record(BETA, 'outputs', outputs(20, 3));
      // Relays are stopped: analytics is behind, so acme falls back and beta fails.
      const { result, trace } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
      expect(result.reduce((n, r) => n + r.invocations, 0)).toBe(20);
      expect(trace.entries).toEqual([
        expect.objectContaining({
          role: 'primary',
          store: 'memory:p',
          reason: 'fallback-lag',
          lagMs: expect.any(Number),
        }),
      ]);
      const err = await hub.costPerSkill(BETA, WHOLE_RANGE).catch((e: unknown) => e);
      expect(isHubError(err, 'UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toMatch(/analytics store memory:a is .* s behind \(bound 0 s\).*'fail'/);

      // Once the relay ships, both are answered by analytics with the same figures.
      const [relay] = store.registry.relays();
      expect(await relay?.drainOnce()).toBe(40);
      const after = await withRouteTrace(() => hub.costPerSkill(BETA, WHOLE_RANGE));
      expect(after.trace.entries[0]).toMatchObject({ role: 'analytics', reason: 'analytics' });
      expect(after.result).toEqual(result);
    } finally {
      await store.close();
    }
  });

  test('waitForFreshnessMs lets the relay catch up before the policy applies', async () => {
    const { store, hub } = await router(
      {
        shared: {
          primary: 'memory:p',
          analytics: 'memory:a',
          freshnessSeconds: 0,
          fallback: 'fail',
          waitForFreshnessMs: 5000,
        },
      },
      { autoStart: false },
    );
    try {
      await hub.record(ACME, 'outputs', outputs(15));
      const { result, trace } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
      expect(trace.entries[0]).toMatchObject({ role: 'analytics', reason: 'analytics', lagMs: 0 });
      expect(result.reduce((n, r) => n + r.invocations, 0)).toBe(15);
    } finally {
      await store.close();
    }
  });

  test('fallback on outage; after recovery every record reaches analytics exactly once', async () => {
    const outage: Outage = { down: false };
    const { store, hub, opener } = await router(
      {
        tenants: [
          {
            id: 'acme',
            mode: 'A',
            primary: 'memory:p',
            analytics: 'memory:a',
            freshnessSeconds: 60,
            fallback: 'primary',
          },
          {
            id: 'beta',
            mode: 'A',
            primary: 'memory:p',
            analytics: 'memory:a',
            freshnessSeconds: 60,
            fallback: 'fail',
          },
        ],
      },
      { outages: { 'memory:a': outage } },
    );
    try {
      await hub.record(ACME, 'outputs', outputs(10, 1));
      await settleRouter(store);
      outage.down = true;
      // Writes keep being acknowledged by the primary during the outage.
      for (let i = 2; i < 6; i++) await hub.record(ACME, 'outputs', outputs(10, i));
      const { trace } = await withRouteTrace(() => hub.costPerSkill(ACME, WHOLE_RANGE));
      expect(trace.entries[0]).toMatchObject({ role: 'primary', reason: 'fallback-unavailable' });
      await expect(hub.costPerSkill(BETA, WHOLE_RANGE)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      const relay = store.registry.relays()[0];
      // The relay has met the outage (an observed failure, however long it took to come).
      await eventually(async () => (relay?.status().consecutiveFailures ?? 0) > 0);

      outage.down = false;
      await settleRouter(store);
      const primary = await scanAll(opener.real('memory:p'), ACME);
      const analytics = await scanAll(opener.real('memory:a'), ACME);
      expect(primary).toHaveLength(50);
      expect(analytics.map((r) => r.record_id)).toEqual(primary.map((r) => r.record_id));
      expect(relay?.status()).toMatchObject({ shipped: 50, consecutiveFailures: 0 });
    } finally {
      await store.close();
    }
  });

  test('purge removes the tenant from primary and analytics, and nothing of other tenants', async () => {
    const { store, hub, opener } = await router({
      shared: { primary: 'memory:p', analytics: 'memory:a', freshnessSeconds: 0 },
    });
    try {
      await hub.record(ACME, 'outputs', outputs(7, 1));
      await hub.record(BETA, 'outputs', outputs(4, 1));
      await settleRouter(store);
      expect(await store.purgeTenant(ACME)).toBe(7);
      expect(await scanAll(opener.real('memory:a'), ACME)).toHaveLength(0);
      expect(await scanAll(opener.real('memory:a'), BETA)).toHaveLength(4);
      expect(await scanAll(opener.real('memory:p'), BETA)).toHaveLength(4);
    } finally {
      await store.close();
    }
  });
});

/** Router metrics (/metrics) and readiness detail (/readyz). */
import { Registry } from 'prom-client';
import { Hub } from '../../src/hub/hub';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { registerRouterMetrics, routerReadiness } from '../../src/router/router-metrics';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { startGateway } from '../graphql/harness';
import { type Outage, WHOLE_RANGE, outputs, recordingOpener, tenant } from './support';

const ACME = tenant('acme');

async function open(outages: Record<string, Outage>): Promise<RoutingStore> {
  const opener = recordingOpener(outages);
  const config = parseRegistryConfig(
    { stores: { wh: 'memory:wh' }, shared: { primary: 'memory:p', analytics: 'wh', freshnessSeconds: 0 } },
    'test',
  );
  return RoutingStore.open({ load: async () => config, openStore: opener.open, relay: { autoStart: false } });
}

describe('router metrics and readiness', () => {
  test('lag, pending, shipped and rollup routes appear in the Prometheus registry', async () => {
    const store = await open({});
    try {
      const hub = new Hub(store);
      await hub.record(ACME, 'outputs', outputs(6));
      const registry = new Registry();
      registerRouterMetrics(store, registry);
      let text = await registry.metrics();
      expect(text).toMatch(/hub_router_outbox_pending\{primary="memory:p"\} 6/);
      expect(text).toMatch(/hub_router_outbox_lag_seconds\{primary="memory:p"\} \d/);
      await hub.costPerSkill(ACME, WHOLE_RANGE);
      await settleRouter(store);
      await hub.costPerSkill(ACME, WHOLE_RANGE);
      text = await registry.metrics();
      expect(text).toMatch(/hub_router_outbox_pending\{primary="memory:p"\} 0/);
      expect(text).toMatch(/hub_router_relay_shipped_total\{primary="memory:p"\} 6/);
      expect(text).toMatch(
        /hub_router_rollups_total\{store="memory:p",role="primary",reason="fallback-lag"\} 1/,
      );
      expect(text).toMatch(/hub_router_rollups_total\{store="wh",role="analytics",reason="analytics"\} 1/);
    } finally {
      await store.close();
    }
  });

  test('readiness: analytics down degrades (still ready); primary down is not ready', async () => {
    const analytics: Outage = { down: true };
    const primary: Outage = { down: false };
    const store = await open({ 'memory:wh': analytics, 'memory:p': primary });
    try {
      let r = await routerReadiness(store);
      expect(r.ready).toBe(true);
      expect(r.detail.stores).toEqual([
        { store: 'memory:p', role: 'primary', up: true },
        { store: 'wh', role: 'analytics', up: false },
      ]);
      expect(r.detail.relays).toEqual([
        expect.objectContaining({ primary: 'memory:p', pending: 0, lagSeconds: 0, withinTarget: true }),
      ]);
      primary.down = true;
      r = await routerReadiness(store);
      expect(r.ready).toBe(false);
    } finally {
      await store.close();
    }
  });

  test('other stores (a gateway given no health source): no router metrics, readiness is their ping', async () => {
    // The router's functions only take a RoutingStore (the type says so); a gateway
    // over one store is given no health source by the composition root.
    const gw = await startGateway({ store: createMemoryStore() });
    try {
      expect(await gw.metrics()).not.toMatch(/hub_router_/);
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
    } finally {
      await gw.close();
    }
  });
});

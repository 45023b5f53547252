/**
 * A tenant with SharePoint as primary and Snowflake as analytics, both on
 * their emulators and through their real client libraries (@pnp/sp,
 * snowflake-sdk). SharePoint keeps no outbox of its own, so the routing store
 * feeds Snowflake from its in-process LocalOutbox. Writes, lookups and lists
 * are served by SharePoint; once the relay has shipped the records, rollups
 * are served by Snowflake (the route trace says so) and equal SharePoint's own.
 */
import { Hub } from '../../src/hub/hub';
import type { HubStore } from '../../src/hub/store';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { withRouteTrace } from '../../src/platform/route-trace';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { openStore } from '../../src/stores/index';
import { generateDataset } from '../../src/seed/generator';
import { sealBatch } from '../../src/hub/validate';
import { LIST_TITLES } from '../../src/stores/sharepoint/sharepoint-schema';
import {
  type SharePointEmulator,
  emulatorStoreUri as sharePointUri,
  startSharePointEmulator,
} from '../support/sharepoint-emulator';
import {
  type SnowflakeEmulator,
  emulatorStoreUri as snowflakeUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';
import { outputs, scanAll, tenant } from './support';

const ACME = tenant('acme');
const BETA = tenant('beta');

describe('tenant with SharePoint primary and Snowflake analytics', () => {
  let sp: SharePointEmulator;
  let sf: SnowflakeEmulator;
  let router: RoutingStore;
  let primary: HubStore;
  let warehouse: HubStore;

  beforeAll(async () => {
    sp = await startSharePointEmulator();
    sf = await startSnowflakeEmulator();
    const config = parseRegistryConfig(
      {
        // Few retries: the throttling test below reaches THROTTLED quickly.
        stores: {
          sharepoint: sharePointUri(sp, { retries: 2, retryCapMs: 50 }),
          warehouse: snowflakeUri(sf),
        },
        tenants: [
          {
            id: 'beta',
            mode: 'C',
            primary: 'sharepoint',
            analytics: 'warehouse',
            freshnessSeconds: 0,
            fallback: 'fail',
          },
          {
            id: 'acme',
            mode: 'C',
            primary: 'sharepoint',
            analytics: 'warehouse',
            freshnessSeconds: 0,
            fallback: 'fail',
          },
        ],
      },
      'test',
    );
    router = await RoutingStore.open({ load: async () => config, relay: { idleMs: 20 } });
    // Direct handles on the same backends, to compare with what the router serves.
    primary = await openStore(sharePointUri(sp));
    warehouse = await openStore(snowflakeUri(sf));
  }, 60_000);

  afterAll(async () => {
    await router?.close();
    await primary?.close();
    await warehouse?.close();
    await sp?.close();
    await sf?.close();
  }, 60_000);

  test('lookups and lists from SharePoint, rollups from Snowflake after the relay, equal to the primary', async () => {
    const hub = new Hub(router);
    const data = generateDataset({ seed: 11, days: 21, outputsPerDay: 20, managers: 2, teamSize: 4 });
    let written = 0;
    for (const type of ['employee_profiles', 'outputs', 'decisions', 'governance_events'] as const) {
      const { result, trace } = await withRouteTrace(() => hub.record(ACME, type, data[type]));
      expect(result.every((r) => r.status === 'created')).toBe(true);
      expect(trace.entries.every((e) => e.role === 'primary' && e.store === 'sharepoint')).toBe(true);
      written += result.length;
    }
    // The records are in SharePoint's lists (the emulator's memory), not only somewhere behind the router.
    const site = sp.sites.get('/sites/claresia-acme');
    const items = [...(site?.lists.values() ?? [])].reduce((n, l) => n + l.items.size, 0);
    expect(items).toBe(written);

    const first = await withRouteTrace(() =>
      hub.list(ACME, 'outputs', { skillIds: ['skill.01'] }, { first: 5 }),
    );
    expect(first.result.records.length).toBeGreaterThan(0);
    expect(first.trace.entries).toEqual([
      expect.objectContaining({ op: 'list', role: 'primary', store: 'sharepoint' }),
    ]);
    const ids = first.result.records.map((r) => r.record_id);
    const got = await withRouteTrace(() => hub.get(ACME, 'outputs', ids));
    expect(got.result.map((r) => r?.record_id)).toEqual(ids);
    expect(got.trace.entries[0]).toMatchObject({ op: 'getByIds', role: 'primary', store: 'sharepoint' });

    await settleRouter(router, 60_000);
    // Every record reached Snowflake exactly once, in the same order.
    for (const type of ['outputs', 'decisions', 'employee_profiles'] as const)
      expect((await scanAll(warehouse, ACME, type)).map((r) => r.record_id)).toEqual(
        (await scanAll(primary, ACME, type)).map((r) => r.record_id),
      );

    const range = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };
    const managerId = data.employee_profiles
      .map((p) => p.manager_id)
      .find((m) => typeof m === 'string') as string;
    const rollups: readonly (readonly [string, (h: Hub) => Promise<unknown>])[] = [
      ['costPerSkill', (h: Hub) => h.costPerSkill(ACME, { ...range, bucket: 'WEEK' })],
      ['archetypeProgression', (h: Hub) => h.archetypeProgression(ACME, range)],
      ['managerDashboard', (h: Hub) => h.managerDashboard(ACME, { managerId, ...range })],
    ];
    for (const [op, run] of rollups) {
      const routed = await withRouteTrace(() => run(hub));
      expect(routed.trace.entries).toEqual([
        expect.objectContaining({ op, role: 'analytics', store: 'warehouse', reason: 'analytics' }),
      ]);
      expect(routed.result).toEqual(await run(new Hub(primary)));
    }
    const weekly = await hub.costPerSkill(ACME, { ...range, bucket: 'WEEK' });
    expect(weekly.reduce((n, r) => n + r.invocations, 0)).toBe(data.outputs.length);
  }, 120_000);

  test('a write that SharePoint throttled for good, then retried, still reaches Snowflake exactly once', async () => {
    const hub = new Hub(router);
    const outs = sealBatch(BETA, 'outputs', outputs(8, 3));
    const events = sealBatch(BETA, 'telemetry_events', [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    sp.throttle({
      scope: 'part',
      times: Infinity,
      match: (r) => r.method === 'POST' && r.path.includes(`getByTitle('${LIST_TITLES.outputs}')/items`),
    });
    // The telemetry items land; the outputs do not; the call fails and acknowledges nothing.
    await expect(hub.writeSealed(BETA, [...outs, ...events])).rejects.toMatchObject({ code: 'THROTTLED' });
    sp.clearThrottles();
    const retry = await hub.writeSealed(BETA, [...outs, ...events]);
    expect(retry.every((r) => r.status === 'created')).toBe(true);
    await settleRouter(router, 60_000);
    expect((await scanAll(warehouse, BETA, 'telemetry_events')).map((r) => r.record_id).sort()).toEqual(
      events.map((r) => r.record_id).sort(),
    );
    expect((await scanAll(warehouse, BETA, 'outputs')).map((r) => r.record_id)).toEqual(
      (await scanAll(primary, BETA, 'outputs')).map((r) => r.record_id),
    );
    expect(await scanAll(warehouse, BETA, 'outputs')).toHaveLength(8);
  }, 60_000);
});

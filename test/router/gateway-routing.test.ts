/**
 * One gateway process serving two tenants with different topologies through
 * the routing store, over HTTP: their data never mixes, each response says in
 * `extensions.routing` which store served each root field, and a tenant the
 * registry does not know gets FORBIDDEN, never someone else's data.
 */
import { parseRegistryConfig } from '../../src/router/registry-config';
import { routerHealth } from '../../src/router/router-metrics';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { mintToken } from '../../src/platform/auth';
import { SECRET, type TestGateway, startGateway } from '../graphql/harness';

const IDS = ['0190a1b2-0000-7000-8000-000000000001', '0190a1b2-0000-7000-8000-000000000002'];
const QUERY = `{
  costPerSkill(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z", bucket: MONTH) { skillId invocations }
  outputs(first: 10) { nodes { id skillId } }
}`;
const write = (skill: string): string => `mutation { recordOutputs(records: [
  ${IDS.map((id, i) => `{ id: "${id}", createdAt: "2026-03-0${i + 2}T10:00:00Z", skillId: "${skill}", employeeId: "e1", status: SUCCEEDED, costUsd: "1.5" }`).join(',')}
]) { created } }`;

describe('gateway over the routing store', () => {
  let store: RoutingStore;
  let gw: TestGateway;
  beforeAll(async () => {
    const config = parseRegistryConfig(
      {
        stores: { 'acme-pg': 'memory:acme', warehouse: 'memory:warehouse', 'beta-db': 'memory:beta' },
        tenants: [
          {
            id: 'acme',
            mode: 'B',
            primary: 'acme-pg',
            analytics: 'warehouse',
            freshnessSeconds: 0,
            fallback: 'fail',
          },
          { id: 'beta', mode: 'C', primary: 'beta-db' },
        ],
      },
      'test',
    );
    store = await RoutingStore.open({ load: async () => config });
    gw = await startGateway({ store, health: routerHealth(store) });
  });
  afterAll(async () => {
    await gw.close();
    await store.close();
  });

  test('two topologies in one server never mix, and responses say which store served what', async () => {
    const acme = await gw.token('acme');
    const beta = await gw.token('beta');
    // The same record ids in both tenants: two independent records.
    expect((await gw.gql(acme, write('skill.acme'))).body.data).toEqual({ recordOutputs: { created: 2 } });
    expect((await gw.gql(beta, write('skill.beta'))).body.data).toEqual({ recordOutputs: { created: 2 } });
    await settleRouter(store);

    const a = await gw.gql(acme, QUERY);
    const b = await gw.gql(beta, QUERY);
    expect(a.body.data).toEqual({
      costPerSkill: [{ skillId: 'skill.acme', invocations: 2 }],
      outputs: {
        nodes: IDS.slice()
          .reverse()
          .map((id) => ({ id, skillId: 'skill.acme' })),
      },
    });
    expect(b.body.data).toEqual({
      costPerSkill: [{ skillId: 'skill.beta', invocations: 2 }],
      outputs: {
        nodes: IDS.slice()
          .reverse()
          .map((id) => ({ id, skillId: 'skill.beta' })),
      },
    });
    const routingA = (a.body as { extensions?: { routing?: Record<string, unknown> } }).extensions?.routing;
    const routingB = (b.body as { extensions?: { routing?: Record<string, unknown> } }).extensions?.routing;
    expect(routingA).toEqual({
      costPerSkill: {
        stores: [{ store: 'warehouse', role: 'analytics', reason: 'analytics' }],
        watermark: expect.any(String),
        lagMs: 0,
      },
      outputs: { stores: [{ store: 'acme-pg', role: 'primary', reason: 'primary' }] },
    });
    expect(routingB).toEqual({
      costPerSkill: {
        stores: [{ store: 'beta-db', role: 'primary', reason: 'no-analytics' }],
        watermark: expect.any(String),
      },
      outputs: { stores: [{ store: 'beta-db', role: 'primary', reason: 'primary' }] },
    });
  });

  test('an unknown tenant gets FORBIDDEN and no data', async () => {
    const res = await gw.gql(await gw.token('gamma'), QUERY);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(res.body)).not.toMatch(/skill\.(acme|beta)/);
  });

  test('/metrics shows the dual-write lag and /readyz the stores and relays', async () => {
    const metrics = await gw.metrics();
    expect(metrics).toMatch(/hub_router_outbox_lag_seconds\{primary="acme-pg"\} \d/);
    expect(metrics).toMatch(
      /hub_router_rollups_total\{store="warehouse",role="analytics",reason="analytics"\} [1-9]/,
    );
    // Without the operator's credential: the status only (the detail names every tenant's stores).
    const plain = await fetch(`${gw.url}/readyz`);
    expect(await plain.json()).toEqual({ status: 'ready' });
    const operator = await mintToken({ secret: SECRET, tenant: 'ops', scopes: ['hub:metrics'] });
    const ready = await fetch(`${gw.url}/readyz`, { headers: { authorization: `Bearer ${operator}` } });
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; detail: { stores: unknown[]; relays: unknown[] } };
    expect(body.status).toBe('ready');
    expect(body.detail.stores).toEqual(
      expect.arrayContaining([
        { store: 'acme-pg', role: 'primary', up: true },
        { store: 'warehouse', role: 'analytics', up: true },
        { store: 'beta-db', role: 'primary', up: true },
      ]),
    );
    expect(body.detail.relays).toEqual([expect.objectContaining({ primary: 'acme-pg', withinTarget: true })]);
  });
});

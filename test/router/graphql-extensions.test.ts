/**
 * The route-extensions Apollo plugin: each root field (by response key) lists
 * the stores it was routed to and the rollup watermark, with stores named by
 * label, and concurrent root fields are attributed separately.
 */
import { ApolloServer } from '@apollo/server';
import { Hub } from '../../src/hub/hub';
import { routeExtensionsPlugin } from '../../src/graphql/route-extensions';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { WHOLE_RANGE, outputs, tenant } from './support';

const typeDefs = `#graphql
  type Query {
    invocations(tenant: String!): Int!
    latest(tenant: String!): String
  }
`;

describe('GraphQL route extensions', () => {
  let store: RoutingStore;
  let hub: Hub;
  beforeAll(async () => {
    const config = parseRegistryConfig(
      {
        stores: { wh: 'memory:warehouse', pg: 'memory://hub:secret@pg-host/hub' },
        tenants: [
          { id: 'acme', mode: 'A', primary: 'pg', analytics: 'wh', freshnessSeconds: 0, fallback: 'primary' },
          { id: 'beta', mode: 'A', primary: 'pg' },
        ],
      },
      'test',
    );
    store = await RoutingStore.open({ load: async () => config });
    hub = new Hub(store);
    await hub.record(tenant('acme'), 'outputs', outputs(12, 1));
    await hub.record(tenant('beta'), 'outputs', outputs(3, 2));
    await settleRouter(store);
  });
  afterAll(() => store.close());

  const server = (): ApolloServer =>
    new ApolloServer({
      typeDefs,
      resolvers: {
        Query: {
          invocations: async (_: unknown, a: { tenant: string }) => {
            // Let other root fields start meanwhile (a turn of the event loop), so attribution is really tested.
            await new Promise((r) => setImmediate(r));
            const rows = await hub.costPerSkill(tenant(a.tenant), WHOLE_RANGE);
            return rows.reduce((n, r) => n + r.invocations, 0);
          },
          latest: async (_: unknown, a: { tenant: string }) =>
            (await hub.list(tenant(a.tenant), 'outputs', {}, { first: 1 })).records[0]?.record_id ?? null,
        },
      },
      plugins: [routeExtensionsPlugin()],
    });

  test('each root field says which store served it, with the rollup watermark', async () => {
    const apollo = server();
    await apollo.start();
    try {
      const res = await apollo.executeOperation({
        query: '{ a: invocations(tenant: "acme") b: invocations(tenant: "beta") l: latest(tenant: "acme") }',
      });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      const { data, errors, extensions } = res.body.singleResult;
      expect(errors).toBeUndefined();
      expect(data).toMatchObject({ a: 12, b: 3 });
      const routing = extensions?.routing as Record<string, Record<string, unknown>>;
      expect(routing.a).toEqual({
        stores: [{ store: 'wh', role: 'analytics', reason: 'analytics' }],
        watermark: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        lagMs: 0,
      });
      expect(routing.b).toEqual({
        stores: [{ store: 'pg', role: 'primary', reason: 'no-analytics' }],
        watermark: expect.any(String),
      });
      expect(routing.l).toEqual({ stores: [{ store: 'pg', role: 'primary', reason: 'primary' }] });
      expect(JSON.stringify(extensions)).not.toContain('secret');
    } finally {
      await apollo.stop();
    }
  });

  test('a fallback is visible in the extensions', async () => {
    const apollo = server();
    await apollo.start();
    const relays = store.registry.relays();
    await Promise.all(relays.map((r) => r.stop()));
    try {
      await hub.record(tenant('acme'), 'outputs', outputs(2, 7));
      const res = await apollo.executeOperation({ query: '{ invocations(tenant: "acme") }' });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      expect(res.body.singleResult.data).toEqual({ invocations: 14 });
      expect(res.body.singleResult.extensions?.routing).toEqual({
        invocations: {
          stores: [{ store: 'pg', role: 'primary', reason: 'fallback-lag' }],
          watermark: expect.any(String),
          lagMs: expect.any(Number),
        },
      });
    } finally {
      relays.forEach((r) => r.start());
      await apollo.stop();
    }
  });
});

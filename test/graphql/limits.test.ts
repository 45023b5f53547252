/**
 * Limits: depth, cost (counting page sizes), page size, query timeout, and
 * that errors never leak internals.
 */
import { HubError } from '../../src/hub/errors';
import { createLogger } from '../../src/platform/log';
import type { HubStore } from '../../src/hub/store';
import { measure } from '../../src/graphql/limits';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { type TestGateway, startGateway } from './harness';

let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway({ limits: { maxDepth: 6, maxCost: 5000 } });
  token = await gw.token('acme', ['hub:read']);
});
afterAll(async () => gw.close());

test('cost counts page sizes, variables included', () => {
  const doc = parse(
    'query($n: Int) { outputs(first: $n) { nodes { id decisions(first: 10) { nodes { id output { id } } } } } }',
  );
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  // outputs 1 + nodes 100 + decisions 100 + nodes 1000 + output 1000
  expect(measure(doc, op, { n: 100 })).toEqual({ depth: 6, cost: 2201 });
  expect(measure(doc, op, {}).cost).toBe(1 + 50 + 50 + 500 + 500);
});

test('too deep: 400 VALIDATION naming the limit', async () => {
  const q = '{ decisions { nodes { output { decisions { nodes { output { id } } } } } } }';
  const res = await gw.gql(token, q);
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect(res.body.errors?.[0]?.message).toMatch(/depth 7 exceeds the limit of 6/);
});

test('too costly: 400 VALIDATION; the same shape with smaller pages passes', async () => {
  const q = (n: number) => `{ outputs(first: ${n}) { nodes { decisions(first: 20) { nodes { id } } } } }`;
  const res = await gw.gql(token, q(300));
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect(res.body.errors?.[0]?.message).toMatch(/cost \d+ exceeds the limit of 5000/);
  expect((await gw.gql(token, q(10))).status).toBe(200);
});

test('introspection is not limited by depth', async () => {
  const res = await gw.gql(
    token,
    '{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }',
  );
  expect(res.status).toBe(200);
});

test('page size above 500 is rejected', async () => {
  const g = await startGateway();
  const t = await g.token('acme', ['hub:read']);
  const res = await g.gql(t, '{ outputs(first: 501) { nodes { id } } }');
  expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect((await g.gql(t, '{ outputs(first: 500) { nodes { id } } }')).body.errors).toBeUndefined();
  await g.close();
});

/** A real memory store whose method `name` misbehaves: a decorator, not a mock. */
function faulty(name: keyof HubStore, behave: () => Promise<unknown>): HubStore {
  const inner = createMemoryStore();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === name) return behave;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

test('a query past its deadline answers TIMEOUT', async () => {
  const store = faulty('list', () => new Promise(() => undefined));
  const g = await startGateway({ store, limits: { timeoutMs: 200 } });
  const t = await g.token('acme', ['hub:read']);
  // The store never answers: only the deadline can end this request (no wall-clock threshold).
  const res = await g.gql(t, '{ outputs { nodes { id } } }');
  expect(res.status).toBe(504);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('TIMEOUT');
  await g.gateway.close(100);
});

test('store failures never leak SQL, stacks or causes', async () => {
  const sqlish = new HubError(
    'UNAVAILABLE',
    'connect ECONNREFUSED 10.0.0.5:5432 (select * from hub.outputs)',
    {
      cause: new Error('pg: password authentication failed for user "hub"'),
    },
  );
  const store = faulty('list', () => Promise.reject(sqlish));
  const g = await startGateway({ store });
  const t = await g.token('acme', ['hub:read']);
  const res = await g.gql(t, '{ outputs { nodes { id } } }');
  expect(res.body.errors?.[0]?.extensions).toEqual({ code: 'UNAVAILABLE' });
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/select|ECONNREFUSED|password|10\.0\.0\.5|stack|at /);
  const crash = faulty('getByIds', () =>
    Promise.reject(new TypeError("Cannot read properties of undefined (reading 'rows')")),
  );
  const lines: string[] = [];
  const g2 = await startGateway({ store: crash, log: createLogger('info', (l) => lines.push(l)) });
  const r2 = await g2.gql(
    await g2.token('acme', ['hub:read']),
    '{ output(id: "00000000-0000-4000-8000-000000000001") { id } }',
  );
  expect(r2.body.errors?.[0]).toMatchObject({ message: 'internal error', extensions: { code: 'INTERNAL' } });
  expect(JSON.stringify(r2.body)).not.toMatch(/rows|TypeError/);
  // ...but the operator's log has the cause, under the request id the client got.
  const logged = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'graphql error');
  expect(logged).toMatchObject({ level: 'error', requestId: r2.headers.get('x-request-id'), path: 'output' });
  expect(String(logged?.error)).toMatch(/reading 'rows'/);
  await g.close();
  await g2.close();
});

test('readyz is 503 when the store does not answer', async () => {
  const store = faulty('ping', () => Promise.reject(new HubError('UNAVAILABLE', 'db down at 10.1.1.1')));
  const g = await startGateway({ store });
  const res = await fetch(`${g.url}/readyz`);
  expect(res.status).toBe(503);
  expect(await res.text()).not.toMatch(/10\.1\.1\.1/);
  await g.close();
});

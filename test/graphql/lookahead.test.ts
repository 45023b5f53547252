/**
 * Look-ahead of nested lists over HTTP, on the real PostgreSQL store (counted
 * by a decorator that only counts calls): a page of outputs with each
 * output's decisions is one store call, and answers exactly what the
 * field-by-field path (forced with @include, which look-ahead leaves alone)
 * answers, cursors included.
 */
import { parseTenantId } from '../../src/hub/tenant';
import type { HubStore } from '../../src/hub/store';
import { openStore } from '../../src/stores';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';
import { type TestGateway, countingStore, startGateway, uuid } from './harness';

let pg: PgTestDatabase;
let store: HubStore;
let gw: TestGateway;
let counted: ReturnType<typeof countingStore>;
let token: string;

beforeAll(async () => {
  pg = await createTestDatabase();
  store = await openStore(pg.appUri);
  counted = countingStore(store);
  gw = await startGateway({ store: counted.store });
  token = await gw.token('acme', ['hub:read']);
  const outputs = Array.from({ length: 30 }, (_, i) => ({
    record_id: uuid(1000 + i),
    created_at: new Date(Date.UTC(2026, 0, 1, 0, i >> 1)).toISOString(),
    skill_id: `s${i % 3}`,
    employee_id: `e${i % 4}`,
    status: 'SUCCEEDED',
  }));
  const decisions = Array.from({ length: 60 }, (_, i) => ({
    record_id: uuid(2000 + i),
    created_at: new Date(Date.UTC(2026, 0, 2, 0, i % 7)).toISOString(),
    output_id: uuid(1000 + (i % 20)),
    skill_id: 's0',
    decided_by: 'boss',
    outcome: 'ACCEPTED',
  }));
  await gw.gateway.hub.record(parseTenantId('acme'), 'outputs', outputs);
  await gw.gateway.hub.record(parseTenantId('acme'), 'decisions', decisions);
  // Another tenant: the same output ids with decisions of its own.
  await gw.gateway.hub.record(parseTenantId('evil'), 'outputs', outputs);
  await gw.gateway.hub.record(
    parseTenantId('evil'),
    'decisions',
    decisions.map((d, i) => ({ ...d, record_id: uuid(5000 + i), decided_by: 'intruder' })),
  );
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await store?.close();
  await pg?.drop();
});

const NESTED = (directive: string, first: string) => `query Q($skill: String!, $n: Int) {
  outputs(filter: { skillIds: [$skill] }, first: ${first}) {
    pageInfo { hasNextPage endCursor }
    nodes { id skillId
      decisions(first: $n) ${directive} {
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id decidedBy outputId } }
      }
    }
  }
}`;

test('a page of outputs with their decisions is one store call, same answer as field by field', async () => {
  for (const [skill, n] of [
    ['s0', 2],
    ['s1', 50],
    ['s2', null],
  ] as const) {
    counted.reset();
    const ahead = await gw.gql(token, NESTED('', '8'), { skill, n });
    expect(ahead.body.errors).toBeUndefined();
    expect(Object.fromEntries(counted.calls)).toEqual({ listWithChildren: 1 });

    counted.reset();
    const plain = await gw.gql(token, NESTED('@include(if: true)', '8'), { skill, n });
    expect(plain.body.errors).toBeUndefined();
    // The field-by-field path: the page, then one batched call per child list.
    expect(counted.calls.get('listWithChildren')).toBeUndefined();
    expect(counted.calls.get('list')).toBeGreaterThan(1);
    expect(ahead.body.data).toEqual(plain.body.data);
  }
  const data = (await gw.gql(token, NESTED('', '8'), { skill: 's0', n: 1 })).body.data as {
    outputs: { nodes: { decisions: { edges: { node: { decidedBy: string } }[] } }[] };
  };
  const children = data.outputs.nodes.flatMap((o) => o.decisions.edges);
  expect(children.length).toBeGreaterThan(0);
  expect(children.every((e) => e.node.decidedBy === 'boss')).toBe(true);
});

test('a child cursor from a looked-ahead page pages that child list', async () => {
  const first = (await gw.gql(token, NESTED('', '30'), { skill: 's0', n: 1 })).body.data as {
    outputs: {
      nodes: { id: string; decisions: { pageInfo: { hasNextPage: boolean; endCursor: string } } }[];
    };
  };
  // An output with more than one decision: its child page has a next page.
  const parent = first.outputs.nodes.find((o) => o.decisions.pageInfo.hasNextPage);
  expect(parent).toBeDefined();
  const next = await gw.gql(
    token,
    `query N($id: ID!, $after: String) { output(id: $id) { decisions(first: 50, after: $after) { edges { node { id } } } } }`,
    { id: parent?.id, after: parent?.decisions.pageInfo.endCursor },
  );
  expect(next.body.errors).toBeUndefined();
  const rest = (next.body.data as { output: { decisions: { edges: unknown[] } } }).output.decisions.edges;
  expect(rest.length).toBeGreaterThan(0);
});

test('fragments and edges { node } are looked ahead too; a second page (after) is not', async () => {
  counted.reset();
  const res = await gw.gql(
    token,
    `fragment D on Output { decisions(first: 3) { nodes { id } } }
     { outputs(first: 5) { edges { node { id ...D } } } }`,
  );
  expect(res.body.errors).toBeUndefined();
  expect(Object.fromEntries(counted.calls)).toEqual({ listWithChildren: 1 });

  counted.reset();
  const withAfter = await gw.gql(
    token,
    `{ outputs(first: 5) { nodes { id decisions(first: 3, after: "x") { nodes { id } } } } }`,
  );
  // Not looked ahead: the bad child cursor fails in the child field, as without look-ahead.
  expect(counted.calls.get('listWithChildren')).toBeUndefined();
  expect(withAfter.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
});

/**
 * Look-ahead never changes an answer: each document is run twice, once as
 * written (nested lists looked ahead) and once with `@include(if: true)` on
 * the child field (which look-ahead leaves to the field's own resolver), and
 * the two whole responses (data and errors, paths included) must be equal.
 * Invalid child arguments in particular fail where and when the field-by-field
 * path fails them: at each parent's child field, and not at all when the
 * parent list is empty.
 */
import { parseTenantId } from '../../src/hub/tenant';
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let full: string;
let empty: string;

beforeAll(async () => {
  gw = await startGateway();
  full = await gw.token('full', ['hub:read']);
  empty = await gw.token('empty', ['hub:read']);
  const outputs = Array.from({ length: 3 }, (_, i) => ({
    record_id: uuid(100 + i),
    created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    skill_id: 's0',
    employee_id: 'e0',
    status: 'SUCCEEDED',
  }));
  const decisions = Array.from({ length: 5 }, (_, i) => ({
    record_id: uuid(200 + i),
    created_at: new Date(Date.UTC(2026, 0, 2, 0, i)).toISOString(),
    output_id: uuid(100 + (i % 2)),
    skill_id: 's0',
    decided_by: 'boss',
    outcome: 'ACCEPTED',
  }));
  await gw.gateway.hub.record(parseTenantId('full'), 'outputs', outputs);
  await gw.gateway.hub.record(parseTenantId('full'), 'decisions', decisions);
}, 60_000);

afterAll(async () => {
  await gw?.close();
});

/** A document with `@D` where the child field's directive goes. */
const DOCUMENTS: readonly (readonly [string, Record<string, unknown>?])[] = [
  ['{ outputs(first: 5) { nodes { id decisions(first: 0) @D { nodes { id } } } } }'],
  ['{ outputs(first: 5) { nodes { id decisions(first: -1) @D { nodes { id } } } } }'],
  ['{ outputs(first: 5) { nodes { id decisions(first: 501) @D { nodes { id } } } } }'],
  ['{ outputs(first: 5) { nodes { id decisions(first: 2) @D { nodes { id } } } } }'],
  ['{ outputs(first: 5) { nodes { id decisions @D { pageInfo { endCursor } nodes { id } } } } }'],
  ['{ outputs(first: 0) { nodes { id decisions(first: 0) @D { nodes { id } } } } }'],
  ['{ outputs(first: 2) { edges { node { id artifacts(first: 0) @D { nodes { id } } } } } }'],
  [
    'query Q($n: Int) { outputs(first: 5) { pageInfo { hasNextPage } nodes { id decisions(first: $n) @D { pageInfo { hasNextPage } nodes { id } } } } }',
    { n: 0 },
  ],
  [
    'query Q($n: Int) { outputs(first: 5) { nodes { id decisions(first: $n) @D { nodes { id } } } } }',
    { n: 1 },
  ],
  [
    'fragment F on Output { decisions(first: 0) @D { nodes { id } } } { outputs(first: 5) { nodes { id ...F } } }',
  ],
];

test.each(['full', 'empty'] as const)(
  'on the %s tenant, every document answers the same with and without look-ahead',
  async (which) => {
    const token = which === 'full' ? full : empty;
    for (const [doc, variables] of DOCUMENTS) {
      const ahead = await gw.gql(token, doc.replace('@D', ''), variables);
      const plain = await gw.gql(token, doc.replace('@D', '@include(if: true)'), variables);
      expect({ doc, status: ahead.status, body: ahead.body }).toEqual({
        doc,
        status: plain.status,
        body: plain.body,
      });
    }
  },
  60_000,
);

test('an invalid child page size on an empty tenant is no error at all (the empty-list answer)', async () => {
  const res = await gw.gql(empty, '{ outputs(first: 5) { nodes { decisions(first: 0) { nodes { id } } } } }');
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data).toEqual({ outputs: { nodes: [] } });
});

test('an invalid child page size fails at the child field, not at the parent list', async () => {
  const res = await gw.gql(
    full,
    '{ outputs(first: 5) { nodes { id decisions(first: 0) { nodes { id } } } } }',
  );
  // The child connection is non-null: the first failing child nulls the (nullable) parent page.
  expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect(res.body.errors?.[0]?.path).toEqual(['outputs', 'nodes', 0, 'decisions']);
});

/**
 * DataLoader batching, counted at the store: the real memory store wrapped in a
 * decorator that only counts calls.
 */
import { parseTenantId } from '../../src/hub/tenant';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, countingStore, startGateway, uuid } from './harness';

let gw: TestGateway;
let counted: ReturnType<typeof countingStore>;
let token: string;
beforeAll(async () => {
  counted = countingStore(createMemoryStore());
  gw = await startGateway({ store: counted.store });
  token = await gw.token('acme', ['hub:read']);
  const tenant = parseTenantId('acme');
  const outputs = Array.from({ length: 50 }, (_, i) => ({
    record_id: uuid(1000 + i),
    created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    skill_id: `s${i % 5}`,
    employee_id: `e${i % 7}`,
    status: 'SUCCEEDED',
  }));
  // Each output has one decision; some outputs are decided twice (so ids repeat across decisions).
  const decisions = Array.from({ length: 50 }, (_, i) => ({
    record_id: uuid(2000 + i),
    created_at: new Date(Date.UTC(2026, 0, 2, 0, i)).toISOString(),
    output_id: uuid(1000 + (i % 40)),
    skill_id: 's0',
    decided_by: 'boss',
    outcome: 'ACCEPTED',
  }));
  await gw.gateway.hub.record(tenant, 'outputs', outputs);
  await gw.gateway.hub.record(tenant, 'decisions', decisions);
});
afterAll(async () => gw.close());

test('a list of 50 decisions with their outputs costs two store calls, not 51', async () => {
  counted.reset();
  const res = await gw.gql(token, '{ decisions(first: 50) { nodes { id output { id skillId status } } } }');
  expect(res.body.errors).toBeUndefined();
  const nodes = (res.body.data?.decisions as { nodes: { output: { id: string } | null }[] }).nodes;
  expect(nodes).toHaveLength(50);
  expect(nodes.every((n) => n.output !== null)).toBe(true);
  expect(Object.fromEntries(counted.calls)).toEqual({ list: 1, getByIds: 1 });
});

test('records already listed in the request are not fetched again', async () => {
  counted.reset();
  const res = await gw.gql(
    token,
    `{ outputs(first: 50) { nodes { id } } decisions(first: 50) { nodes { output { id } } } }`,
  );
  expect(res.body.errors).toBeUndefined();
  // Both lists run; every output the decisions point at was primed by the outputs list.
  expect(Object.fromEntries(counted.calls)).toEqual({ list: 2 });
});

test('loaders live for one request only', async () => {
  const q = `{ output(id: "${uuid(1000)}") { id } }`;
  counted.reset();
  await gw.gql(token, q);
  await gw.gql(token, q);
  expect(counted.calls.get('getByIds')).toBe(2);
});

test('same ids asked twice in one request cost one call', async () => {
  counted.reset();
  const res = await gw.gql(
    token,
    `{ a: output(id: "${uuid(1001)}") { id } b: output(id: "${uuid(1001).toUpperCase()}") { id } c: output(id: "${uuid(1002)}") { id } }`,
  );
  expect(res.body.data).toEqual({ a: { id: uuid(1001) }, b: { id: uuid(1001) }, c: { id: uuid(1002) } });
  expect(Object.fromEntries(counted.calls)).toEqual({ getByIds: 1 });
});

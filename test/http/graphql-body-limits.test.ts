/**
 * A /graphql body whose `query` is certainly over the query text limit is
 * refused while it is read (src/http/json-values.ts): a 400 VALIDATION
 * naming the limit, no store call, and the body never parsed. A long string
 * elsewhere in the body (a variable) is not mistaken for it.
 */
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, countingStore, startGateway } from '../graphql/harness';

const counted = countingStore(createMemoryStore());
let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway({ store: counted.store, tenantLimits: { costPerSecond: 1e9, burst: 1e9 } });
  token = await gw.token('acme', ['hub:read']);
});
afterAll(async () => gw.close());

const storeCalls = (): number =>
  [...counted.calls].filter(([m]) => m !== 'ping').reduce((n, [, c]) => n + c, 0);

test('a 2 MB comment as the query text is refused as the body is read', async () => {
  counted.reset();
  const res = await gw.gql(token, `# ${'a'.repeat(2_000_000)}\n{ outputs { nodes { id } } }`);
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0]).toMatchObject({
    message: 'the query text has more than 262144 characters; the limit is 262144',
    extensions: { code: 'VALIDATION' },
  });
  expect(storeCalls()).toBe(0);
});

test('the same 2 MB in a variable is not the query text', async () => {
  counted.reset();
  const res = await gw.gql(token, 'query($id: ID!) { output(id: $id) { id } }', {
    id: 'a'.repeat(2_000_000),
  });
  expect(res.body.errors?.[0]?.message ?? '').not.toMatch(/query text/);
  expect(res.body.data).toEqual({ output: null });
});

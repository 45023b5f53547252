/**
 * The attacks of issue 11 on query cost, over HTTP against a real gateway:
 * each is refused with a 400 VALIDATION naming the limit and the figure,
 * before any resolver runs (the store sees no call), whatever the timing.
 * Also: `extensions.cost` on every executed response, and operations too
 * large for graphql-jit answered the same by graphql-js.
 */
import { readConfig } from '../../src/config';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, countingStore, startGateway } from './harness';

const counted = countingStore(createMemoryStore());

const UNTHROTTLED = { costPerSecond: 1e9, burst: 1e9 };
let gw: TestGateway;
let token: string;
beforeAll(async () => {
  // This file sends one refused query after another: each is charged the
  // largest cost allowed, so the default budget would throttle the tenant
  // (tested in test/fair); here every refusal must reach the cost analysis.
  gw = await startGateway({ store: counted.store, tenantLimits: UNTHROTTLED });
  token = await gw.token('acme', ['hub:read', 'hub:write']);
});
afterAll(async () => gw.close());
beforeEach(() => counted.reset());

/** Store calls made since the test began (pings by health checks excluded). */
function storeCalls(): number {
  let n = 0;
  for (const [method, count] of counted.calls) if (method !== 'ping') n += count;
  return n;
}

async function refused(query: string, variables?: Record<string, unknown>) {
  const res = await gw.gql(token, query, variables);
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect(storeCalls()).toBe(0);
  return res;
}

test("a page size taken from a variable's default is counted", async () => {
  const res = await refused(
    'query($n: Int = 500) { outputs(first: $n) { nodes { decisions(first: $n) { nodes { id } } } } }',
  );
  expect(res.body.errors?.[0]?.message).toMatch(/^query cost 251001 exceeds the limit of 25000/);
  expect(res.body).toMatchObject({ extensions: { cost: { requested: 251_001, limit: 25_000 } } });
  // The same default, small enough, runs.
  const ok = await gw.gql(
    token,
    'query($n: Int = 5) { outputs(first: $n) { nodes { decisions(first: $n) { nodes { id } } } } }',
  );
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({ extensions: { cost: { requested: 1 + 5 + 5 + 25, limit: 25_000 } } });
});

test('_entities with 200,000 representations', async () => {
  const representations = Array.from({ length: 200_000 }, (_, i) => ({
    __typename: 'Output',
    id: String(i),
  }));
  const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id content } } }';
  // 200,000 (600,000 JSON values): refused as the body is read, before JSON.parse builds it.
  const res = await refused(query, { r: representations });
  expect(res.body.errors?.[0]?.message).toBe(
    'request body has more than 100000 JSON values (objects, arrays, members and elements); the limit is 100000',
  );
  // 2,000 fit in the body: refused by the representations limit, before the cost analysis walks them.
  const two = await refused(query, { r: representations.slice(0, 2000) });
  expect(two.body.errors?.[0]?.message).toBe('query has 2000 representations; the limit is 1000');
  // 1,000 representations run; each costs 1 plus its selection on its type (content: 16).
  const ok = await gw.gql(
    token,
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id content } } }',
    { r: representations.slice(0, 1000) },
  );
  expect(ok.status).toBe(200);
  expect(ok.body.extensions).toMatchObject({ cost: { requested: 1 + 1000 * 17 } });
});

test('a query text longer than maxQueryChars is refused before it is lexed (comments and strings are not tokens)', async () => {
  const filler = 'a'.repeat(300_000);
  for (const query of [`# ${filler}\n{ outputs { nodes { id } } }`, `{ output(id: "${filler}") { id } }`]) {
    const res = await refused(query);
    expect(res.body.errors?.[0]?.message).toBe(
      `query text has ${query.length} characters; the limit is 262144`,
    );
  }
});

test('8,000 aliased node(id): refused by tokens, and by aliases when tokens allow', async () => {
  const query = `{ ${Array.from({ length: 8000 }, (_, i) => `a${i}: node(id: "${i}") { id }`).join(' ')} }`;
  const res = await refused(query);
  expect(res.body.errors?.[0]?.message).toBe('query has more than 2000 tokens; the limit is 2000');
  const wide = await startGateway({ limits: { maxTokens: 1_000_000 }, tenantLimits: UNTHROTTLED });
  try {
    const r2 = await wide.gql(await wide.token('acme', ['hub:read']), query);
    expect(r2.status).toBe(400);
    expect(r2.body.errors?.[0]?.message).toBe('query has 8000 aliases or repeated fields; the limit is 100');
  } finally {
    await wide.close();
  }
});

test('80 aliases of artifacts { nodes { bodyBase64(maxBytes: 10 MiB) } }: refused by the bytes they may return', async () => {
  const field = (i: number) => `a${i}: artifacts { nodes { bodyBase64(maxBytes: 10485760) } }`;
  const aliases = Array.from({ length: 80 }, (_, i) => field(i)).join(' ');
  // At the root, the root field limit refuses them first.
  const root = await refused(`{ ${aliases} }`);
  expect(root.body.errors?.[0]?.message).toBe('query has 80 root fields; the limit is 20');
  // Below one output, their cost: 1 + 80 x (1 + 50 artifacts x (1 + 13,654 KiB of base64 each)).
  const res = await refused(`{ output(id: "x") { ${aliases} } }`);
  expect(res.body.errors?.[0]?.message).toMatch(/^query cost 54620081 exceeds the limit of 25000/);
  // One artifact's 10 MiB body is allowed; a page of them is not.
  expect((await gw.gql(token, '{ artifact(id: "x") { bodyBase64(maxBytes: 10485760) } }')).status).toBe(200);
  counted.reset();
  await refused(`{ ${field(0)} }`);
});

test('reports cost a rollup per profile, not a plain field', async () => {
  const res = await refused('{ employeeProfiles(first: 500) { nodes { reports { id } } } }');
  // 1 + 500 + 500 x (reports 1 + 50 reports + rollup 100)
  expect(res.body.errors?.[0]?.message).toMatch(/^query cost 76001 exceeds the limit/);
  const one = await gw.gql(token, '{ employee(employeeId: "e1") { reports { id } } }');
  expect(one.status).toBe(200);
  expect(one.body.extensions).toMatchObject({ cost: { requested: 1 + 151 } });
});

test('the fragment doubling bomb (30 levels) is refused with its figure', async () => {
  let query = 'query Bomb { ...F30 }\nfragment F0 on Query { outputs(first: 1) { nodes { id } } }\n';
  for (let i = 1; i <= 30; i++) query += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
  const res = await refused(query);
  expect(res.body.errors?.[0]?.message).toBe(`query has ${2 ** 30} root fields; the limit is 20`);
  // Below the root it is refused by its cost.
  let nested = 'query Bomb { outputs(first: 1) { nodes { ...F30 } } }\nfragment F0 on Output { id }\n';
  for (let i = 1; i <= 30; i++) nested += `fragment F${i} on Output { ...F${i - 1} ...F${i - 1} }\n`;
  // id is a leaf: only repeats make it costly; the repeats of F's spreads are not fields, so it passes the shape ...
  const passes = await gw.gql(token, nested);
  expect(passes.status).toBe(200);
  counted.reset();
  nested = nested.replace(
    'fragment F0 on Output { id }',
    'fragment F0 on Output { decisions(first: 1) { nodes { id } } }',
  );
  const r2 = await refused(nested);
  expect(r2.body.errors?.[0]?.message).toMatch(new RegExp(`^query cost ${2 + 2 ** 31} exceeds`));
});

test('every executed response carries extensions.cost; refusals before costing do not', async () => {
  const ok = await gw.gql(token, '{ outputs(first: 10) { nodes { id } } }');
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({
    data: { outputs: { nodes: [] } },
    extensions: { cost: { requested: 11, limit: 25_000 } },
  });
  const mutation = await gw.gql(
    token,
    'mutation($r: [TelemetryEventInput!]!) { recordTelemetryEvents(records: $r) { created results { status } } }',
    { r: [{ name: 'x' }, { name: 'y' }] },
  );
  expect(mutation.body).toMatchObject({
    data: { recordTelemetryEvents: { created: 2 } },
    extensions: { cost: { requested: 1 + 2 + 2 } },
  });
  const syntax = await gw.gql(token, '{ outputs(');
  expect(syntax.status).toBe(400);
  expect(syntax.body.extensions?.cost).toBeUndefined();
});

test('operations above jitMaxFields run on graphql-js with the same answers', async () => {
  const interpreted = await startGateway({
    store: counted.store,
    limits: { jitMaxFields: 0 },
    tenantLimits: UNTHROTTLED,
  });
  // Both gateways share the store; only this one closes it (after the suite).
  const closeInterpreted = () => interpreted.gateway.close(1000);
  try {
    const t = await interpreted.token('acme', ['hub:read', 'hub:write']);
    await gw.gql(token, 'mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created } }', {
      r: [1, 2, 3].map((i) => ({
        id: `00000000-0000-4000-8000-00000000000${i}`,
        skillId: 's',
        employeeId: 'e',
        status: 'SUCCEEDED',
        content: { i },
      })),
    });
    const query = `query($id: ID!) { outputs(first: 2) { nodes { id content provenance { verified } } pageInfo { hasNextPage } }
      node(id: $id) { __typename ... on Output { skillId } } missing: output(id: "nope") { id } }`;
    const variables = { id: '00000000-0000-4000-8000-000000000002' };
    const [a, b] = await Promise.all([gw.gql(token, query, variables), interpreted.gql(t, query, variables)]);
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    // Errors too: a bad variable, and a resolver's VALIDATION error with its path.
    const bad = await interpreted.gql(t, 'query($n: Int) { outputs(first: $n) { nodes { id } } }', {
      n: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    const big = await interpreted.gql(t, '{ outputs(first: 501) { nodes { id } } }');
    expect(big.body.errors?.[0]).toMatchObject({ path: ['outputs'], extensions: { code: 'VALIDATION' } });
  } finally {
    await closeInterpreted();
  }
});

test('the environment sets the limits; a bad value is refused naming the variable', async () => {
  const { queryLimits } = readConfig({
    HUB_MAX_COST: '100',
    HUB_MAX_ALIASES: '2',
    HUB_JIT_MAX_FIELDS: '0',
    HUB_MAX_QUERY_CHARS: '4096',
    HUB_MAX_BODY_VALUES: '500',
  });
  expect(queryLimits).toEqual({
    maxCost: 100,
    maxAliases: 2,
    jitMaxFields: 0,
    maxQueryChars: 4096,
    maxBodyValues: 500,
  });
  expect(readConfig({}).queryLimits).toEqual({});
  expect(() => readConfig({ HUB_MAX_TOKENS: '10k' })).toThrow(
    'HUB_MAX_TOKENS must be a whole number >= 1, got 10k',
  );
  expect(() => readConfig({ HUB_MAX_COST: '0' })).toThrow(/HUB_MAX_COST/);
  const g = await startGateway({ limits: queryLimits, tenantLimits: UNTHROTTLED });
  try {
    const t = await g.token('acme', ['hub:read']);
    const res = await g.gql(t, '{ outputs(first: 100) { nodes { id } } }');
    expect(res.body.errors?.[0]?.message).toMatch(/^query cost 101 exceeds the limit of 100/);
    expect(res.body.extensions).toEqual({ cost: { requested: 101, limit: 100 } });
    const aliases = await g.gql(t, '{ a: __typename b: __typename c: __typename }');
    expect(aliases.body.errors?.[0]?.message).toBe('query has 3 aliases or repeated fields; the limit is 2');
  } finally {
    await g.close();
  }
});

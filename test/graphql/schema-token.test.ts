/**
 * A schema-only credential (issue 12, defect 7): a token with the
 * `hub:schema` scope and no tenant reads the subgraph SDL, as rover and
 * Apollo Router composition ask it, and nothing of any tenant: every other
 * field, a mutation, `_entities`, introspection and `/ingest` are refused.
 * `hub token` mints it and refuses to mix it with a tenant or other scopes.
 */
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { main } from '../../src/cli';
import { createAuthenticator, isSchemaReader, mintToken } from '../../src/platform/auth';
import { SECRET, type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let schemaToken: string;
let tenantToken: string;

beforeAll(async () => {
  gw = await startGateway();
  schemaToken = await mintToken({ secret: SECRET, scopes: ['hub:schema'] });
  tenantToken = await gw.token('acme');
  const res = await gw.gql(
    tenantToken,
    `mutation { recordOutputs(records: [{ id: "${uuid(1)}", skillId: "summarise", employeeId: "e1", status: SUCCEEDED, costUsd: "1.25" }]) { created } }`,
  );
  expect(res.body.data).toEqual({ recordOutputs: { created: 1 } });
});
afterAll(async () => gw.close());

/** POST with `accept` (rover and Apollo send application/json). */
async function post(token: string, body: unknown, accept = 'application/json') {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

test('reads the SDL as rover sends it, the same SDL a tenant reads, and it composes', async () => {
  const rover = await post(schemaToken, {
    query:
      'query SubgraphIntrospectQuery {\n    # eslint-disable-next-line\n    _service {\n        sdl\n    }\n}',
    operationName: 'SubgraphIntrospectQuery',
    variables: null,
  });
  expect(rover.status).toBe(200);
  expect(rover.type).toMatch(/^application\/json/);
  const sdl = (rover.body.data?._service as { sdl: string }).sdl;
  expect(sdl).toContain('@key(fields: "id")');
  const tenant = await gw.gql(tenantToken, '{ _service { sdl } }');
  expect((tenant.body.data?._service as { sdl: string }).sdl).toBe(sdl);
  expect(
    composeServices([{ name: 'hub', url: `${gw.url}/graphql`, typeDefs: parse(sdl) }]).errors ?? [],
  ).toEqual([]);
  // GET, a fragment and __typename, and the newer media type.
  const get = await fetch(
    `${gw.url}/graphql?query=${encodeURIComponent('{ __typename ...S } fragment S on Query { _service { sdl } }')}`,
    { headers: { authorization: `Bearer ${schemaToken}`, accept: 'application/graphql-response+json' } },
  );
  expect(get.status).toBe(200);
  expect(get.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
  expect(((await get.json()) as { data: { __typename: string } }).data.__typename).toBe('Query');
});

test('reads nothing of any tenant: data fields, _entities, mutations and introspection are refused', async () => {
  for (const query of [
    `{ output(id: "${uuid(1)}") { id } }`,
    '{ outputs(first: 5) { nodes { id } } }',
    `{ _entities(representations: [{ __typename: "Output", id: "${uuid(1)}" }]) { ... on Output { id } } }`,
    '{ _service { sdl } outputs(first: 1) { nodes { id } } }',
    '{ ...F } fragment F on Query { outputs(first: 1) { nodes { id } } }',
    '{ __schema { types { name } } }',
    `mutation { recordOutputs(records: [{ id: "${uuid(2)}", skillId: "s", employeeId: "e1", status: SUCCEEDED, costUsd: "1" }]) { created } }`,
  ]) {
    const r = await post(schemaToken, { query });
    expect({
      query,
      status: r.status,
      code: r.body.errors?.[0]?.extensions?.code,
      data: r.body.data,
    }).toEqual({
      query,
      status: 403,
      code: 'FORBIDDEN',
      data: undefined,
    });
    expect(r.body.errors?.[0]?.message).toMatch(/hub:schema token reads only/);
  }
  // Nothing was written by the refused mutation.
  const still = await gw.gql(tenantToken, '{ outputs(first: 10) { nodes { id } } }');
  expect((still.body.data?.outputs as { nodes: unknown[] }).nodes).toHaveLength(1);
  const ingest = await fetch(`${gw.url}/ingest/outputs`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${schemaToken}` },
    body: '{}\n',
  });
  expect(ingest.status).toBe(401);
  // A bad operation is the caller's mistake, named; so is one too large to validate cheaply.
  // (200 under application/json, 400 under application/graphql-response+json, as for any request).
  const bad = await post(schemaToken, { query: '{ _service { sdl ' });
  expect(bad.status).toBe(200);
  expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  const strict = await post(schemaToken, { query: '{ _service { sdl ' }, 'application/graphql-response+json');
  expect(strict.status).toBe(400);
  const repeated = await post(
    schemaToken,
    { query: `{ _service { ${'sdl '.repeat(200)}} }` },
    'application/graphql-response+json',
  );
  expect(repeated.status).toBe(400);
  expect(repeated.body.errors?.[0]?.message).toMatch(/at most 50 fields/);
  // A fragment cycle ends (validation then names it).
  const cycle = await post(schemaToken, {
    query: '{ _service { ...A } } fragment A on _Service { sdl ...B } fragment B on _Service { ...A }',
  });
  expect(cycle.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
});

test('only a token without a tenant claim is schema-only; a tenant token with hub:schema reads no data', async () => {
  const auth = createAuthenticator({ jwtSecret: SECRET });
  expect(isSchemaReader(await auth.authenticateCaller(`Bearer ${schemaToken}`))).toBe(true);
  await expect(auth.authenticate(`Bearer ${schemaToken}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  // A tenant token never becomes schema-only, and hub:schema grants it nothing of the tenant's.
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  const mixed = await new SignJWT({ tenant_id: 'acme', scope: 'hub:schema' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(new TextEncoder().encode(SECRET));
  const r = await gw.gql(mixed, '{ outputs(first: 1) { nodes { id } } }');
  expect(r.status).toBe(403);
  // A token with neither tenant nor hub:schema is refused as before.
  const none = await new SignJWT({ scope: 'hub:read' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(new TextEncoder().encode(SECRET));
  expect((await gw.gql(none, '{ _service { sdl } }')).status).toBe(401);
});

test('hub token mints a schema-only token, and refuses it with a tenant or other scopes', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const previous = process.env.HUB_AUTH_JWT_SECRET;
  process.env.HUB_AUTH_JWT_SECRET = SECRET;
  try {
    expect(await main(['token', '--scopes', 'hub:schema'], io)).toBe(0);
    const minted = out[out.length - 1] as string;
    const r = await post(minted, { query: '{ _service { sdl } }' });
    expect(r.status).toBe(200);
    expect(await main(['token', '--scopes', 'hub:schema', '--tenant', 'acme'], io)).toBe(2);
    expect(await main(['token', '--scopes', 'hub:schema,hub:read'], io)).toBe(2);
    expect(await main(['token', '--scopes', 'hub:read'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/hub:schema is a token of its own/);
  } finally {
    if (previous === undefined) delete process.env.HUB_AUTH_JWT_SECRET;
    else process.env.HUB_AUTH_JWT_SECRET = previous;
  }
});

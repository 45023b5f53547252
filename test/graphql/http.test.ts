/**
 * The HTTP surface: GraphQL over HTTP (GET, POST, content negotiation, status
 * codes), health, readiness, metrics, request ids and JSON logs, body limits,
 * automatic persisted queries, and graceful shutdown.
 */
import { createHash } from 'node:crypto';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import type { HubStore } from '../../src/hub/store';
import { type TestGateway, captureLog, startGateway } from './harness';

let gw: TestGateway;
let token: string;
const log = captureLog();
beforeAll(async () => {
  gw = await startGateway({ log: log.logger, maxBodyBytes: 64 * 1024 });
  token = await gw.token('acme');
});
afterAll(async () => gw.close());

const auth = () => ({ authorization: `Bearer ${token}` });

test('GET runs a query and answers application/graphql-response+json when accepted', async () => {
  const q = encodeURIComponent('{ outputs(first: 1) { nodes { id } } }');
  const res = await fetch(`${gw.url}/graphql?query=${q}`, {
    headers: { ...auth(), accept: 'application/graphql-response+json' },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
  expect(await res.json()).toEqual({
    data: { outputs: { nodes: [] } },
    extensions: { cost: { requested: 2, limit: 25_000 } },
  });
  const legacy = await fetch(`${gw.url}/graphql?query=${q}`, {
    headers: { ...auth(), accept: 'application/json' },
  });
  expect(legacy.headers.get('content-type')).toMatch(/^application\/json/);
});

test('GET cannot run a mutation (405)', async () => {
  const q = encodeURIComponent('mutation { recordOutputs(records: []) { created } }');
  const res = await fetch(`${gw.url}/graphql?query=${q}`, { headers: auth() });
  expect(res.status).toBe(405);
});

test('parse and validation errors are 400 with code VALIDATION', async () => {
  const parse = await gw.gql(token, '{ outputs(');
  expect(parse.status).toBe(400);
  expect(parse.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  const unknown = await gw.gql(token, '{ nope }');
  expect(unknown.status).toBe(400);
  expect(unknown.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  const badVar = await gw.gql(token, 'query($n: Int!) { outputs(first: $n) { nodes { id } } }', { n: 'x' });
  expect(badVar.status).toBe(400);
  expect(badVar.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
});

test('malformed JSON, wrong content type, oversized body and unknown routes', async () => {
  const bad = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: '{"query": ',
  });
  expect(bad.status).toBe(400);
  expect(
    ((await bad.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
  ).toBe('VALIDATION');
  const text = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'text/plain' },
    body: '{ outputs { nodes { id } } }',
  });
  expect(text.status).toBe(415);
  const big = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ outputs { nodes { id } } } # ${'x'.repeat(70_000)}` }),
  });
  expect(big.status).toBe(413);
  const nf = await fetch(`${gw.url}/nowhere`);
  expect(nf.status).toBe(404);
});

test('healthz, readyz and metrics', async () => {
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  const ready = await fetch(`${gw.url}/readyz`);
  expect(ready.status).toBe(200);
  await gw.gql(token, 'query TeamOutputs { outputs(first: 2) { nodes { id } } }');
  await gw.gql(token, '{ nope }');
  const text = await gw.metrics();
  expect(text).toMatch(
    /hub_graphql_request_duration_seconds_count\{operation="TeamOutputs",type="query",outcome="ok"\} \d+/,
  );
  expect(text).toMatch(/hub_graphql_errors_total\{code="VALIDATION"\} \d+/);
  expect(text).toMatch(
    /hub_store_call_duration_seconds_count\{store="primary",method="list",outcome="ok"\} \d+/,
  );
  expect(text).toMatch(
    /hub_store_call_duration_seconds_count\{store="primary",method="ping",outcome="ok"\} \d+/,
  );
  expect(text).toMatch(/hub_dataloader_batch_size_count\{loader="list"\} \d+/);
});

test('request ids: echoed when sane, generated otherwise, and present in JSON logs', async () => {
  const given = await gw.gql(token, '{ outputs { nodes { id } } }', undefined, { 'x-request-id': 'req-123' });
  expect(given.headers.get('x-request-id')).toBe('req-123');
  const made = await gw.gql(token, '{ outputs { nodes { id } } }', undefined, {
    'x-request-id': 'bad id with spaces',
  });
  expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  // The access line is written when the response closes: wait for it, not for time.
  const line = await log.line((l) => l.requestId === 'req-123' && l.msg === 'request');
  expect(line).toMatchObject({
    level: 'info',
    msg: 'request',
    path: '/graphql',
    status: 200,
    tenant: 'acme',
  });
  expect(JSON.stringify(log.lines)).not.toContain(token);
});

test('access lines carry the tenant of an authenticated request, and none when unauthenticated', async () => {
  // Another tenant: the other tests here read acme's (empty) outputs.
  const writer = await gw.token('ingester');
  const ingest = await fetch(`${gw.url}/ingest/outputs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${writer}`,
      'content-type': 'application/x-ndjson',
      'x-request-id': 'req-ingest',
    },
    body: '{"skill_id":"s","employee_id":"e","status":"SUCCEEDED"}\n',
  });
  expect(ingest.status).toBe(200);
  const ingestLine = await log.line((l) => l.requestId === 'req-ingest' && l.msg === 'request');
  expect(ingestLine).toMatchObject({ path: '/ingest/outputs', tenant: 'ingester' });
  await gw.gql(null, '{ outputs { nodes { id } } }', undefined, { 'x-request-id': 'req-anon' });
  const anon = await log.line((l) => l.requestId === 'req-anon' && l.msg === 'request');
  expect(anon).toMatchObject({ status: 401 });
  expect(anon.tenant).toBeUndefined();
});

test('automatic persisted queries: hash first, then hash with query, then hash alone', async () => {
  const query = '{ outputs(first: 3) { nodes { id } } }';
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const ext = { persistedQuery: { version: 1, sha256Hash } };
  const post = (body: unknown) =>
    fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as {
        data?: unknown;
        errors?: { message: string; extensions: { code: string } }[];
      },
    }));
  const miss = await post({ extensions: ext });
  expect(miss.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
  expect(miss.body.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  expect((await post({ query, extensions: ext })).body.data).toEqual({ outputs: { nodes: [] } });
  expect((await post({ extensions: ext })).body.data).toEqual({ outputs: { nodes: [] } });
  const get = await fetch(`${gw.url}/graphql?extensions=${encodeURIComponent(JSON.stringify(ext))}`, {
    headers: auth(),
  });
  expect(await get.json()).toEqual({
    data: { outputs: { nodes: [] } },
    extensions: { cost: expect.any(Object) },
  });
  const wrong = await post({ query: '{ outputs { nodes { id } } }', extensions: ext });
  expect(wrong.status).toBe(400);
  expect(wrong.body.errors?.[0]?.message).toMatch(/does not match/);
  const version = await post({ extensions: { persistedQuery: { version: 2, sha256Hash } } });
  expect(version.status).toBe(400);
});

test('graceful shutdown lets an in-flight request finish, then refuses new connections', async () => {
  // A real memory store whose list waits until released: a decorator, not a mock.
  // The test closes the gateway once the request is inside the store (an event, not a sleep).
  const inner = createMemoryStore();
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const slow: HubStore = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'list' || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        entered();
        await released;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const g = await startGateway({ store: slow });
  const t = await g.token('acme');
  const pending = g.gql(t, '{ outputs { nodes { id } } }');
  await inside;
  const closing = g.gateway.close(60_000);
  release();
  const res = await pending;
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual({ outputs: { nodes: [] } });
  await closing;
  await expect(fetch(`${g.url}/healthz`)).rejects.toThrow();
  await inner.close();
});

/**
 * Projections from the GraphQL selection to the store: a list of artifacts
 * that reads no body asks the store for none (top-level lists, nested
 * children), answers exactly as a full read would, and a field that needs
 * the body (`bodyBase64`, `provenance { verified }`) still gets it, also when
 * the same request listed the record without it. Inline bodies are bounded
 * per request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MAX_INLINE_BODY_BYTES_PER_REQUEST } from '../../src/graphql/resolvers/records';
import { parseTenantId } from '../../src/hub/tenant';
import { type HubStore, type ListQuery, type ReadProjection, skipsBody } from '../../src/hub/store';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, startGateway, uuid } from './harness';

/** A store that forwards every call and notes whether each read asked for bodies. */
function observedStore(): { store: HubStore; reads: string[] } {
  const inner = createMemoryStore();
  const reads: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (prop === 'list') {
          const q = args[1] as ListQuery;
          if (q.type === 'artifacts') reads.push(`list:${skipsBody(q.projection) ? 'no-body' : 'body'}`);
        } else if (prop === 'getByIds' && args[1] === 'artifacts') {
          reads.push(`get:${skipsBody(args[3] as ReadProjection | undefined) ? 'no-body' : 'body'}`);
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, reads };
}

let gw: TestGateway;
let reads: string[];
let token: string;
const bodies = [randomBytes(2000), randomBytes(10), randomBytes(70_000)];

beforeAll(async () => {
  const observed = observedStore();
  reads = observed.reads;
  gw = await startGateway({ store: observed.store });
  token = await gw.token('acme', ['hub:read', 'hub:write']);
  const hub = gw.gateway.hub;
  const acme = parseTenantId('acme');
  await hub.record(acme, 'outputs', [
    { record_id: uuid(1), skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' },
  ]);
  await hub.record(
    acme,
    'artifacts',
    bodies.map((body, i) => ({
      record_id: uuid(10 + i),
      created_at: `2026-03-01T00:00:0${i}.000Z`,
      name: `f${i}`,
      media_type: 'application/octet-stream',
      size_bytes: body.length,
      content_sha256: createHash('sha256').update(body).digest('hex'),
      output_id: uuid(1),
      body,
    })),
  );
});
afterAll(async () => gw.close());

async function run(query: string) {
  reads.length = 0;
  const res = await gw.gql(token, query);
  expect(res.body.errors).toBeUndefined();
  return { data: res.body.data as Record<string, unknown>, reads: [...reads] };
}

const ids = [uuid(12), uuid(11), uuid(10)];

test('a list selecting no body reads none, and answers as before', async () => {
  const light = await run(
    '{ artifacts(first: 10) { nodes { id name sizeBytes contentSha256 provenance { hash } } } }',
  );
  expect(light.reads).toEqual(['list:no-body']);
  const full = await run(
    '{ artifacts(first: 10) { nodes { id name sizeBytes contentSha256 provenance { hash } bodyBase64(maxBytes: 100000) } } }',
  );
  expect(full.reads).toEqual(['list:body']);
  const nodes = (full.data.artifacts as { nodes: Record<string, unknown>[] }).nodes;
  expect(nodes.map((n) => n.id)).toEqual(ids);
  expect(nodes.map((n) => n.bodyBase64)).toEqual([...bodies].reverse().map((b) => b.toString('base64')));
  expect((light.data.artifacts as { nodes: unknown[] }).nodes).toEqual(
    nodes.map(({ bodyBase64: _b, ...rest }) => rest),
  );
});

test('provenance { verified } reads the body; fragments and @include count as selected', async () => {
  const verified = await run('{ artifacts { edges { node { id provenance { verified } } } } }');
  expect(verified.reads).toEqual(['list:body']);
  const edges = (verified.data.artifacts as { edges: { node: { provenance: { verified: boolean } } }[] })
    .edges;
  expect(edges.map((e) => e.node.provenance.verified)).toEqual([true, true, true]);

  const viaFragment = await run(
    '{ artifacts { nodes { ...F } } } fragment F on HubRecord { ... on Artifact { bodyBase64(maxBytes: 100) } }',
  );
  expect(viaFragment.reads).toEqual(['list:body']);
  const skipped = await run('{ artifacts { nodes { id bodyBase64 @include(if: false) } } }');
  expect(skipped.reads).toEqual(['list:body']);
  expect((skipped.data.artifacts as { nodes: unknown[] }).nodes).toEqual(ids.map((id) => ({ id })));
});

test('nested children without bodies; a record listed without its body still answers body fields whole', async () => {
  const nested = await run('{ outputs { nodes { id artifacts(first: 5) { nodes { id name } } } } }');
  expect(nested.reads).toEqual(['list:no-body']);
  expect(nested.data).toEqual({
    outputs: {
      nodes: [{ id: uuid(1), artifacts: { nodes: ids.map((id, i) => ({ id, name: `f${2 - i}` })) } }],
    },
  });

  // Same request: a bodiless list, then the same record by id with body fields.
  const mixed = await run(
    `{ artifacts { nodes { id } } artifact(id: "${uuid(10)}") { bodyBase64 provenance { verified } } }`,
  );
  expect(mixed.reads.sort()).toEqual(['get:body', 'list:no-body']);
  expect(mixed.data.artifact).toEqual({
    bodyBase64: bodies[0]?.toString('base64'),
    provenance: { verified: true },
  });
});

test('artifact(id), node(id) and _entities without body fields read no body; with them, the body', async () => {
  const id = uuid(12);
  const light = await run(`{ artifact(id: "${id}") { id name sizeBytes provenance { hash } } }`);
  expect(light.reads).toEqual(['get:no-body']);
  expect(light.data.artifact).toMatchObject({ id, name: 'f2', sizeBytes: bodies[2]?.length });
  const full = await run(`{ artifact(id: "${id}") { id bodyBase64(maxBytes: 100000) } }`);
  expect(full.reads).toEqual(['get:body']);
  expect(full.data.artifact).toEqual({ id, bodyBase64: bodies[2]?.toString('base64') });
  const verified = await run(`{ artifact(id: "${id}") { provenance { verified } } }`);
  expect(verified.reads).toEqual(['get:body']);
  expect(verified.data.artifact).toEqual({ provenance: { verified: true } });

  const node = await run(`{ node(id: "${id}") { id ... on Artifact { name } } }`);
  expect(node.reads).toEqual(['get:no-body']);
  expect(node.data.node).toEqual({ id, name: 'f2' });
  const nodeFull = await run(`{ node(id: "${id}") { ... on Artifact { bodyBase64(maxBytes: 100000) } } }`);
  expect(nodeFull.reads).toEqual(['get:body']);
  expect(nodeFull.data.node).toEqual({ bodyBase64: bodies[2]?.toString('base64') });

  const entities = (selection: string) =>
    run(
      `{ _entities(representations: [{ __typename: "Artifact", id: "${id}" }, { __typename: "Artifact", id: "${uuid(11)}" }]) { ... on Artifact { ${selection} } } }`,
    );
  const ents = await entities('id name');
  expect(ents.reads).toEqual(['get:no-body']);
  expect(ents.data._entities).toEqual([
    { id, name: 'f2' },
    { id: uuid(11), name: 'f1' },
  ]);
  const entsFull = await entities('id bodyBase64(maxBytes: 100000)');
  expect(entsFull.reads).toEqual(['get:body']);
  expect(entsFull.data._entities).toEqual([
    { id, bodyBase64: bodies[2]?.toString('base64') },
    { id: uuid(11), bodyBase64: bodies[1]?.toString('base64') },
  ]);

  // Both in one request: one read of each kind, each answering its own field.
  const both = await run(
    `{ a: artifact(id: "${id}") { name } b: artifact(id: "${id}") { bodyBase64(maxBytes: 100000) } }`,
  );
  expect(both.reads.sort()).toEqual(['get:body', 'get:no-body']);
  expect(both.data).toEqual({ a: { name: 'f2' }, b: { bodyBase64: bodies[2]?.toString('base64') } });
});

test("by-id reads without body across tenants: another tenant's ids answer null", async () => {
  const other = await gw.token('other-co', ['hub:read']);
  const id = uuid(12);
  const res = await gw.gql(
    other,
    `{ artifact(id: "${id}") { id name } node(id: "${id}") { id } _entities(representations: [{ __typename: "Artifact", id: "${id}" }]) { ... on Artifact { id name } } }`,
  );
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data).toEqual({ artifact: null, node: null, _entities: [null] });
});

test("another tenant's projected list is empty", async () => {
  const other = await gw.token('other-co', ['hub:read']);
  const res = await gw.gql(other, '{ artifacts { nodes { id } } }');
  expect(res.body.data).toEqual({ artifacts: { nodes: [] } });
});

test('inline bodies are bounded per request, refused with the limit named', async () => {
  // Raised static cost limit: this checks the bound on what a request actually returns.
  const g = await startGateway({ store: createMemoryStore(), limits: { maxCost: 10_000_000 } });
  const t = await g.token('acme', ['hub:read']);
  const big = Math.floor(MAX_INLINE_BODY_BYTES_PER_REQUEST / 2) + 1;
  const body = Buffer.alloc(big, 7);
  const sha = createHash('sha256').update(body).digest('hex');
  await g.gateway.hub.record(
    parseTenantId('acme'),
    'artifacts',
    [1, 2].map((n) => ({
      record_id: uuid(100 + n),
      name: `big${n}`,
      media_type: 'application/octet-stream',
      size_bytes: big,
      content_sha256: sha,
      body,
    })),
  );
  const res = await g.gql(t, '{ artifacts { nodes { id bodyBase64(maxBytes: 10485760) } } }');
  const errors = res.body.errors ?? [];
  expect(errors).toHaveLength(1);
  expect(errors[0]?.message).toContain(`the limit is ${MAX_INLINE_BODY_BYTES_PER_REQUEST} per request`);
  expect(errors[0]?.extensions?.code).toBe('VALIDATION');
  await g.close();
});

/**
 * NDJSON bulk ingest over HTTP: counts, rejected lines with their numbers,
 * chunk boundaries, no half-applied line, auth and tenant isolation, and a
 * store failure mid-stream.
 */
import { HubError } from '../../src/hub/errors';
import type { HubStore } from '../../src/hub/store';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway({ ingestChunkLines: 3 });
  token = await gw.token('acme', ['hub:write', 'hub:read']);
});
afterAll(async () => gw.close());

interface Report {
  lines: number;
  created: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; code: string; message: string }[];
  stoppedAtLine?: number;
}

async function ingest(g: TestGateway, t: string | null, type: string, body: string) {
  const res = await fetch(`${g.url}/ingest/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...(t ? { authorization: `Bearer ${t}` } : {}) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Report };
}

const out = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    record_id: uuid(n),
    created_at: '2026-03-01T00:00:00.000Z',
    skill_id: 'bulk',
    employee_id: 'e1',
    status: 'SUCCEEDED',
    cost_usd: '0.01',
    ...extra,
  });

test('writes good lines, rejects bad ones with line numbers and every problem, reports counts', async () => {
  const lines = [
    out(1), // 1
    '{"record_id": ', // 2: not JSON
    out(2), // 3
    '', // 4: blank, skipped
    out(3, { status: 'MAYBE', input_tokens: -1 }), // 5: invalid
    out(4), // 6
    out(1), // 7: same as line 1: duplicate
    out(2, { cost_usd: '9' }), // 8: same id, different content: conflict
    out(5, { skillId: 'camelCase is not a storage name' }), // 9: unknown field
    out(6), // 10
  ];
  const res = await ingest(gw, token, 'outputs', lines.join('\n') + '\n');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ lines: 10, created: 4, duplicates: 1, rejected: 4 });
  expect(res.body.errors.map((e) => [e.line, e.code])).toEqual([
    [2, 'VALIDATION'],
    [5, 'VALIDATION'],
    [8, 'CONFLICT'],
    [9, 'VALIDATION'],
  ]);
  const line5 = res.body.errors.find((e) => e.line === 5)?.message ?? '';
  expect(line5).toMatch(/status/);
  expect(line5).toMatch(/input_tokens/);

  const q = await gw.gql(
    token,
    '{ outputs(first: 20, filter: { skillIds: ["bulk"] }) { nodes { id costUsd } } }',
  );
  const nodes = (q.body.data?.outputs as { nodes: { id: string; costUsd: string }[] }).nodes;
  expect(nodes.map((n) => n.id).sort()).toEqual([uuid(1), uuid(2), uuid(4), uuid(6)]);
  // The conflicting line changed nothing.
  expect(nodes.find((n) => n.id === uuid(2))?.costUsd).toBe('0.01');
});

test('a large stream without a trailing newline; re-sending it is all duplicates', async () => {
  const body = Array.from({ length: 2000 }, (_, i) => out(10_000 + i)).join('\n');
  const g = await startGateway();
  const t = await g.token('acme', ['hub:write']);
  const first = await ingest(g, t, 'outputs', body);
  expect(first.body).toMatchObject({ lines: 2000, created: 2000, duplicates: 0, rejected: 0 });
  const again = await ingest(g, t, 'outputs', body);
  expect(again.body).toMatchObject({ lines: 2000, created: 0, duplicates: 2000, rejected: 0 });
  await g.close();
});

test('auth, scope, type and method errors', async () => {
  expect((await ingest(gw, null, 'outputs', out(1))).status).toBe(401);
  const read = await gw.token('acme', ['hub:read']);
  const denied = await ingest(gw, read, 'outputs', out(1));
  expect(denied.status).toBe(403);
  expect(
    (denied.body as unknown as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
  ).toBe('FORBIDDEN');
  expect((await ingest(gw, token, 'widgets', out(1))).status).toBe(404);
  const get = await fetch(`${gw.url}/ingest/outputs`, { headers: { authorization: `Bearer ${token}` } });
  expect(get.status).toBe(405);
});

test("ingested records belong to the token's tenant only; tenant_id in a line cannot redirect them", async () => {
  const other = await gw.token('other-co', ['hub:write', 'hub:read']);
  const res = await ingest(gw, other, 'outputs', [out(500), out(501, { tenant_id: 'acme' })].join('\n'));
  expect(res.body).toMatchObject({ created: 1, rejected: 1 });
  expect(res.body.errors[0]).toMatchObject({ line: 2, code: 'VALIDATION' });
  const acme = await gw.gql(token, `{ output(id: "${uuid(500)}") { id } }`);
  expect(acme.body.data).toEqual({ output: null });
  const mine = await gw.gql(other, `{ output(id: "${uuid(500)}") { id tenantId } }`);
  expect(mine.body.data).toEqual({ output: { id: uuid(500), tenantId: 'other-co' } });
});

test('a store failure mid-stream answers 503 with what was written and where it stopped', async () => {
  const inner = createMemoryStore();
  let calls = 0;
  const failing: HubStore = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'putBatch' || typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls++;
        if (calls === 2) return Promise.reject(new HubError('UNAVAILABLE', 'db at 10.9.9.9 down'));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const g = await startGateway({ store: failing, ingestChunkLines: 2 });
  const t = await g.token('acme', ['hub:write']);
  const res = await ingest(g, t, 'outputs', [out(1), out(2), out(3), out(4), out(5)].join('\n'));
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ created: 2, stoppedAtLine: 3 });
  expect(JSON.stringify(res.body)).not.toContain('10.9.9.9');
  await g.close();
});

/**
 * `/ingest` holds bounded memory whatever the input: bodies over the limit,
 * over-long lines and over-long records are refused naming the line, field and
 * record; batches are cut by bytes (2 MiB, and the request's bound); a
 * request waits, unread, while the gateway's bytes in flight are spent; and a
 * sender that goes away mid-stream leaves exactly the batches already written
 * (nothing half-written).
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { ByteBudget } from '../../src/http/byte-budget';
import type { HubRecord } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { type TestGateway, startGateway, uuid } from './harness';

const MAX_BODY = 64 * 1024;
/** Text of a line outside its body (see ingest.ts): 4 x 256 KiB. */
const MAX_TEXT = 1024 * 1024;

interface Report {
  lines: number;
  created: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; code: string; message: string }[];
}

/** A store that forwards every call and tells the test what each `putBatch` carried. */
function watchedStore(): { store: HubStore; batches: HubRecord[][]; written: (n: number) => Promise<void> } {
  const inner = createMemoryStore();
  const batches: HubRecord[][] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'putBatch' || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const result: unknown = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        batches.push([...(args[1] as HubRecord[])]);
        const total = batches.reduce((s, b) => s + b.length, 0);
        for (const w of waiters.splice(0))
          if (total >= w.n) w.resolve();
          else waiters.push(w);
        return result;
      };
    },
  });
  const written = (n: number): Promise<void> =>
    batches.reduce((s, b) => s + b.length, 0) >= n
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push({ n, resolve }));
  return { store, batches, written };
}

const artifact = (n: number, body: Buffer, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    record_id: uuid(n),
    created_at: '2026-03-01T00:00:00.000Z',
    name: `a${n}.bin`,
    media_type: 'application/octet-stream',
    size_bytes: body.length,
    content_sha256: createHash('sha256').update(body).digest('hex'),
    body: body.toString('base64'),
    ...extra,
  });

/** Opens a chunked (no content-length) ingest request; the caller writes and ends it. */
function openIngest(g: TestGateway, token: string, type: string) {
  const url = new URL(`${g.url}/ingest/${type}`);
  const req = request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
  });
  const answer = new Promise<{ status: number; body: Report }>((resolve, reject) => {
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()) as Report }),
      );
    });
    req.on('error', reject);
  });
  return { req, answer };
}

/** Resolves once `cond` holds, checking after each turn of the event loop (no clock involved). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

test('a body over the limit is refused naming line, field and record; the other lines are written intact', async () => {
  const g = await startGateway({ hubOptions: { maxArtifactBodyBytes: MAX_BODY } });
  const t = await g.token('acme', ['hub:write', 'hub:read']);
  const ok1 = randomBytes(MAX_BODY);
  const ok2 = randomBytes(10);
  const lines = [artifact(1, ok1), artifact(2, randomBytes(MAX_BODY + 1)), artifact(3, ok2)];
  const res = await fetch(`${g.url}/ingest/artifacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t}` },
    body: lines.join('\n'),
  });
  const report = (await res.json()) as Report;
  expect(res.status).toBe(200);
  expect(report).toMatchObject({ lines: 3, created: 2, rejected: 1 });
  expect(report.errors).toEqual([
    {
      line: 2,
      code: 'VALIDATION',
      message: `body: is more than ${MAX_BODY} bytes; the limit is ${MAX_BODY} (record_id ${uuid(2)})`,
    },
  ]);
  const q = `{ a: artifact(id: "${uuid(1)}") { bodyBase64(maxBytes: ${MAX_BODY}) provenance { verified } }
    b: artifact(id: "${uuid(2)}") { id } c: artifact(id: "${uuid(3)}") { bodyBase64 provenance { verified } } }`;
  const read = await g.gql(t, q);
  expect(read.body.data).toEqual({
    a: { bodyBase64: ok1.toString('base64'), provenance: { verified: true } },
    b: null,
    c: { bodyBase64: ok2.toString('base64'), provenance: { verified: true } },
  });
  // Another tenant sees none of them.
  const other = await g.token('other-co', ['hub:read']);
  const theirs = await g.gql(other, `{ artifact(id: "${uuid(1)}") { id } }`);
  expect(theirs.body.data).toEqual({ artifact: null });
  await g.close();
});

test('over-long lines and records are refused naming the field; a wrong content hash names content_sha256', async () => {
  const g = await startGateway({ ingest: { maxLineBytes: 4096 } });
  const t = await g.token('acme', ['hub:write']);
  const content = JSON.stringify({
    record_id: uuid(20),
    skill_id: 's',
    employee_id: 'e',
    status: 'SUCCEEDED',
    cost_usd: '0',
    content: 'x'.repeat(MAX_TEXT),
  });
  const lines = [
    artifact(21, randomBytes(4000)), // 5.3 KB of base64: over the 4096-byte line
    content,
    artifact(22, randomBytes(100), { content_sha256: '0'.repeat(64) }),
    artifact(23, randomBytes(100)),
  ];
  const res = await fetch(`${g.url}/ingest/artifacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t}` },
    body: lines.join('\n'),
  });
  const report = (await res.json()) as Report;
  expect(report).toMatchObject({ lines: 4, created: 1, rejected: 3 });
  expect(report.errors.map((e) => e.line)).toEqual([1, 2, 3]);
  expect(report.errors[0]?.message).toBe(
    `line is longer than 4096 bytes (HUB_INGEST_MAX_LINE_BYTES) (while reading field "body") (record_id ${uuid(21)})`,
  );
  expect(report.errors[1]?.message).toMatch(/^line is longer than 4096 bytes .*field "content".*record_id/);
  expect(report.errors[2]?.message).toMatch(/content_sha256/);
  await g.close();
});

test('batches are cut by bytes: no write carries more than the request may hold', async () => {
  const { store, batches } = watchedStore();
  const maxRequestBytes = MAX_TEXT + MAX_BODY + 200 * 1024;
  const g = await startGateway({
    store,
    hubOptions: { maxArtifactBodyBytes: MAX_BODY },
    ingest: { maxRequestBytes },
  });
  const t = await g.token('acme', ['hub:write']);
  const { req, answer } = openIngest(g, t, 'artifacts');
  for (let i = 0; i < 24; i++) req.write(artifact(100 + i, randomBytes(60 * 1024)) + '\n');
  req.end();
  const res = await answer;
  expect(res.body).toMatchObject({ lines: 24, created: 24, rejected: 0 });
  // 1.4 MiB of bodies through a request that may hold 1.3 MiB: written in several batches.
  expect(batches.length).toBeGreaterThanOrEqual(2);
  for (const batch of batches) {
    const bytes = batch.reduce((s, r) => s + (r.record_type === 'artifacts' ? r.body.length : 0), 0);
    expect(bytes).toBeLessThanOrEqual(maxRequestBytes);
  }
  await g.close();
});

test('a batch holds at most 2 MiB of lines, plus the line that reached it', async () => {
  // Each batch is copied on the event loop in one step as it is written: its size bounds that step.
  const { store, batches } = watchedStore();
  const g = await startGateway({ store });
  const t = await g.token('acme', ['hub:write']);
  const { req, answer } = openIngest(g, t, 'artifacts');
  for (let i = 0; i < 6; i++) req.write(artifact(200 + i, randomBytes(700 * 1024)) + '\n');
  req.end();
  expect((await answer).body).toMatchObject({ lines: 6, created: 6, rejected: 0 });
  const bodyBytes = (records: HubRecord[]): number =>
    records.reduce((s, r) => s + (r.record_type === 'artifacts' ? r.body.length : 0), 0);
  expect(batches.map((b) => b.length)).toEqual([3, 3]);
  for (const batch of batches) expect(bodyBytes(batch.slice(0, -1))).toBeLessThan(2 * 1024 * 1024);
  await g.close();
});

test("a request waits, unread, while the gateway's bytes in flight are spent, then runs", async () => {
  const maxRequestBytes = MAX_TEXT + MAX_BODY;
  const budget = new ByteBudget(maxRequestBytes);
  const g = await startGateway({
    hubOptions: { maxArtifactBodyBytes: MAX_BODY },
    ingest: { maxRequestBytes, budget },
  });
  const t = await g.token('acme', ['hub:write']);
  const a = openIngest(g, t, 'artifacts');
  a.req.write(artifact(200, randomBytes(1000)) + '\n');
  await until(() => budget.inUse === maxRequestBytes);
  const b = openIngest(g, t, 'artifacts');
  b.req.write(artifact(201, randomBytes(1000)) + '\n');
  b.req.end();
  await until(() => budget.queued === 1);
  a.req.end();
  const [ra, rb] = await Promise.all([a.answer, b.answer]);
  expect(ra.body).toMatchObject({ created: 1 });
  expect(rb.body).toMatchObject({ created: 1 });
  await until(() => budget.inUse === 0);
  await g.close();
});

test('a sender that goes away mid-stream leaves the written batches and nothing of the batch being read', async () => {
  const { store, written } = watchedStore();
  const budget = new ByteBudget(64 * 1024 * 1024);
  const g = await startGateway({ store, ingestChunkLines: 2, ingest: { budget } });
  const t = await g.token('acme', ['hub:write', 'hub:read']);
  const { req, answer } = openIngest(g, t, 'artifacts');
  answer.catch(() => undefined);
  req.write([1, 2, 3].map((n) => artifact(300 + n, randomBytes(100))).join('\n') + '\n');
  await written(2);
  req.write(artifact(304, randomBytes(100)).slice(0, 50));
  req.destroy();
  // The handler has finished once it gave its bytes back.
  await until(() => budget.inUse === 0);
  const q = await g.gql(t, `{ artifacts(first: 10) { nodes { id } } }`);
  const ids = (q.body.data?.artifacts as { nodes: { id: string }[] }).nodes.map((n) => n.id).sort();
  expect(ids).toEqual([uuid(301), uuid(302)]);
  await g.close();
});

/**
 * putBatch details on a server: batches split into several statements (by
 * rows, and by artifact bytes) in one transaction, per-record outcomes across
 * chunks and types, and a record_id repeated inside one batch.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HubRecord } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch, sealRecord } from '../../src/hub/validate';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { byteaArray } from '../../src/stores/postgres/postgres-insert-sql';
import { type PgTestDatabase, connectAdmin, createTestDatabase } from '../support/pg-harness';

const t = parseTenantId('writes');
const output = (i: number): Record<string, unknown> => ({
  record_id: randomUUID(),
  skill_id: `s${i}`,
  employee_id: 'e',
  status: 'SUCCEEDED',
});

describe('postgres putBatch', () => {
  let pg: PgTestDatabase;
  let store: HubStore;

  beforeAll(async () => {
    pg = await createTestDatabase();
    // Tiny chunks so small batches exercise the multi-statement path.
    store = createPostgresStore(new PgDatabase(parsePostgresUri(pg.appUri), undefined), {
      chunkSize: 3,
      chunkBytes: 2_000,
    });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await pg?.drop();
  });

  test('outcomes stay in input order across chunks and types', async () => {
    const outputs = sealBatch(
      t,
      'outputs',
      Array.from({ length: 7 }, (_, i) => output(i)),
    );
    const telemetry = sealBatch(t, 'telemetry_events', [
      { name: 'a' },
      { name: 'b' },
      { name: 'c' },
      { name: 'd' },
    ]);
    const mixed: HubRecord[] = [];
    for (let i = 0; i < 7; i++) {
      mixed.push(outputs[i] as HubRecord);
      if (telemetry[i]) mixed.push(telemetry[i] as HubRecord);
    }
    expect((await store.putBatch(t, mixed)).map((o) => o.status)).toEqual(mixed.map(() => 'created'));
    // Again, with one output changed under the same id: only that one conflicts.
    const changed = sealRecord(t, 'outputs', { ...output(99), record_id: outputs[4]?.record_id });
    const again = mixed.map((r) => (r.record_id === changed.record_id ? changed : r));
    const outcomes = await store.putBatch(t, again);
    outcomes.forEach((o, i) => {
      if (again[i] === changed)
        expect(o).toEqual({ status: 'conflict', existingHash: outputs[4]?.provenance_hash });
      else expect(o).toEqual({ status: 'duplicate' });
    });
    const read = await store.getByIds(
      t,
      'outputs',
      outputs.map((r) => r.record_id),
    );
    expect(read).toEqual(outputs);
  });

  test('a record_id repeated in one batch is written once; the repeat is a duplicate or a conflict', async () => {
    const a = sealRecord(t, 'outputs', output(1));
    const aChanged = sealRecord(t, 'outputs', { ...output(2), record_id: a.record_id });
    const b = sealRecord(t, 'outputs', output(3));
    expect(await store.putBatch(t, [a, b, a, aChanged])).toEqual([
      { status: 'created' },
      { status: 'created' },
      { status: 'duplicate' },
      { status: 'conflict', existingHash: a.provenance_hash },
    ]);
  });

  test('artifact bodies are split across statements by size and round-trip byte for byte', async () => {
    const artifacts = sealBatch(
      t,
      'artifacts',
      Array.from({ length: 6 }, (_, i) => {
        const body = Buffer.alloc(700, i);
        return {
          name: `a${i}`,
          media_type: 'application/octet-stream',
          size_bytes: body.byteLength,
          content_sha256: createHash('sha256').update(body).digest('hex'),
          body,
        };
      }),
    );
    expect((await store.putBatch(t, artifacts)).every((o) => o.status === 'created')).toBe(true);
    const read = await store.getByIds(
      t,
      'artifacts',
      artifacts.map((r) => r.record_id),
    );
    read.forEach((r, i) => {
      expect(r).toEqual(artifacts[i]);
      expect(r && verifyRecord(r)).toMatchObject({ verified: true, bodyVerified: true });
    });
  });

  test('bodies of a megabyte or more: written a statement per turn in one batch, again as duplicates, read back in slices', async () => {
    const body = (i: number): Buffer => Buffer.alloc(1024 * 1024 + 7, i);
    const artifacts = sealBatch(
      t,
      'artifacts',
      [1, 2, 3].map((i) => ({
        name: `big${i}`,
        media_type: 'application/octet-stream',
        size_bytes: body(i).byteLength,
        content_sha256: createHash('sha256').update(body(i)).digest('hex'),
        body: body(i),
      })),
    );
    const small = sealBatch(t, 'outputs', [output(90)]);
    const batch = [...artifacts, ...small];
    expect((await store.putBatch(t, batch)).map((o) => o.status)).toEqual([
      'created',
      'created',
      'created',
      'created',
    ]);
    // The same batch again takes the per-record statement (not all new): every one a duplicate.
    expect((await store.putBatch(t, batch)).map((o) => o.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    const read = await store.getByIds(
      t,
      'artifacts',
      artifacts.map((r) => r.record_id),
    );
    read.forEach((r, i) => expect(r).toEqual(artifacts[i]));
  });

  test('an unknown record type is rejected before any SQL is built', async () => {
    const evil = 'outputs; DROP TABLE hub.outputs; --' as unknown as 'outputs';
    await expect(store.list(t, { type: evil, filter: {}, limit: 1 })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(store.getByIds(t, evil, [randomUUID()])).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(await store.list(t, { type: 'outputs', filter: {}, limit: 1 })).toHaveLength(1);
  });
});

describe('bodies as one binary bytea[] parameter', () => {
  test('every byte value, an empty body and NULL reach the server as sent', async () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const param = byteaArray([every, Buffer.alloc(0), null, Buffer.from('\\x"{},')]);
    // Sent as a Buffer, so in binary: no text form of the bodies is ever built.
    expect(Buffer.isBuffer(param)).toBe(true);
    const admin = await connectAdmin();
    try {
      const { rows } = await admin.query<{ n: number; lens: (number | null)[]; first: Buffer; last: Buffer }>(
        'SELECT cardinality($1::bytea[]) AS n, ARRAY(SELECT length(b) FROM unnest($1::bytea[]) b) AS lens, ($1::bytea[])[1] AS first, ($1::bytea[])[4] AS last',
        [param],
      );
      expect(rows[0]?.n).toBe(4);
      expect(rows[0]?.lens).toEqual([256, 0, null, 6]);
      expect(rows[0]?.first.equals(every)).toBe(true);
      expect(rows[0]?.last.toString()).toBe('\\x"{},');
    } finally {
      await admin.end();
    }
  });
});

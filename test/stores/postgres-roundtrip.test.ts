/**
 * Edge values round-trip exactly through the PostgreSQL store on a server and
 * on PGlite (different transports: the PGlite worker clones rows across
 * threads), so provenance verifies after a read.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { HubRecord } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import type { HubStore, NestedListSource } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { describeOnEachDialect } from '../support/store-dialects';

const t = parseTenantId('edges');

describeOnEachDialect('edge values', (on) => {
  test('extreme timestamps, decimals, integers, JSON and text come back exactly', async () => {
    const body = Buffer.from([0, 255, 0, 92, 34, 10]);
    const records: HubRecord[] = [
      ...sealBatch(t, 'outputs', [
        {
          record_id: randomUUID(),
          created_at: '0001-01-01T00:00:00.000Z',
          skill_id: 'a.b:c@d-e_f',
          employee_id: 'E',
          status: 'BLOCKED',
          input_tokens: Number.MAX_SAFE_INTEGER,
          output_tokens: 0,
          cost_usd: '99999999999999.999999',
          latency_ms: 0,
          content: [null, true, -0.5, 1e300, 5e-324, 2 ** 64, '\u2028 "\\" \t', { '': {} }],
          attributes: { 'key with spaces': 'ü😀', nested: { deep: [[[]]] } },
        },
        {
          record_id: randomUUID(),
          created_at: '9999-12-31T23:59:59.999Z',
          skill_id: 's',
          employee_id: 'e',
          status: 'SUCCEEDED',
          cost_usd: '0.000001',
          content: 'just a string',
        },
      ]),
      ...sealBatch(t, 'telemetry_events', [{ name: 'n', cost_usd: '0', properties: {} }]),
      ...sealBatch(t, 'artifacts', [
        {
          name: 'x',
          media_type: 'application/octet-stream',
          size_bytes: body.byteLength,
          content_sha256: createHash('sha256').update(body).digest('hex'),
          body,
        },
      ]),
    ];
    expect((await on.store.putBatch(t, records)).every((o) => o.status === 'created')).toBe(true);
    for (const r of records) {
      const [read] = await on.store.getByIds(t, r.record_type, [r.record_id.toUpperCase()]);
      expect(read).toEqual(r);
      expect(read && verifyRecord(read).verified).toBe(true);
    }
    // Scan order puts year 1 first and year 9999 last.
    const scanned = await on.store.scan(t, { type: 'outputs', limit: 10 });
    expect(scanned.map((r) => r.created_at)).toEqual([
      '0001-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
    ]);
  });
  test('artifact bodies come back byte for byte from every read (by id, list, with children, scan)', async () => {
    const tenant = parseTenantId('bodies');
    // Sizes around base64's 3-byte groups and the 76-character lines PostgreSQL wraps it in,
    // every byte value, and one body of several MiB.
    const bodies = [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([255, 254]),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      randomBytes(57),
      randomBytes(58),
      randomBytes(3 * 1024 * 1024 + 1),
    ];
    const [parent] = sealBatch(tenant, 'outputs', [
      { record_id: randomUUID(), skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' },
    ]);
    const artifacts = sealBatch(
      tenant,
      'artifacts',
      bodies.map((body, i) => ({
        output_id: parent?.record_id,
        name: `b${i}`,
        media_type: 'application/octet-stream',
        size_bytes: body.byteLength,
        content_sha256: createHash('sha256').update(body).digest('hex'),
        body,
      })),
    );
    await on.store.putBatch(tenant, [parent as HubRecord, ...artifacts]);
    const bodyOf = (r: HubRecord | null | undefined): string =>
      (r as unknown as { body: Buffer }).body.toString('hex');
    const expected = new Map(artifacts.map((a) => [a.record_id, bodyOf(a)]));
    const check = (read: readonly (HubRecord | null | undefined)[]): void => {
      expect(read).toHaveLength(artifacts.length);
      for (const r of read) {
        expect(Buffer.isBuffer((r as unknown as { body: unknown }).body)).toBe(true);
        expect(bodyOf(r)).toBe(expected.get(r?.record_id as string));
        expect(r && verifyRecord(r)).toMatchObject({ verified: true, bodyVerified: true });
      }
    };
    check(
      await on.store.getByIds(
        tenant,
        'artifacts',
        artifacts.map((a) => a.record_id),
      ),
    );
    check(await on.store.list(tenant, { type: 'artifacts', filter: {}, limit: 50 }));
    check(await on.store.scan(tenant, { type: 'artifacts', limit: 50 }));
    // Both dialects read a page with its children in one statement (postgres-nested.ts).
    const page = await (on.store as HubStore & NestedListSource).listWithChildren(
      tenant,
      { type: 'outputs', filter: {}, limit: 10 },
      { type: 'artifacts', key: 'outputId', limit: 50 },
    );
    check(page.children.flat());
  });
});

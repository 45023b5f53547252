/**
 * Edge values round-trip exactly through the PostgreSQL store on a server and
 * on PGlite (different transports: the PGlite worker clones rows across
 * threads), so provenance verifies after a read.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HubRecord } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const t = parseTenantId('edges');

let pg: PgTestDatabase | undefined;
const dialects: { name: string; open: () => Promise<HubStore> }[] = [
  {
    name: 'postgres',
    open: async () => {
      pg = await createTestDatabase();
      return openStore(pg.appUri);
    },
  },
  { name: 'pglite', open: () => openStore('pglite:memory') },
];

afterAll(async () => {
  await pg?.drop();
});

describe.each(dialects)('edge values on $name', ({ open }) => {
  let store: HubStore;

  beforeAll(async () => {
    store = await open();
  }, 60_000);

  afterAll(async () => {
    await store?.close();
  });

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
    expect((await store.putBatch(t, records)).every((o) => o.status === 'created')).toBe(true);
    for (const r of records) {
      const [read] = await store.getByIds(t, r.record_type, [r.record_id.toUpperCase()]);
      expect(read).toEqual(r);
      expect(read && verifyRecord(read).verified).toBe(true);
    }
    // Scan order puts year 1 first and year 9999 last.
    const scanned = await store.scan(t, { type: 'outputs', limit: 10 });
    expect(scanned.map((r) => r.created_at)).toEqual([
      '0001-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
    ]);
  });
});

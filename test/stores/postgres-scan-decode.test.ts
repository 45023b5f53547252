/**
 * Scans decode rows straight from PostgreSQL's text output
 * (postgres-scan.ts): every record must equal, field for field and in the
 * same field order, what the general read path (type parsers, then
 * recordFromRow) makes of the same row, on a server and on PGlite, for every
 * record type and for edge values (nulls, JSON null, unicode, quotes, the
 * largest numerics and integers, odd fractions and years). A decoder that
 * throws fails its statement on both drivers.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type HubRecord, RECORD_TYPES, type RecordType } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { scanPages } from '../../src/migrate/scan-stream';
import { openStore } from '../../src/stores';
import { PgDatabase } from '../../src/stores/postgres/pg-database';
import { PgliteDatabase } from '../../src/stores/postgres/pglite-database';
import { columnsOf } from '../../src/stores/postgres/postgres-columns';
import { recordDecoder } from '../../src/stores/postgres/postgres-scan';
import { recordFromRow } from '../../src/stores/postgres/postgres-sql';
import { parsePostgresUri } from '../../src/stores/postgres/postgres-uri';
import { type Row, type Statement, TYPE_PARSERS } from '../../src/stores/postgres/queryable';
import { createTestDatabase, sqlAt } from '../support/pg-harness';
import { describeOnEachDialect } from '../support/store-dialects';

const tenant = parseTenantId('scan-decode');

/** Texts a column of each kind may hold, as PostgreSQL prints them (base64 for bytea, as selected). */
const TEXTS: Record<string, readonly string[]> = {
  uuid: ['01900000-0000-7000-8000-000000000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
  id: ['a.b:c@d-e_f', 'E'],
  text: ['quote " backslash \\ newline \n tab \t ü😀 \u2028', ''],
  enum: ['SUCCEEDED', 'L5'],
  sha256: ['a'.repeat(64)],
  int: ['0', '9007199254740991', '9007199254740993', '12345678901234567890'],
  decimal: ['99999999999999.999999', '0.000000', '5.000000', '12.340000', '0.000001'],
  timestamp: [
    '0001-01-01 00:00:00+00',
    '9999-12-31 23:59:59.999+00',
    '2026-03-01 12:00:00.1+00',
    '1999-12-31 23:59:59.999999+00',
    '2024-02-29 00:00:00.05+00',
  ],
  json: ['{"a": [1, 2.50, -0.5, 1e300, "ü😀"], "": {}}', 'null', '"just a string"', '[]', 'true', '0'],
  json_object: ['{}', '{"key with spaces": "\\"q\\"", "nested": {"deep": [[[]]]}}', 'null'],
  bytes: ['', 'AP8AXCIK', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\nMDEy'],
};

/** What pg's type parsers make of a column's text (TYPE_PARSERS, JSON.parse for jsonb). */
function parsedValue(kind: string, text: string): unknown {
  if (kind === 'timestamp') return (TYPE_PARSERS[1184] as (t: string) => unknown)(text);
  if (kind === 'int') return (TYPE_PARSERS[20] as (t: string) => unknown)(text);
  if (kind === 'json' || kind === 'json_object') return JSON.parse(text) as unknown;
  return text;
}

test.each(RECORD_TYPES.map((t) => [t]))(
  'a %s row decodes from its texts to exactly the record the general path makes of it',
  (type: RecordType) => {
    const columns = columnsOf(type);
    const decode = recordDecoder(tenant, type);
    // Every column through each of its kind's texts, and NULL where the column may be null.
    for (let round = 0; round < 12; round++) {
      const texts = columns.map((c, i) => {
        const options = TEXTS[c.kind] as readonly string[];
        const nullable = !['record_id', 'created_at', 'provenance_hash'].includes(c.name);
        if (nullable && (round + i) % 4 === 3) return null;
        return options[(round + i) % options.length] as string;
      });
      const row: Row = {};
      columns.forEach((c, i) => {
        const text = texts[i];
        row[c.name] = text === null || text === undefined ? null : parsedValue(c.kind, text);
      });
      const expected = recordFromRow(tenant, type, row);
      const decoded = decode(texts);
      expect(decoded).toStrictEqual(expected);
      expect(Object.keys(decoded)).toEqual(Object.keys(expected));
    }
  },
);

/** Sealed records of every type with edge values, two or more of each. */
function variedRecords(): HubRecord[] {
  const body = Buffer.from([0, 255, 0, 92, 34, 10]);
  const sha = createHash('sha256').update(body).digest('hex');
  return [
    ...sealBatch(tenant, 'outputs', [
      {
        record_id: randomUUID(),
        created_at: '0001-01-01T00:00:00.000Z',
        skill_id: 'a.b:c@d-e_f',
        employee_id: 'E',
        invocation_id: 'inv:1',
        model: 'quote " backslash \\ ü😀',
        status: 'BLOCKED',
        input_tokens: Number.MAX_SAFE_INTEGER,
        output_tokens: 0,
        cost_usd: '99999999999999.999999',
        latency_ms: 0,
        content: [null, true, -0.5, 1e300, 5e-324, 2 ** 64, '\u2028 "\\" \t', { '': {} }],
        attributes: { 'key with spaces': 'ü😀', nested: { deep: [[[]]] } },
      },
      {
        created_at: '9999-12-31T23:59:59.999Z',
        skill_id: 's',
        employee_id: 'e',
        status: 'SUCCEEDED',
        cost_usd: '0.000001',
        content: 'just a string',
      },
      { created_at: '2024-02-29T00:00:00.050Z', skill_id: 's', employee_id: 'e', status: 'FAILED' },
    ]),
    ...sealBatch(tenant, 'decisions', [
      { output_id: randomUUID(), skill_id: 's', decided_by: 'm', outcome: 'EDITED', rationale: 'ü "\n' },
      { output_id: randomUUID(), skill_id: 's', decided_by: 'm', outcome: 'ACCEPTED' },
    ]),
    ...sealBatch(tenant, 'governance_events', [
      {
        policy_id: 'p',
        severity: 'CRITICAL',
        action: 'REDACTED',
        skill_id: 's',
        employee_id: 'e',
        subject_record_id: randomUUID(),
        detail: '\\ "',
      },
      { policy_id: 'p', severity: 'INFO', action: 'ALLOWED' },
    ]),
    ...sealBatch(tenant, 'artifacts', [
      {
        name: 'ü😀 "x"',
        media_type: 'application/octet-stream',
        size_bytes: body.byteLength,
        content_sha256: sha,
        skill_id: 's',
        output_id: randomUUID(),
        employee_id: 'e',
        body,
      },
      {
        name: 'empty',
        media_type: 'text/plain',
        size_bytes: 0,
        content_sha256: createHash('sha256').digest('hex'),
        body: Buffer.alloc(0),
      },
    ]),
    ...sealBatch(tenant, 'employee_profiles', [
      {
        employee_id: 'e',
        display_name: 'Zoë "Z"',
        archetype: 'builder',
        level: 'L3',
        manager_id: 'm',
        team: 't',
        effective_at: '1999-12-31T23:59:59.999Z',
      },
      { employee_id: 'm', display_name: 'M', archetype: 'lead', level: 'L5' },
    ]),
    ...sealBatch(tenant, 'telemetry_events', [
      {
        name: 'n',
        skill_id: 's',
        employee_id: 'e',
        duration_ms: 1,
        cost_usd: '12.34',
        input_tokens: 3,
        output_tokens: 4,
        properties: { a: null, b: [1, '2'] },
      },
      { name: 'bare' },
    ]),
  ];
}

describeOnEachDialect('scans', (on) => {
  test('every record type scans to exactly what getByIds reads and what was written', async () => {
    const records = variedRecords();
    expect((await on.store.putBatch(tenant, records)).every((o) => o.status === 'created')).toBe(true);
    for (const type of RECORD_TYPES) {
      const written = records.filter((r) => r.record_type === type);
      // Pages of one record: every page after the first goes through the keyset.
      const scanned: HubRecord[] = [];
      for await (const page of scanPages(on.store, tenant, type, { pageSize: 1 })) scanned.push(...page);
      expect(scanned).toHaveLength(written.length);
      const byId = await on.store.getByIds(
        tenant,
        type,
        scanned.map((r) => r.record_id),
      );
      scanned.forEach((r, i) => {
        expect(r).toStrictEqual(byId[i]);
        expect(Object.keys(r)).toEqual(Object.keys(byId[i] as HubRecord));
        expect(r).toEqual(written.find((w) => w.record_id === r.record_id));
        expect(verifyRecord(r).verified).toBe(true);
      });
    }
  });
});

test('a decoder that throws fails its statement on both drivers, and the next statement runs', async () => {
  const boom = new Error('cannot decode');
  const failing: Statement = {
    sql: 'SELECT 1 AS one',
    params: [],
    decode: () => {
      throw boom;
    },
  };
  const fine: Statement = { sql: 'SELECT 1 AS one, NULL::text AS none', params: [], decode: (t) => ({ t }) };
  const own = await createTestDatabase();
  const server = new PgDatabase(parsePostgresUri(own.appUri), undefined);
  const lite = await PgliteDatabase.open(undefined, 'hub_app');
  try {
    for (const db of [server, lite]) {
      await expect(db.run({ tenant }, [failing])).rejects.toBe(boom);
      await expect(db.run({ tenant }, [fine])).resolves.toEqual([[{ t: ['1', null] }]]);
    }
  } finally {
    await server.close();
    await lite.close();
    await own.drop();
  }
}, 60_000);

test('timestamps read the same on a server whose database prints dates in another style (the store pins DateStyle=ISO)', async () => {
  const own = await createTestDatabase();
  try {
    await sqlAt(own.adminUri, `ALTER DATABASE "${own.database}" SET DateStyle = 'SQL, DMY'`);
    const store = await openStore(own.appUri);
    try {
      const records = sealBatch(tenant, 'employee_profiles', [
        {
          created_at: '0001-01-01T00:00:00.000Z',
          employee_id: 'e',
          display_name: 'E',
          archetype: 'a',
          level: 'L1',
          effective_at: '2024-02-29T23:59:59.999Z',
        },
      ]);
      await store.putBatch(tenant, records);
      expect(await store.scan(tenant, { type: 'employee_profiles', limit: 10 })).toEqual(records);
      expect(await store.getByIds(tenant, 'employee_profiles', [records[0]?.record_id as string])).toEqual(
        records,
      );
    } finally {
      await store.close();
    }
  } finally {
    await own.drop();
  }
}, 60_000);

/**
 * What is specific to the Snowflake store (the conformance suite covers the
 * port): URI and key-pair config, tenant database naming (never injectable),
 * separate databases per tenant with no statement naming two, the micro-batch
 * writer, stream/task DDL, migrate, rollups equal to the memory store's on
 * generated data, and faults (emulator stopped, restarted, slow).
 */
import { randomBytes } from 'node:crypto';
import { Hub } from '../../src/hub/hub';
import { RECORD_TYPES, type RecordType } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import { sealBatch } from '../../src/hub/validate';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { parseSnowflakeUri, tenantDatabase } from '../../src/stores/snowflake/snowflake-config';
import { connectionOptions } from '../../src/stores/snowflake/snowflake-connection';
import { snowflakeDriver } from '../../src/stores/snowflake/snowflake-driver';
import type { SnowflakeStore } from '../../src/stores/snowflake/snowflake-store';
import { streamTaskStatements } from '../../src/stores/snowflake/snowflake-streams';
import { fullRecords } from '../conformance/fixtures';
import {
  type SnowflakeEmulator,
  emulatorStoreUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';

const run = randomBytes(3).toString('hex');
let counter = 0;
const freshTenant = (): TenantId => parseTenantId(`sf-${run}-${++counter}`);

describe('snowflake store configuration', () => {
  test('parses a password URI with warehouse, role, endpoint and writer limits', () => {
    const c = parseSnowflakeUri(
      'snowflake://svc:p%40ss@xy12345.eu-west-1/?warehouse=HUB_WH&role=HUB_RW&accessUrl=http://127.0.0.1:9999&flushMs=500&batchRows=2000&tenants=acme,beta-2',
    );
    expect(c).toMatchObject({
      account: 'xy12345.eu-west-1',
      username: 'svc',
      password: 'p@ss',
      authenticator: 'SNOWFLAKE',
      warehouse: 'HUB_WH',
      role: 'HUB_RW',
      accessUrl: 'http://127.0.0.1:9999',
      databasePattern: 'CLARESIA_{TENANT}_HUB',
      schema: 'HUB',
      flushMs: 500,
      batchRows: 2000,
      tenants: ['acme', 'beta-2'],
      streams: false,
    });
  });

  test('key-pair auth (SNOWFLAKE_JWT) passes the key file to the driver, never a password', () => {
    const c = parseSnowflakeUri(
      'snowflake://svc@acct/?authenticator=SNOWFLAKE_JWT&privateKeyPath=/keys/rsa_key.p8&privateKeyPass=pw',
    );
    expect(c.authenticator).toBe('SNOWFLAKE_JWT');
    const o = connectionOptions(c) as unknown as Record<string, unknown>;
    expect(o).toMatchObject({
      account: 'acct',
      username: 'svc',
      authenticator: 'SNOWFLAKE_JWT',
      privateKeyPath: '/keys/rsa_key.p8',
      privateKeyPass: 'pw',
    });
    expect(o.password).toBeUndefined();
    // Without a password the default authenticator is key pair, which needs a key.
    expect(() => parseSnowflakeUri('snowflake://svc@acct/')).toThrow(/privateKeyPath/);
  });

  test.each([
    ['snowflake://acct/', /missing user/],
    ['snowflake://u:p@acct/?databasePattern=HUB', /exactly one \{TENANT\}/],
    ['snowflake://u:p@acct/?databasePattern=X{TENANT}";DROP', /exactly one/],
    ['snowflake://u:p@acct/?accessUrl=ftp://x', /accessUrl/],
    ['snowflake://u:p@acct/?flushMs=5000', /flushMs/],
    ['snowflake://u:p@acct/?tenants=Bad_Tenant', /invalid tenant id/],
    ['snowflake://u:p@acct/?schema=a-b', /schema/],
  ])('rejects %s', (uri, message) => {
    expect(() => parseSnowflakeUri(uri)).toThrow(message);
  });

  test('tenant databases: upper case, - mapped to _, pattern applied; hostile ids never reach SQL', () => {
    const config = parseSnowflakeUri('snowflake://u:p@acct/');
    expect(tenantDatabase(config, parseTenantId('acme-corp-7'))).toBe('CLARESIA_ACME_CORP_7_HUB');
    const custom = parseSnowflakeUri('snowflake://u:p@acct/?databasePattern=hub_{TENANT}');
    expect(tenantDatabase(custom, parseTenantId('beta'))).toBe('HUB_BETA');
    for (const hostile of ['x"; DROP DATABASE y; --', 'ACME', 'a_b', '', '-a', 'a'.repeat(64), 'é']) {
      expect(() => tenantDatabase(config, hostile as TenantId)).toThrow(/invalid tenant id/);
    }
  });

  test('stream and task DDL: one append-only stream and one task per table into the downstream schema', () => {
    const config = parseSnowflakeUri('snowflake://u:p@acct/?warehouse=etl_wh&downstreamSchema=customer_feed');
    const ddl = streamTaskStatements(config, parseTenantId('acme'));
    expect(ddl[0]).toBe('CREATE SCHEMA IF NOT EXISTS "CLARESIA_ACME_HUB"."CUSTOMER_FEED"');
    expect(ddl).toHaveLength(1 + 6 * 4);
    expect(ddl).toContain(
      'CREATE STREAM IF NOT EXISTS "CLARESIA_ACME_HUB"."HUB"."OUTPUTS_STREAM" ON TABLE "CLARESIA_ACME_HUB"."HUB"."OUTPUTS" APPEND_ONLY = TRUE',
    );
    expect(ddl).toContain(
      'CREATE TABLE IF NOT EXISTS "CLARESIA_ACME_HUB"."CUSTOMER_FEED"."DECISIONS" LIKE "CLARESIA_ACME_HUB"."HUB"."DECISIONS"',
    );
    const task = ddl.find((s) =>
      s.startsWith('CREATE TASK IF NOT EXISTS "CLARESIA_ACME_HUB"."HUB"."ARTIFACTS_PROPAGATE"'),
    );
    expect(task).toBe(
      'CREATE TASK IF NOT EXISTS "CLARESIA_ACME_HUB"."HUB"."ARTIFACTS_PROPAGATE" WAREHOUSE = "ETL_WH" ' +
        'SCHEDULE = \'1 MINUTE\' WHEN SYSTEM$STREAM_HAS_DATA(\'"CLARESIA_ACME_HUB"."HUB"."ARTIFACTS_STREAM"\') ' +
        'AS INSERT INTO "CLARESIA_ACME_HUB"."CUSTOMER_FEED"."ARTIFACTS" ("RECORD_ID", "TENANT_ID", "RECORD_TYPE", ' +
        '"CREATED_AT", "ATTRIBUTES", "PROVENANCE_HASH", "NAME", "MEDIA_TYPE", "SIZE_BYTES", "CONTENT_SHA256", ' +
        '"SKILL_ID", "OUTPUT_ID", "EMPLOYEE_ID", "BODY") SELECT "RECORD_ID", "TENANT_ID", "RECORD_TYPE", ' +
        '"CREATED_AT", "ATTRIBUTES", "PROVENANCE_HASH", "NAME", "MEDIA_TYPE", "SIZE_BYTES", "CONTENT_SHA256", ' +
        '"SKILL_ID", "OUTPUT_ID", "EMPLOYEE_ID", "BODY" FROM "CLARESIA_ACME_HUB"."HUB"."ARTIFACTS_STREAM" ' +
        "WHERE METADATA$ACTION = 'INSERT'",
    );
    expect(
      ddl.slice(-6).every((s) => /^ALTER TASK "CLARESIA_ACME_HUB"\."HUB"\."\w+_PROPAGATE" RESUME$/.test(s)),
    ).toBe(true);
    // Without a task warehouse the tasks are serverless.
    const serverless = streamTaskStatements(
      parseSnowflakeUri('snowflake://u:p@acct/'),
      parseTenantId('acme'),
    );
    expect(serverless.some((s) => s.includes("USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'"))).toBe(
      true,
    );
  });
});

describe('snowflake store on the wire emulator', () => {
  let emulator: SnowflakeEmulator;
  let store: SnowflakeStore;
  const statements: string[] = [];

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator({ onQuery: (sql) => statements.push(sql) });
    store = (await snowflakeDriver.open(emulatorStoreUri(emulator, { flushMs: 300 }))) as SnowflakeStore;
  });

  afterAll(async () => {
    await store.close();
    await emulator.close();
  });

  test('tenants live in separate databases and no statement names two of them', async () => {
    const [a, b] = [freshTenant(), freshTenant()];
    const hub = new Hub(store);
    await hub.record(a, 'outputs', [fullRecords().outputs]);
    await hub.record(b, 'decisions', [fullRecords().decisions]);
    const duck = await emulator.engine.instance.connect();
    try {
      const dbs = (await duck.runAndReadAll('SELECT database_name FROM duckdb_databases()')).getRows().flat();
      expect(dbs).toEqual(expect.arrayContaining([tenantDb(a), tenantDb(b)]));
      const count = async (db: string, table: string): Promise<number> =>
        Number((await duck.runAndReadAll(`SELECT COUNT(*) FROM "${db}"."HUB"."${table}"`)).getRows()[0]?.[0]);
      expect([await count(tenantDb(a), 'OUTPUTS'), await count(tenantDb(a), 'DECISIONS')]).toEqual([1, 0]);
      expect([await count(tenantDb(b), 'OUTPUTS'), await count(tenantDb(b), 'DECISIONS')]).toEqual([0, 1]);
    } finally {
      duck.closeSync();
    }
    for (const sql of statements)
      expect(new Set(sql.match(/"CLARESIA_[A-Z0-9_]+_HUB"/g) ?? []).size).toBeLessThan(2);
  });

  test('micro-batches: concurrent putBatch calls share one flush; a full buffer flushes at once', async () => {
    const tenant = freshTenant();
    const hub = new Hub(store);
    const before = store.writer.flushes;
    const inputs = RECORD_TYPES.map((t) => ({ type: t, input: fullRecords()[t] }));
    const results = await Promise.all(inputs.map(({ type, input }) => hub.record(tenant, type, [input])));
    expect(results.map((r) => r[0]?.status)).toEqual(RECORD_TYPES.map(() => 'created'));
    // Six calls within the 300 ms window: one flush carried them all.
    expect(store.writer.flushes - before).toBe(1);
    // A store with batchRows=3: three records start a flush synchronously, without waiting for the timer.
    const small = (await snowflakeDriver.open(
      emulatorStoreUri(emulator, { flushMs: 2000, batchRows: 3 }),
    )) as SnowflakeStore;
    try {
      const records = sealBatch(tenant, 'telemetry_events', [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
      const pending = small.putBatch(tenant, records);
      expect(small.writer.flushes).toBe(1);
      expect((await pending).map((o) => o.status)).toEqual(['created', 'created', 'created']);
    } finally {
      await small.close();
    }
  });

  test('rollups on generated data equal the memory store number for number; every record verifies after reading', async () => {
    const tenant = freshTenant();
    const data = generateDataset({
      seed: 31,
      days: 30,
      outputsPerDay: 40,
      managers: 4,
      teamSize: 6,
      artifacts: true,
    });
    const sf = new Hub(store);
    const mem = new Hub(createMemoryStore());
    for (const [type, inputs] of Object.entries(data)) {
      await Promise.all([
        sf.record(tenant, type as RecordType, inputs),
        mem.record(tenant, type as RecordType, inputs),
      ]);
    }
    const range = { from: '2026-01-05T00:00:00.000Z', to: '2026-02-03T12:00:00.000Z' };
    for (const bucket of ['DAY', 'WEEK', 'MONTH'] as const) {
      expect(await sf.costPerSkill(tenant, { ...range, bucket })).toEqual(
        await mem.costPerSkill(tenant, { ...range, bucket }),
      );
    }
    const all = { from: '2020-01-01T00:00:00.000Z', to: '2030-01-01T00:00:00.000Z' };
    expect(await sf.archetypeProgression(tenant, all)).toEqual(await mem.archetypeProgression(tenant, all));
    for (let m = 0; m < 4; m++) {
      const q = { managerId: `mgr-${String(m).padStart(3, '0')}`, ...range };
      expect(await sf.managerDashboard(tenant, q)).toEqual(await mem.managerDashboard(tenant, q));
    }
    for (const type of RECORD_TYPES) {
      const records = await store.scan(tenant, { type, limit: 50_000 });
      expect(records).toHaveLength(data[type].length);
      expect(
        records.filter((r) => !verifyRecord(r).verified || verifyRecord(r).bodyVerified === false),
      ).toEqual([]);
    }
  }, 120_000);

  test('rollups are exact where floating point is not: p95 of [0, 3] is 2.9, avg of 1 and 2 micro-dollars rounds up', async () => {
    const tenant = freshTenant();
    const hub = new Hub(store);
    const at = (i: number): string => new Date(Date.UTC(2026, 2, 2, 10, 0, i)).toISOString();
    // 0 + (3 - 0) * 0.95 is 2.8499999999999996 in binary floating point, which rounds to 2.8.
    await hub.record(tenant, 'outputs', [
      {
        skill_id: 's1',
        employee_id: 'e1',
        status: 'SUCCEEDED',
        latency_ms: 0,
        cost_usd: '0.000001',
        created_at: at(0),
      },
      {
        skill_id: 's1',
        employee_id: 'e1',
        status: 'FAILED',
        latency_ms: 3,
        cost_usd: '0.000002',
        created_at: at(1),
      },
    ]);
    const rows = await hub.costPerSkill(tenant, {
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-03T00:00:00.000Z',
      bucket: 'DAY',
    });
    expect(rows).toEqual([
      {
        skill_id: 's1',
        bucket_start: '2026-03-02T00:00:00.000Z',
        invocations: 2,
        failed: 1,
        total_cost_usd: '0.000003',
        avg_cost_usd: '0.000002',
        input_tokens: 0,
        output_tokens: 0,
        p95_latency_ms: 2.9,
      },
    ]);
  });

  test('migrate provisions the listed tenants once, then reports them current', async () => {
    const [a, b] = [freshTenant(), freshTenant()];
    const uri = emulatorStoreUri(emulator, { tenants: `${a},${b}` });
    const first = await snowflakeDriver.migrate?.(uri);
    expect(first?.filter((s) => s.startsWith('CREATE DATABASE'))).toEqual([
      `CREATE DATABASE IF NOT EXISTS "${tenantDb(a)}"`,
      `CREATE DATABASE IF NOT EXISTS "${tenantDb(b)}"`,
    ]);
    expect(await snowflakeDriver.migrate?.(uri)).toEqual([]);
    expect(await snowflakeDriver.migrate?.(emulatorStoreUri(emulator))).toEqual([]);
  });

  test('streams=true applies stream/task DDL, which the emulator refuses loudly (real accounts only)', async () => {
    const withStreams = (await snowflakeDriver.open(
      emulatorStoreUri(emulator, { streams: 'true' }),
    )) as SnowflakeStore;
    try {
      const err = await withStreams.provision(freshTenant()).catch((e: unknown) => e);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      expect([(err as { code?: string }).code, cause?.code]).toEqual(['INTERNAL', '000002']);
      // The first stream/task statement the emulator meets is the downstream table copy.
      expect(cause?.message).toMatch(/Unsupported feature 'CREATE TABLE \.\.\. LIKE'/);
    } finally {
      await withStreams.close();
    }
  });
});

function tenantDb(tenant: TenantId): string {
  return tenantDatabase(parseSnowflakeUri('snowflake://u:p@acct/'), tenant);
}

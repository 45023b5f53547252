/**
 * Staging by file: the emulator's PUT (a LOCAL_FS table stage the real
 * snowflake-sdk uploads into) and COPY INTO (CSV through DuckDB's read_csv,
 * all or nothing), then the store's bulk path on top of them: large batches
 * go PUT + COPY INTO, every field round-trips, bad rows are refused by name
 * before anything is written, a failed load leaves nothing and a re-run
 * converges, and one tenant's files never load into another tenant's tables.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as SnowflakeSdk from 'snowflake-sdk';
import { HubError } from '../../src/hub/errors';
import { RECORD_TYPES, type HubRecord } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { tenantDatabase } from '../../src/stores/snowflake/snowflake-config';
import { loadSnowflakeSdk } from '../../src/stores/snowflake/snowflake-connection';
import { snowflakeDriver } from '../../src/stores/snowflake/snowflake-driver';
import { toStageRow } from '../../src/stores/snowflake/snowflake-rows';
import {
  StageFileWriter,
  stageCsv,
  stageCsvInTurns,
  stageFilesUsable,
} from '../../src/stores/snowflake/snowflake-stage-file';
import type { SnowflakeStore } from '../../src/stores/snowflake/snowflake-store';
import { fullRecords } from '../conformance/fixtures';
import {
  type SnowflakeEmulator,
  emulatorStoreUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';

type Row = Record<string, unknown>;

const CSV =
  "FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ESCAPE_UNENCLOSED_FIELD = NONE)";

const run = randomBytes(3).toString('hex');
let counter = 0;
const freshTenant = (): TenantId => parseTenantId(`stage-${run}-${++counter}`);

/** `n` sealed outputs of `tenant` (values with quotes, commas, newlines and backslashes). */
function outputs(tenant: TenantId, n: number): HubRecord[] {
  return sealBatch(
    tenant,
    'outputs',
    Array.from({ length: n }, (_, i) => ({
      skill_id: `skill-${i % 7}`,
      employee_id: `emp-${i % 13}`,
      model: `m "${i % 13}", \\x\nend`,
      status: 'SUCCEEDED',
      input_tokens: i,
      output_tokens: i % 100,
      cost_usd: `0.${String(i % 1_000_000).padStart(6, '0')}`,
      latency_ms: i % 3000,
      created_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      attributes: { i, note: 'line 1\nline "2", \\ end', empty: '' },
    })),
  );
}

describe('emulator: PUT to a table stage and COPY INTO (through the real driver)', () => {
  let emulator: SnowflakeEmulator;
  let conn: SnowflakeSdk.Connection;
  let local: string;

  const exec = (sqlText: string): Promise<Row[]> =>
    new Promise((resolve, reject) =>
      conn.execute({
        sqlText,
        complete: (err, _s, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
      }),
    );
  const failure = (p: Promise<unknown>): Promise<{ code?: string; message: string }> =>
    p.then(
      () => {
        throw new Error('expected a failure');
      },
      (err: { code?: string; message: string }) => err,
    );
  const file = (name: string, text: string): string => {
    const path = join(local, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator();
    const sdk = await loadSnowflakeSdk();
    conn = sdk.createConnection({
      account: 'emulator',
      accessUrl: emulator.url,
      username: 'tester',
      password: 'test',
      sfRetryMaxLoginRetries: 0,
    } as SnowflakeSdk.ConnectionOptions);
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
    local = mkdtempSync(join(tmpdir(), 'stage-test-'));
    for (const db of ['SA', 'SB']) {
      await exec(`CREATE DATABASE IF NOT EXISTS "${db}"`);
      await exec(`CREATE SCHEMA IF NOT EXISTS "${db}"."S"`);
      await exec(`CREATE TABLE IF NOT EXISTS "${db}"."S"."T" (ID VARCHAR, N VARCHAR, DOC VARCHAR)`);
    }
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
    await emulator.close();
    rmSync(local, { recursive: true, force: true });
  });

  test('a CSV file loads by position: NULL unquoted, "" the empty string, quotes, commas, newlines and backslashes as data', async () => {
    const path = file('one.csv', '"a","1","x, ""y""\nz \\n"\n"b",,""\n');
    const put = await exec(`PUT 'file://${path}' @"SA"."S".%"T" AUTO_COMPRESS = FALSE OVERWRITE = TRUE`);
    expect(put).toEqual([
      expect.objectContaining({ source: 'one.csv', target: 'one.csv', status: 'UPLOADED' }),
    ]);
    const copy = await exec(
      `COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILES = ('one.csv') ${CSV} PURGE = TRUE`,
    );
    expect(copy).toEqual([expect.objectContaining({ file: 'one.csv', status: 'LOADED', rows_loaded: 2 })]);
    const rows = await exec(`SELECT ID, N, DOC, N IS NULL AS N_NULL FROM "SA"."S"."T" ORDER BY ID`);
    expect(rows).toEqual([
      { ID: 'a', N: '1', DOC: 'x, "y"\nz \\n', N_NULL: false },
      { ID: 'b', N: null, DOC: '', N_NULL: true },
    ]);
    // PURGE removed the staged file: a second load of it finds nothing.
    const again = await failure(
      exec(`COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILES = ('one.csv') ${CSV}`),
    );
    expect(again.code).toBe('100176');
    await exec('DELETE FROM "SA"."S"."T"');
  });

  test('a file already loaded into a table is skipped by a later COPY (load metadata), as on Snowflake', async () => {
    const path = file('twice.csv', '"t","1","x"\n');
    await exec(`PUT 'file://${path}' @"SA"."S".%"T" AUTO_COMPRESS = FALSE`);
    const copy = `COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILES = ('twice.csv') ${CSV} PURGE = FALSE`;
    expect(await exec(copy)).toEqual([expect.objectContaining({ file: 'twice.csv', rows_loaded: 1 })]);
    expect(await exec(copy)).toEqual([{ status: 'Copy executed with 0 files processed.' }]);
    expect(await exec(`SELECT COUNT(*) AS C FROM "SA"."S"."T" WHERE ID = 't'`)).toEqual([{ C: 1 }]);
    await exec('DELETE FROM "SA"."S"."T"');
  });

  test('a bad row fails the whole load naming file and line (100080), and nothing of the file (nor of the other files of that COPY) is loaded', async () => {
    const path = file('bad.csv', '"a","1","x"\n"b","2"\n');
    await exec(`PUT 'file://${path}' @"SA"."S".%"T" AUTO_COMPRESS = FALSE`);
    const err = await failure(exec(`COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILES = ('bad.csv') ${CSV}`));
    expect(err.code).toBe('100080');
    expect(err.message).toMatch(/File 'bad\.csv', line 2/);
    expect(await exec('SELECT COUNT(*) AS C FROM "SA"."S"."T"')).toEqual([{ C: 0 }]);
    // Several files load in one transaction: a good file before the bad one is not loaded either.
    const good = file('good.csv', '"g","1","x"\n');
    await exec(`PUT 'file://${good}' @"SA"."S".%"T" AUTO_COMPRESS = FALSE`);
    const both = await failure(
      exec(`COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILES = ('good.csv', 'bad.csv') ${CSV}`),
    );
    expect(both.code).toBe('100080');
    expect(both.message).toMatch(/File 'bad\.csv', line 2/);
    expect(await exec('SELECT COUNT(*) AS C FROM "SA"."S"."T"')).toEqual([{ C: 0 }]);
  });

  test("a file put into one database's table stage cannot be loaded from another's (100176), which stays empty", async () => {
    const path = file('mine.csv', '"a","1","x"\n');
    await exec(`PUT 'file://${path}' @"SA"."S".%"T" AUTO_COMPRESS = FALSE`);
    const err = await failure(exec(`COPY INTO "SB"."S"."T" FROM @"SB"."S".%"T" FILES = ('mine.csv') ${CSV}`));
    expect(err.code).toBe('100176');
    expect(await exec('SELECT COUNT(*) AS C FROM "SB"."S"."T"')).toEqual([{ C: 0 }]);
  });

  test.each([
    ['a named stage', `PUT 'file:///tmp/x.csv' @"SA"."S"."NAMED"`],
    ['GET', `GET @"SA"."S".%"T" 'file:///tmp/'`],
    ['ON_ERROR = CONTINUE', `COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" ${CSV} ON_ERROR = CONTINUE`],
    ["Snowflake's CSV defaults", `COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILE_FORMAT = (TYPE = CSV)`],
    ['a transformation', `COPY INTO "SA"."S"."T" FROM (SELECT $1 FROM @"SA"."S".%"T") ${CSV}`],
    ['JSON files', `COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILE_FORMAT = (TYPE = JSON)`],
  ])('refuses %s by name (000002)', async (_what, sql) => {
    expect((await failure(exec(sql))).code).toBe('000002');
  });

  test('PUT into the stage of a table that does not exist fails with 002003', async () => {
    const path = file('x.csv', '"a"\n');
    expect((await failure(exec(`PUT 'file://${path}' @"SA"."S".%"NOPE"`))).code).toBe('002003');
  });
});

describe('store: large batches staged by PUT + COPY INTO', () => {
  let emulator: SnowflakeEmulator;
  let store: SnowflakeStore;
  const statements: string[] = [];
  /** Called with every statement before it runs; throwing fails that statement. */
  let intercept: ((sql: string) => void) | undefined;

  const tableCount = async (tenant: TenantId, table: string): Promise<number> => {
    const duck = await emulator.engine.instance.connect();
    try {
      const db = tenantDatabase(store.config, tenant);
      return Number(
        (await duck.runAndReadAll(`SELECT COUNT(*) FROM "${db}"."HUB"."${table}"`)).getRows()[0]?.[0],
      );
    } finally {
      duck.closeSync();
    }
  };
  const since = (from: number): string[] => statements.slice(from);

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator({
      onQuery: (sql) => {
        statements.push(sql);
        intercept?.(sql);
      },
    });
    store = (await snowflakeDriver.open(
      emulatorStoreUri(emulator, { fileStageRows: 100 }),
    )) as SnowflakeStore;
  });

  afterAll(async () => {
    await store.close();
    await emulator.close();
  });

  test('from fileStageRows records of a type the rows go PUT + COPY INTO; fewer go as an array bind', async () => {
    const tenant = freshTenant();
    const from = statements.length;
    const big = outputs(tenant, 250);
    expect((await store.putBatchNow(tenant, big)).every((o) => o.status === 'created')).toBe(true);
    const small = outputs(tenant, 5);
    expect((await store.putBatchNow(tenant, small)).every((o) => o.status === 'created')).toBe(true);
    const kinds = since(from)
      .map((s) => /^(PUT|COPY INTO|INSERT INTO \S+_STAGE")/.exec(s)?.[1])
      .filter((k) => k !== undefined);
    expect(kinds).toEqual(['PUT', 'COPY INTO', expect.stringMatching(/^INSERT INTO .*OUTPUTS_STAGE"$/)]);
    expect(await tableCount(tenant, 'OUTPUTS')).toBe(255);
    // Nothing left behind: the staging table is cleared, the local file removed, the staged one purged.
    expect(await tableCount(tenant, 'OUTPUTS_STAGE')).toBe(0);
    const back = await store.getByIds(
      tenant,
      'outputs',
      big.map((r) => r.record_id),
    );
    expect(back).toEqual(big);
    expect(back.every((r) => r !== null && verifyRecord(r).verified)).toBe(true);
  });

  test('every field of every type round-trips exactly through the CSV file', async () => {
    const tenant = freshTenant();
    const fileStore = (await snowflakeDriver.open(
      emulatorStoreUri(emulator, { fileStageRows: 1 }),
    )) as SnowflakeStore;
    try {
      const all = fullRecords();
      for (const type of RECORD_TYPES) {
        const records = sealBatch(tenant, type, [all[type]]);
        const from = statements.length;
        expect(await fileStore.putBatchNow(tenant, records)).toEqual([{ status: 'created' }]);
        expect(since(from).some((s) => s.startsWith('COPY INTO'))).toBe(true);
        const [back] = await fileStore.getByIds(tenant, type, [records[0]?.record_id as string]);
        expect(back).toEqual(records[0]);
        expect(back && verifyRecord(back).verified).toBe(true);
      }
    } finally {
      await fileStore.close();
    }
  });

  test('a bad record is refused naming record and field before any file is written or put', async () => {
    const tenant = freshTenant();
    const records = outputs(tenant, 300);
    const bad = { ...records[123], cost_usd: 'twelve' } as unknown as HubRecord;
    const from = statements.length;
    const err = await store.putBatchNow(tenant, [...records.slice(0, 123), bad, ...records.slice(124)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('VALIDATION');
    expect((err as HubError).message).toMatch(/\[123\] cost_usd/);
    expect((err as HubError).message).toContain(String(bad.record_id));
    expect(since(from)).toEqual([]);
    expect(await store.list(tenant, { type: 'outputs', filter: {}, limit: 10 })).toEqual([]);
  });

  test('a failed load writes nothing; the re-run converges; a second run is all duplicates, a changed record a conflict', async () => {
    const tenant = freshTenant();
    const records = outputs(tenant, 400);
    await store.provision(tenant);
    intercept = (sql) => {
      if (sql.startsWith('COPY INTO')) {
        intercept = undefined;
        throw new Error('injected: the warehouse failed the load');
      }
    };
    await expect(store.putBatchNow(tenant, records)).rejects.toBeInstanceOf(HubError);
    expect(await tableCount(tenant, 'OUTPUTS')).toBe(0);
    expect(await tableCount(tenant, 'OUTPUTS_STAGE')).toBe(0);

    const outcomes = await store.putBatchNow(tenant, records);
    expect(outcomes.every((o) => o.status === 'created')).toBe(true);
    expect(await tableCount(tenant, 'OUTPUTS')).toBe(400);

    const changed = sealBatch(tenant, 'outputs', [
      { ...records[7], provenance_hash: undefined, latency_ms: 1 },
    ])[0] as HubRecord;
    const again = await store.putBatchNow(tenant, [...records.slice(0, 7), changed, ...records.slice(8)]);
    expect(again.filter((o) => o.status === 'duplicate')).toHaveLength(399);
    expect(again[7]).toEqual({ status: 'conflict', existingHash: records[7]?.provenance_hash });
    expect(await tableCount(tenant, 'OUTPUTS')).toBe(400);
  });

  test('a batch put while a flush runs uploads at once; batches put while two run share the next flush: one file of encoded rows, a repeated id staged once and compared with its first occurrence', async () => {
    const tenant = freshTenant();
    await store.provision(tenant);
    const [first, big, rest] = [outputs(tenant, 150), outputs(tenant, 350), outputs(tenant, 3)];
    const bigOnes = big.slice(150);
    const changed = sealBatch(tenant, 'outputs', [
      { ...bigOnes[5], provenance_hash: undefined, latency_ms: 1 },
    ])[0] as HubRecord;
    const changedRest = sealBatch(tenant, 'outputs', [
      { ...rest[0], provenance_hash: undefined, latency_ms: 2 },
    ])[0] as HubRecord;
    const flushes = store.writer.flushes;
    const from = statements.length;
    // The first flush starts at once, the second uploads while the first commits.
    const running = store.putBatchNow(tenant, first);
    // 200 records (encoded as they are put), one of them twice.
    const encoded = store.putBatchNow(tenant, [...bigOnes, bigOnes[0] as HubRecord]);
    // These two wait (one flush ahead at most) and then go together, under fileStageRows: one
    // new record; then one repeating an id stored by the flush above with the same content, one
    // with other content, and the new record of the other call again, the same and changed.
    const keptA = store.putBatchNow(tenant, [rest[0] as HubRecord]);
    const keptB = store.putBatchNow(tenant, [
      bigOnes[9] as HubRecord,
      changed,
      rest[0] as HubRecord,
      changedRest,
    ]);
    expect((await running).every((o) => o.status === 'created')).toBe(true);
    const a = await encoded;
    expect(a.slice(0, 200).every((o) => o.status === 'created')).toBe(true);
    expect(a[200]).toEqual({ status: 'duplicate' });
    expect(await keptA).toEqual([{ status: 'created' }]);
    expect(await keptB).toEqual([
      { status: 'duplicate' },
      { status: 'conflict', existingHash: bigOnes[5]?.provenance_hash },
      { status: 'duplicate' },
      { status: 'conflict', existingHash: rest[0]?.provenance_hash },
    ]);
    expect(store.writer.flushes - flushes).toBe(3);
    expect(since(from).filter((x) => x.startsWith('PUT'))).toHaveLength(2);
    expect(await tableCount(tenant, 'OUTPUTS')).toBe(351);
    expect(await tableCount(tenant, 'OUTPUTS_STAGE')).toBe(0);
    const [stored] = await store.getByIds(tenant, 'outputs', [bigOnes[5]?.record_id as string]);
    expect(stored).toEqual(bigOnes[5]);
  });

  test("a failed insert rejects only its batch's callers: the batch uploaded meanwhile lands and is acknowledged, and no staged row or file is left", async () => {
    const tenant = freshTenant();
    await store.provision(tenant);
    const [one, two] = [outputs(tenant, 300), outputs(tenant, 600).slice(300)];
    const db = tenantDatabase(store.config, tenant);
    intercept = (sql) => {
      if (sql.startsWith(`INSERT INTO "${db}"."HUB"."OUTPUTS" (`)) {
        intercept = undefined;
        throw new Error('injected: the warehouse failed the insert');
      }
    };
    const from = statements.length;
    const p1 = store.putBatchNow(tenant, one);
    const p2 = store.putBatchNow(tenant, two);
    await expect(p1).rejects.toBeInstanceOf(HubError);
    expect((await p2).every((o) => o.status === 'created')).toBe(true);
    // Both batches went by file, the second one's PUT before the first one's insert.
    const ran = since(from);
    const firstInsert = ran.findIndex((x) => x.startsWith(`INSERT INTO "${db}"."HUB"."OUTPUTS" (`));
    expect(ran.filter((x) => x.startsWith('PUT'))).toHaveLength(2);
    expect(ran.findLastIndex((x) => x.startsWith('PUT'))).toBeLessThan(firstInsert);
    expect(await tableCount(tenant, 'OUTPUTS')).toBe(300);
    expect(await tableCount(tenant, 'OUTPUTS_STAGE')).toBe(0);
    const back = await store.getByIds(
      tenant,
      'outputs',
      [...one, ...two].map((r) => r.record_id),
    );
    expect(back).toEqual([...one.map(() => null), ...two]);
    // The local batch files are gone (the folder stays for the store's next files).
    const folder = await (store as unknown as { stageFiles: { folder?: Promise<string> } }).stageFiles.folder;
    expect(folder && readdirSync(folder)).toEqual([]);
  });

  test("cross-tenant: two tenants' concurrent staged batches land in their own databases only, each file named by one tenant's statements", async () => {
    const [a, b] = [freshTenant(), freshTenant()];
    const from = statements.length;
    const [ra, rb] = [outputs(a, 300), outputs(b, 200)];
    await Promise.all([store.putBatchNow(a, ra), store.putBatchNow(b, rb)]);
    expect([await tableCount(a, 'OUTPUTS'), await tableCount(b, 'OUTPUTS')]).toEqual([300, 200]);
    const readA = await store.scan(a, { type: 'outputs', limit: 1000 });
    const readB = await store.scan(b, { type: 'outputs', limit: 1000 });
    expect(new Set(readA.map((r) => r.tenant_id))).toEqual(new Set([a]));
    expect(new Set(readB.map((r) => r.tenant_id))).toEqual(new Set([b]));
    const fileOf = (s: string): string | undefined => /([0-9a-f-]{36}\.csv)/.exec(s)?.[1];
    const dbOf = (s: string): string[] => [...new Set(s.match(/"CLARESIA_[A-Z0-9_]+_HUB"/g) ?? [])];
    const owners = new Map<string, Set<string>>();
    for (const s of since(from).filter((x) => /^(PUT|COPY)/.test(x))) {
      expect(dbOf(s)).toHaveLength(1);
      const f = fileOf(s) as string;
      owners.set(f, new Set([...(owners.get(f) ?? []), ...dbOf(s)]));
    }
    expect(owners.size).toBe(2);
    for (const dbs of owners.values()) expect(dbs.size).toBe(1);
  });

  test('files are staged only from a temporary folder whose path a PUT can carry (else array binds)', () => {
    expect(stageFilesUsable('/tmp')).toBe(true);
    expect(stageFilesUsable('/var/folders/ab/x_y-1/T')).toBe(true);
    expect(stageFilesUsable('C:\\Users\\me\\AppData\\Local\\Temp')).toBe(false);
    expect(stageFilesUsable("/tmp/it's here")).toBe(false);
  });

  test('the CSV encoding: NULL is an empty unquoted field, everything else quoted with quotes doubled; a line per record', () => {
    const tenant = freshTenant();
    const records = outputs(tenant, 2);
    const text = stageCsv('batch-1', records).toString('utf8');
    expect(text.startsWith('"batch-1","')).toBe(true);
    // A newline inside a value is data, inside its quotes.
    expect(text).toContain('"m ""0"", \\x\nend"');
    // invocation_id is absent: SQL NULL, two commas in a row.
    expect(text).toMatch(/,,/);
    expect(text.split('\n"batch-1",')).toHaveLength(2);
    expect(text.endsWith('\n')).toBe(true);
  });

  test("the CSV's per-kind fast paths write what the general per-value encoding (toStageRow) writes, for every type", () => {
    // The documented rule, applied to toStageRow's values: NULL empty, anything else quoted, `"` doubled.
    const general = (batchId: string, records: readonly HubRecord[]): string =>
      records
        .map((r) =>
          [batchId, ...toStageRow(r)].map((v) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`)).join(','),
        )
        .join('\n') + '\n';
    const tenant = freshTenant();
    const full = fullRecords();
    for (const type of RECORD_TYPES) {
      const [sealed] = sealBatch(tenant, type, [full[type]]);
      // A mixed batch too: the encoders follow each record's type.
      const batch = [sealed as HubRecord, ...outputs(tenant, 3)];
      expect(stageCsv('b"1', batch).toString('utf8')).toBe(general('b"1', batch));
    }
    // More lines than one chunk of the builder (256), with quotes, newlines and absent fields.
    const many = outputs(tenant, 600);
    expect(stageCsv('batch-2', many).toString('utf8')).toBe(general('batch-2', many));
  });

  test('a large batch is encoded in turns of the event loop, to the same bytes as in one piece', async () => {
    const many = outputs(freshTenant(), 2500);
    // An immediate queued now runs at the next turn: before the encoding resolves only if it
    // gave the loop back (in one piece, awaiting it would take microtasks only).
    let turned = false;
    setImmediate(() => (turned = true));
    const bytes = await stageCsvInTurns('batch-3', many);
    expect(turned).toBe(true);
    expect(bytes.equals(stageCsv('batch-3', many))).toBe(true);
    expect(bytes.toString('utf8').split('\n"batch-3",')).toHaveLength(2500);
  });

  test('files asked for side by side each hold their own batch, and are gone once used', async () => {
    const writer = new StageFileWriter();
    const tenant = freshTenant();
    const batches = [outputs(tenant, 2500), outputs(tenant, 1200), outputs(tenant, 3)];
    try {
      const seen = await Promise.all(
        batches.map((records, i) =>
          writer.withFile(`b-${i}`, records, async (file) => ({
            path: file.path,
            text: readFileSync(file.path),
          })),
        ),
      );
      seen.forEach((s, i) => {
        expect(s.text.equals(stageCsv(`b-${i}`, batches[i] as HubRecord[]))).toBe(true);
        expect(existsSync(s.path)).toBe(false);
      });
    } finally {
      await writer.dispose();
    }
  });
});

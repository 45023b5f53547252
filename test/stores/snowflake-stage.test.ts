/**
 * Staging by file: the emulator's PUT (a LOCAL_FS table stage the real
 * snowflake-sdk uploads into) and COPY INTO (CSV through DuckDB's read_csv,
 * all or nothing).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as SnowflakeSdk from 'snowflake-sdk';
import { loadSnowflakeSdk } from '../../src/stores/snowflake/snowflake-connection';
import { type SnowflakeEmulator, startSnowflakeEmulator } from '../support/snowflake-emulator';

type Row = Record<string, unknown>;

const CSV =
  "FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ESCAPE_UNENCLOSED_FIELD = NONE)";

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

  test('a bad row fails the whole load naming file and line (100080), and nothing of the file is loaded', async () => {
    const path = file('bad.csv', '"a","1","x"\n"b","2"\n');
    await exec(`PUT 'file://${path}' @"SA"."S".%"T" AUTO_COMPRESS = FALSE`);
    const err = await failure(exec(`COPY INTO "SA"."S"."T" FROM @"SA"."S".%"T" FILES = ('bad.csv') ${CSV}`));
    expect(err.code).toBe('100080');
    expect(err.message).toMatch(/File 'bad\.csv', line 2/);
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

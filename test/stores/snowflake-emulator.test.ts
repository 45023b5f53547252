/**
 * The Snowflake wire emulator, driven by the real snowflake-sdk over HTTP (and
 * by raw HTTP where the driver hides the wire: retries, gzip, status codes).
 */
import { gzipSync } from 'node:zlib';
import type * as SnowflakeSdk from 'snowflake-sdk';
import { loadSnowflakeSdk } from '../../src/stores/snowflake/snowflake-connection';
import { type SnowflakeEmulator, startSnowflakeEmulator } from '../support/snowflake-emulator';
import { splitStatements, translate } from '../support/snowflake-emulator/translate';

type Row = Record<string, unknown>;

async function connect(emulator: SnowflakeEmulator, password = 'test'): Promise<SnowflakeSdk.Connection> {
  const sdk = await loadSnowflakeSdk();
  const conn = sdk.createConnection({
    account: 'emulator',
    accessUrl: emulator.url,
    username: 'tester',
    password,
    warehouse: 'WH',
    sfRetryMaxLoginRetries: 0,
  } as SnowflakeSdk.ConnectionOptions);
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return conn;
}

function exec(
  conn: SnowflakeSdk.Connection,
  sqlText: string,
  binds?: unknown[],
  extra: Partial<SnowflakeSdk.StatementOption> = {},
): Promise<Row[]> {
  return new Promise((resolve, reject) =>
    conn.execute({
      sqlText,
      binds: binds as SnowflakeSdk.Binds,
      ...extra,
      complete: (err, _s, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
    }),
  );
}

async function rejection(
  p: Promise<unknown>,
): Promise<{ code?: string; sqlState?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; sqlState?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('Snowflake wire emulator', () => {
  let emulator: SnowflakeEmulator;
  let conn: SnowflakeSdk.Connection;
  /** Called with each statement as the emulator receives it (before it runs). */
  let queryReceived: ((sql: string) => void) | undefined;

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator({
      chunkRows: 50,
      queryInProgressMs: 150,
      onQuery: (sql) => queryReceived?.(sql),
    });
    conn = await connect(emulator);
    await exec(conn, 'CREATE DATABASE IF NOT EXISTS "EMU"');
    await exec(conn, 'CREATE SCHEMA IF NOT EXISTS "EMU"."S"');
    await exec(
      conn,
      'CREATE TABLE IF NOT EXISTS "EMU"."S"."T" (ID VARCHAR, AMOUNT NUMBER(20,6), AT_TS TIMESTAMP_NTZ(3), DOC VARIANT, BLOB_COL BINARY)',
    );
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => conn.destroy(() => resolve()));
    await emulator.close();
  });

  test('login rejects a wrong password with Snowflake code 390100', async () => {
    const err = await rejection(connect(emulator, 'wrong'));
    expect(err.code).toBe('390100');
  });

  test('array binds insert many rows; types round-trip (NUMBER exact, TIMESTAMP_NTZ, VARIANT, BINARY)', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => [
      `id-${String(i).padStart(3, '0')}`,
      `${i}.000001`,
      '2026-03-01 12:00:00.123',
      JSON.stringify({ i, tags: ['a', i] }),
      Buffer.from([i, 255]).toString('base64'),
    ]);
    const inserted = await exec(
      conn,
      'INSERT INTO "EMU"."S"."T" (ID, AMOUNT, AT_TS, DOC, BLOB_COL) SELECT column1, column2, column3, PARSE_JSON(column4), TO_BINARY(column5, \'BASE64\') FROM (VALUES (?, ?, ?, ?, ?))',
      rows,
    ).catch((err: unknown) => err);
    // Array binds are only for INSERT ... VALUES: anything else is refused loudly.
    expect((inserted as { code?: string }).code).toBe('000002');
    await exec(
      conn,
      'CREATE TABLE IF NOT EXISTS "EMU"."S"."STAGE" (ID VARCHAR, AMOUNT VARCHAR, AT_TS VARCHAR, DOC VARCHAR, B VARCHAR)',
    );
    const res = await exec(
      conn,
      'INSERT INTO "EMU"."S"."STAGE" (ID, AMOUNT, AT_TS, DOC, B) VALUES (?, ?, ?, ?, ?)',
      rows,
    );
    expect(res).toEqual([{ 'number of rows inserted': 120 }]);
    await exec(
      conn,
      'INSERT INTO "EMU"."S"."T" SELECT ID, CAST(AMOUNT AS NUMBER(20,6)), CAST(AT_TS AS TIMESTAMP_NTZ(3)), PARSE_JSON(DOC), TO_BINARY(B, \'BASE64\') FROM "EMU"."S"."STAGE"',
    );
    // 120 rows with chunkRows 50: two chunks are fetched by the driver.
    const out = await exec(
      conn,
      'SELECT ID, AMOUNT, DATE_PART(EPOCH_MILLISECOND, AT_TS) AS MS, DOC, TO_JSON(DOC) AS DOC_TEXT, BLOB_COL FROM "EMU"."S"."T" ORDER BY ID',
      [],
      { fetchAsString: ['Number'] },
    );
    expect(out).toHaveLength(120);
    const { BLOB_COL: blob, ...rest } = out[7] as Row;
    expect(Buffer.from(blob as Buffer)).toEqual(Buffer.from([7, 255]));
    expect(rest).toEqual({
      ID: 'id-007',
      AMOUNT: '7.000001',
      MS: String(Date.parse('2026-03-01T12:00:00.123Z')),
      DOC: { i: 7, tags: ['a', 7] },
      DOC_TEXT: '{"i":7,"tags":["a",7]}',
    });
    expect(out[119]?.ID).toBe('id-119');
  });

  test('single binds by position (?) and by number (:N) are literals, never SQL', async () => {
    const evil = "x' OR '1'='1";
    const byPos = await exec(conn, 'SELECT COUNT(*) AS N FROM "EMU"."S"."T" WHERE ID = ?', [evil]);
    expect(byPos).toEqual([{ N: 0 }]);
    const byNum = await exec(conn, 'SELECT :2 AS B, :1 AS A, :1 AS A2', ['one', 'two']);
    expect(byNum).toEqual([{ B: 'two', A: 'one', A2: 'one' }]);
  });

  test('errors carry Snowflake codes: missing object 002003, syntax 001003, unsupported 000002', async () => {
    const missing = await rejection(exec(conn, 'SELECT * FROM "NOPE"."S"."T"'));
    expect([missing.code, missing.sqlState]).toEqual(['002003', '42S02']);
    const syntax = await rejection(exec(conn, 'SELEKT 1'));
    expect(syntax.code).toBe('001003');
    for (const [sql, feature] of [
      ['SELECT IFF(1 = 1, 1, 2)', 'IFF'],
      ['CREATE STREAM S1 ON TABLE "EMU"."S"."T"', 'CREATE STREAM'],
      ['CREATE TASK K1 AS SELECT 1', 'CREATE TASK'],
      ['SELECT DOC:i FROM "EMU"."S"."T"', 'semi-structured'],
      ["ALTER SESSION SET TIMEZONE = 'UTC'", 'ALTER SESSION'],
    ] as const) {
      const err = await rejection(exec(conn, sql));
      expect(err.code).toBe('000002');
      expect(err.message).toContain(feature);
    }
  });

  test('COUNT_IF answers 0 on an empty input, as Snowflake does', async () => {
    const out = await exec(conn, 'SELECT COUNT_IF(ID = \'none\') AS N FROM "EMU"."S"."T" WHERE 1 = 0');
    expect(out).toEqual([{ N: 0 }]);
  });

  test('CAST to NUMBER(19,0) and wider rounds half away from zero and refuses overflow, as Snowflake does', async () => {
    const out = await exec(
      conn,
      "SELECT CAST('12.5' AS NUMBER(19,0)) AS A, CAST('-0.5' AS NUMBER(19,0)) AS B, CAST(2.5 AS NUMBER(38,0)) AS C, " +
        "CAST('9999999999999999999' AS NUMBER(19,0)) AS D, CAST(' 7 ' AS NUMBER(20, 0)) AS F",
      undefined,
      { fetchAsString: ['Number'] },
    );
    expect(out).toEqual([{ A: '13', B: '-1', C: '3', D: '9999999999999999999', F: '7' }]);
    const err = await rejection(exec(conn, "SELECT CAST('10000000000000000000' AS NUMBER(19,0)) AS X"));
    expect(err.code).toBe('100038');
  });

  test('slow statements are answered 333333 and polled through getResultUrl', async () => {
    emulator.delayMs = 500;
    try {
      const out = await exec(conn, 'SELECT 42 AS ANSWER');
      expect(out).toEqual([{ ANSWER: 42 }]);
    } finally {
      emulator.delayMs = 0;
    }
  });

  test('asynchronous queries: 333334, status through /monitoring, results fetched by query id', async () => {
    emulator.delayMs = 200;
    let queryId = '';
    try {
      await new Promise<void>((resolve, reject) =>
        conn.execute({
          sqlText: 'SELECT 7 AS SEVEN',
          asyncExec: true,
          complete: (err, stmt) => {
            if (err) return reject(err);
            queryId = stmt.getQueryId();
            resolve();
          },
        }),
      );
      expect(await conn.getQueryStatus(queryId)).toBe('RUNNING');
    } finally {
      emulator.delayMs = 0;
    }
    const stmt = await conn.getResultsFromQueryId({ queryId });
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      const out: unknown[] = [];
      stmt
        .streamRows()
        .on('data', (r: unknown) => out.push(r))
        .on('end', () => resolve(out))
        .on('error', reject);
    });
    expect(rows).toEqual([{ SEVEN: 7 }]);
    expect(await conn.getQueryStatus(queryId)).toBe('SUCCESS');
  });

  test('multi-statement needs MULTI_STATEMENT_COUNT (000008 without it) and runs every statement', async () => {
    const err = await rejection(exec(conn, 'SELECT 1; SELECT 2'));
    expect(err.code).toBe('000008');
    await exec(
      conn,
      'CREATE TABLE IF NOT EXISTS "EMU"."S"."M" (X NUMBER); INSERT INTO "EMU"."S"."M" VALUES (1); INSERT INTO "EMU"."S"."M" VALUES (2)',
      [],
      { parameters: { MULTI_STATEMENT_COUNT: 3 } },
    );
    expect(await exec(conn, 'SELECT SUM(X) AS S FROM "EMU"."S"."M"')).toEqual([{ S: 3 }]);
  });

  test('a retried request (same requestId) is answered from the first run, never executed twice', async () => {
    const login = await post(emulator, '/session/v1/login-request', {
      data: { LOGIN_NAME: 'raw', PASSWORD: 'test' },
    });
    const token = (login.body.data as { token: string }).token;
    await post(
      emulator,
      '/queries/v1/query-request?requestId=r1',
      { sqlText: 'CREATE TABLE IF NOT EXISTS "EMU"."S"."R" (X NUMBER)' },
      token,
    );
    const insert = { sqlText: 'INSERT INTO "EMU"."S"."R" VALUES (1)' };
    const first = await post(emulator, '/queries/v1/query-request?requestId=r2', insert, token);
    // The second copy is gzip without a Content-Encoding header, as the driver may send it.
    const again = await post(emulator, '/queries/v1/query-request?requestId=r2', insert, token, true);
    expect(again.body).toEqual(first.body);
    const count = await post(
      emulator,
      '/queries/v1/query-request?requestId=r3',
      { sqlText: 'SELECT COUNT(*) FROM "EMU"."S"."R"' },
      token,
    );
    expect((count.body.data as { rowset: unknown }).rowset).toEqual([['1']]);
  });

  test('never answers 5xx: failures are HTTP 200 success:false; bad tokens 401 with 390104', async () => {
    const login = await post(emulator, '/session/v1/login-request', {
      data: { LOGIN_NAME: 'raw', PASSWORD: 'test' },
    });
    const token = (login.body.data as { token: string }).token;
    const bad = await post(
      emulator,
      '/queries/v1/query-request?requestId=x1',
      { sqlText: 'SELECT * FROM nowhere' },
      token,
    );
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ success: false, code: '002003', data: { errorCode: '002003' } });
    const garbage = await post(emulator, '/queries/v1/query-request?requestId=x2', 'not json', token);
    expect(garbage.status).toBe(200);
    expect(garbage.body.success).toBe(false);
    const unauth = await post(
      emulator,
      '/queries/v1/query-request?requestId=x3',
      { sqlText: 'SELECT 1' },
      'bogus',
    );
    expect([unauth.status, unauth.body.code]).toEqual([401, '390104']);
    for (const path of ['/session/heartbeat', '/telemetry/send']) {
      expect((await post(emulator, path, {}, token)).body.success).toBe(true);
    }
    const logout = await post(emulator, '/session?delete=true', {}, token);
    expect(logout.body.success).toBe(true);
    const after = await post(
      emulator,
      '/queries/v1/query-request?requestId=x4',
      { sqlText: 'SELECT 1' },
      token,
    );
    expect(after.status).toBe(401);
  });

  test('an aborted statement that has not started is cancelled with 000604', async () => {
    const login = await post(emulator, '/session/v1/login-request', {
      data: { LOGIN_NAME: 'raw', PASSWORD: 'test' },
    });
    const token = (login.body.data as { token: string }).token;
    emulator.delayMs = 400;
    // The abort is sent once the emulator has the statement (an event), not after a guessed time.
    const received = new Promise<void>((resolve) => {
      queryReceived = (sql) => {
        if (sql !== 'SELECT 1') return;
        queryReceived = undefined;
        resolve();
      };
    });
    try {
      const running = post(
        emulator,
        '/queries/v1/query-request?requestId=a1',
        { sqlText: 'SELECT 1' },
        token,
      );
      await received;
      await post(emulator, '/queries/v1/abort-request', { requestId: 'a1' }, token);
      // The abort ends the artificial delay: the waiting request gets the cancellation at once.
      const first = await running;
      expect(first.body).toMatchObject({ success: false, code: '000604' });
      expect(emulator.stats.aborted).toBeGreaterThan(0);
    } finally {
      emulator.delayMs = 0;
    }
  });

  test('stop and restart on the same port keep sessions and data', async () => {
    const port = emulator.port;
    await emulator.stop();
    expect(emulator.running).toBe(false);
    await emulator.restart();
    expect(emulator.port).toBe(port);
    expect(await exec(conn, 'SELECT COUNT(*) AS N FROM "EMU"."S"."T"')).toEqual([{ N: 120 }]);
  });
});

describe('emulator SQL translation', () => {
  const noBinds = (): string => {
    throw new Error('no binds');
  };
  test('rewrites the documented Snowflake forms and nothing inside literals', () => {
    const t = translate(
      "SELECT CAST(x AS NUMBER(20,6)), CAST(y AS TIMESTAMP_NTZ(3)), PARSE_JSON(z), 'NUMBER VARIANT' FROM t",
      noBinds,
    );
    expect(t.sql).toBe(
      "SELECT CAST(x AS DECIMAL(20,6)), CAST(y AS TIMESTAMP), sf_parse_json(z), 'NUMBER VARIANT' FROM t",
    );
    expect(translate('SELECT CAST(s."N" AS NUMBER(19,0)), CAST(m AS NUMBER(18,0))', noBinds).sql).toBe(
      'SELECT CAST(s."N" AS VARCHAR)::HUGEINT::DECIMAL(19,0), CAST(m AS DECIMAL(18,0))',
    );
    expect(translate('CREATE DATABASE IF NOT EXISTS "D1"', noBinds).sql).toBe(
      'ATTACH IF NOT EXISTS \':memory:\' AS "D1"',
    );
    expect(translate("SELECT 'it''s \\\\ \\n'", noBinds).sql).toBe("SELECT 'it''s \\ \n'");
  });

  test('splits statements on top-level semicolons only', () => {
    expect(splitStatements("SELECT ';'; SELECT 2;")).toEqual(["SELECT ';'", 'SELECT 2']);
  });
});

async function post(
  emulator: SnowflakeEmulator,
  path: string,
  body: unknown,
  token?: string,
  gzip = false,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Snowflake Token="${token}"` } : {}),
    },
    body: gzip ? gzipSync(text) : text,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * bench:move's Snowflake emulator, in a process of its own: a Snowflake
 * warehouse is another machine, and an emulator on the copier's event loop
 * (parsing the driver's JSON bodies, building DuckDB binds) took that time
 * from the copy it was measuring.
 *
 * Talks to its parent over the IPC channel:
 * - sends `{ uri }` (a `snowflake://` store URI) once listening;
 * - on `{ cpu: true }`, answers `{ cpuMs }`: this process's CPU time so far
 *   (all threads), so the parent can count the emulator's CPU during a copy;
 * - on `{ baseline: { table, records, tenant } }`, times DuckDB's own insert
 *   (see {@link duckdbInsert}) and answers `{ baselineMs, cpuMs }` (the CPU of
 *   this process during it);
 * - on `{ close: true }`, closes the emulator and exits.
 */
import { performance } from 'node:perf_hooks';
import { parseTenantId } from '../src/hub/tenant';
import { emulatorStoreUri, startSnowflakeEmulator } from '../test/support/snowflake-emulator';
import type { EngineConnection } from '../test/support/snowflake-emulator/engine';
import { benchOutputs } from './move-data';
import { moveModules } from './move-modules';

/** What the parent asks the child to time: `records` outputs of `tenant` into `table` (unquoted names). */
export interface BaselineRequest {
  readonly tenant: string;
  readonly records: number;
  readonly table: { readonly database: string; readonly schema: string; readonly name: string };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Largest integer DuckDB's appender takes as a 32-bit `appendInteger`. */
const INT32 = 2 ** 31;

/**
 * DuckDB's own insert of the bench's outputs: the most direct bulk path a
 * Node program has, DuckDB's appender (`@duckdb/node-api` `DuckDBAppender`),
 * appending one row per record straight into the tenant's typed `OUTPUTS`
 * table (the store's DDL: primary key, NUMBER(19,0) as DECIMAL(19,0),
 * NUMBER(20,6), TIMESTAMP, JSON), then closed (its rows committed). Each value
 * goes in as a program holding the records would append it: integers as
 * integers, everything else as its text (the same text the store stages:
 * money as a decimal string, timestamps as `YYYY-MM-DD HH:MI:SS.FFF`, JSON as
 * JSON), DuckDB converting to the column's type. No driver, HTTP, SQL
 * translation or staging table; nor reading or verifying a source. The
 * records are built before the clocks start.
 * @returns wall time and this process's CPU time, in ms.
 */
async function duckdbInsert(
  duck: EngineConnection,
  request: BaselineRequest,
): Promise<{ baselineMs: number; cpuMs: number }> {
  const records = benchOutputs(request.records, parseTenantId(request.tenant));
  // The store's own encoding, from the same build as the copy it is compared with.
  const { toStageRow } = moveModules().snowflakeRows;
  const kinds = moveModules()
    .snowflakeSql.columnsOf('outputs')
    .map((c) => c.kind);
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const { database, schema, name } = request.table;
  const appender = await duck.duck.createAppender(name, schema, database);
  for (const r of records) {
    const row = toStageRow(r);
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      if (v === null || v === undefined) appender.appendNull();
      else if (kinds[c] === 'int') {
        const n = Number(v);
        if (n > -INT32 && n < INT32) appender.appendInteger(n);
        else appender.appendBigInt(BigInt(v));
      } else appender.appendVarchar(v);
    }
    appender.endRow();
  }
  appender.closeSync();
  return { baselineMs: performance.now() - t0, cpuMs: cpuMs() - cpu0 };
}

async function main(): Promise<void> {
  const send = (message: unknown): void => void process.send?.(message);
  // One DuckDB thread: on the bench's 2 cores, shared with the copier and PostgreSQL, a second
  // one mostly contended (emulator CPU per written record 11-13 -> 8.5-11 µs, write side alone).
  const emulator = await startSnowflakeEmulator({ threads: 1 });
  const duck = await emulator.engine.connect();
  process.on('message', (message: { baseline?: BaselineRequest; close?: boolean; cpu?: boolean }) => {
    void (async () => {
      if (message.close) {
        duck.close();
        await emulator.close();
        process.exit(0);
      }
      if (message.cpu) return send({ cpuMs: cpuMs() });
      const b = message.baseline;
      if (!b) return;
      send(await duckdbInsert(duck, b));
    })().catch((err: unknown) => send({ error: String(err) }));
  });
  send({ uri: emulatorStoreUri(emulator, { flushMs: 2000, timeoutMs: 600_000 }) });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

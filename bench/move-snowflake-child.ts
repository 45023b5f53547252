/**
 * bench:move's Snowflake emulator, in a process of its own: a Snowflake
 * warehouse is another machine, and an emulator on the copier's event loop
 * (parsing the driver's JSON bodies, building DuckDB binds) took that time
 * from the copy it was measuring.
 *
 * Talks to its parent over the IPC channel:
 * - sends `{ uri }` (a `snowflake://` store URI) once listening;
 * - on `{ baseline: { tenant, records, batch, sql } }`, runs DuckDB's own
 *   insert rate: the store's write statements of one batch (`sql`, for a
 *   tenant the parent provisioned), the records built here as the parent
 *   builds them, bound directly on the emulator's DuckDB connection, and
 *   answers `{ baselineMs }`;
 * - on `{ close: true }`, closes the emulator and exits.
 */
import { performance } from 'node:perf_hooks';
import { parseTenantId } from '../src/hub/tenant';
import { toStageRow } from '../src/stores/snowflake/snowflake-rows';
import type { WriteStatements } from '../src/stores/snowflake/snowflake-sql';
import { emulatorStoreUri, startSnowflakeEmulator } from '../test/support/snowflake-emulator';
import type { Bindings, EngineConnection } from '../test/support/snowflake-emulator/engine';
import { benchOutputs } from './move-data';

/** What the parent asks the child to time. */
export interface BaselineRequest {
  readonly tenant: string;
  readonly records: number;
  readonly batch: number;
  readonly sql: WriteStatements;
}

/** One DuckDB statement run directly, binds shaped as the Snowflake driver sends them. */
async function direct(conn: EngineConnection, sql: string, binds: unknown[]): Promise<void> {
  const bindings: Bindings = {};
  if (binds.length > 0 && Array.isArray(binds[0])) {
    const rows = binds as (string | null)[][];
    (rows[0] ?? []).forEach((_v, c) => {
      bindings[String(c + 1)] = { type: 'TEXT', value: rows.map((r) => r[c] ?? null) };
    });
  } else binds.forEach((v, i) => (bindings[String(i + 1)] = { type: 'TEXT', value: String(v) }));
  await conn.execute(sql, bindings);
}

async function main(): Promise<void> {
  const send = (message: unknown): void => void process.send?.(message);
  const emulator = await startSnowflakeEmulator();
  process.on('message', (message: { baseline?: BaselineRequest; close?: boolean }) => {
    void (async () => {
      if (message.close) {
        await emulator.close();
        process.exit(0);
      }
      const b = message.baseline;
      if (!b) return;
      const records = benchOutputs(b.records, parseTenantId(b.tenant));
      const duck = await emulator.engine.connect();
      const t0 = performance.now();
      for (let at = 0; at < records.length; at += b.batch) {
        const id = `b${at}`;
        const rows = records.slice(at, at + b.batch).map((r) => [id, ...toStageRow(r)]);
        await direct(duck, b.sql.stage, rows);
        await direct(duck, b.sql.existing, [id]);
        await direct(duck, b.sql.insert, [id]);
        await direct(duck, b.sql.cleanup, [id]);
      }
      send({ baselineMs: performance.now() - t0 });
      duck.close();
    })().catch((err: unknown) => send({ error: String(err) }));
  });
  send({ uri: emulatorStoreUri(emulator, { flushMs: 2000, timeoutMs: 600_000 }) });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

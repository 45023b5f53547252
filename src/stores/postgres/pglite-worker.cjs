/**
 * Runs one PGlite database in a worker thread for pglite-database.ts.
 *
 * Why a worker: PGlite loads its WebAssembly with dynamic import(), which
 * fails inside Jest's module sandbox; a worker is a plain Node context. It also
 * keeps PGlite's CPU work (it is PostgreSQL, single-threaded) off the
 * gateway's event loop.
 *
 * Protocol (one message in, one message out, matched by id):
 *   { id, op: 'query', sql, params, raw? } -> { id, rows, fields: [[name, typeOid]] }
 *   { id, op: 'exec', sql }               -> { id }
 *   { id, op: 'batch', begin, statements: [{sql, params, copyIn?, raw?}] }
 *       (a statement with `copyIn` is a staging COPY FROM STDIN and its data, see copyIn below)
 *       runs `begin` (default BEGIN), the statements, COMMIT (ROLLBACK on error) -> { id, results: [{rows, fields}] }
 *   { id, op: 'close' }                   -> { id }
 * Errors come back as { id, error: { message, code } }. Values of types the
 * main thread parses itself (timestamptz, int8, numeric) are sent as text.
 * A `raw` statement's rows come back as arrays of every column's text (null
 * for NULL), no parser applied: the main thread decodes them itself (see
 * Statement.decode in queryable.ts).
 *
 * Bytes: a Uint8Array parameter of a bytea or bytea[] type is bound in
 * binary (the store sends artifact bodies as a binary bytea[], see byteaArray
 * in postgres-sql.ts), and bytea results are decoded from hex by Buffer:
 * PGlite's own bytea (de)serialisers build one JS value per byte, seconds and
 * hundreds of MB for a 10 MiB body.
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { Blob, Buffer } = require('node:buffer');
const { PGlite, types } = require('@electric-sql/pglite');

const asText = (text) => text;
const BYTEA = 17;
const BYTEA_ARRAY = 1001;
const hexBytes = (text) => {
  const b = Buffer.from(text.slice(2), 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};
const db = new PGlite({
  dataDir: workerData.dataDir || undefined,
  parsers: { 1184: asText, 20: asText, 1700: asText, [BYTEA]: hexBytes },
});
/** A serialiser that binds bytes as they are (binary) and leaves anything else to PGlite's. */
const bytesAsIs = (oid) => (value) => (ArrayBuffer.isView(value) ? value : db.serializers[oid](value));
const QUERY_OPTIONS = { serializers: { [BYTEA]: bytesAsIs(BYTEA), [BYTEA_ARRAY]: bytesAsIs(BYTEA_ARRAY) } };

let rawOptions;
/** Options that leave every value as PostgreSQL's text, rows as arrays (every type PGlite would parse, as text). */
const rawQueryOptions = () => {
  rawOptions ??= {
    ...QUERY_OPTIONS,
    rowMode: 'array',
    parsers: Object.fromEntries(
      [...Object.keys(types.parsers), ...Object.keys(db.parsers)].map((oid) => [oid, asText]),
    ),
  };
  return rawOptions;
};
const run = (s) => db.query(s.sql, s.params, s.raw ? rawQueryOptions() : QUERY_OPTIONS);

const shape = (r) => ({ rows: r.rows, fields: r.fields.map((f) => [f.name, f.dataTypeID]) });

/** The only COPY the store sends: its rows into its own staging table (postgres-stage-sql.ts). */
const STAGE_COPY = /^COPY pg_temp\.hub_stage_[a-z_]+ \([a-z_, ]+\) FROM STDIN$/;

/**
 * `COPY ... FROM STDIN` with its data: PGlite reads COPY data from a blob
 * named `/dev/blob`, and PostgreSQL lets only pg_read_server_files COPY from
 * a file, so the COPY alone runs as the session's (superuser) role and the
 * application role is restored after it, in the same transaction. Only the
 * staging COPY passes; it writes a temporary table no other session sees, and
 * the insert from it runs as the application role under row-level security.
 * On failure the transaction aborts, and its rollback restores the role.
 */
async function copyIn(s) {
  if (!STAGE_COPY.test(s.sql)) throw new Error('pglite worker: refused COPY outside the staging tables');
  const role = (await db.query('SELECT current_user AS r')).rows[0].r;
  await db.query("SELECT set_config('role', 'none', true)");
  const sql = s.sql.replace(/FROM STDIN$/, "FROM '/dev/blob'");
  const result = shape(await db.query(sql, [], { blob: new Blob([s.copyIn]) }));
  await db.query("SELECT set_config('role', $1, true)", [role]);
  return result;
}

async function handle(msg) {
  await db.waitReady;
  switch (msg.op) {
    case 'query':
      return shape(await run(msg));
    case 'exec':
      await db.exec(msg.sql);
      return {};
    case 'batch': {
      await db.query(msg.begin || 'BEGIN');
      try {
        const results = [];
        for (const s of msg.statements)
          results.push(s.copyIn !== undefined ? await copyIn(s) : shape(await run(s)));
        await db.query('COMMIT');
        return { results };
      } catch (err) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    case 'close':
      await db.close();
      return {};
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

parentPort.on('message', (msg) => {
  handle(msg).then(
    (out) => parentPort.postMessage({ id: msg.id, ...out }),
    (err) =>
      parentPort.postMessage({
        id: msg.id,
        error: { message: String((err && err.message) || err), code: err && err.code },
      }),
  );
});

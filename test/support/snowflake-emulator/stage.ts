/**
 * Table stages for the emulator: `PUT` answered with a `LOCAL_FS` stage (the
 * driver's file transfer agent copies the file into a directory of the
 * emulator's own temporary folder) and `COPY INTO <table> FROM @...%<table>`
 * loading CSV files from that directory with DuckDB's `read_csv`, in one
 * transaction (`ON_ERROR = ABORT_STATEMENT`: a bad row loads nothing).
 *
 * Only table stages (`@db.schema.%table`, the stage every Snowflake table
 * has), only uploads (no `GET`), only CSV with the options listed in
 * {@link parseFileFormat}; anything else is refused by name (`000002`). A real
 * account answers `PUT` with a cloud stage (S3, Azure, GCS) and encryption
 * material; the driver's `LOCAL_FS` branch (no encryption, a plain file copy)
 * exists for Snowflake's own test deployments, which is what this is.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Body } from './wire';
import { type EngineConnection, type WireResult, mapDuckError } from './engine';
import { type CsvFormat, bool, literal, options, parseFileFormat, syntax, tokens } from './stage-options';
import { SnowflakeEmulatorError, duckString, unsupported } from './translate';

/** An identifier as written: `"Quoted"` kept, unquoted upper-cased (Snowflake's rule). */
const IDENT = String.raw`(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)`;
/** `@db.schema.%table` (namespace optional parts not supported: qualify fully). */
const TABLE_STAGE = new RegExp(String.raw`^@(${IDENT})\.(${IDENT})\.%(${IDENT})$`);
/** `db.schema.table`. */
const TABLE = new RegExp(String.raw`^(${IDENT})\.(${IDENT})\.(${IDENT})$`);

function identName(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1) : ident.toUpperCase();
}

/** A directory name for an identifier that can never climb out of the stage root. */
function safeSegment(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

/** One table stage: where its files live, and the table it belongs to (as written in SQL). */
interface TableStage {
  readonly dir: string;
  readonly table: string;
}

/** The emulator's stages: one directory per table stage under a temporary root. */
export class Stages {
  /**
   * Load metadata: per table, the files loaded into it (name, size and
   * modification time), which a later COPY skips as Snowflake's does.
   */
  private readonly loaded = new Map<string, Set<string>>();

  constructor(private readonly root: string) {}

  /** Removes every staged file (the emulator is closing). */
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private tableStage(ref: string): TableStage {
    const m = TABLE_STAGE.exec(ref);
    if (!m) {
      if (/^@~/.test(ref)) throw unsupported('user stages (@~)');
      if (/^@/.test(ref) && !ref.includes('%'))
        throw unsupported('named stages (only table stages @db.schema.%table)');
      throw syntax(`expected a fully qualified table stage @db.schema.%table, got ${ref}`);
    }
    const [db, schema, table] = [m[1] as string, m[2] as string, m[3] as string];
    return {
      dir: join(this.root, ...[db, schema, table].map((i) => safeSegment(identName(i)))),
      table: `${db}.${schema}.${table}`,
    };
  }

  /**
   * Answers `PUT 'file://<path>' @db.schema.%table [AUTO_COMPRESS = ...]
   * [SOURCE_COMPRESSION = AUTO_DETECT|NONE|GZIP] [OVERWRITE = ...]
   * [PARALLEL = n]` with what the driver needs to upload the file itself: the
   * local path, and a LOCAL_FS stage location (the table stage's directory).
   * The table must exist (as on Snowflake, whose table stages come with
   * their tables).
   */
  async put(conn: EngineConnection, sql: string, queryId: string): Promise<Body> {
    const parts = tokens(sql.trim().replace(/;\s*$/, ''));
    const source = parts[1] ?? '';
    const raw = source.startsWith("'") ? literal(source) : source;
    if (!raw.startsWith('file://')) throw syntax(`PUT needs a file:// source, got ${source}`);
    const stage = this.tableStage(parts[2] ?? '');
    await this.checkTable(conn, stage.table);
    const o = options(parts.slice(3));
    let autoCompress = true;
    let sourceCompression = 'auto_detect';
    let overwrite = false;
    let parallel = 4;
    for (const [key, value] of o) {
      if (key === 'AUTO_COMPRESS') autoCompress = bool(key, value);
      else if (key === 'OVERWRITE') overwrite = bool(key, value);
      else if (key === 'SOURCE_COMPRESSION') {
        sourceCompression = value.toLowerCase();
        if (!['auto_detect', 'none', 'gzip'].includes(sourceCompression))
          throw unsupported(`SOURCE_COMPRESSION = ${value}`);
      } else if (key === 'PARALLEL') {
        if (!/^\d+$/.test(value)) throw syntax('PARALLEL must be a whole number');
        parallel = Number(value);
      } else throw unsupported(`PUT option ${key}`);
    }
    mkdirSync(stage.dir, { recursive: true });
    return {
      success: true,
      code: null,
      message: null,
      data: {
        queryId,
        command: 'UPLOAD',
        src_locations: [raw.slice('file://'.length)],
        autoCompress,
        sourceCompression,
        overwrite,
        parallel,
        encryptionMaterial: null,
        stageInfo: {
          locationType: 'LOCAL_FS',
          location: stage.dir,
          path: '',
          region: null,
          storageAccount: null,
          isClientSideEncrypted: false,
          creds: {},
        },
      },
    };
  }

  private async checkTable(conn: EngineConnection, table: string): Promise<string[]> {
    try {
      return (await conn.duck.runAndReadAll(`SELECT * FROM ${table} LIMIT 0`)).columnNames();
    } catch (err) {
      throw mapDuckError(err);
    }
  }

  /**
   * Runs `COPY INTO db.schema.table FROM @db.schema.%table [FILES = ('a', ...)]
   * FILE_FORMAT = (TYPE = CSV ...) [ON_ERROR = ABORT_STATEMENT] [PURGE = TRUE|FALSE]`:
   * the named files (or every file of the stage) are read by DuckDB's
   * `read_csv`, all columns as text, each row's fields matched to the
   * table's columns by position (a row with another count of fields fails),
   * and inserted in one transaction. Answers one row per file as Snowflake
   * does (file, status, rows_parsed, rows_loaded, ...). PURGE removes the
   * loaded files after the commit.
   */
  async copyInto(conn: EngineConnection, sql: string): Promise<WireResult> {
    const m = /^\s*COPY\s+INTO\s+(\S+)\s+FROM\s+(\S+)([\s\S]*?);?\s*$/i.exec(sql);
    if (!m) throw syntax('expected COPY INTO db.schema.table FROM @db.schema.%table ...');
    const target = m[1] as string;
    if (!TABLE.test(target)) {
      if (target.includes('(')) throw unsupported('COPY INTO with a column list or a transformation');
      throw syntax(`COPY INTO needs a fully qualified table, got ${target}`);
    }
    if ((m[2] as string).startsWith('('))
      throw unsupported('COPY INTO ... FROM (SELECT ...) transformations');
    const stage = this.tableStage(m[2] as string);
    const o = options(tokens(m[3] as string));
    let files: string[] | undefined;
    let format: CsvFormat | undefined;
    let purge = false;
    for (const [key, value] of o) {
      if (key === 'FILES') {
        if (!/^\(.*\)$/s.test(value)) throw syntax("FILES = ('name', ...)");
        files = value
          .slice(1, -1)
          .split(',')
          .map((f) => literal(f.trim()));
      } else if (key === 'FILE_FORMAT') format = parseFileFormat(value);
      else if (key === 'ON_ERROR') {
        if (!/^'?ABORT_STATEMENT'?$/i.test(value)) throw unsupported(`ON_ERROR = ${value}`);
      } else if (key === 'PURGE') purge = bool(key, value);
      else throw unsupported(`COPY option ${key}`);
    }
    if (!format) format = parseFileFormat(undefined);
    const columns = await this.checkTable(conn, target);
    const available = readdirSyncSafe(stage.dir);
    const names = files ?? available;
    for (const f of names) {
      if (f.includes('/') || f.includes('\\') || f === '..' || !available.includes(f))
        throw new SnowflakeEmulatorError(
          '100176',
          '22000',
          `Remote file '${f}' was not found in stage @${stage.table.replace(/\.([^.]+)$/, '.%$1')}.`,
        );
    }
    // Files already loaded into this table are skipped (Snowflake keeps load metadata 64 days).
    const tableKey = (TABLE.exec(target) as RegExpExecArray)
      .slice(1, 4)
      .map((i) => identName(i as string))
      .join('.');
    const done = this.loaded.get(tableKey) ?? new Set<string>();
    const keyOf = new Map<string, string>();
    for (const f of names) {
      const st = statSync(join(stage.dir, f));
      keyOf.set(f, `${f}\u0000${st.size}\u0000${st.mtimeMs}`);
    }
    const fresh = names.filter((f) => !done.has(keyOf.get(f) as string));
    if (fresh.length === 0) return NOTHING_LOADED;
    const counts: number[] = [];
    let current = '';
    // One file loads in one INSERT, atomic on its own; several share a transaction.
    const several = fresh.length > 1;
    if (several) await conn.duck.run('BEGIN TRANSACTION');
    try {
      for (const f of fresh) {
        current = f;
        const read =
          `read_csv(${duckString(join(stage.dir, f))}, header = false, skip = ${format.skipHeader}, ` +
          `delim = ${duckString(format.delimiter)}, ` +
          (format.enclosedBy ? `quote = '"', escape = '"', ` : `quote = '', escape = '', `) +
          `allow_quoted_nulls = false, auto_detect = false, strict_mode = true, null_padding = false, ` +
          `compression = ${duckString(format.compression === 'auto' ? 'auto' : format.compression)}, ` +
          `columns = {${columns.map((_c, i) => `'c${i + 1}': 'VARCHAR'`).join(', ')}})`;
        const result = await conn.duck.runAndReadAll(`INSERT INTO ${target} SELECT * FROM ${read}`);
        counts.push(Number(result.getRows()[0]?.[0] ?? 0));
      }
      if (several) await conn.duck.run('COMMIT');
    } catch (err) {
      if (several) await conn.duck.run('ROLLBACK').catch(() => undefined);
      throw copyError(err, current, target, columns.length);
    }
    for (const f of fresh) done.add(keyOf.get(f) as string);
    while (done.size > 10_000) done.delete(done.values().next().value as string);
    this.loaded.set(tableKey, done);
    if (purge) for (const f of fresh) rmSync(join(stage.dir, f), { force: true });
    return copyResult(fresh, counts);
  }
}

/**
 * A failed load as Snowflake reports it: the file and line, and for a row
 * with another number of fields than the table has columns, code 100080.
 */
function copyError(err: unknown, file: string, target: string, columns: number): SnowflakeEmulatorError {
  const raw = err !== null && typeof err === 'object' && 'message' in err ? String(err.message) : String(err);
  const line = /CSV Error on Line: (\d+)/.exec(raw)?.[1];
  const found = /Expected Number of Columns: \d+ Found: (\d+)/.exec(raw)?.[1];
  if (line !== undefined && found !== undefined)
    return new SnowflakeEmulatorError(
      '100080',
      '22000',
      `Number of columns in file (${found}) does not match that of the corresponding table (${columns}), ` +
        `use file format option error_on_column_count_mismatch=false to ignore this error\n  File '${file}', line ${line} ` +
        `(COPY INTO ${target}: nothing loaded)`,
    );
  const e = mapDuckError(err);
  const where = line !== undefined ? `File '${file}', line ${line}` : `File '${file}'`;
  return new SnowflakeEmulatorError(
    e.code,
    e.sqlState,
    `${e.message}\n  ${where} (COPY INTO ${target}: nothing loaded)`,
  );
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  } catch {
    return [];
  }
}

function fixed(name: string): WireResult['rowtype'][number] {
  return {
    name,
    type: 'fixed',
    nullable: true,
    length: null,
    byteLength: null,
    precision: 19,
    scale: 0,
    database: '',
    schema: '',
    table: '',
    collation: null,
  };
}

function text(name: string): WireResult['rowtype'][number] {
  return {
    ...fixed(name),
    type: 'text',
    precision: null,
    scale: null,
    length: 16777216,
    byteLength: 16777216,
  };
}

/** COPY INTO's answer when every file named was loaded before. */
const NOTHING_LOADED: WireResult = {
  statementTypeId: 0x1000,
  rowtype: [text('status')],
  rowset: [['Copy executed with 0 files processed.']],
};

/** COPY INTO's answer: one row per file. */
function copyResult(files: readonly string[], counts: readonly number[]): WireResult {
  return {
    statementTypeId: 0x1000,
    rowtype: [
      text('file'),
      text('status'),
      fixed('rows_parsed'),
      fixed('rows_loaded'),
      fixed('error_limit'),
      fixed('errors_seen'),
      text('first_error'),
      fixed('first_error_line'),
      fixed('first_error_character'),
      text('first_error_column_name'),
    ],
    rowset: files.map((f, i) => [
      f,
      'LOADED',
      String(counts[i] ?? 0),
      String(counts[i] ?? 0),
      '1',
      '0',
      null,
      null,
      null,
      null,
    ]),
  };
}

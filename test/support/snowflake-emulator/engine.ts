/**
 * The emulator's execution engine: one DuckDB instance for the whole emulator
 * (so data survives a stop/restart of the HTTP side), one DuckDB connection per
 * Snowflake session, and the conversion of DuckDB results into Snowflake's JSON
 * rowset wire format (see README.md).
 */
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBResultReader,
  type DuckDBType,
  DuckDBTypeId,
} from '@duckdb/node-api';
import {
  type BindValue,
  MACROS,
  SnowflakeEmulatorError,
  type StatementKind,
  bindLiteral,
  translate,
} from './translate';

/** One column of a Snowflake `rowtype`. */
export interface WireColumn {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly length: number | null;
  readonly byteLength: number | null;
  readonly precision: number | null;
  readonly scale: number | null;
  readonly database: string;
  readonly schema: string;
  readonly table: string;
  readonly collation: null;
}

/** A statement's result in wire form (every value a string or null). */
export interface WireResult {
  readonly statementTypeId: number;
  readonly rowtype: readonly WireColumn[];
  readonly rowset: (string | null)[][];
}

/** The bindings map of a query-request: `"1": {type, value}` where value is a string, null or (array binds) an array. */
export type Bindings = Record<string, { type: string; value: string | null | (string | null)[] }>;

const STATEMENT_TYPE: Record<StatementKind, number> = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  merge: 0x3400,
  ddl: 0x6000,
  noop: 0x6000,
};

/** Owns the DuckDB instance shared by every session of one emulator. */
export class Engine {
  private constructor(readonly instance: DuckDBInstance) {}

  /**
   * Creates an engine over a fresh in-memory DuckDB; `threads` caps DuckDB's
   * worker threads (default: DuckDB's own, one per core).
   */
  static async create(options: { readonly threads?: number } = {}): Promise<Engine> {
    const config: Record<string, string> = {};
    if (options.threads !== undefined) {
      if (!Number.isInteger(options.threads) || options.threads < 1)
        throw new Error('emulator threads must be a whole number from 1');
      config.threads = String(options.threads);
    }
    return new Engine(await DuckDBInstance.create(':memory:', config));
  }

  /** Opens a DuckDB connection prepared for translated Snowflake SQL (macros installed). */
  async connect(): Promise<EngineConnection> {
    const conn = await this.instance.connect();
    for (const m of MACROS) await conn.run(m);
    return new EngineConnection(conn);
  }

  /** Closes the DuckDB instance (the emulator is unusable afterwards). */
  close(): void {
    this.instance.closeSync();
  }
}

let bindTableSeq = 0;

/** One DuckDB connection: runs one translated statement at a time. */
export class EngineConnection {
  constructor(readonly duck: DuckDBConnection) {}

  /** Translates and runs one Snowflake statement with its bindings. */
  async execute(sql: string, bindings: Bindings | undefined): Promise<WireResult> {
    const entries = bindings ?? {};
    const isArray = Object.values(entries).some((b) => Array.isArray(b.value));
    const single = (n: number): string => {
      const b = entries[String(n)];
      if (!b)
        throw new SnowflakeEmulatorError(
          '002049',
          '42601',
          `SQL compilation error: Bind variable ?${n} not set.`,
        );
      return bindLiteral(b as BindValue);
    };
    const t = translate(sql, single, isArray);
    if (t.kind === 'noop') return ddlResult('Statement executed successfully.');
    try {
      if (t.arrayInsert) return await this.arrayInsert(t.arrayInsert, entries);
      const result = await this.duck.runAndReadAll(t.sql);
      return toWire(t.kind, result);
    } catch (err) {
      throw mapDuckError(err);
    }
  }

  /**
   * Array binds: the rows go through DuckDB's appender into a temporary
   * VARCHAR table and one INSERT ... SELECT moves them (DuckDB casts each
   * column to the target's type), which keeps 10,000-row binds fast.
   */
  private async arrayInsert(
    insert: { readonly target: string; readonly columns: number },
    entries: Bindings,
  ): Promise<WireResult> {
    const cols: (string | null)[][] = [];
    for (let i = 1; i <= insert.columns; i++) {
      const b = entries[String(i)];
      if (!b || !Array.isArray(b.value))
        throw new SnowflakeEmulatorError('002049', '42601', `Array bind ${i} missing or not an array`);
      cols.push(b.value);
    }
    const rows = cols[0]?.length ?? 0;
    if (cols.some((c) => c.length !== rows))
      throw new SnowflakeEmulatorError('002049', '42601', 'Array binds of different lengths');
    const table = `__sf_bind_${++bindTableSeq}`;
    const names = cols.map((_c, i) => `p${i + 1}`);
    await this.duck.run(`CREATE TEMP TABLE ${table} (${names.map((n) => `${n} VARCHAR`).join(', ')})`);
    try {
      const appender = await this.duck.createAppender(table, 'main', 'temp');
      for (let r = 0; r < rows; r++) {
        for (const c of cols) {
          const v = c[r];
          if (v === null || v === undefined) appender.appendNull();
          else appender.appendVarchar(v);
        }
        appender.endRow();
      }
      appender.closeSync();
      const result = await this.duck.runAndReadAll(
        `INSERT INTO ${insert.target} SELECT ${names.join(', ')} FROM temp.main.${table}`,
      );
      return toWire('insert', result);
    } finally {
      await this.duck.run(`DROP TABLE IF EXISTS temp.main.${table}`);
    }
  }

  /** Closes the DuckDB connection. */
  close(): void {
    this.duck.closeSync();
  }
}

function ddlResult(status: string): WireResult {
  return {
    statementTypeId: STATEMENT_TYPE.ddl,
    rowtype: [column('status', 'text', {})],
    rowset: [[status]],
  };
}

function column(name: string, type: string, extra: Partial<WireColumn>): WireColumn {
  return {
    name,
    type,
    nullable: true,
    length: null,
    byteLength: null,
    precision: null,
    scale: null,
    database: '',
    schema: '',
    table: '',
    collation: null,
    ...extra,
  };
}

const DML_COLUMN: Partial<Record<StatementKind, string>> = {
  insert: 'number of rows inserted',
  update: 'number of rows updated',
  delete: 'number of rows deleted',
  merge: 'number of rows inserted',
};

function toWire(kind: StatementKind, result: DuckDBResultReader): WireResult {
  const dml = DML_COLUMN[kind];
  if (dml) {
    const count = result.getRows()[0]?.[0];
    return {
      statementTypeId: STATEMENT_TYPE[kind],
      rowtype: [column(dml, 'fixed', { precision: 19, scale: 0, nullable: false })],
      rowset: [[String(count ?? 0)]],
    };
  }
  if (kind === 'ddl') return ddlResult('Statement executed successfully.');
  const types = result.columnTypes();
  // Snowflake reports unquoted identifiers upper case; DuckDB keeps what was written.
  const rowtype = result.columnNames().map((n, i) => wireColumn(n.toUpperCase(), types[i] as DuckDBType));
  const converters = types.map(converter);
  const raw = result.getRows();
  let json: unknown[][] | undefined;
  const rowset = raw.map((row, r) =>
    row.map((v, c) => {
      if (v === null) return null;
      const conv = converters[c] as Converter;
      if (conv === 'json') {
        json ??= result.getRowsJson() as unknown[][];
        return JSON.stringify(json[r]?.[c] ?? null);
      }
      return conv(v);
    }),
  );
  return { statementTypeId: STATEMENT_TYPE.select, rowtype, rowset };
}

type Converter = ((v: unknown) => string) | 'json';

function wireColumn(name: string, t: DuckDBType): WireColumn {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return column(name, 'boolean', {});
    case DuckDBTypeId.DECIMAL: {
      const d = t as unknown as { width: number; scale: number };
      return column(name, 'fixed', { precision: d.width, scale: d.scale });
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return column(name, 'real', {});
    case DuckDBTypeId.BLOB:
      return column(name, 'binary', { length: 8388608, byteLength: 8388608 });
    case DuckDBTypeId.DATE:
      return column(name, 'date', {});
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_NS:
      return column(name, 'timestamp_ntz', { precision: 0, scale: 9 });
    case DuckDBTypeId.TIMESTAMP_TZ:
      return column(name, 'timestamp_ltz', { precision: 0, scale: 9 });
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return column(name, 'variant', {});
    case DuckDBTypeId.VARCHAR:
      if (t.alias === 'JSON') return column(name, 'variant', {});
      return column(name, 'text', { length: 16777216, byteLength: 16777216 });
    default:
      if (isInteger(t.typeId)) return column(name, 'fixed', { precision: 38, scale: 0 });
      return column(name, 'text', { length: 16777216, byteLength: 16777216 });
  }
}

function isInteger(id: DuckDBTypeId): boolean {
  return [
    DuckDBTypeId.TINYINT,
    DuckDBTypeId.SMALLINT,
    DuckDBTypeId.INTEGER,
    DuckDBTypeId.BIGINT,
    DuckDBTypeId.UTINYINT,
    DuckDBTypeId.USMALLINT,
    DuckDBTypeId.UINTEGER,
    DuckDBTypeId.UBIGINT,
    DuckDBTypeId.HUGEINT,
    DuckDBTypeId.UHUGEINT,
  ].includes(id);
}

function converter(t: DuckDBType): Converter {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return (v) => (v ? '1' : '0');
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return (v) => {
        const n = v as number;
        return Number.isNaN(n) ? 'NaN' : n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
      };
    case DuckDBTypeId.BLOB:
      return (v) =>
        Buffer.from((v as { bytes: Uint8Array }).bytes)
          .toString('hex')
          .toUpperCase();
    case DuckDBTypeId.DATE:
      return (v) => String((v as { days: number }).days);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (v) => epochText((v as { micros: bigint }).micros, 1_000n);
    case DuckDBTypeId.TIMESTAMP_MS:
      return (v) => epochText((v as { millis: bigint }).millis, 1_000_000n);
    case DuckDBTypeId.TIMESTAMP_S:
      return (v) => epochText((v as { seconds: bigint }).seconds, 1_000_000_000n);
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => epochText((v as { nanos: bigint }).nanos, 1n);
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return 'json';
    default:
      return (v) => String(v);
  }
}

/** `epochSecs.nnnnnnnnn` from a count of units where `toNanos` converts one unit to nanoseconds. */
function epochText(units: bigint, toNanos: bigint): string {
  const nanos = units * toNanos;
  let secs = nanos / 1_000_000_000n;
  let frac = nanos % 1_000_000_000n;
  if (frac < 0n) {
    secs -= 1n;
    frac += 1_000_000_000n;
  }
  return `${secs}.${frac.toString().padStart(9, '0')}`;
}

/** Maps a DuckDB error to the Snowflake error code a client would see for the same mistake. */
export function mapDuckError(err: unknown): SnowflakeEmulatorError {
  if (err instanceof SnowflakeEmulatorError) return err;
  // Not `instanceof Error`: errors from the native addon may come from another realm (Jest).
  const raw = err !== null && typeof err === 'object' && 'message' in err ? String(err.message) : String(err);
  const message = raw.replace(/^Error: /, '');
  const first = message.split('\n')[0] ?? message;
  if (/^(?:Catalog|Binder) Error: .*(?:does not exist|not found)/i.test(first) && !/column/i.test(first)) {
    return new SnowflakeEmulatorError(
      '002003',
      '42S02',
      `SQL compilation error:\nObject does not exist or not authorized. (${first})`,
    );
  }
  if (/^Binder Error: Referenced column/i.test(first))
    return new SnowflakeEmulatorError(
      '000904',
      '42000',
      `SQL compilation error: invalid identifier (${first})`,
    );
  if (/^Parser Error/i.test(first))
    return new SnowflakeEmulatorError('001003', '42000', `SQL compilation error:\nsyntax error (${first})`);
  if (/^(?:Conversion|Invalid Input) Error/i.test(first))
    return new SnowflakeEmulatorError('100038', '22018', `Conversion error (${first})`);
  if (/^Catalog Error: .*already exists/i.test(first))
    return new SnowflakeEmulatorError('002002', '42710', `SQL compilation error:\n${first}`);
  if (/^TransactionContext Error/i.test(first))
    return new SnowflakeEmulatorError(
      '000625',
      '57014',
      `Statement aborted by a conflicting transaction (${first})`,
    );
  return new SnowflakeEmulatorError('002140', '42601', `SQL execution error (DuckDB): ${first}`);
}

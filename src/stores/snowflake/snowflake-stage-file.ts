/**
 * Staging a batch by file, the way bulk loads into Snowflake are done: the
 * rows (batch id, then every column as text, as the array bind stages them)
 * are written as one CSV file in a private temporary folder, `PUT` into the
 * type's table stage (the driver uploads it to the location the server
 * names), and `COPY INTO` the staging table from there, in one statement
 * that loads the whole file or nothing (`ON_ERROR = ABORT_STATEMENT`). The
 * local file is removed once the `PUT` is done, the staged one by the `COPY`
 * (`PURGE = TRUE`). The staging table, the idempotency check and the insert
 * that follow are the same as for an array bind.
 *
 * The CSV: fields separated by `,`, rows by `\n`; every value enclosed in
 * `"` with `"` doubled inside (so commas, newlines and backslashes in a value
 * are data); SQL NULL as an empty field without quotes, the empty string as
 * `""` (Snowflake's `EMPTY_FIELD_AS_NULL = TRUE` with
 * `FIELD_OPTIONALLY_ENCLOSED_BY = '"'`).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HubError } from '../../hub/errors';
import type { HubRecord, RecordType } from '../../hub/model';
import { encodeStageValue } from './snowflake-rows';
import { type Column, columnsOf, isPlainStagePath } from './snowflake-sql';

/** One CSV field: NULL unenclosed and empty, anything else enclosed with `"` doubled. */
function field(value: string | null): string {
  if (value === null) return '';
  return value.includes('"') ? `"${value.replace(/"/g, '""')}"` : `"${value}"`;
}

/** A canonical timestamp (`2026-01-01T00:00:07.919Z`), whose NTZ text is two slices. */
const CANONICAL_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * One column's CSV field (with its leading `,`) from a record's value: the
 * text `encodeStageValue` gives, enclosed as {@link field} encloses it.
 * Built once per record type: values whose text can hold no `"` (numbers,
 * canonical timestamps) skip the quote scan, a canonical timestamp is sliced
 * instead of rewritten by regular expressions, a text without `"` is enclosed
 * as it is; anything else takes the general path. Held to the general path
 * by test/stores/snowflake-stage.test.ts.
 */
function fieldEncoder(c: Column): (value: unknown) => string {
  switch (c.kind) {
    case 'int':
      return (v) => (typeof v === 'number' ? `,"${String(v)}"` : `,${field(encodeStageValue(c, v))}`);
    case 'timestamp':
      return (v) =>
        typeof v === 'string' && v.length === 24 && CANONICAL_TS.test(v)
          ? `,"${v.slice(0, 10)} ${v.slice(11, 23)}"`
          : `,${field(encodeStageValue(c, v))}`;
    case 'json':
    case 'json_object':
    case 'body':
      return (v) => `,${field(encodeStageValue(c, v))}`;
    default:
      return (v) =>
        v === undefined || v === null
          ? ','
          : typeof v === 'string' && !v.includes('"')
            ? `,"${v}"`
            : `,${field(encodeStageValue(c, v))}`;
  }
}

/** A record type's column fields and their encoders, in the staging table's order. */
interface TypeEncoders {
  readonly fields: readonly string[];
  readonly encode: readonly ((value: unknown) => string)[];
}

const ENCODERS = new Map<RecordType, TypeEncoders>();

function encodersOf(type: RecordType): TypeEncoders {
  let e = ENCODERS.get(type);
  if (!e) {
    const cols = columnsOf(type);
    e = { fields: cols.map((c) => c.field), encode: cols.map(fieldEncoder) };
    ENCODERS.set(type, e);
  }
  return e;
}

/**
 * Lines encoded per flattened chunk. A whole batch's CSV built as one growing
 * string was a tree of some 35 string pieces per record, all alive until the
 * file was written: at 10,000 records the garbage collector copied and
 * promoted it, and building the text cost 10-15 µs a record against ~3 µs in
 * chunks (measured on 30,000 outputs).
 */
const CHUNK_LINES = 256;

/**
 * The CSV bytes (UTF-8) of a batch's staged rows: per record, `batchId` then
 * its columns as `toStageRow` (snowflake-rows.ts) encodes them, in the staging table's order.
 */
export function stageCsv(batchId: string, records: readonly HubRecord[]): Buffer {
  const head = field(batchId);
  const chunks: Buffer[] = [];
  let text = '';
  let type: RecordType | undefined;
  let enc: TypeEncoders | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as HubRecord;
    if (r.record_type !== type || !enc) {
      type = r.record_type;
      enc = encodersOf(type);
    }
    const values = r as unknown as Record<string, unknown>;
    const { fields, encode } = enc;
    let line = head;
    for (let k = 0; k < fields.length; k++)
      line += (encode[k] as (v: unknown) => string)(values[fields[k] as string]);
    text += `${line}\n`;
    if (i % CHUNK_LINES === CHUNK_LINES - 1) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text !== '') chunks.push(Buffer.from(text));
  return Buffer.concat(chunks);
}

/**
 * Records encoded between two turns of the event loop by {@link stageCsvInTurns}:
 * 10,000 outputs are 20-30 ms of encoding, 1,000 are 2-3 ms.
 */
const TURN_RECORDS = 1000;

/**
 * {@link stageCsv} (the same bytes), encoding {@link TURN_RECORDS} records at a
 * time with a turn of the event loop between pieces: built in one piece, a
 * batch of 10,000 held up every other callback for 20-30 ms (the replies to
 * statements already sent, and a gateway's requests while it runs a move).
 */
export async function stageCsvInTurns(batchId: string, records: readonly HubRecord[]): Promise<Buffer> {
  if (records.length <= TURN_RECORDS) return stageCsv(batchId, records);
  const parts: Buffer[] = [];
  for (let at = 0; at < records.length; at += TURN_RECORDS) {
    if (at > 0) await nextTurn();
    parts.push(stageCsv(batchId, records.slice(at, at + TURN_RECORDS)));
  }
  return Buffer.concat(parts);
}

/** A staged file on local disk: its absolute path and its name (what `COPY ... FILES` names). */
export interface LocalStageFile {
  readonly path: string;
  readonly name: string;
}

/**
 * True when batch files can be staged from this machine's temporary folder:
 * its path must be plain (see isPlainStagePath; a Windows path or one with spaces is
 * not), else the store keeps the array bind for every flush.
 */
export function stageFilesUsable(folder: string = tmpdir()): boolean {
  return isPlainStagePath(join(folder, 'hub-snowflake-stage-XXXXXX', 'x.csv'));
}

/**
 * Writes batch files into one private temporary folder (created on first use,
 * removed by dispose), building one file's text at a time.
 */
export class StageFileWriter {
  /** Settles once the text being built (if any) is done: the next one starts then. */
  private building: Promise<unknown> = Promise.resolve();
  private folder: Promise<string> | undefined;

  /**
   * Writes the CSV of `records` ({@link stageCsv}'s bytes, built after any text this writer
   * is building already) as `<batchId>.csv`, runs `use` with it and removes the local file
   * whatever `use` did.
   */
  async withFile<T>(
    batchId: string,
    records: readonly HubRecord[],
    use: (file: LocalStageFile) => Promise<T>,
  ): Promise<T> {
    this.folder ??= mkdtemp(join(tmpdir(), 'hub-snowflake-stage-'));
    const folder = await this.folder;
    const name = `${batchId || randomUUID()}.csv`;
    const path = join(folder, name);
    if (!isPlainStagePath(path))
      throw new HubError(
        'INTERNAL',
        `snowflake stage file path ${JSON.stringify(path)} has characters a PUT command cannot carry (set TMPDIR to a plain path)`,
      );
    // Texts are built one after another, each in turns (stageCsvInTurns): two built side by side
    // would share the thread piece by piece, and the earlier batch, whose upload comes first, would
    // finish as late as the later one.
    const text = this.building.then(() => stageCsvInTurns(batchId, records));
    this.building = text.catch(() => undefined);
    await writeFile(path, await text);
    try {
      return await use({ path, name });
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Removes the temporary folder (the store is closing). */
  async dispose(): Promise<void> {
    const folder = this.folder;
    this.folder = undefined;
    if (folder) await rm(await folder, { recursive: true, force: true }).catch(() => undefined);
  }
}

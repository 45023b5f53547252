/**
 * One micro-batch of one tenant, in the two phases the writer runs
 * (snowflake-writer.ts): the upload stages every record type's rows under a
 * batch id of its own (a CSV file by `PUT` + `COPY INTO` from
 * `fileStageRows` rows, else array binds), the commit then reads, per type,
 * which ids are stored already and inserts the others, and clears the
 * staged rows. The upload touches only its own batch's rows, so it may run
 * while the tenant's previous batch commits; the writer runs a tenant's
 * commits one at a time. Outcomes follow input order; a repeated id inside
 * the batch is compared with the first occurrence (or the stored record).
 */
import { randomUUID } from 'node:crypto';
import type { HubRecord, RecordType } from '../../hub/model';
import type { PutOutcome } from '../../hub/store';
import type { SnowflakeConfig } from './snowflake-config';
import type { SnowflakeSession } from './snowflake-connection';
import { toStageRow } from './snowflake-rows';
import {
  type TenantNames,
  type WriteStatements,
  copyStatement,
  putStatement,
  writeStatements,
} from './snowflake-sql';
import type { StageFileWriter } from './snowflake-stage-file';
import type { CommitFn } from './snowflake-writer';

/** Rows per array-bound staging statement (bounds one request's size). */
const STAGE_CHUNK = 10_000;

/** What a flush uses of its store. */
export interface FlushContext {
  readonly config: SnowflakeConfig;
  readonly session: Pick<SnowflakeSession, 'query'>;
  /** Local CSV files of batches staged by PUT + COPY INTO. */
  readonly stageFiles: StageFileWriter;
  /** False where the temporary folder's path cannot go in a PUT (then every flush binds arrays). */
  readonly canStageFiles: boolean;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

/** One type's rows of a batch, staged under their own batch id. */
interface StagedType {
  readonly type: RecordType;
  readonly batchId: string;
  readonly byFile: boolean;
  /** The type's statements (built once per flush). */
  readonly sql: WriteStatements;
  /** The type's records, one per id (first occurrences). */
  readonly records: readonly HubRecord[];
  /** Indexes of those records in the flush's input. */
  readonly indexes: readonly number[] | undefined;
}

/**
 * The upload phase of a flush (see the file comment): stages every type's
 * rows and resolves with the commit, which resolves with one outcome per
 * record in input order. A failed upload removes what it staged (best
 * effort: staged rows are keyed by batch id, so what is left is inert).
 */
export async function uploadFlush(
  ctx: FlushContext,
  names: TenantNames,
  records: readonly HubRecord[],
): Promise<CommitFn> {
  // Per type, record_id -> index of its first occurrence (keyed by id alone: no key string built
  // per record); the indexes of repeated ids aside.
  const firstOf = new Map<RecordType, Map<string, number>>();
  const repeated: number[] = [];
  records.forEach((r, i) => {
    let first = firstOf.get(r.record_type);
    if (!first) firstOf.set(r.record_type, (first = new Map()));
    if (first.has(r.record_id)) repeated.push(i);
    else first.set(r.record_id, i);
  });
  const staged: StagedType[] = [];
  try {
    for (const [type, first] of firstOf) {
      const one = firstOf.size === 1 && repeated.length === 0;
      const indexes = one ? undefined : [...first.values()];
      const rows = indexes ? indexes.map((i) => records[i] as HubRecord) : records;
      const byFile =
        ctx.config.fileStageRows > 0 && rows.length >= ctx.config.fileStageRows && ctx.canStageFiles;
      const s: StagedType = {
        type,
        batchId: randomUUID(),
        byFile,
        sql: writeStatements(names, type),
        records: rows,
        indexes,
      };
      staged.push(s);
      await stage(ctx, names, s);
    }
  } catch (err) {
    await cleanup(ctx, staged);
    throw err;
  }
  return async () => {
    try {
      return await commit(ctx, records, staged, repeated, firstOf);
    } finally {
      await cleanup(ctx, staged);
    }
  };
}

/** Stages one type's rows: a CSV file through PUT + COPY INTO, else array binds. */
async function stage(ctx: FlushContext, names: TenantNames, s: StagedType): Promise<void> {
  if (s.byFile) {
    // The driver's JSON of an array bind (and the server's parse of it) cost more than the
    // rows' own encoding; a file goes as it is and loads in one statement.
    await ctx.stageFiles.withFile(s.batchId, s.records, async (file) => {
      await ctx.session.query(putStatement(names, s.type, file.path), [], 'stage file upload');
      await ctx.session.query(copyStatement(names, s.type, file.name), [], 'stage file load');
    });
    return;
  }
  for (let at = 0; at < s.records.length; at += STAGE_CHUNK) {
    const rows = s.records.slice(at, at + STAGE_CHUNK).map((r) => [s.batchId, ...toStageRow(r)]);
    await ctx.session.query(s.sql.stage, rows, 'staging');
  }
}

/** The commit phase: per type, the idempotency check and the insert; then every record's outcome. */
async function commit(
  ctx: FlushContext,
  records: readonly HubRecord[],
  staged: readonly StagedType[],
  repeated: readonly number[],
  firstOf: ReadonlyMap<RecordType, ReadonlyMap<string, number>>,
): Promise<PutOutcome[]> {
  const outcomes: PutOutcome[] = new Array<PutOutcome>(records.length);
  const existingOf = new Map<RecordType, Map<string, string>>();
  for (const s of staged) {
    const rows = await ctx.session.query(s.sql.existing, [s.batchId], 'idempotency check');
    await ctx.session.query(s.byFile ? s.sql.insertLoaded : s.sql.insert, [s.batchId], 'insert');
    const existing = new Map(rows.map((row) => [String(row[0]), String(row[1])]));
    existingOf.set(s.type, existing);
    s.records.forEach((r, k) => {
      const hash = existing.get(r.record_id);
      outcomes[s.indexes ? (s.indexes[k] as number) : k] =
        hash === undefined
          ? { status: 'created' }
          : hash === r.provenance_hash
            ? { status: 'duplicate' }
            : { status: 'conflict', existingHash: hash };
    });
  }
  // A repeated id is compared with what is stored now: the stored record, or its first occurrence.
  for (const i of repeated) {
    const r = records[i] as HubRecord;
    const hash =
      existingOf.get(r.record_type)?.get(r.record_id) ??
      (records[firstOf.get(r.record_type)?.get(r.record_id) as number] as HubRecord).provenance_hash;
    outcomes[i] =
      hash === r.provenance_hash ? { status: 'duplicate' } : { status: 'conflict', existingHash: hash };
  }
  return outcomes;
}

/** Clears the staged rows of every type (a failure is logged: the rows are inert, keyed by batch id). */
async function cleanup(ctx: FlushContext, staged: readonly StagedType[]): Promise<void> {
  for (const s of staged) {
    await ctx.session.query(s.sql.cleanup, [s.batchId], 'stage cleanup').catch((err: unknown) => {
      ctx.log?.('snowflake.stage_cleanup_failed', { error: String(err) });
    });
  }
}

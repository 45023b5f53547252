/**
 * The write path of the PostgreSQL store's `putBatch`, as named steps:
 * {@link planChunks} (first occurrences, cut into statements), one
 * optimistic insert (large chunks through COPY into a staging table, see
 * postgres-stage-sql.ts), the per-record insert when some record already exists
 * ({@link insertChunks}), then outcomes for rows a concurrent writer inserted
 * ({@link resolveConcurrent}) and for repeats inside the batch
 * ({@link resolveRepeats}).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HubError } from '../../hub/errors';
import type { HubRecord, RecordType } from '../../hub/model';
import type { PutOutcome } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { freshInsertStatement, hashesStatement, insertStatement, isNotAllNew } from './postgres-insert-sql';
import { canStage, stagedStatements } from './postgres-stage-sql';
import type { Row, Statement, TenantDatabase } from './queryable';

/** Records of one type written by one statement, by their index in the batch. */
export interface Chunk {
  readonly type: RecordType;
  readonly indexes: readonly number[];
}

/** How a batch is written: its statements, and the repeats resolved after. */
export interface PutPlan {
  readonly chunks: readonly Chunk[];
  /** Index in the batch of the first occurrence of each `type/id`. */
  readonly first: ReadonlyMap<string, number>;
  /** Indexes of later occurrences of a `type/id` (never sent to the database). */
  readonly repeats: readonly number[];
}

/** Statement sizes: rows per statement, and parameter bytes per statement. */
export interface ChunkLimits {
  readonly rows: number;
  readonly bytes: number;
}

/** Outcomes being filled in; undefined until a step decides one. */
type Outcomes = (PutOutcome | undefined)[];

const keyOf = (r: HubRecord): string => `${r.record_type}/${r.record_id}`;

/**
 * Groups the first occurrence of each record by type and cuts each group at
 * `limits.rows` rows, and earlier when artifact bodies (sent as binary
 * `bytea[]`, their own size) would make one statement's parameters larger
 * than `limits.bytes`.
 */
export function planChunks(records: readonly HubRecord[], limits: ChunkLimits): PutPlan {
  const first = new Map<string, number>();
  const repeats: number[] = [];
  const byType = new Map<RecordType, number[]>();
  records.forEach((r, i) => {
    const key = keyOf(r);
    if (first.has(key)) return void repeats.push(i);
    first.set(key, i);
    const list = byType.get(r.record_type);
    if (list) list.push(i);
    else byType.set(r.record_type, [i]);
  });
  const chunks: Chunk[] = [];
  for (const [type, indexes] of byType) {
    let current: number[] = [];
    let bytes = 0;
    for (const i of indexes) {
      const r = records[i] as HubRecord;
      const size = r.record_type === 'artifacts' ? r.body.byteLength : 0;
      if (current.length > 0 && (current.length >= limits.rows || bytes + size > limits.bytes)) {
        chunks.push({ type, indexes: current });
        current = [];
        bytes = 0;
      }
      current.push(i);
      bytes += size;
    }
    if (current.length > 0) chunks.push({ type, indexes: current });
  }
  return { chunks, first, repeats };
}

/** How a batch's chunks are written. */
export interface InsertOptions {
  /** Write the outbox rows of created records in the same statements. */
  readonly outbox: boolean;
  /**
   * Chunks of at least this many rows (of a type that can be) go through
   * COPY into a staging table (see postgres-stage-sql.ts); smaller ones as
   * array-bound inserts. 0: never staged.
   */
  readonly stageRows: number;
}

/**
 * Writes every chunk in one transaction, first as if every record were new
 * (the common case, and the cheaper statement); if any already exists, that
 * transaction wrote nothing and the per-record statement runs instead.
 * @returns per chunk, the rows the statement did not insert (empty when all were new).
 */
export async function insertChunks(
  db: TenantDatabase,
  tenant: TenantId,
  records: readonly HubRecord[],
  chunks: readonly Chunk[],
  options: InsertOptions,
): Promise<Row[][]> {
  try {
    await db.run({ tenant }, (await buildSpread(tenant, records, chunks, options, true)).statements);
    return [];
  } catch (err) {
    if (!isNotAllNew(err)) throw err;
    const { statements, answers } = await buildSpread(tenant, records, chunks, options, false);
    const rows = await db.run({ tenant }, statements);
    return answers.map((i) => rows[i] ?? []);
  }
}

/** Binary parameters (or COPY text) after which the next statement is built in a later turn. */
const BUILD_TURN_BYTES = 1024 * 1024;

/**
 * The statements of `chunks` (all-new inserts when `fresh`), and for each
 * chunk the index of the statement answering it. Built in turns of the
 * event loop of about {@link BUILD_TURN_BYTES} of parameters each: each
 * chunk's bodies are copied into one `bytea[]`, and a batch of 8 MiB of
 * artifacts copied in one turn held the loop for the others.
 */
async function buildSpread(
  tenant: TenantId,
  records: readonly HubRecord[],
  chunks: readonly Chunk[],
  options: InsertOptions,
  fresh: boolean,
): Promise<{ statements: Statement[]; answers: number[] }> {
  const statements: Statement[] = [];
  const answers: number[] = [];
  // Rows staged so far per type in this transaction: a later chunk's are numbered after them.
  const staged = new Map<RecordType, number>();
  let bytes = 0;
  for (const chunk of chunks) {
    if (bytes >= BUILD_TURN_BYTES) {
      await nextTurn();
      bytes = 0;
    }
    const rows = chunk.indexes.map((i) => records[i] as HubRecord);
    const stage = options.stageRows > 0 && rows.length >= options.stageRows && canStage(chunk.type);
    if (stage) {
      const offset = staged.get(chunk.type) ?? 0;
      staged.set(chunk.type, offset + rows.length);
      const built = stagedStatements(tenant, chunk.type, rows, { outbox: options.outbox, fresh, offset });
      for (const s of built) bytes += s.copyIn?.length ?? 0;
      statements.push(...built);
    } else {
      const statement = fresh
        ? freshInsertStatement(tenant, chunk.type, rows, options.outbox)
        : insertStatement(tenant, chunk.type, rows, options.outbox);
      for (const p of statement.params) if (p instanceof Uint8Array) bytes += p.byteLength;
      statements.push(statement);
    }
    answers.push(statements.length - 1);
  }
  return { statements, answers };
}

/**
 * Outcomes from the insert's answer: records it did not return were created;
 * returned rows carry the stored hash (duplicate or conflict), or none when a
 * concurrent writer inserted the record after the statement's snapshot.
 * @returns the indexes of those, by type, for {@link resolveConcurrent}.
 */
export function outcomesOfInsert(
  records: readonly HubRecord[],
  chunks: readonly Chunk[],
  notInserted: readonly Row[][],
  outcomes: Outcomes,
): Map<RecordType, number[]> {
  const unresolved = new Map<RecordType, number[]>();
  chunks.forEach((chunk, c) => {
    for (const index of chunk.indexes) outcomes[index] = { status: 'created' };
    for (const row of notInserted[c] ?? []) {
      const index = chunk.indexes[Number(row.ord) - 1] as number;
      const record = records[index] as HubRecord;
      if (typeof row.existing === 'string') outcomes[index] = compareHash(record, row.existing);
      else {
        const list = unresolved.get(chunk.type) ?? [];
        list.push(index);
        unresolved.set(chunk.type, list);
      }
    }
  });
  return unresolved;
}

/**
 * Reads the stored hash of records a concurrent writer inserted and decides
 * their outcomes.
 * @throws HubError UNAVAILABLE when such a record is gone again (retry the batch).
 */
export async function resolveConcurrent(
  db: TenantDatabase,
  tenant: TenantId,
  records: readonly HubRecord[],
  unresolved: ReadonlyMap<RecordType, readonly number[]>,
  outcomes: Outcomes,
): Promise<void> {
  if (unresolved.size === 0) return;
  const types = [...unresolved.keys()];
  const idsOf = (t: RecordType): string[] =>
    (unresolved.get(t) ?? []).map((i) => (records[i] as HubRecord).record_id);
  const rows = await db.run(
    { tenant },
    types.map((t) => hashesStatement(tenant, t, idsOf(t))),
  );
  types.forEach((t, k) => {
    const hashes = new Map((rows[k] ?? []).map((r) => [String(r.id), String(r.provenance_hash)]));
    for (const i of unresolved.get(t) ?? []) {
      const record = records[i] as HubRecord;
      const hash = hashes.get(record.record_id);
      if (hash === undefined)
        throw new HubError('UNAVAILABLE', 'postgres putBatch: a concurrent change interfered; retry');
      outcomes[i] = compareHash(record, hash);
    }
  });
}

/** A repeat of a record in the batch compares with what its first occurrence left stored. */
export function resolveRepeats(records: readonly HubRecord[], plan: PutPlan, outcomes: Outcomes): void {
  for (const i of plan.repeats) {
    const r = records[i] as HubRecord;
    const j = plan.first.get(keyOf(r)) as number;
    const o = outcomes[j] as PutOutcome;
    const stored = o.status === 'conflict' ? o.existingHash : (records[j] as HubRecord).provenance_hash;
    outcomes[i] = compareHash(r, stored);
  }
}

/** `duplicate` when the stored hash is the record's own, else `conflict` naming the stored one. */
export function compareHash(record: HubRecord, storedHash: string): PutOutcome {
  return storedHash === record.provenance_hash
    ? { status: 'duplicate' }
    : { status: 'conflict', existingHash: storedHash };
}

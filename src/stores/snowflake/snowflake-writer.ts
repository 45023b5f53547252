/**
 * The micro-batch writer: putBatch calls are buffered per tenant and written
 * together (staged per record type by array bind or by file, see the store's
 * flush) when a tenant's buffer reaches `maxRows` records or `maxDelayMs`
 * after its first record arrived, whichever is first. A flush holds records
 * of one tenant only. Every caller's promise resolves with its own outcomes
 * once the flush that carried its records has committed, or rejects with the
 * flush's error: nothing is acknowledged before it is durable, and a tenant's
 * flushes settle their callers in the order the flushes started.
 *
 * A flush has two phases (see {@link FlushFn}): the upload (staging the rows,
 * keyed by a batch id of its own) and the commit (the idempotency check, the
 * insert of the ids not stored yet, the stage's cleanup). A tenant's commits
 * run one at a time, in the order their flushes started: the check and the
 * insert of one batch never interleave with another's of the same tenant, so
 * check-then-insert idempotency is race-free within a process (two commits at
 * once could both find an id missing, and the second insert would skip it
 * while its check had answered "created"). Uploads touch only rows of their
 * own batch id, so a flush started by {@link MicroBatchWriter.submitNow} may
 * upload while the tenant's previous flush is still running (at most one such
 * flush ahead): a bulk copy's next batch is staged while the last one commits.
 * Flushes started by the size or the timer of {@link MicroBatchWriter.submit}
 * wait for the previous flush as they always did, so what they gather is
 * unchanged.
 */
import type { HubRecord } from '../../hub/model';
import type { PutOutcome } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';

/** The commit phase of a flush: one outcome per record, in order. */
export type CommitFn = () => Promise<PutOutcome[]>;

/**
 * The upload phase of a flush of one tenant's records; resolves with its
 * commit phase. The upload may run while the tenant's previous flush uploads
 * or commits; it must touch nothing another flush reads, and leave nothing
 * but inert rows when it fails. The commit is called exactly once when the
 * upload resolved (even when an earlier flush failed), only after the
 * tenant's previous commit settled; it is responsible for the cleanup of what
 * the upload staged.
 */
export type FlushFn = (tenant: TenantId, records: readonly HubRecord[]) => Promise<CommitFn>;

interface Entry {
  readonly records: readonly HubRecord[];
  readonly resolve: (outcomes: PutOutcome[]) => void;
  readonly reject: (err: unknown) => void;
}

type Settled =
  { readonly ok: true; readonly outcomes: PutOutcome[] } | { readonly ok: false; readonly err: unknown };

const settledOk = (outcomes: PutOutcome[]): Settled => ({ ok: true, outcomes });
const settledErr = (err: unknown): Settled => ({ ok: false, err });
const nothing = (): void => undefined;

interface TenantBuffer {
  entries: Entry[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
  /** A flush was asked for while none could start; start one as soon as one can. */
  again: boolean;
  /** Some buffered entry came by submitNow: its flush may start ahead of the running one. */
  now: boolean;
  /** Flushes started whose callers are not settled yet (0, 1, or 2 with one ahead). */
  running: number;
  /** Settles (never rejects) once the last started flush's commit phase is over or never came. */
  commitTail: Promise<void>;
  /** Settles (never rejects) once the last started flush's callers are settled. */
  settleTail: Promise<void>;
}

/** Options of {@link MicroBatchWriter}. */
export interface MicroBatchOptions {
  /** Flush a tenant as soon as this many records are buffered. */
  readonly maxRows: number;
  /** Longest wait of a buffered record before its flush starts (ms). */
  readonly maxDelayMs: number;
}

/** See the file comment. */
export class MicroBatchWriter {
  private readonly buffers = new Map<TenantId, TenantBuffer>();
  /** Flushes started (for tests and the benchmark). */
  flushes = 0;

  constructor(
    private readonly flush: FlushFn,
    private readonly options: MicroBatchOptions,
  ) {}

  /** Buffers a tenant's records; resolves with their outcomes once committed. */
  submit(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<PutOutcome[]>((resolve, reject) => {
      const buf = this.buffer(tenant);
      buf.entries.push({ records, resolve, reject });
      buf.rows += records.length;
      this.schedule(tenant, buf);
    });
  }

  /**
   * Like {@link submit}, but starts the tenant's flush at once instead of
   * waiting for the timer, and uploads it while the tenant's previous flush
   * (if any, and no other is ahead of it) is still running.
   */
  submitNow(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<PutOutcome[]>((resolve, reject) => {
      const buf = this.buffer(tenant);
      buf.entries.push({ records, resolve, reject });
      buf.rows += records.length;
      buf.now = true;
      this.kick(tenant, buf);
    });
  }

  /** Flushes everything buffered now and waits for all flushes (used by close and purge). */
  async drain(tenant?: TenantId): Promise<void> {
    const tenants = tenant ? [tenant] : [...this.buffers.keys()];
    for (const t of tenants) {
      const buf = this.buffers.get(t);
      while (buf && (buf.entries.length > 0 || buf.running > 0)) {
        if (buf.entries.length > 0 && buf.running === 0) this.start(t, buf);
        // Flushes settle in start order: once the last started one has, all have.
        await buf.settleTail;
      }
    }
  }

  private buffer(tenant: TenantId): TenantBuffer {
    let buf = this.buffers.get(tenant);
    if (!buf) {
      buf = {
        entries: [],
        rows: 0,
        timer: undefined,
        again: false,
        now: false,
        running: 0,
        commitTail: Promise.resolve(),
        settleTail: Promise.resolve(),
      };
      this.buffers.set(tenant, buf);
    }
    return buf;
  }

  private schedule(tenant: TenantId, buf: TenantBuffer): void {
    if (buf.rows >= this.options.maxRows || this.options.maxDelayMs === 0) this.kick(tenant, buf);
    else buf.timer ??= setTimeout(() => this.kick(tenant, buf), this.options.maxDelayMs);
  }

  private kick(tenant: TenantId, buf: TenantBuffer): void {
    if (buf.timer) clearTimeout(buf.timer);
    buf.timer = undefined;
    if (buf.running === 0 || (buf.running === 1 && buf.now)) this.start(tenant, buf);
    else buf.again = true;
  }

  private start(tenant: TenantId, buf: TenantBuffer): void {
    if (buf.timer) clearTimeout(buf.timer);
    buf.timer = undefined;
    buf.again = false;
    buf.now = false;
    const entries = buf.entries;
    buf.entries = [];
    buf.rows = 0;
    if (entries.length === 0) return;
    this.flushes++;
    buf.running++;
    const all = entries.flatMap((e) => e.records);
    const previousCommit = buf.commitTail;
    const outcome: Promise<Settled> = (async () => {
      const commit = await this.flush(tenant, all);
      await previousCommit;
      return commit();
    })().then(settledOk, settledErr);
    // The next commit waits for this one, and for the previous one too when this upload failed early.
    buf.commitTail = previousCommit.then(() => outcome).then(nothing);
    const settled = buf.settleTail
      .then(() => outcome)
      .then((s) => {
        if (!s.ok) {
          for (const e of entries) e.reject(s.err);
          return;
        }
        let at = 0;
        for (const e of entries) {
          e.resolve(s.outcomes.slice(at, at + e.records.length));
          at += e.records.length;
        }
      });
    buf.settleTail = settled;
    void settled.then(() => {
      buf.running--;
      if (buf.entries.length === 0) return;
      if (buf.again || buf.rows >= this.options.maxRows) this.kick(tenant, buf);
      else this.schedule(tenant, buf);
    });
  }
}

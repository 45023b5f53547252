/**
 * The micro-batch writer: putBatch calls are buffered per tenant and written
 * together (staged per record type by array bind or by file, see the store's
 * flush) when a tenant's buffer reaches `maxRows` records or `maxDelayMs`
 * after its first record arrived, whichever is first. One flush per tenant is in flight at a time
 * (so check-then-insert idempotency is race-free within a process) and a
 * flush holds records of one tenant only. Every caller's promise resolves with
 * its own outcomes once the flush that carried its records has committed, or
 * rejects with the flush's error: nothing is acknowledged before it is durable.
 */
import type { HubRecord } from '../../hub/model';
import type { PutOutcome } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';

/** Writes one tenant's records and returns one outcome per record, in order. */
export type FlushFn = (tenant: TenantId, records: readonly HubRecord[]) => Promise<PutOutcome[]>;

interface Entry {
  readonly records: readonly HubRecord[];
  readonly resolve: (outcomes: PutOutcome[]) => void;
  readonly reject: (err: unknown) => void;
}

interface TenantBuffer {
  entries: Entry[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<void> | undefined;
  again: boolean;
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

  /** Like {@link submit}, but starts the tenant's flush at once instead of waiting for the timer. */
  submitNow(tenant: TenantId, records: readonly HubRecord[]): Promise<PutOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<PutOutcome[]>((resolve, reject) => {
      const buf = this.buffer(tenant);
      buf.entries.push({ records, resolve, reject });
      buf.rows += records.length;
      this.kick(tenant, buf);
    });
  }

  /** Flushes everything buffered now and waits for all flushes (used by close and purge). */
  async drain(tenant?: TenantId): Promise<void> {
    const tenants = tenant ? [tenant] : [...this.buffers.keys()];
    for (const t of tenants) {
      const buf = this.buffers.get(t);
      while (buf && (buf.entries.length > 0 || buf.inFlight)) {
        if (!buf.inFlight) this.start(t, buf);
        await buf.inFlight?.catch(() => undefined);
      }
    }
  }

  private buffer(tenant: TenantId): TenantBuffer {
    let buf = this.buffers.get(tenant);
    if (!buf) {
      buf = { entries: [], rows: 0, timer: undefined, inFlight: undefined, again: false };
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
    if (buf.inFlight) buf.again = true;
    else this.start(tenant, buf);
  }

  private start(tenant: TenantId, buf: TenantBuffer): void {
    if (buf.timer) clearTimeout(buf.timer);
    buf.timer = undefined;
    buf.again = false;
    const entries = buf.entries;
    buf.entries = [];
    buf.rows = 0;
    if (entries.length === 0) return;
    this.flushes++;
    const all = entries.flatMap((e) => e.records);
    buf.inFlight = this.flush(tenant, all).then(
      (outcomes) => {
        let at = 0;
        for (const e of entries) {
          e.resolve(outcomes.slice(at, at + e.records.length));
          at += e.records.length;
        }
      },
      (err: unknown) => {
        for (const e of entries) e.reject(err);
      },
    );
    void buf.inFlight.finally(() => {
      buf.inFlight = undefined;
      if (buf.entries.length === 0) return;
      if (buf.again || buf.rows >= this.options.maxRows) this.start(tenant, buf);
      else this.schedule(tenant, buf);
    });
  }
}

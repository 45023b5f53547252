/**
 * The write side of NDJSON ingest: the report a request answers with
 * ({@link IngestTally}) and the chunks of lines written to the Hub
 * ({@link ChunkWriter}). A chunk whose records fail validation has those lines
 * rejected and the rest written; any other failure stops the ingest at the
 * chunk's first line, which {@link ChunkWriter.firstUnwritten} names.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isHubError } from '../hub/errors';
import type { Hub } from '../hub/hub';
import type { RecordType } from '../hub/model';
import type { TenantId } from '../hub/tenant';
import type { GatewayMetrics } from '../platform/metrics';

/** Rejected lines listed in an answer; the count covers all of them. */
const MAX_REPORTED = 1000;

/** One rejected line. */
export interface RejectedLine {
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

/** The answer of an ingest request. */
export interface IngestReport {
  readonly type: string;
  readonly lines: number;
  readonly created: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** The first 1000 rejected lines. */
  readonly errors: RejectedLine[];
  readonly errorsTruncated: boolean;
  /** Set when the store failed: no line at or after it was processed. */
  readonly stoppedAtLine?: number;
}

/** The answer's counts and rejected lines, kept as lines are read and written. */
export class IngestTally {
  lines = 0;
  created = 0;
  duplicates = 0;
  rejected = 0;
  readonly errors: RejectedLine[] = [];
  errorsTruncated = false;

  constructor(
    readonly type: RecordType,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Counts a line refused (bad JSON, invalid record, refused by the store). */
  reject(line: number, code: string, message: string): void {
    this.rejected++;
    this.metrics.ingested.inc({ type: this.type, outcome: 'rejected' });
    if (this.errors.length < MAX_REPORTED) this.errors.push({ line, code, message });
    else this.errorsTruncated = true;
  }

  /** Counts a line the store acknowledged. */
  written(outcome: 'created' | 'duplicate'): void {
    if (outcome === 'created') this.created++;
    else this.duplicates++;
    this.metrics.ingested.inc({ type: this.type, outcome });
  }

  /** The answer; a failed write adds where it stopped and its error. */
  answer(stopped?: { readonly line: number; readonly error: RejectedLine }): IngestReport {
    const { type, lines, created, duplicates, rejected, errors, errorsTruncated } = this;
    const base = { type, lines, created, duplicates, rejected, errors, errorsTruncated };
    return stopped ? { ...base, stoppedAtLine: stopped.line, errors: [...errors, stopped.error] } : base;
  }
}

/** Lines waiting to be written, with the bytes they hold, written a chunk at a time. */
export class ChunkWriter {
  private pending: { line: number; value: unknown }[] = [];
  /** Bytes the pending lines hold (their text and decoded bodies). */
  private pendingBytes = 0;
  /** First line of the chunk being written: where a store failure stops the ingest. */
  private writing: number | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly tenant: TenantId,
    private readonly report: IngestTally,
  ) {}

  get lines(): number {
    return this.pending.length;
  }

  get bytes(): number {
    return this.pendingBytes;
  }

  add(line: number, value: unknown, bytes: number): void {
    this.pending.push({ line, value });
    this.pendingBytes += bytes;
  }

  /** The first line not acknowledged when a write failed (or `fallback` when none was pending). */
  firstUnwritten(fallback: number): number {
    return this.writing ?? this.pending[0]?.line ?? fallback;
  }

  /**
   * Writes the pending lines. Lines whose records fail validation are rejected
   * and the others written in a second attempt.
   * @throws the Hub's error for anything else (the chunk stays unacknowledged).
   */
  async flush(): Promise<void> {
    let batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length === 0) return;
    this.writing = batch[0]?.line;
    // The write starts in a turn of its own: the line that completed the batch was just joined
    // (a 10 MiB body: one copy), and the write copies the batch again as its statement is built
    // and sent; in one turn, both held the loop about 40 ms of CPU under bench:memory.
    await nextTurn();
    for (let attempt = 0; attempt < 2 && batch.length > 0; attempt++) {
      try {
        const results = await this.hub.record(
          this.tenant,
          this.report.type,
          batch.map((b) => b.value),
        );
        results.forEach((r, i) => {
          const line = (batch[i] as { line: number }).line;
          if (r.status === 'error')
            this.report.reject(line, r.error.code, r.error.message.replace(/^record \[\d+\] /, 'record '));
          else this.report.written(r.status);
        });
        this.writing = undefined;
        return;
      } catch (err) {
        if (!isHubError(err, 'VALIDATION') || err.issues.length === 0 || attempt > 0) throw err;
        batch = this.rejectInvalid(batch, err.issues, err);
      }
    }
  }

  /** Rejects every line with a problem; @returns the lines left to write. */
  private rejectInvalid<B extends { line: number }>(
    batch: readonly B[],
    issues: readonly { index?: number; path: string; message: string }[],
    err: unknown,
  ): B[] {
    const bad = new Map<number, string[]>();
    for (const issue of issues) {
      if (issue.index === undefined) throw err;
      const list = bad.get(issue.index) ?? [];
      list.push(`${issue.path || 'record'}: ${issue.message}`);
      bad.set(issue.index, list);
    }
    const kept: B[] = [];
    batch.forEach((b, i) => {
      const problems = bad.get(i);
      if (problems) this.report.reject(b.line, 'VALIDATION', problems.join('; '));
      else kept.push(b);
    });
    return kept;
  }
}

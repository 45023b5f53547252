/**
 * A span processor that hands ended spans to a worker thread, where the
 * SDK's batch span processor and OTLP/HTTP exporter run (see
 * tracing-export-worker.cjs for why). On the gateway's thread an ended span
 * costs one copy into plain data; spans are posted in batches, at most
 * {@link POST_EVERY_MS} after the first of a batch ended or as soon as
 * {@link POST_BATCH} are waiting, so the main thread's share of the export is
 * a `postMessage` per batch.
 *
 * Tracing never breaks serving: a worker that fails to start or dies drops
 * the spans of its batch and the ones after it (reported once to `onError`
 * when the owner gives one), and `forceFlush`/`shutdown` still resolve.
 *
 * The exporter never keeps a process alive on its own: the worker (and the
 * port its replies arrive on) is unref'd while idle, so a process whose owner
 * never calls `shutdown` exits when its own work is done, dropping the spans
 * still in flight. Only while a `forceFlush`/`shutdown` waits for the worker
 * is it ref'd, so that `await tracer.shutdown()` as a process's last step
 * still delivers; that wait is bounded ({@link ExportWorkerOptions.waitMs}).
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span as SdkSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Spans waiting before a post is made at once. */
export const POST_BATCH = 256;
/** The longest an ended span waits on this thread before it is posted. */
export const POST_EVERY_MS = 500;
/**
 * How long a flush or shutdown waits for the worker by default: above the
 * batch processor's own export timeout (30 s), so a slow collector is waited
 * for and only a worker that stopped answering is given up on.
 */
export const WAIT_MS = 35_000;

/** What the worker needs to build its exporter and the spans' resource. */
export interface ExportWorkerOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly resourceAttributes: Record<string, string>;
  readonly scope: { readonly name: string };
  /** Called once when the worker fails (its spans are dropped from then on). */
  readonly onError?: (err: Error) => void;
  /**
   * The longest `forceFlush`/`shutdown` wait for the worker's answer before
   * rejecting (default {@link WAIT_MS}); `shutdown` ends the worker either way.
   */
  readonly waitMs?: number;
  /** The worker's script instead of tracing-export-worker.cjs (tests: a worker that dies or hangs). */
  readonly workerFile?: string;
}

/** An ended span as posted to the worker (structured-clone safe). */
interface PlainSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly traceState: string | undefined;
  readonly parent: { traceId: string; spanId: string; traceFlags: number; isRemote?: boolean } | undefined;
  readonly startTime: ReadableSpan['startTime'];
  readonly endTime: ReadableSpan['endTime'];
  readonly duration: ReadableSpan['duration'];
  readonly status: ReadableSpan['status'];
  readonly attributes: ReadableSpan['attributes'];
  readonly events: ReadableSpan['events'];
}

function plain(span: ReadableSpan): PlainSpan {
  const c = span.spanContext();
  const p = span.parentSpanContext;
  return {
    name: span.name,
    kind: span.kind,
    traceId: c.traceId,
    spanId: c.spanId,
    traceFlags: c.traceFlags,
    traceState: c.traceState?.serialize(),
    parent: p && { traceId: p.traceId, spanId: p.spanId, traceFlags: p.traceFlags, isRemote: p.isRemote },
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    status: span.status,
    attributes: span.attributes,
    events: span.events,
  };
}

/** The SDK's batch export, run in a worker thread (see the module comment). */
export class WorkerSpanProcessor implements SpanProcessor {
  private readonly worker: Worker;
  private pending: PlainSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The worker failed or was ended: spans are dropped and requests answer at once. */
  private done = false;
  private ending: Promise<void> | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(private readonly options: ExportWorkerOptions) {
    const { url, headers, resourceAttributes, scope } = options;
    this.worker = new Worker(options.workerFile ?? resolve(__dirname, 'tracing-export-worker.cjs'), {
      workerData: { url, headers, resourceAttributes, scope },
    });
    this.worker.on('message', (msg: { id: number; error?: string }) => this.answer(msg));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) =>
      this.fail(new Error(`the tracing export worker exited with code ${code}`)),
    );
    // After the listeners: adding a 'message' listener refs the worker's port again, and an
    // exporter must not keep a finished process alive (request() refs it while an answer is due).
    this.worker.unref();
  }

  onStart(_span: SdkSpan, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.done) return;
    this.pending.push(plain(span));
    if (this.pending.length >= POST_BATCH) this.post();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.post(), POST_EVERY_MS);
      this.timer.unref();
    }
  }

  /**
   * Posts what waits here, then resolves once the worker's processor has
   * exported everything it holds; at once when the worker has failed or
   * ended. @throws Error when the worker reports a failed export or does not
   * answer within `waitMs`.
   */
  forceFlush(): Promise<void> {
    this.post();
    return this.request('flush');
  }

  /**
   * Flushes, shuts the worker's processor down and ends the worker (once:
   * later calls share the first). The worker is ended even when its answer
   * is an error or does not come within `waitMs`; that error is rethrown.
   */
  shutdown(): Promise<void> {
    this.ending ??= this.end();
    return this.ending;
  }

  private async end(): Promise<void> {
    this.post();
    try {
      await this.request('shutdown');
    } finally {
      // Its exit is ours, not a failure to report.
      this.done = true;
      this.pending = [];
      await this.worker.terminate();
    }
  }

  private post(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.done) return;
    const spans = this.pending;
    this.pending = [];
    this.worker.postMessage({ op: 'spans', spans });
  }

  private request(op: 'flush' | 'shutdown'): Promise<void> {
    if (this.done) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.settle(id);
        reject(new Error(`the tracing export worker did not answer ${op} within ${this.waitMs()} ms`));
      }, this.waitMs());
      const settled = (): void => clearTimeout(timeout);
      this.waiting.set(id, {
        resolve: () => {
          settled();
          resolve();
        },
        reject: (err) => {
          settled();
          reject(err);
        },
      });
      // Held open while an answer is due, so that awaiting it is enough to get it.
      if (this.waiting.size === 1) this.worker.ref();
      this.worker.postMessage({ op, id });
    });
  }

  private waitMs(): number {
    return this.options.waitMs ?? WAIT_MS;
  }

  private answer(msg: { id: number; error?: string }): void {
    const w = this.settle(msg.id);
    if (msg.error === undefined) w?.resolve();
    else w?.reject(new Error(msg.error));
  }

  /** Forgets request `id`'s waiter, unref'ing the worker when none is left; @returns the waiter. */
  private settle(id: number): { resolve: () => void; reject: (err: Error) => void } | undefined {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    if (w !== undefined && this.waiting.size === 0) this.worker.unref();
    return w;
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // Nothing more will answer: let every waiter go.
    for (const id of [...this.waiting.keys()]) this.settle(id)?.resolve();
    this.worker.unref();
    this.options.onError?.(err);
  }
}

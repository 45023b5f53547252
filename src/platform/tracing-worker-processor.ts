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
 * the spans of its batch and the ones after it (logged once by the caller's
 * `onError`), and `forceFlush`/`shutdown` still resolve.
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span as SdkSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Spans waiting before a post is made at once. */
export const POST_BATCH = 256;
/** The longest an ended span waits on this thread before it is posted. */
export const POST_EVERY_MS = 500;

/** What the worker needs to build its exporter and the spans' resource. */
export interface ExportWorkerOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly resourceAttributes: Record<string, string>;
  readonly scope: { readonly name: string };
  /** Called once when the worker fails (its spans are dropped from then on). */
  readonly onError?: (err: Error) => void;
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
  private failed = false;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(private readonly options: ExportWorkerOptions) {
    const { url, headers, resourceAttributes, scope } = options;
    this.worker = new Worker(resolve(__dirname, 'tracing-export-worker.cjs'), {
      workerData: { url, headers, resourceAttributes, scope },
    });
    // Spans in flight must not keep a finished process alive; shutdown() is the orderly end.
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; error?: string }) => {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error === undefined) w?.resolve();
      else w?.reject(new Error(msg.error));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`the tracing export worker exited with code ${code}`));
    });
  }

  onStart(_span: SdkSpan, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.failed) return;
    this.pending.push(plain(span));
    if (this.pending.length >= POST_BATCH) this.post();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.post(), POST_EVERY_MS);
      this.timer.unref();
    }
  }

  /** Posts what waits here, then resolves once the worker's processor has exported everything it holds. */
  forceFlush(): Promise<void> {
    this.post();
    return this.request('flush');
  }

  /** Flushes, shuts the worker's processor down and ends the worker. */
  async shutdown(): Promise<void> {
    this.post();
    try {
      await this.request('shutdown');
    } finally {
      await this.worker.terminate();
    }
  }

  private post(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || this.failed) return;
    const spans = this.pending;
    this.pending = [];
    this.worker.postMessage({ op: 'spans', spans });
  }

  private request(op: 'flush' | 'shutdown'): Promise<void> {
    if (this.failed) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ op, id });
    });
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = [];
    // Nothing more will answer: let every waiter go.
    for (const w of this.waiting.values()) w.resolve();
    this.waiting.clear();
    this.options.onError?.(err);
  }
}

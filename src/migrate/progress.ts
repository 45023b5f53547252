/**
 * Progress of long work (copies, verifications): totals, rate and ETA,
 * reported at most every `intervalMs` (and always at the end of a step) to a
 * sink. The CLI renders events as a bar on a terminal or as JSON lines; the
 * gateway's admin endpoint streams them as JSON lines. The clock is injected
 * so tests need not wait.
 */
import type { RecordType } from '../hub/model';

/** One progress reading. */
export interface ProgressEvent {
  /** What is running: `copy`, `verify`, `sync`, `drain`... */
  readonly step: string;
  readonly type?: RecordType;
  /** Records done so far in this step (all types). */
  readonly done: number;
  /** Records expected in this step, when the stores can count them. */
  readonly total?: number;
  /** Records per second since the step started. */
  readonly rate: number;
  /** Seconds left at the current rate, when the total is known. */
  readonly etaSeconds?: number;
  /** True on the last event of the step. */
  readonly final?: boolean;
}

/** Receives progress events. */
export type ProgressSink = (event: ProgressEvent) => void;

/** Tracks one step and emits throttled {@link ProgressEvent}s. */
export class Progress {
  private done = 0;
  private lastEmit = -Infinity;
  private readonly started: number;
  private type: RecordType | undefined;
  private total: number | undefined;

  constructor(
    private readonly step: string,
    private readonly sink: ProgressSink | undefined,
    private readonly options: {
      total?: number;
      intervalMs?: number;
      now?: () => number;
      start?: number;
    } = {},
  ) {
    this.started = this.now();
    this.done = options.start ?? 0;
    this.total = options.total;
  }

  /** Sets the total once it is known (a count taken while the work already runs). */
  setTotal(total: number | undefined): void {
    this.total = total;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Counts `n` more records done (of `type`); emits when the interval has passed. */
  add(n: number, type?: RecordType): void {
    this.done += n;
    if (type) this.type = type;
    const now = this.now();
    if (now - this.lastEmit >= (this.options.intervalMs ?? 500)) this.emit(now, false);
  }

  /** Emits the final event of the step. */
  finish(): void {
    this.emit(this.now(), true);
  }

  /** Records done so far. */
  get count(): number {
    return this.done;
  }

  private emit(now: number, final: boolean): void {
    if (!this.sink) return;
    this.lastEmit = now;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = (this.done - (this.options.start ?? 0)) / seconds;
    const total = this.total;
    const left = total === undefined ? undefined : Math.max(0, total - this.done);
    this.sink({
      step: this.step,
      ...(this.type ? { type: this.type } : {}),
      done: this.done,
      ...(total === undefined ? {} : { total }),
      rate: Math.round(rate),
      ...(left === undefined || rate <= 0 ? {} : { etaSeconds: Math.ceil(left / rate) }),
      ...(final ? { final: true } : {}),
    });
  }
}

/** One line for a terminal: `copy  [#####.....]  52% 10400/20000  3,120 rec/s  ETA 3s`. */
export function renderBar(e: ProgressEvent, width = 24): string {
  const label = `${e.step}${e.type ? ` ${e.type}` : ''}`.padEnd(22);
  const rate = `${e.rate.toLocaleString('en-US')} rec/s`;
  if (e.total === undefined || e.total === 0) return `${label} ${e.done} records  ${rate}`;
  const share = Math.min(1, e.done / e.total);
  const filled = Math.round(share * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const eta = e.etaSeconds === undefined ? '' : `  ETA ${formatSeconds(e.etaSeconds)}`;
  return `${label} ${bar} ${String(Math.floor(share * 100)).padStart(3)}% ${e.done}/${e.total}  ${rate}${eta}`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

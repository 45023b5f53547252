/**
 * The event loop's turns measured in CPU time of the main thread, not in wall
 * time: a timer ticks every `intervalMs`, and at each tick the thread's CPU
 * time and run-queue wait (Linux `/proc/thread-self/schedstat`, nanoseconds)
 * are read. CPU used between two ticks is what the loop ran before it could
 * come back to its timers: one synchronous step, or the callbacks of one
 * turn. Unlike `monitorEventLoopDelay`, it does not grow when the machine is
 * busy and the thread waits for a core (that wait is reported apart).
 *
 * Off Linux (no schedstat) it reports nothing (`available: false`).
 */
import { readFileSync } from 'node:fs';

/** What {@link LoopTurns.report} answers. */
export interface LoopTurnReport {
  readonly available: boolean;
  /** Most CPU time (ms) the main thread used between two ticks. */
  readonly maxCpuMs: number;
  /** Of the longest wall-clock gap between two ticks: its wall time, CPU and run-queue wait (ms). */
  readonly longestGap: { readonly wallMs: number; readonly cpuMs: number; readonly waitMs: number };
  /** Turns whose CPU exceeded 50 ms. */
  readonly over50ms: number;
  /**
   * The longest gaps (at most 20, by CPU), as monotonic microseconds (the clock
   * of a V8 CPU profile's timestamps): a profile's samples inside one of them
   * are what held the loop then.
   */
  readonly longest: readonly LongTurn[];
}

/** One long gap between two ticks: when (monotonic µs), its CPU and its wait for a core (ms). */
export interface LongTurn {
  readonly startUs: number;
  readonly endUs: number;
  readonly cpuMs: number;
  readonly waitMs: number;
}

const KEPT = 20;

function schedstat(): [number, number] | undefined {
  try {
    const [cpu, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [Number(cpu), Number(wait)];
  } catch {
    return undefined;
  }
}

/** Measures loop turns in CPU time from {@link LoopTurns.start} until {@link LoopTurns.stop}. */
export class LoopTurns {
  private timer: NodeJS.Timeout | undefined;
  private last: { wall: bigint; cpu: number; wait: number } | undefined;
  private maxCpu = 0;
  private over50 = 0;
  private gap = { wallMs: 0, cpuMs: 0, waitMs: 0 };
  private longest: LongTurn[] = [];
  private readonly available = schedstat() !== undefined;

  constructor(private readonly intervalMs = 5) {}

  start(): void {
    if (!this.available || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts over (figures since now). */
  reset(): void {
    this.maxCpu = 0;
    this.over50 = 0;
    this.gap = { wallMs: 0, cpuMs: 0, waitMs: 0 };
    this.longest = [];
    this.last = undefined;
  }

  report(): LoopTurnReport {
    return {
      available: this.available,
      maxCpuMs: this.maxCpu,
      longestGap: this.gap,
      over50ms: this.over50,
      longest: this.longest,
    };
  }

  private tick(): void {
    const now = process.hrtime.bigint();
    const s = schedstat();
    if (!s) return;
    const [cpu, wait] = s;
    const last = this.last;
    this.last = { wall: now, cpu, wait };
    if (!last) return;
    const cpuMs = (cpu - last.cpu) / 1e6;
    const wallMs = Number(now - last.wall) / 1e6;
    if (cpuMs > this.maxCpu) this.maxCpu = cpuMs;
    if (cpuMs > 50) this.over50++;
    const waitMs = (wait - last.wait) / 1e6;
    if (wallMs > this.gap.wallMs) this.gap = { wallMs, cpuMs, waitMs };
    const least = this.longest.length < KEPT ? 0 : (this.longest[KEPT - 1]?.cpuMs ?? 0);
    if (cpuMs > least && cpuMs > this.intervalMs) {
      const turn = { startUs: Number(last.wall / 1000n), endUs: Number(now / 1000n), cpuMs, waitMs };
      this.longest = [...this.longest, turn].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, KEPT);
    }
  }
}

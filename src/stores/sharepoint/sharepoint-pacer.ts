/**
 * Client-side pacing of the store's item writes. SharePoint throttles a
 * tenant's app as a whole (not per site), so a store has one pacer for all its
 * sites. Until a part is refused as throttled, writes go out as they come.
 * From the first refusal on, `$batch` requests are spaced so that parts leave
 * at the rate the server was seen to accept (parts accepted over the last
 * {@link WINDOW_MS}), and that rate is raised a little with every part
 * accepted (+{@link PROBE} part/s per part), so the pacer follows a limit
 * that rises and meets it again after each refusal.
 *
 * Why: without pacing, the store's batches in flight each wait Retry-After
 * after a refusal and come back together, in bursts; between bursts the
 * server's allowance refills and, once full, is lost. Sent at the accepted
 * rate, the allowance is used as it refills. Refused parts still wait what
 * Retry-After asks (sharepoint-writer.ts), then take their turn here.
 *
 * Only refused parts and accepted ones teach it: SharePoint's `RateLimit-*`
 * headers are not read (the emulator does not send them).
 */
import { sleep as realSleep } from './sharepoint-retry';

/** How far back accepted parts count towards the observed rate. */
export const WINDOW_MS = 2000;
/** Parts per second added to the pace per part accepted without refusal (about 5% a second). */
export const PROBE = 0.05;
/** The pace never drops below this (parts per second). */
export const MIN_RATE = 5;

/** Clock and timer, injected by tests. */
export interface PacerClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** See the file comment. */
export class WritePacer {
  /** Parts per second; undefined until a part is refused as throttled. */
  private pace: number | undefined;
  /** When the next request may leave. */
  private nextAt = 0;
  /** Answers of the last {@link WINDOW_MS}: when, and parts accepted. */
  private readonly answers: { at: number; accepted: number }[] = [];
  /** When the first request of the observation window left. */
  private firstSentAt: number | undefined;

  constructor(private readonly clock: PacerClock = { now: () => performance.now(), sleep: realSleep }) {}

  /** The current pace (parts per second), or undefined while unpaced. */
  get rate(): number | undefined {
    return this.pace;
  }

  /** Waits until a request of `parts` parts may leave, and books its share of the pace. */
  async admit(parts: number): Promise<void> {
    const now = this.clock.now();
    this.firstSentAt ??= now;
    if (this.pace === undefined) return;
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + (parts / this.pace) * 1000;
    if (at > now) await this.clock.sleep(at - now);
  }

  /** Learns from an answer: `accepted` parts written, `throttled` refused as throttled. */
  answered(accepted: number, throttled: number): void {
    const now = this.clock.now();
    this.answers.push({ at: now, accepted });
    while ((this.answers[0]?.at ?? now) < now - WINDOW_MS) this.answers.shift();
    if (throttled === 0) {
      if (this.pace !== undefined) this.pace += PROBE * accepted;
      return;
    }
    const seen = this.answers.reduce((n, a) => n + a.accepted, 0);
    // Nothing accepted yet (the allowance was spent before we came): no rate to go by;
    // the refused parts wait Retry-After and the next answers tell.
    if (seen === 0) return;
    const span = Math.max(1, Math.min(WINDOW_MS, now - (this.firstSentAt ?? now)));
    this.pace = Math.max(MIN_RATE, (seen / span) * 1000);
  }
}

/**
 * A budget of bytes shared by concurrent requests (the ingest's bytes in
 * flight per process): a request reserves what it may hold before it reads,
 * waits in arrival order while the budget is spent, and gives it back when it
 * ends. Waiting requests do not read their body, so their senders are held
 * back by TCP flow control rather than by this process's memory.
 */

/** Gives a reservation back; idempotent. */
export type Release = () => void;

/** A first-come, first-served budget of bytes. */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { readonly bytes: number; readonly grant: (release: Release) => void }[] = [];

  /** @param capacity bytes the holders together may reserve (> 0). */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) {
      throw new RangeError(`a byte budget needs a positive integer capacity, got ${capacity}`);
    }
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** Reservations waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Reserves `bytes` (at most the capacity: a larger ask reserves all of it),
   * resolving once they fit and every earlier ask has been served.
   */
  reserve(bytes: number): Promise<Release> {
    const want = Math.min(Math.max(0, Math.ceil(bytes)), this.capacity);
    if (this.waiting.length === 0 && this.used + want <= this.capacity) {
      return Promise.resolve(this.take(want));
    }
    return new Promise((grant) => this.waiting.push({ bytes: want, grant }));
  }

  private take(bytes: number): Release {
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.serve();
    };
  }

  private serve(): void {
    for (;;) {
      const next = this.waiting[0];
      if (!next || this.used + next.bytes > this.capacity) return;
      this.waiting.shift();
      next.grant(this.take(next.bytes));
    }
  }
}

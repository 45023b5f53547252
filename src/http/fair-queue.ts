/**
 * Fair turns between tenants on the one event loop: while several tenants are
 * active, each runs at most its share (`sharedConcurrency / active tenants`,
 * at least 1) of requests at once; its other admitted requests wait, unread,
 * in its own queue, and a freed turn goes to the tenants in rotation. A tenant
 * alone is not held back (its cap is then `maxInFlight`): the queue only
 * divides the gateway when there is someone to divide it with. A tenant stays
 * active for {@link ACTIVE_WINDOW_MS} after its last request ended, so one
 * sending back to back keeps its share between two requests.
 */
import type { TenantId } from '../hub/tenant';
import type { Clock } from '../platform/token-bucket';

/** How long a tenant counts as active after its last request ended. */
export const ACTIVE_WINDOW_MS = 1000;

interface Turns {
  running: number;
  readonly waiting: (() => void)[];
  lastEnd: number;
}

/** Per-tenant running requests and queues (see the module comment). */
export class FairQueue {
  private readonly tenants = new Map<TenantId, Turns>();

  /** @param sharedConcurrency requests divided among the active tenants (default 8). */
  constructor(
    private readonly sharedConcurrency = 8,
    private readonly clock: Clock = Date.now,
  ) {}

  /** Resolves when the tenant may run one more request (its turn is then taken). */
  enter(tenant: TenantId): Promise<void> | undefined {
    let t = this.tenants.get(tenant);
    if (!t) {
      t = { running: 0, waiting: [], lastEnd: this.clock() };
      this.tenants.set(tenant, t);
    }
    if (t.waiting.length === 0 && t.running < this.share()) {
      t.running++;
      return undefined;
    }
    const turns = t;
    return new Promise<void>((resolve) => turns.waiting.push(resolve));
  }

  /** Gives the tenant's turn back and hands freed turns out in rotation. */
  leave(tenant: TenantId): void {
    const t = this.tenants.get(tenant);
    if (!t) return;
    t.running--;
    t.lastEnd = this.clock();
    this.dispatch(tenant);
  }

  /** Requests of the tenant running and waiting (tests, diagnostics). */
  state(tenant: TenantId): { running: number; waiting: number } {
    const t = this.tenants.get(tenant);
    return { running: t?.running ?? 0, waiting: t?.waiting.length ?? 0 };
  }

  /** Most requests one tenant may run now. */
  private share(): number {
    const now = this.clock();
    let active = 0;
    for (const [id, t] of this.tenants) {
      if (t.running > 0 || t.waiting.length > 0 || now - t.lastEnd < ACTIVE_WINDOW_MS) active++;
      else this.tenants.delete(id); // idle: forgotten, so the map holds only active tenants
    }
    return active <= 1 ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(this.sharedConcurrency / active));
  }

  /** Starts waiting requests while their tenants are under the share, the tenant that just left last. */
  private dispatch(left: TenantId): void {
    const share = this.share();
    const order = [...this.tenants.keys()].filter((id) => id !== left);
    if (this.tenants.has(left)) order.push(left);
    let started = true;
    while (started) {
      started = false;
      for (const id of order) {
        const t = this.tenants.get(id);
        const next = t && t.running < share ? t.waiting.shift() : undefined;
        if (t && next) {
          t.running++;
          next();
          started = true;
        }
      }
    }
  }
}

/**
 * Admission of a tenant's request, decided before its body is read: a cap on
 * the tenant's requests in flight, and its cost budget (a token bucket of cost
 * units per second, src/platform/token-bucket.ts). Over either, the answer is
 * `429` with code `THROTTLED` and `Retry-After`, and the body is never read.
 * After the request ran, its real cost (the cost analysis' figure, or a flat
 * {@link DEFAULT_REQUEST_COST}) is charged to the bucket.
 *
 * Nothing here depends on another tenant's state: a refusal says only what
 * the caller's own tenant used.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TenantId } from '../hub/tenant';
import type { GatewayMetrics } from '../platform/metrics';
import { DEFAULT_REQUEST_COST, type TenantLimits, type TenantPolicy } from '../platform/tenant-limits';
import type { CostBudget } from '../platform/token-bucket';
import { FairQueue } from './fair-queue';
import { refuseUnreadBody, sendError } from './respond';

/** An admitted request: call {@link Ticket.done} exactly once when it has been answered. */
export interface Ticket {
  readonly limits: TenantLimits;
  /** Ends the request: frees its place in flight and charges `cost` (default {@link DEFAULT_REQUEST_COST}). */
  done(cost?: number): void;
}

/** Units taken when a request is admitted; the rest of its cost is charged by {@link Ticket.done}. */
const UPFRONT = 1;

/** Per-tenant requests in flight and cost budgets. */
export class AdmissionControl {
  private readonly inFlight = new Map<TenantId, number>();

  /** @param turns fair turns between active tenants (src/http/fair-queue.ts). */
  constructor(
    private readonly policy: TenantPolicy,
    private readonly budget: CostBudget,
    private readonly turns: FairQueue = new FairQueue(),
  ) {}

  /**
   * Admits a request of `tenant`, or answers 429 THROTTLED itself (with
   * `Retry-After`, closing the connection so the unread body is dropped).
   * @returns the ticket, or undefined when the request was answered.
   */
  async admit(
    tenant: TenantId,
    req: IncomingMessage,
    res: ServerResponse,
    metrics: GatewayMetrics,
  ): Promise<Ticket | undefined> {
    const limits = this.policy.limits(tenant);
    const running = this.inFlight.get(tenant) ?? 0;
    if (running >= limits.maxInFlight) {
      throttled(
        req,
        res,
        metrics,
        1,
        `this tenant already has ${running} requests in flight (limit ${limits.maxInFlight}); retry after 1s`,
      );
      return undefined;
    }
    // Counted before the budget is asked (which may wait on Redis), so a burst cannot pass the cap meanwhile.
    this.inFlight.set(tenant, running + 1);
    let admitted;
    try {
      admitted = await this.budget.admit(tenant, limits, UPFRONT);
    } catch (err) {
      this.leave(tenant);
      throw err;
    }
    if (!admitted.ok) {
      this.leave(tenant);
      throttled(
        req,
        res,
        metrics,
        admitted.retryAfterSeconds,
        `this tenant is over its cost budget of ${limits.costPerSecond} units per second (burst ${limits.burst}); retry after ${admitted.retryAfterSeconds}s`,
      );
      return undefined;
    }
    // Its turn among the active tenants: it waits here, unread, while its tenant is over its share.
    const wait = this.turns.enter(tenant);
    if (wait) await wait;
    let ended = false;
    return {
      limits,
      done: (cost = DEFAULT_REQUEST_COST) => {
        if (ended) return;
        ended = true;
        this.turns.leave(tenant);
        this.leave(tenant);
        this.budget.charge(tenant, limits, Math.max(0, cost - UPFRONT));
      },
    };
  }

  /** Requests of the tenant in flight now (tests, diagnostics). */
  running(tenant: TenantId): number {
    return this.inFlight.get(tenant) ?? 0;
  }

  private leave(tenant: TenantId): void {
    const n = (this.inFlight.get(tenant) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(tenant);
    else this.inFlight.set(tenant, n);
  }
}

function throttled(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: GatewayMetrics,
  retryAfterSeconds: number,
  message: string,
): void {
  metrics.errors.inc({ code: 'THROTTLED' });
  res.setHeader('retry-after', String(retryAfterSeconds));
  refuseUnreadBody(req, res);
  sendError(res, 429, 'THROTTLED', message, { retryAfterSeconds });
}

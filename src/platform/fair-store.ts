/**
 * Fair shares of the stores: a wrapper of the Hub's store port that lets each
 * tenant run at most `maxStoreCalls` store calls at once (the rest wait their
 * turn, first come first served), and at most `maxRollupsInFlight` of them
 * rollups. A tenant sending calls at full speed therefore holds a bounded
 * number of the store's connections, and every other tenant's calls find one
 * free. It knows the port only (a Proxy, like instrumentStore): which store is
 * below, and how it pools connections, stays in the store's folder.
 *
 * A tenant's queue is bounded too: past {@link MAX_WAITING_PER_SLOT} waiting
 * calls per slot, a call fails at once with THROTTLED (retry after 1 s; the
 * GraphQL request holding it then answers 429: src/graphql/throttled.ts).
 */
import { HubError } from '../hub/errors';
import type { HubStore } from '../hub/store';
import { type TenantId, isTenantId } from '../hub/tenant';
import type { TenantPolicy } from './tenant-limits';
import { forwardTraced } from '../hub/tracing-ports';

/** Port methods that run a rollup (aggregations over many records). */
const ROLLUP_METHODS = new Set([
  'costPerSkill',
  'archetypeProgression',
  'managerDashboard',
  'managers',
  'skills',
]);
/** Port methods that are not a tenant's (pings, outbox, lifecycle): never queued. */
const UNSHARED = new Set(['ping', 'close', 'drainOutbox', 'outboxBacklog']);
/** Waiting calls allowed per slot of a tenant before THROTTLED. */
export const MAX_WAITING_PER_SLOT = 64;

/** A counting semaphore with a FIFO queue. */
class Gate {
  running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly capacity: () => number) {}

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when a slot is free (taking it); `limit` names the capacity in the refusal. */
  enter(what: string, limit: string): Promise<void> | undefined {
    const cap = this.capacity();
    if (this.running < cap) {
      this.running++;
      return undefined;
    }
    if (this.waiting.length >= cap * MAX_WAITING_PER_SLOT)
      throw new HubError(
        'THROTTLED',
        `too many ${what} of this tenant waiting (${this.waiting.length}, the limit is ${MAX_WAITING_PER_SLOT} per slot of ${limit} ${cap}); retry after 1s`,
        { retryAfterSeconds: 1 },
      );
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` does not change.
    if (next) next();
    else this.running--;
  }

  get idle(): boolean {
    return this.running === 0 && this.waiting.length === 0;
  }
}

interface TenantGates {
  readonly calls: Gate;
  readonly rollups: Gate;
}

/** Per-tenant gates, dropped when idle (so the map holds only tenants with calls running). */
export interface FairShares {
  /** Calls of the tenant running now and waiting (tests, diagnostics). */
  state(tenant: TenantId): { running: number; waiting: number; rollups: number };
}

/**
 * Wraps a store so that each tenant's calls pass its gates (see the module
 * comment). @returns the wrapped store and a view of the gates.
 */
export function fairStore<S extends HubStore>(
  store: S,
  policy: TenantPolicy,
): { store: S; shares: FairShares } {
  const shares = new Shares(policy);
  return { store: gated(store, shares), shares };
}

/** The store behind a Proxy whose tenant calls pass `shares` (each method wrapped once). */
function gated<S extends HubStore>(store: S, shares: Shares): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      // A traced view passes the same gates (the shares are the store's, not the view's).
      if (prop === 'traced') return forwardTraced(target, (view) => gated(view, shares));
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'constructor' || UNSHARED.has(String(prop))) return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const rollup = ROLLUP_METHODS.has(String(prop));
        fn = function (this: unknown, ...args: unknown[]) {
          const tenant = args[0];
          const call = () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (!isTenantId(tenant)) return call();
          const g = shares.gatesOf(tenant);
          if (!rollup) return shares.through(tenant, g, g.calls, 'store calls', call);
          // A rollup takes a rollup slot first, then a call slot, always in this order (no deadlock).
          return shares.through(tenant, g, g.rollups, 'rollups', () =>
            shares.through(tenant, g, g.calls, 'store calls', call),
          );
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/** Per-tenant gates, made on a tenant's first call and dropped when idle, and a call's passage through one. */
class Shares implements FairShares {
  private readonly gates = new Map<TenantId, TenantGates>();

  constructor(private readonly policy: TenantPolicy) {}

  gatesOf(tenant: TenantId): TenantGates {
    let g = this.gates.get(tenant);
    if (!g) {
      g = {
        calls: new Gate(() => this.policy.limits(tenant).maxStoreCalls),
        rollups: new Gate(() => this.policy.limits(tenant).maxRollupsInFlight),
      };
      this.gates.set(tenant, g);
    }
    return g;
  }

  state(tenant: TenantId): { running: number; waiting: number; rollups: number } {
    const g = this.gates.get(tenant);
    return g
      ? { running: g.calls.running, waiting: g.calls.queued, rollups: g.rollups.running }
      : { running: 0, waiting: 0, rollups: 0 };
  }

  /**
   * Runs `run` once `gate` gives it a slot (THROTTLED when too many wait).
   * Without async functions: a call with a free slot (the usual case) costs
   * one promise reaction, not two async frames and their promises.
   */
  through(
    tenant: TenantId,
    g: TenantGates,
    gate: Gate,
    what: string,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    let wait: Promise<void> | undefined;
    try {
      wait = gate.enter(what, gate === g.rollups ? 'maxRollupsInFlight' : 'maxStoreCalls');
    } catch (err) {
      return Promise.reject(err);
    }
    return wait ? wait.then(() => this.inSlot(tenant, g, gate, run)) : this.inSlot(tenant, g, gate, run);
  }

  /** Runs `run` in the slot it holds, giving the slot back however it ends. */
  private inSlot(
    tenant: TenantId,
    g: TenantGates,
    gate: Gate,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(run());
    } catch (err) {
      this.release(tenant, g, gate);
      return Promise.reject(err);
    }
    return result.then(
      (value) => {
        this.release(tenant, g, gate);
        return value;
      },
      (err: unknown) => {
        this.release(tenant, g, gate);
        throw err;
      },
    );
  }

  private release(tenant: TenantId, g: TenantGates, gate: Gate): void {
    gate.leave();
    if (g.calls.idle && g.rollups.idle) this.gates.delete(tenant);
  }
}

/**
 * Helpers for the router tests: a store opener that keeps a handle on every
 * real store it opened (to look inside them directly) and can put an outage in
 * front of chosen URIs, plus small data helpers.
 */
import { HubError } from '../../src/hub/errors';
import { Hub } from '../../src/hub/hub';
import type { HubRecord, RecordType } from '../../src/hub/model';
import type { HubStore, OutboxEntry, OutboxSource } from '../../src/hub/store';
import { hasOutbox } from '../../src/hub/store';
import type { TenantId } from '../../src/hub/tenant';
import { parseTenantId } from '../../src/hub/tenant';
import { generateOutputs } from '../../src/seed/generator';
import type { OpenStoreOptions } from '../../src/stores/driver';
import { openStore } from '../../src/stores/index';
import type { StoreOpener } from '../../src/router/store-pool';

/** A switch that makes a wrapped store fail every call with UNAVAILABLE while `down`. */
export interface Outage {
  down: boolean;
}

/**
 * Forwards every call to a real store, except while its outage switch is on
 * (fault injection in front of a real store, not a stand-in for one).
 */
class OutageStore implements HubStore {
  readonly capabilities;
  constructor(
    readonly inner: HubStore,
    private readonly outage: Outage,
  ) {
    // Only the required port is forwarded, so the optional parts are not declared.
    this.capabilities = { ...inner.capabilities, outbox: false, nestedLists: false };
  }
  private async gate<T>(fn: () => Promise<T>): Promise<T> {
    if (this.outage.down)
      throw new HubError('UNAVAILABLE', 'injected outage', { cause: new Error('ECONNREFUSED') });
    return fn();
  }
  putBatch: HubStore['putBatch'] = (t, r) => this.gate(() => this.inner.putBatch(t, r));
  getByIds: HubStore['getByIds'] = (t, ty, ids, p) => this.gate(() => this.inner.getByIds(t, ty, ids, p));
  list: HubStore['list'] = (t, q) => this.gate(() => this.inner.list(t, q));
  scan: HubStore['scan'] = (t, q) => this.gate(() => this.inner.scan(t, q));
  costPerSkill: HubStore['costPerSkill'] = (t, q) => this.gate(() => this.inner.costPerSkill(t, q));
  archetypeProgression: HubStore['archetypeProgression'] = (t, q) =>
    this.gate(() => this.inner.archetypeProgression(t, q));
  managerDashboard: HubStore['managerDashboard'] = (t, q) =>
    this.gate(() => this.inner.managerDashboard(t, q));
  managers: HubStore['managers'] = (t, q) => this.gate(() => this.inner.managers(t, q));
  skills: HubStore['skills'] = (t, q) => this.gate(() => this.inner.skills(t, q));
  purgeTenant: HubStore['purgeTenant'] = (t) => this.gate(() => this.inner.purgeTenant(t));
  ping: HubStore['ping'] = () => this.gate(() => this.inner.ping());
  close: HubStore['close'] = () => this.inner.close();
}

/** An opener recording what it opened, with optional outage switches per URI. */
export function recordingOpener(
  outages: Record<string, Outage> = {},
  base: StoreOpener = openStore,
): {
  open: StoreOpener;
  /** Real stores opened, by URI, in opening order. */
  opened: Map<string, HubStore[]>;
  /** The last real store opened for a URI. */
  real(uri: string): HubStore;
  calls: { uri: string; options?: OpenStoreOptions }[];
} {
  const opened = new Map<string, HubStore[]>();
  const calls: { uri: string; options?: OpenStoreOptions }[] = [];
  const open: StoreOpener = async (uri, options) => {
    calls.push({ uri, ...(options ? { options } : {}) });
    const store = await base(uri, options);
    opened.set(uri, [...(opened.get(uri) ?? []), store]);
    const outage = outages[uri];
    if (!outage) return store;
    const wrapped = new OutageStore(store, outage);
    if (!hasOutbox(store)) return wrapped;
    // Keep the outbox reachable through the wrapper (a primary under test).
    const source = store as HubStore & OutboxSource;
    return Object.assign(wrapped, {
      drainOutbox: (limit: number, ship: (e: readonly OutboxEntry[]) => Promise<void>) =>
        source.drainOutbox(limit, ship),
      outboxBacklog: () => source.outboxBacklog(),
    });
  };
  const real = (uri: string): HubStore => {
    const list = opened.get(uri);
    const last = list?.[list.length - 1];
    if (!last) throw new Error(`no store opened for ${uri}`);
    return last;
  };
  return { open, opened, real, calls };
}

/** `n` deterministic output inputs (records differ by seed). */
export function outputs(n: number, seed = 1): Record<string, unknown>[] {
  const batch = generateOutputs(n, { seed, batchSize: n, days: 14 }).next().value;
  return batch ? [...batch] : [];
}

/** The same tenant id parse as the Hub's. */
export const tenant = (id: string): TenantId => parseTenantId(id);

/** Every record of one type of a tenant in a store, in scan order. */
export async function scanAll(
  store: HubStore,
  t: TenantId,
  type: RecordType = 'outputs',
): Promise<HubRecord[]> {
  const out: HubRecord[] = [];
  for await (const page of new Hub(store).scan(t, { types: [type], pageSize: 500 })) out.push(...page);
  return out;
}

/** A costPerSkill query covering every generated output. */
export const WHOLE_RANGE = {
  from: '2026-01-01T00:00:00.000Z',
  to: '2026-03-01T00:00:00.000Z',
  bucket: 'WEEK' as const,
};

/** Polls `check` until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * An opener that hands every caller the same instance for the listed URIs (as
 * several gateway replicas share one warehouse); their `close` is a no-op, the
 * test closes them. Other URIs are opened normally.
 */
export function sharingOpener(shared: Record<string, HubStore>, base: StoreOpener = openStore): StoreOpener {
  return async (uri, options) => {
    const store = shared[uri];
    if (!store) return base(uri, options);
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'close') return async () => undefined;
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}

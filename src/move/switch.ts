/**
 * The flip of a tenant's primary, which `switch` and `reverse` run: online,
 * let the lag drain to a tail, fence the tenant's writes, wait for every live
 * replica, drain the tail, then flip (reverse replication on, fence lifted)
 * in one change and wait for every live replica to run it; read-only, make
 * the tenant read-only, wait, run the final sync, then flip. Each step is
 * recorded in the move first, so a re-run after a crash finishes it.
 */
import { HubError } from '../hub/errors';
import { type HubStore, hasOutbox, hasTenantOutbox } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import type { MoveRecord, TenantEntry } from '../control/control-plane';
import { type MoveDeps, tenantEntry, withStores } from './move-deps';
import { syncMissing } from './sync';
import { sleep, waitApplied } from './wait-applied';

/** What switch and reverse return. */
export interface SwitchResult {
  readonly move: MoveRecord;
  /** How long the tenant's writes were held (or refused), from the fence until every live replica ran the flip. */
  readonly fenceMs: number;
  /** That time by step: `commit`, `applied` (every replica fenced), `drained`/`synced`, `flip`, `lifted`. */
  readonly steps: Readonly<Record<string, number>>;
}

/**
 * Moves the tenant's primary to `side` of `move` (see the module comment);
 * nothing to do when it is there already with no step left unfinished.
 * @returns the move as recorded after the flip, how long the tenant's writes
 *   were held or refused (ms) and that time by step.
 * @throws HubError TIMEOUT when replicas do not apply the fence or the outbox
 *   does not drain (the fence is then lifted and the move stays where it was).
 */
export async function flipPrimary(
  deps: MoveDeps,
  move: MoveRecord,
  side: 'source' | 'target',
): Promise<SwitchResult> {
  const tenant = move.tenant;
  const [fromUri, toUri] = side === 'target' ? [move.source, move.target] : [move.target, move.source];
  if (move.primaryIs === side && move.step === undefined) return { move, fenceMs: 0, steps: {} };
  const current = await tenantEntry(deps, tenant);
  // What the tenant returns to if this step fails: writes open on its current primary.
  const entry = { ...current, state: 'moving' as const, fenced: false };
  const plan: FlipPlan = {
    move,
    side,
    entry,
    fromUri,
    toUri,
    online: move.mode === 'online' && entry.replica === toUri,
  };
  // Stores are opened before the fence: connecting is not part of the time writes are refused.
  return withStores(deps, [fromUri, toUri], async ([fromStore, toStore]) => {
    const from = fromStore as HubStore;
    const to = toStore as HubStore;
    // 0. Online, not resuming a fence: let the lag drain while writes flow, so the fence only waits for a tail.
    if (plan.online && move.step === undefined) await catchUp(deps, tenant, from);
    const laps = new Laps();
    await fenceAndSync(deps, plan, from, to, laps);
    const next = await commitFlip(deps, plan, to, laps);
    const fenceMs = laps.sinceStart();
    deps.log?.('move.switched', { tenant, primary: side, fenceMs, steps: laps.steps });
    return { move: next, fenceMs, steps: laps.steps };
  });
}

/**
 * Steps 1 and 2 of a flip: refuse the tenant's writes (a fence, or
 * read-only for the sync), recorded in the move first, then bring the
 * destination up to date. On failure the fence is lifted (the tenant keeps
 * its primary and takes writes again) and the move stays where it was.
 */
async function fenceAndSync(
  deps: MoveDeps,
  plan: FlipPlan,
  from: HubStore,
  to: HubStore,
  laps: Laps,
): Promise<void> {
  const { move, entry, online } = plan;
  const tenant = move.tenant;
  const plane = deps.plane;
  const stepped: MoveRecord = { ...move, step: online ? 'fencing' : 'syncing' };
  const fenced = online ? { ...entry, fenced: true } : { ...entry, state: 'read-only' as const };
  const version = await plane.commit({ tenant: fenced, move: stepped, expectMovePhase: move.phase });
  laps.lap('commit');
  try {
    await waitApplied(deps, version);
    laps.lap('applied');
    await deps.checkpoint?.('fenced');
    if (online) await drain(deps, tenant, from);
    else
      await syncMissing(from, to, tenant, {
        ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
      });
    laps.lap(online ? 'drained' : 'synced');
    await deps.checkpoint?.(online ? 'drained' : 'synced');
  } catch (err) {
    await plane
      .commit({ tenant: entry, move: { ...move, error: (err as Error).message } })
      .catch(() => undefined);
    throw err;
  }
}

/**
 * Steps 3 and 4 of a flip: flip the primary, keep replicating the other
 * way (online, where the new primary has a durable outbox) and lift the
 * fence, as one change; then wait until every live replica runs it (held
 * writes go to the new primary there).
 * @returns the move as recorded after the flip.
 */
async function commitFlip(deps: MoveDeps, plan: FlipPlan, to: HubStore, laps: Laps): Promise<MoveRecord> {
  const { move, side, entry, online, fromUri, toUri } = plan;
  const tenant = move.tenant;
  const reverseReplica = online && to.capabilities.outbox ? fromUri : undefined;
  const next: MoveRecord = {
    ...move,
    phase: side === 'target' ? 'switched' : 'replicating',
    primaryIs: side,
    step: undefined,
    error: undefined,
  };
  const flipped = await deps.plane.commit({
    tenant: {
      id: tenant,
      primary: toUri,
      ...(entry.analytics ? { analytics: entry.analytics } : {}),
      state: 'moving',
      fenced: false,
      ...(reverseReplica ? { replica: reverseReplica } : {}),
    },
    move: next,
  });
  laps.lap('flip');
  try {
    await waitApplied(deps, flipped);
  } catch (err) {
    // The switch is done and durable; a replica that lags keeps holding (then refusing) writes until it applies it.
    deps.log?.('move.flip_not_applied', { tenant, error: (err as Error).message });
  }
  laps.lap('lifted');
  return next;
}

/**
 * Before a fence: waits (bounded) until at most `tailEntries` of the
 * tenant's writes wait in the outbox, reporting the lag as progress.
 */
async function catchUp(deps: MoveDeps, tenant: TenantId, store: HubStore): Promise<void> {
  if (!hasTenantOutbox(store)) return;
  const tail = deps.tailEntries ?? 200;
  const began = Date.now();
  const deadline = began + (deps.catchUpTimeoutMs ?? 60_000);
  let first: number | undefined;
  for (;;) {
    const { pending } = await store.tenantOutboxBacklog(tenant);
    first ??= pending;
    const done = Math.max(0, first - pending);
    if (pending <= tail) {
      if (first > tail) deps.onProgress?.({ step: 'catch-up', done, total: first, rate: 0, final: true });
      return;
    }
    if (Date.now() > deadline) {
      deps.log?.('move.catch_up_incomplete', { tenant, pending });
      return;
    }
    const rate = done / Math.max(0.001, (Date.now() - began) / 1000);
    deps.onProgress?.({ step: 'catch-up', done, total: first, rate });
    const live = await deps.plane.replicas(deps.liveSeconds ?? 3);
    if (live.length === 0 && deps.drainOutbox) await deps.drainOutbox(tenant);
    else await sleep(20);
  }
}

/** Waits until the tenant's outbox on `store` is empty (replicas' relays ship it), draining it here when no replica is live. */
async function drain(deps: MoveDeps, tenant: TenantId, store: HubStore): Promise<void> {
  if (!hasTenantOutbox(store)) {
    if (hasOutbox(store)) throw new HubError('INTERNAL', 'the primary cannot report its outbox per tenant');
    return;
  }
  const deadline = Date.now() + (deps.drainTimeoutMs ?? 30_000);
  for (;;) {
    const { pending } = await store.tenantOutboxBacklog(tenant);
    if (pending === 0) return;
    const live = await deps.plane.replicas(deps.liveSeconds ?? 3);
    if (live.length === 0 && deps.drainOutbox) await deps.drainOutbox(tenant);
    if (Date.now() > deadline)
      throw new HubError('TIMEOUT', `the outbox of tenant ${tenant} still holds ${pending} entries`);
    await sleep(5);
  }
}

/** What a flip works from: the move, the side that becomes primary, and the tenant's entry to fall back to. */
interface FlipPlan {
  readonly move: MoveRecord;
  readonly side: 'source' | 'target';
  readonly entry: Omit<TenantEntry, 'version'> & { readonly state: 'moving' };
  readonly fromUri: string;
  readonly toUri: string;
  /** Online (writes fenced and drained through the outbox) rather than read-only with a final sync. */
  readonly online: boolean;
}

/** The fence's time by step (ms), from when it was made. */
class Laps {
  readonly steps: Record<string, number> = {};
  private readonly start = Date.now();
  private last = this.start;

  /** Records the time since the previous lap under `name`. */
  lap(name: string): void {
    const now = Date.now();
    this.steps[name] = now - this.last;
    this.last = now;
  }

  /** Milliseconds since the fence began. */
  sinceStart(): number {
    return Date.now() - this.start;
  }
}

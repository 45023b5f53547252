/**
 * Tenant moves between stores (`hub move`), modelled on Vitess MoveTables
 * with a tenant as the unit: create (copy), status, verify, switch, reverse,
 * complete, cancel. Durable in the control plane: phases `copying` ->
 * `replicating` -> `switched` -> `completed` (or `cancelled`), copy positions
 * per record type, and a `step` for the few actions that must be finished by a
 * re-run after a crash (a fence in force, a final sync in progress). Every
 * command is safe to re-run and continues where the last run stopped.
 *
 * Online mode: the tenant's acknowledged writes are captured in the primary's
 * outbox and shipped to the other store by the gateways' relays (the route's
 * `replica`), so the copy can run while the tenant takes writes. `switch`
 * fences the tenant's writes, waits until every live replica enforces the
 * fence, drains the tenant's outbox to zero, and flips the primary (lifting
 * the fence in the same change), with replication reversed so `reverse` loses
 * nothing. Read-only mode: the tenant is read-only from the final sync (a
 * record-by-record comparison copying what is missing) to the flip.
 */
import { HubError } from '../hub/errors';
import { type HubStore, hasOutbox, hasTenantOutbox } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import type { ControlPlane, MoveMode, MoveRecord, ReplicaAck, TenantEntry } from '../control/control-plane';
import { type CompareReport, type Difference, compareTenant } from '../migrate/compare';
import { type CopyCheckpoints, copyTenant, countTenant } from '../migrate/copy';
import type { ProgressSink } from '../migrate/progress';
import type { OpenStoreOptions } from '../stores/driver';
import { syncMissing } from './sync';

/** What a move needs from its surroundings (injected so tests and the gateway's admin endpoint can run it). */
export interface MoveDeps {
  readonly plane: ControlPlane;
  /** Opens a store by URI (the driver registry's `openStore`, or a test's shared instances). */
  readonly openStore: (uri: string, options?: OpenStoreOptions) => Promise<HubStore>;
  /** The tenant's primary URI per HUB_CONFIG / HUB_PG_URL when the control plane has no entry for it. */
  readonly configuredPrimary: (tenant: TenantId) => Promise<string | undefined>;
  /**
   * Drains the tenant's outbox when no gateway replica is live to do it (the
   * move process then ships it itself). Absent: wait for the replicas.
   */
  readonly drainOutbox?: (tenant: TenantId) => Promise<void>;
  readonly onProgress?: ProgressSink;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
  /** Replicas that reported within this many seconds count as live (default 3). */
  readonly liveSeconds?: number;
  /** Longest wait for every live replica to apply a change (default 10 s). */
  readonly applyTimeoutMs?: number;
  /** Longest wait for the outbox to drain inside the fence (default 30 s). */
  readonly drainTimeoutMs?: number;
  /**
   * Before fencing, the outbox is let drain until at most this many of the
   * tenant's entries wait (default 200), so that inside the fence only the
   * last tail remains to ship.
   */
  readonly tailEntries?: number;
  /** Longest wait for that catch-up before fencing anyway (default 60 s). */
  readonly catchUpTimeoutMs?: number;
  /** Called at named points (tests kill the process there): `copy-batch`, `copied`, `fenced`, `drained`, `synced`. */
  readonly checkpoint?: (point: string) => void | Promise<void>;
}

/** What `status` shows. */
export interface MoveStatus {
  readonly move: MoveRecord | null;
  readonly tenant: TenantEntry | null;
  /** Records copied so far and the source's total (when it can count). */
  readonly copied: number;
  readonly total?: number;
  /** The tenant's replication lag: outbox entries waiting and the age of the oldest (online moves). */
  readonly lag?: { readonly pending: number; readonly seconds: number };
  /** Live gateway replicas and the version each runs. */
  readonly replicas: readonly { readonly id: string; readonly version: number }[];
}

const TERMINAL = new Set(['completed', 'cancelled']);

/** The move service; see the module comment. */
export class Mover {
  constructor(private readonly deps: MoveDeps) {}

  private log(event: string, fields: Record<string, unknown> = {}): void {
    this.deps.log?.(event, fields);
  }

  /** Runs `fn` holding the tenant's move lock (one move command per tenant at a time). */
  private async locked<T>(tenant: TenantId, fn: () => Promise<T>): Promise<T> {
    const release = await this.deps.plane.lockMove(tenant);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** The tenant's current entry, or one built from the configuration (state active). */
  private async entry(tenant: TenantId): Promise<Omit<TenantEntry, 'version'>> {
    const known = await this.deps.plane.getTenant(tenant);
    if (known) return known;
    const primary = await this.deps.configuredPrimary(tenant);
    if (!primary) throw new HubError('NOT_FOUND', `tenant ${tenant} is not served by this configuration`);
    return { id: tenant, primary, state: 'active' };
  }

  private async withStores<T>(uris: readonly string[], fn: (stores: HubStore[]) => Promise<T>): Promise<T> {
    const opened: HubStore[] = [];
    try {
      for (const uri of uris) opened.push(await this.deps.openStore(uri));
      return await fn(opened);
    } finally {
      for (const s of opened) await s.close().catch(() => undefined);
    }
  }

  /**
   * Creates the move (or resumes one already created for the same target)
   * and copies until the copy is complete; the move is then `replicating`.
   * @throws HubError VALIDATION for online mode from a store without an
   *   outbox, for a target equal to the source, or when the target already
   *   holds records of the tenant; CONFLICT when another move is in progress.
   */
  async create(tenant: TenantId, target: string, mode: MoveMode): Promise<MoveRecord> {
    return this.locked(tenant, async () => {
      let move = await this.deps.plane.getMove(tenant);
      if (move && !TERMINAL.has(move.phase)) {
        if (move.target !== target || move.mode !== mode)
          throw new HubError(
            'CONFLICT',
            `tenant ${tenant} already has a ${move.mode} move to ${redact(move.target)} (${move.phase}); cancel or complete it first`,
          );
        if (move.phase !== 'copying') return move;
      } else {
        move = await this.start(tenant, target, mode);
      }
      return this.copy(move);
    });
  }

  private async start(tenant: TenantId, target: string, mode: MoveMode): Promise<MoveRecord> {
    const entry = await this.entry(tenant);
    if (entry.primary === target)
      throw new HubError('VALIDATION', `tenant ${tenant} is already on that store`);
    await this.withStores([entry.primary, target], async ([source, dest]) => {
      if (mode === 'online' && !(source as HubStore).capabilities.outbox)
        throw new HubError(
          'VALIDATION',
          `the tenant's store ${redact(entry.primary)} keeps no outbox, so writes cannot be replicated during an online move: use --mode read-only`,
        );
      const there = await (dest as HubStore).scan(tenant, { type: 'outputs', limit: 1 });
      const count = there.length > 0 ? 1 : ((await countTenant(dest as HubStore, tenant)) ?? 0);
      if (count > 0)
        throw new HubError(
          'VALIDATION',
          `the target ${redact(target)} already holds records of tenant ${tenant}; a move copies into an empty tenant`,
        );
    });
    const now = new Date().toISOString();
    const move: MoveRecord = {
      tenant,
      source: entry.primary,
      target,
      mode,
      phase: 'copying',
      primaryIs: 'source',
      checkpoints: {},
      createdAt: now,
      updatedAt: now,
    };
    const version = await this.deps.plane.commit({
      tenant: { ...entry, state: 'moving', ...(mode === 'online' ? { replica: target } : {}), fenced: false },
      move,
      expectMovePhase: (await this.deps.plane.getMove(tenant))?.phase ?? null,
    });
    // Online: writes are captured only once every replica routes them through the outbox.
    if (mode === 'online') await this.waitApplied(version);
    this.log('move.created', { tenant, mode });
    return move;
  }

  /** Copies from the last committed position to the end; then `replicating`. */
  private async copy(move: MoveRecord): Promise<MoveRecord> {
    let checkpoints: CopyCheckpoints = { ...move.checkpoints };
    await this.withStores([move.source, move.target], async ([source, target]) => {
      await copyTenant(source as HubStore, target as HubStore, move.tenant, {
        checkpoints,
        ...(this.deps.onProgress ? { onProgress: this.deps.onProgress } : {}),
        commit: async (type, cp) => {
          checkpoints = { ...checkpoints, [type]: cp };
          await this.deps.plane.saveCheckpoints(move.tenant, checkpoints);
          if (!cp.done) await this.deps.checkpoint?.('copy-batch');
        },
      });
    });
    const next: MoveRecord = { ...move, phase: 'replicating', checkpoints };
    await this.deps.plane.commit({ move: next, expectMovePhase: 'copying' });
    await this.deps.checkpoint?.('copied');
    this.log('move.copied', { tenant: move.tenant });
    return next;
  }

  /** The move, its tenant entry, lag and replicas. */
  async status(tenant: TenantId): Promise<MoveStatus> {
    const move = await this.deps.plane.getMove(tenant);
    const entry = await this.deps.plane.getTenant(tenant);
    const replicas = (await this.deps.plane.replicas(this.deps.liveSeconds ?? 3)).map((r) => ({
      id: r.id,
      version: r.version,
    }));
    if (!move) return { move, tenant: entry, copied: 0, replicas };
    const copied = Object.values(move.checkpoints).reduce(
      (s, c) => s + (c?.copied ?? 0) + (c?.duplicates ?? 0),
      0,
    );
    let total: number | undefined;
    let lag: MoveStatus['lag'];
    if (!TERMINAL.has(move.phase)) {
      const primary = move.primaryIs === 'source' ? move.source : move.target;
      await this.withStores([primary], async ([store]) => {
        const s = store as HubStore;
        total = await countTenant(s, tenant);
        if (hasTenantOutbox(s)) {
          const b = await s.tenantOutboxBacklog(tenant);
          lag = {
            pending: b.pending,
            seconds: b.oldest === null ? 0 : Math.max(0, (Date.now() - Date.parse(b.oldest)) / 1000),
          };
        }
      }).catch(() => undefined);
    }
    return {
      move,
      tenant: entry,
      copied,
      ...(total === undefined ? {} : { total }),
      ...(lag ? { lag } : {}),
      replicas,
    };
  }

  /** Compares the current primary with the other store record by record (see compare.ts). */
  async verify(tenant: TenantId, onDifference?: (d: Difference) => void): Promise<CompareReport> {
    const move = await this.deps.plane.getMove(tenant);
    if (!move) throw new HubError('NOT_FOUND', `tenant ${tenant} has no move`);
    const [a, b] = move.primaryIs === 'source' ? [move.source, move.target] : [move.target, move.source];
    return this.withStores([a, b], async ([primary, other]) => {
      const total = await countTenant(primary as HubStore, tenant);
      return compareTenant(primary as HubStore, other as HubStore, tenant, {
        ...(total === undefined ? {} : { total }),
        ...(this.deps.onProgress ? { onProgress: this.deps.onProgress } : {}),
        ...(onDifference ? { onDifference } : {}),
      });
    });
  }

  /**
   * Makes the target the tenant's primary. Online: let the lag drain to a
   * tail, fence, wait for every live replica, drain the tail, flip with
   * reverse replication and the fence lifted, wait for every live replica to
   * run the flip. Read-only: read-only, wait, final sync, flip. A re-run
   * after a crash finishes an interrupted switch.
   * @returns how long the tenant's writes were held or refused (ms), from the
   *   fence until every live replica runs the flip, and that time by step.
   */
  async switch(tenant: TenantId): Promise<SwitchResult> {
    return this.locked(tenant, async () => {
      const move = await this.deps.plane.getMove(tenant);
      if (!move || TERMINAL.has(move.phase))
        throw new HubError('NOT_FOUND', `tenant ${tenant} has no move in progress`);
      if (move.phase === 'switched') {
        if (move.step !== undefined)
          throw new HubError(
            'VALIDATION',
            `a reverse of tenant ${tenant} was interrupted: re-run 'hub move reverse'`,
          );
        return { move, fenceMs: 0, steps: {} };
      }
      if (move.phase === 'copying')
        throw new HubError(
          'VALIDATION',
          `the copy of tenant ${tenant} is not finished: re-run 'hub move create'`,
        );
      return this.flip(move, 'target');
    });
  }

  /** After a switch: makes the source the primary again (same procedure the other way); the move is `replicating` again. */
  async reverse(tenant: TenantId): Promise<SwitchResult> {
    return this.locked(tenant, async () => {
      const move = await this.deps.plane.getMove(tenant);
      if (!move || TERMINAL.has(move.phase))
        throw new HubError('NOT_FOUND', `tenant ${tenant} has no move in progress`);
      if (move.phase !== 'switched')
        throw new HubError(
          'VALIDATION',
          `tenant ${tenant} has not been switched (${move.phase}); nothing to reverse`,
        );
      return this.flip(move, 'source');
    });
  }

  /** Moves the primary to `side`; see {@link switch}. */
  private async flip(move: MoveRecord, side: 'source' | 'target'): Promise<SwitchResult> {
    const tenant = move.tenant;
    const [fromUri, toUri] = side === 'target' ? [move.source, move.target] : [move.target, move.source];
    if (move.primaryIs === side && move.step === undefined) return { move, fenceMs: 0, steps: {} };
    const current = await this.entry(tenant);
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
    return this.withStores([fromUri, toUri], async ([fromStore, toStore]) => {
      const from = fromStore as HubStore;
      const to = toStore as HubStore;
      // 0. Online, not resuming a fence: let the lag drain while writes flow, so the fence only waits for a tail.
      if (plan.online && move.step === undefined) await this.catchUp(tenant, from);
      const laps = new Laps();
      await this.fenceAndSync(plan, from, to, laps);
      const next = await this.commitFlip(plan, to, laps);
      const fenceMs = laps.sinceStart();
      this.log('move.switched', { tenant, primary: side, fenceMs, steps: laps.steps });
      return { move: next, fenceMs, steps: laps.steps };
    });
  }

  /**
   * Steps 1 and 2 of a flip: refuse the tenant's writes (a fence, or
   * read-only for the sync), recorded in the move first, then bring the
   * destination up to date. On failure the fence is lifted (the tenant keeps
   * its primary and takes writes again) and the move stays where it was.
   */
  private async fenceAndSync(plan: FlipPlan, from: HubStore, to: HubStore, laps: Laps): Promise<void> {
    const { move, entry, online } = plan;
    const tenant = move.tenant;
    const plane = this.deps.plane;
    const stepped: MoveRecord = { ...move, step: online ? 'fencing' : 'syncing' };
    const fenced = online ? { ...entry, fenced: true } : { ...entry, state: 'read-only' as const };
    const version = await plane.commit({ tenant: fenced, move: stepped, expectMovePhase: move.phase });
    laps.lap('commit');
    try {
      await this.waitApplied(version);
      laps.lap('applied');
      await this.deps.checkpoint?.('fenced');
      if (online) await this.drain(tenant, from);
      else
        await syncMissing(from, to, tenant, {
          ...(this.deps.onProgress ? { onProgress: this.deps.onProgress } : {}),
        });
      laps.lap(online ? 'drained' : 'synced');
      await this.deps.checkpoint?.(online ? 'drained' : 'synced');
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
  private async commitFlip(plan: FlipPlan, to: HubStore, laps: Laps): Promise<MoveRecord> {
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
    const flipped = await this.deps.plane.commit({
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
      await this.waitApplied(flipped);
    } catch (err) {
      // The switch is done and durable; a replica that lags keeps holding (then refusing) writes until it applies it.
      this.log('move.flip_not_applied', { tenant, error: (err as Error).message });
    }
    laps.lap('lifted');
    return next;
  }

  /** Ends the move after a switch: the target stays primary, replication stops. The source's copy is left in place. */
  async complete(tenant: TenantId): Promise<MoveRecord> {
    return this.locked(tenant, async () => {
      const move = await this.deps.plane.getMove(tenant);
      if (!move) throw new HubError('NOT_FOUND', `tenant ${tenant} has no move`);
      if (move.phase === 'completed') return move;
      if (move.phase !== 'switched' || move.step !== undefined)
        throw new HubError('VALIDATION', `tenant ${tenant} is ${move.phase}: switch it before completing`);
      const entry = await this.entry(tenant);
      const next: MoveRecord = { ...move, phase: 'completed' };
      await this.deps.plane.commit({
        tenant: {
          id: tenant,
          primary: move.target,
          ...(entry.analytics ? { analytics: entry.analytics } : {}),
          state: 'active',
        },
        move: next,
        expectMovePhase: 'switched',
      });
      return next;
    });
  }

  /**
   * Abandons a move that has not switched (or was reversed): the tenant stays
   * on its source and takes writes normally. With `purgeTarget`, the copied
   * records are deleted from the target.
   */
  async cancel(tenant: TenantId, options: { purgeTarget?: boolean } = {}): Promise<MoveRecord> {
    return this.locked(tenant, async () => {
      const move = await this.deps.plane.getMove(tenant);
      if (!move) throw new HubError('NOT_FOUND', `tenant ${tenant} has no move`);
      if (move.phase === 'cancelled') return move;
      if (move.phase === 'completed' || move.primaryIs === 'target')
        throw new HubError(
          'VALIDATION',
          `tenant ${tenant} runs on the target now: 'hub move reverse' first, then cancel`,
        );
      const entry = await this.entry(tenant);
      const next: MoveRecord = { ...move, phase: 'cancelled', step: undefined };
      await this.deps.plane.commit({
        tenant: {
          id: tenant,
          primary: move.source,
          ...(entry.analytics ? { analytics: entry.analytics } : {}),
          state: 'active',
        },
        move: next,
      });
      if (options.purgeTarget)
        await this.withStores([move.target], ([t]) => (t as HubStore).purgeTenant(tenant));
      return next;
    });
  }

  /**
   * Waits until every live replica runs `version` (none live: nothing to
   * wait for): woken by the replicas' acknowledgements, polling as a backstop.
   */
  private async waitApplied(version: number): Promise<void> {
    const plane = this.deps.plane;
    const deadline = Date.now() + (this.deps.applyTimeoutMs ?? 10_000);
    const wake = new Wakeup();
    // Acknowledgements that name replica and version are counted as they come, without a read.
    const heard = new Map<string, number>();
    let reread = true;
    const stop = await plane
      .listenAcks((ack) => {
        if (ack) heard.set(ack.id, Math.max(ack.version, heard.get(ack.id) ?? -1));
        else reread = true;
        wake.fire();
      })
      .catch(() => undefined);
    try {
      let live: ReplicaAck[] = [];
      for (;;) {
        const armed = wake.arm();
        if (reread) {
          reread = false;
          live = await plane.replicas(this.deps.liveSeconds ?? 3);
        }
        const behind = live.filter((r) => Math.max(r.version, heard.get(r.id) ?? -1) < version);
        if (behind.length === 0) return;
        if (Date.now() > deadline)
          throw new HubError(
            'TIMEOUT',
            `gateway replicas ${behind.map((r) => r.id).join(', ')} did not apply control plane version ${version}`,
          );
        // The backstop re-reads the replicas (one may have gone silent, or a notification been lost).
        const woken = await Promise.race([armed.then(() => true), sleep(stop ? 100 : 10).then(() => false)]);
        if (!woken) reread = true;
      }
    } finally {
      await stop?.();
    }
  }

  /**
   * Before a fence: waits (bounded) until at most `tailEntries` of the
   * tenant's writes wait in the outbox, reporting the lag as progress.
   */
  private async catchUp(tenant: TenantId, store: HubStore): Promise<void> {
    if (!hasTenantOutbox(store)) return;
    const tail = this.deps.tailEntries ?? 200;
    const began = Date.now();
    const deadline = began + (this.deps.catchUpTimeoutMs ?? 60_000);
    let first: number | undefined;
    for (;;) {
      const { pending } = await store.tenantOutboxBacklog(tenant);
      first ??= pending;
      const done = Math.max(0, first - pending);
      if (pending <= tail) {
        if (first > tail)
          this.deps.onProgress?.({ step: 'catch-up', done, total: first, rate: 0, final: true });
        return;
      }
      if (Date.now() > deadline) {
        this.log('move.catch_up_incomplete', { tenant, pending });
        return;
      }
      const rate = done / Math.max(0.001, (Date.now() - began) / 1000);
      this.deps.onProgress?.({ step: 'catch-up', done, total: first, rate });
      const live = await this.deps.plane.replicas(this.deps.liveSeconds ?? 3);
      if (live.length === 0 && this.deps.drainOutbox) await this.deps.drainOutbox(tenant);
      else await sleep(20);
    }
  }

  /** Waits until the tenant's outbox on `store` is empty (replicas' relays ship it), draining it here when no replica is live. */
  private async drain(tenant: TenantId, store: HubStore): Promise<void> {
    if (!hasTenantOutbox(store)) {
      if (hasOutbox(store)) throw new HubError('INTERNAL', 'the primary cannot report its outbox per tenant');
      return;
    }
    const deadline = Date.now() + (this.deps.drainTimeoutMs ?? 30_000);
    for (;;) {
      const { pending } = await store.tenantOutboxBacklog(tenant);
      if (pending === 0) return;
      const live = await this.deps.plane.replicas(this.deps.liveSeconds ?? 3);
      if (live.length === 0 && this.deps.drainOutbox) await this.deps.drainOutbox(tenant);
      if (Date.now() > deadline)
        throw new HubError('TIMEOUT', `the outbox of tenant ${tenant} still holds ${pending} entries`);
      await sleep(5);
    }
  }
}

/** What switch and reverse return. */
export interface SwitchResult {
  readonly move: MoveRecord;
  /** How long the tenant's writes were held (or refused), from the fence until every live replica ran the flip. */
  readonly fenceMs: number;
  /** That time by step: `commit`, `applied` (every replica fenced), `drained`/`synced`, `flip`, `lifted`. */
  readonly steps: Readonly<Record<string, number>>;
}

/** A one-shot signal re-armed per wait (acknowledgements arriving between waits are not lost). */
class Wakeup {
  private resolve: (() => void) | null = null;
  private fired = false;

  arm(): Promise<void> {
    this.fired = false;
    return new Promise<void>((r) => {
      this.resolve = r;
      if (this.fired) r();
    });
  }

  fire(): void {
    this.fired = true;
    this.resolve?.();
  }
}

function redact(uri: string): string {
  return uri.replace(
    /\/\/([^/@:]*)(:[^/@]*)?@/,
    (_m, user: string, pass?: string) => `//${user}${pass ? ':***' : ''}@`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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

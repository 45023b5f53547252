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
 *
 * The flip itself (fence, drain or final sync, flip) is in switch.ts, the
 * wait for every live replica to run a change in wait-applied.ts, what a move
 * needs from its surroundings in move-deps.ts.
 */
import { HubError } from '../hub/errors';
import { type HubStore, hasTenantOutbox } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import type { MoveMode, MoveRecord, TenantEntry } from '../control/control-plane';
import { type CompareReport, type Difference, compareTenant } from '../migrate/compare';
import { type CopyCheckpoints, copyTenant, countTenant } from '../migrate/copy';
import { type MoveDeps, tenantEntry, withStores } from './move-deps';
import { type SwitchResult, flipPrimary } from './switch';
import { waitApplied } from './wait-applied';

export type { MoveDeps } from './move-deps';
export type { SwitchResult } from './switch';

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
  private entry(tenant: TenantId): Promise<Omit<TenantEntry, 'version'>> {
    return tenantEntry(this.deps, tenant);
  }

  private withStores<T>(uris: readonly string[], fn: (stores: HubStore[]) => Promise<T>): Promise<T> {
    return withStores(this.deps, uris, fn);
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
    if (mode === 'online') await waitApplied(this.deps, version);
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
      return flipPrimary(this.deps, move, 'target');
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
      return flipPrimary(this.deps, move, 'source');
    });
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
}

function redact(uri: string): string {
  return uri.replace(
    /\/\/([^/@:]*)(:[^/@]*)?@/,
    (_m, user: string, pass?: string) => `//${user}${pass ? ':***' : ''}@`,
  );
}

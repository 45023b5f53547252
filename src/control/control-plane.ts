/**
 * The control plane: what every gateway replica and every `hub` command must
 * agree on about tenants, kept in one place (a PostgreSQL schema, or a file
 * for the embedded default): each tenant's primary store and state, the moves
 * in progress with their checkpoints, and which replicas have applied which
 * version. A change bumps a global version; replicas apply it (see watch.ts)
 * and acknowledge the version they run, which is how a move knows a write
 * fence is in force everywhere.
 */
import type { CopyCheckpoints } from '../migrate/copy';
import type { TenantId } from '../hub/tenant';

/** A tenant's state: serving normally, refusing writes, or being moved. */
export const TENANT_STATES = ['active', 'read-only', 'moving'] as const;
export type TenantState = (typeof TENANT_STATES)[number];

/** One tenant as the control plane knows it (overrides the HUB_CONFIG file's entry, if any). */
export interface TenantEntry {
  readonly id: TenantId;
  /** Primary store URI (credentials included; never printed). */
  readonly primary: string;
  readonly analytics?: string;
  readonly state: TenantState;
  /** Writes refused for a moment (a move's switch), whatever the state. */
  readonly fenced?: boolean;
  /** A move's other store, fed every acknowledged write through the primary's outbox. */
  readonly replica?: string;
  /** Version of the last change of this entry. */
  readonly version: number;
}

/** Phases of a move, durable in the control plane. */
export const MOVE_PHASES = ['copying', 'replicating', 'switched', 'completed', 'cancelled'] as const;
export type MovePhase = (typeof MOVE_PHASES)[number];

/** `online`: writes continue (replicated through the outbox); `read-only`: writes refused from the final sync to the switch. */
export type MoveMode = 'online' | 'read-only';

/** A tenant's move (one at a time per tenant; the last one is kept after it ends). */
export interface MoveRecord {
  readonly tenant: TenantId;
  /** The store the tenant was on when the move was created. */
  readonly source: string;
  /** The store it moves to. */
  readonly target: string;
  readonly mode: MoveMode;
  readonly phase: MovePhase;
  /**
   * A step inside a phase that must be finished by a re-run after a crash:
   * `fencing` (switch or reverse in progress), `syncing` (read-only final sync).
   */
  readonly step?: string;
  /** Copy positions per record type (copy.ts). */
  readonly checkpoints: CopyCheckpoints;
  /** Which direction is primary now: `source` before the switch, `target` after it. */
  readonly primaryIs: 'source' | 'target';
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Last error of a step, for `status`. */
  readonly error?: string;
}

/** A gateway replica's acknowledgement of the version it runs. */
export interface ReplicaAck {
  readonly id: string;
  readonly version: number;
  /** When it last reported (ISO). */
  readonly seenAt: string;
  /** Seconds since then, measured by the control plane's clock. */
  readonly ageSeconds: number;
}

/** Everything the control plane holds at one version. */
export interface ControlSnapshot {
  readonly version: number;
  readonly tenants: readonly TenantEntry[];
}

/** The control plane's storage; PostgreSQL (pg-control.ts) or a file (file-control.ts). */
export interface ControlPlane {
  /** Where it lives, without credentials (for messages). */
  readonly label: string;
  snapshot(): Promise<ControlSnapshot>;
  getTenant(id: TenantId): Promise<TenantEntry | null>;
  getMove(tenant: TenantId): Promise<MoveRecord | null>;
  /**
   * Writes a tenant entry and/or a move atomically; a tenant change bumps the
   * version and notifies replicas. `expectMovePhase`: refused with CONFLICT
   * unless the stored move is in that phase (or absent when null).
   * @returns the version after the change.
   */
  commit(change: {
    readonly tenant?: Omit<TenantEntry, 'version'>;
    readonly move?: MoveRecord;
    readonly expectMovePhase?: MovePhase | null;
  }): Promise<number>;
  /** Stores one record type's copy position of the tenant's move (cheap; no version bump). */
  saveCheckpoints(tenant: TenantId, checkpoints: CopyCheckpoints): Promise<void>;
  /** Records that replica `id` runs `version` (also a heartbeat). */
  ack(id: string, version: number): Promise<void>;
  /** Replicas that reported within `liveSeconds`. */
  replicas(liveSeconds: number): Promise<ReplicaAck[]>;
  /**
   * Calls `onChange` soon after any change (LISTEN/NOTIFY or file polling),
   * with the new version when the channel carries it; callers poll too, as a
   * backstop. Resolves the function that stops it.
   */
  listen(onChange: (version?: number) => void): Promise<() => Promise<void>>;
  /**
   * Calls `onAck` soon after a replica acknowledges a version, with the
   * replica and version when the channel carries them (a move waiting for
   * acknowledgements wakes then instead of polling; it still polls as a
   * backstop). Resolves the function that stops it.
   */
  listenAcks(
    onAck: (ack?: { readonly id: string; readonly version: number }) => void,
  ): Promise<() => Promise<void>>;
  /**
   * Takes the tenant's move lock (one `hub move` process per tenant); it is
   * released by the returned function or when the process dies.
   * @throws HubError CONFLICT when another process holds it.
   */
  lockMove(tenant: TenantId): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

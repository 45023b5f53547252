/**
 * What a move needs from its surroundings ({@link MoveDeps}: the control
 * plane, a way to open stores, the configured primary, hooks) and the two
 * helpers every move step uses over them: the tenant's current entry and
 * stores opened for the length of one step.
 */
import { HubError } from '../hub/errors';
import type { HubStore } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import type { ControlPlane, TenantEntry } from '../control/control-plane';
import type { ProgressSink } from '../migrate/progress';
import type { OpenStoreOptions } from '../stores/driver';

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

/**
 * The tenant's entry in the control plane, or, when it has none, one built
 * from the configuration (its configured primary, state active).
 * @throws HubError NOT_FOUND when the configuration does not serve the tenant.
 */
export async function tenantEntry(deps: MoveDeps, tenant: TenantId): Promise<Omit<TenantEntry, 'version'>> {
  const known = await deps.plane.getTenant(tenant);
  if (known) return known;
  const primary = await deps.configuredPrimary(tenant);
  if (!primary) throw new HubError('NOT_FOUND', `tenant ${tenant} is not served by this configuration`);
  return { id: tenant, primary, state: 'active' };
}

/**
 * Opens the stores named by `uris` (in order), runs `fn` with them and closes
 * them all whatever `fn` does (a failure to close is ignored).
 * @returns what `fn` returns.
 */
export async function withStores<T>(
  deps: MoveDeps,
  uris: readonly string[],
  fn: (stores: HubStore[]) => Promise<T>,
): Promise<T> {
  const opened: HubStore[] = [];
  try {
    for (const uri of uris) opened.push(await deps.openStore(uri));
    return await fn(opened);
  } finally {
    for (const s of opened) await s.close().catch(() => undefined);
  }
}

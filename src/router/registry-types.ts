/**
 * The shape of a validated tenant registry configuration (what
 * registry-config.ts parses the `HUB_CONFIG` file or `HUB_PG_URL` into), its
 * defaults, and the store label safe to show anywhere.
 */
import type { TenantId } from '../hub/tenant';
import type { TenantLimits } from '../platform/tenant-limits';
import { schemeOf } from '../stores/driver';

/** Deployment mode of a tenant: shared PG with RLS, dedicated PG, customer-managed. */
export type DeploymentMode = 'A' | 'B' | 'C';

/** What a rollup does when the analytics store is too stale or down. */
export type FallbackPolicy = 'primary' | 'fail';

/** Per-tenant routing options. */
export interface TopologyOptions {
  /** Largest acceptable analytics lag in seconds before the fallback policy applies (0: no lag at all). */
  readonly freshnessSeconds: number;
  /** `primary`: answer from the primary store; `fail`: UNAVAILABLE. */
  readonly fallback: FallbackPolicy;
  /**
   * How long a rollup may wait for the relay to catch up when the analytics
   * store is staler than `freshnessSeconds`, before the policy applies (0: never wait).
   */
  readonly waitForFreshnessMs: number;
}

/** A store reference: its URI (credentials included; never shown) and its public label. */
export interface StoreRef {
  readonly uri: string;
  /** Name shown in route traces, logs and metrics: the `stores:` key, or the URI without credentials or query. */
  readonly label: string;
}

/**
 * Whether a tenant takes writes: `open`; `read-only` (refused with READ_ONLY
 * until an operator or a move lifts it); `fenced` (refused for a moment while
 * a move switches the tenant's primary).
 */
export type WriteState = 'open' | 'read-only' | 'fenced';

/** Where one tenant (or the Mode A catch-all) is served. */
export interface TopologySpec {
  readonly mode: DeploymentMode;
  readonly primary: StoreRef;
  readonly analytics?: StoreRef;
  readonly options: TopologyOptions;
  /** Writes accepted or refused (default `open`); set by the control plane. */
  readonly writes?: WriteState;
  /**
   * Set by the control plane while the tenant is being moved: its writes are
   * taken only while this replica's view of the control plane is confirmed
   * within its lease (see TenantRegistry.confirm).
   */
  readonly moving?: boolean;
  /**
   * During a move: a second store that receives every write acknowledged by
   * the primary, through the primary's outbox and relay (like analytics).
   */
  readonly replica?: StoreRef;
  /** Fair-share limits given for this tenant (or in `defaults.limits`); unset ones take the gateway's defaults. */
  readonly limits?: Partial<TenantLimits>;
  /** Operation names registered for this tenant: they may appear as metric label values. */
  readonly operations?: readonly string[];
  /**
   * `metricsLabel: true`: the tenant's GraphQL metrics carry a `tenant` label.
   * Only a tenant listed under `tenants:` (at most {@link MAX_LABELLED_TENANTS})
   * may set it, so label values stay bounded by the file.
   */
  readonly metricsLabel?: boolean;
}

/** A validated registry configuration. */
export interface RegistryConfig {
  /** Tenants listed by id. */
  readonly tenants: ReadonlyMap<TenantId, TopologySpec>;
  /**
   * Mode A catch-all: serves every syntactically valid tenant id not listed in
   * `tenants` (row-level security isolates them in the shared store). Absent:
   * unlisted tenants are refused.
   */
  readonly shared?: TopologySpec;
  /** Where the configuration came from (file path or `HUB_PG_URL`), for messages. */
  readonly source: string;
}

/** Defaults applied when neither the tenant nor the file's `defaults:` set an option. */
export const DEFAULT_OPTIONS: TopologyOptions = {
  freshnessSeconds: 60,
  fallback: 'primary',
  waitForFreshnessMs: 0,
};

/** A store label safe to show anywhere: scheme, host and path, never user, password or query. */
export function storeLabel(uri: string): string {
  const scheme = schemeOf(uri);
  const rest = uri.slice(scheme.length + 1);
  if (!rest.startsWith('//')) return `${scheme}:${rest.split('?')[0] ?? ''}`;
  const afterAuth = rest.slice(2).replace(/^[^/@]*@/, '');
  return `${scheme}://${afterAuth.split('?')[0] ?? ''}`;
}

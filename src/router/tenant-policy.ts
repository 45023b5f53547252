/**
 * The fair-share policy of a router's tenants: each tenant's limits and
 * registered operation names from the tenants file (src/router/README.md),
 * following SIGHUP reloads, with the gateway's defaults for what is not given.
 */
import type { TenantId } from '../hub/tenant';
import { DEFAULT_TENANT_LIMITS, type TenantLimits, type TenantPolicy } from '../platform/tenant-limits';
import type { TopologySpec } from './registry-config';
import type { TenantRegistry } from './tenant-registry';

/** A {@link TenantPolicy} read from the registry's current configuration. */
export function registryPolicy(registry: Pick<TenantRegistry, 'specOf'>): TenantPolicy {
  // Specs are replaced whole on reload, so caching by spec object stays correct.
  const limits = new WeakMap<TopologySpec, TenantLimits>();
  const operations = new WeakMap<TopologySpec, ReadonlySet<string>>();
  return {
    limits(tenant: TenantId) {
      const spec = registry.specOf(tenant);
      if (spec?.limits === undefined) return DEFAULT_TENANT_LIMITS;
      let l = limits.get(spec);
      if (!l) limits.set(spec, (l = { ...DEFAULT_TENANT_LIMITS, ...spec.limits }));
      return l;
    },
    operations(tenant: TenantId) {
      const spec = registry.specOf(tenant);
      if (spec?.operations === undefined) return undefined;
      let o = operations.get(spec);
      if (!o) operations.set(spec, (o = new Set(spec.operations)));
      return o;
    },
    metricsLabel(tenant: TenantId) {
      // Listed tenants only: the catch-all's tenants are unbounded, and its spec never sets it.
      return registry.specOf(tenant)?.metricsLabel === true;
    },
  };
}

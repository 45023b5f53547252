/**
 * The registry configuration of a process with a control plane: the HUB_CONFIG
 * file (or HUB_PG_URL's catch-all, or the embedded store as catch-all) with the
 * control plane's tenants applied over it (topology.ts). Remembers which
 * control plane version the last load read, for the watcher's acknowledgement.
 */
import type { HubConfig } from '../config';
import { loadRegistryConfig, parseRegistryConfig, type RegistryConfig } from '../router/registry-config';
import type { ControlPlane } from './control-plane';
import { applyControl } from './topology';

/** The file / HUB_PG_URL configuration, or the embedded store as the catch-all when neither is set. */
export async function baseRegistryConfig(
  config: Pick<HubConfig, 'configFile' | 'pgUrl' | 'dataDir'>,
): Promise<RegistryConfig> {
  if (config.configFile !== undefined || config.pgUrl !== undefined) return loadRegistryConfig(config);
  return parseRegistryConfig({ shared: { primary: `pglite:${config.dataDir}` } }, 'embedded store');
}

/** A load function for the tenant registry and the version its last call read. */
export function controlledLoad(
  config: Pick<HubConfig, 'configFile' | 'pgUrl' | 'dataDir'>,
  plane: ControlPlane,
): { readonly load: () => Promise<RegistryConfig>; readonly version: () => number } {
  let version = 0;
  return {
    load: async () => {
      const base = await baseRegistryConfig(config);
      const snapshot = await plane.snapshot();
      version = snapshot.version;
      return applyControl(base, snapshot);
    },
    version: () => version,
  };
}

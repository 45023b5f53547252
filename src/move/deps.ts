/**
 * A move as the `hub` command line runs it: the configured control plane,
 * stores opened by URI, the tenant's configured primary (HUB_CONFIG,
 * HUB_PG_URL, else the embedded store), and, when no gateway replica is live
 * to ship the outbox, a local relay that does it for the switch.
 */
import type { HubConfig } from '../config';
import type { ControlPlane } from '../control/control-plane';
import { controlUri, openControlPlane } from '../control/open';
import { baseRegistryConfig, controlledLoad } from '../control/registry';
import type { TenantId } from '../hub/tenant';
import type { ProgressSink } from '../migrate/progress';
import { RoutingStore } from '../router/routing-store';
import { openStore } from '../stores/index';
import { type MoveDeps, Mover } from './move';

/** The tenant's primary per the configuration (not the control plane). */
export async function configuredPrimary(
  config: Pick<HubConfig, 'configFile' | 'pgUrl' | 'dataDir'>,
  tenant: TenantId,
): Promise<string | undefined> {
  const base = await baseRegistryConfig(config);
  return (base.tenants.get(tenant) ?? base.shared)?.primary.uri;
}

/** Opens the control plane of `config` and a {@link Mover} over it. */
export async function openMover(
  config: HubConfig,
  extra: Partial<Pick<MoveDeps, 'onProgress' | 'log' | 'checkpoint'>> & { onProgress?: ProgressSink } = {},
): Promise<{ readonly mover: Mover; readonly plane: ControlPlane; close(): Promise<void> }> {
  const plane = await openControlPlane(controlUri(config).uri);
  const mover = new Mover({
    plane,
    openStore,
    configuredPrimary: (tenant) => configuredPrimary(config, tenant),
    drainOutbox: async () => {
      // No gateway is running: ship the outbox here, through the same routes a gateway would use.
      const store = await RoutingStore.open({
        load: controlledLoad(config, plane).load,
        relay: { autoStart: false },
      });
      try {
        for (const relay of store.registry.relays()) await relay.catchUp();
      } finally {
        await store.close();
      }
    },
    ...extra,
  });
  return { mover, plane, close: () => plane.close() };
}

import { redactUri } from '../driver';
import type { StoreDriver } from '../driver';
import { parseSharePointUri } from './sharepoint-config';
import { createSharePointStore } from './sharepoint-store';

/**
 * `sharepoint://HOST[:PORT]/sites/claresia-{tenant}?token=...` (see
 * sharepoint-config.ts). `open` loads @pnp/sp; a tenant's lists are
 * provisioned lazily on its first write. `migrate` provisions the tenants
 * listed in `?tenants=a,b` (idempotent, safe to run concurrently) and returns
 * the steps taken (empty when all were complete); with no tenants listed it has
 * nothing to do and says so.
 */
export const sharepointDriver: StoreDriver = {
  schemes: ['sharepoint'],
  async open(uri, options) {
    return createSharePointStore(parseSharePointUri(uri), { log: options?.log });
  },
  async migrate(uri, options) {
    const config = parseSharePointUri(uri);
    const where = redactUri(uri);
    if (config.tenants.length === 0) {
      options?.log?.(
        `sharepoint ${where}: tenant sites are provisioned on first write; add ?tenants=a,b to provision ahead`,
      );
      return [];
    }
    const store = await createSharePointStore(config);
    try {
      const steps: string[] = [];
      for (const tenant of config.tenants) {
        const done = await store.provision(tenant);
        options?.log?.(
          `sharepoint: tenant ${tenant}: ${done.length ? `provisioned (${done.length} steps)` : 'already current'}`,
        );
        steps.push(...done);
      }
      return steps;
    } finally {
      await store.close();
    }
  },
};

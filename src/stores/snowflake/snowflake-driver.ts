import type { StoreDriver } from '../driver';
import { parseSnowflakeUri } from './snowflake-config';
import { createSnowflakeStore } from './snowflake-store';

/**
 * `snowflake://user[:password]@account/?warehouse=W&role=R&...` (see
 * snowflake-config.ts). `open` logs in; tenant databases are provisioned
 * lazily on a tenant's first write. `migrate` provisions the tenants listed in
 * `?tenants=a,b` that are not already complete (IF NOT EXISTS DDL, safe to run
 * concurrently) and returns the DDL it ran (empty when all were current); with
 * no tenants listed it has nothing to do and says so.
 */
export const snowflakeDriver: StoreDriver = {
  schemes: ['snowflake'],
  async open(uri, options) {
    return createSnowflakeStore(parseSnowflakeUri(uri), { log: options?.log });
  },
  async migrate(uri, options) {
    const config = parseSnowflakeUri(uri);
    if (config.tenants.length === 0) {
      options?.log?.(
        'snowflake: tenant databases are provisioned on first write; add ?tenants=a,b to provision ahead',
      );
      return [];
    }
    const store = await createSnowflakeStore(config);
    try {
      const steps: string[] = [];
      for (const tenant of config.tenants) {
        const ran = await store.migrateTenant(tenant);
        options?.log?.(
          `snowflake: tenant ${tenant}: ${ran.length ? `provisioned (${ran.length} statements)` : 'already current'}`,
        );
        steps.push(...ran);
      }
      return steps;
    } finally {
      await store.close();
    }
  },
};

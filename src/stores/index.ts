/**
 * The registry of store drivers by URI scheme: the one place that lists the
 * backends. Add a driver here when a store folder lands.
 */
import { HubError } from '../hub/errors';
import type { HubStore } from '../hub/store';
import { type OpenStoreOptions, type StoreDriver, redactUri, schemeOf } from './driver';
import { memoryDriver } from './memory/memory-driver';
import { postgresDriver } from './postgres/postgres-driver';
import { sharepointDriver } from './sharepoint/sharepoint-driver';
import { snowflakeDriver } from './snowflake/snowflake-driver';

const DRIVERS: readonly StoreDriver[] = [memoryDriver, postgresDriver, snowflakeDriver, sharepointDriver];

/** The driver for a store URI. @throws HubError VALIDATION for an unknown scheme. */
export function driverFor(uri: string): StoreDriver {
  const scheme = schemeOf(uri);
  const driver = DRIVERS.find((d) => d.schemes.includes(scheme));
  if (!driver) {
    const known = DRIVERS.flatMap((d) => d.schemes.map((s) => `${s}:`)).join(', ');
    throw new HubError(
      'VALIDATION',
      `unknown store URI ${JSON.stringify(redactUri(uri))}: expected one of ${known}`,
    );
  }
  return driver;
}

/** Opens the store named by `uri`. */
export function openStore(uri: string, options?: OpenStoreOptions): Promise<HubStore> {
  return driverFor(uri).open(uri, options);
}

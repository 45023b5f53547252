/**
 * Shared CLI plumbing: opening the store a command names (`--store`, else the
 * configured default) and parsing the tenant option.
 */
import { readConfig } from '../config';
import type { HubStore } from '../hub/store';
import { type TenantId, parseTenantId } from '../hub/tenant';
import { UsageError } from './command';

/** The store URI a command uses when `--store` is absent: HUB_PG_URL, else PGlite in the data dir. */
export function defaultStoreUri(): string {
  const config = readConfig();
  return config.pgUrl ?? `pglite:${config.dataDir}`;
}

/**
 * Opens `uri` (or the default store). The store drivers are loaded on first
 * use, not by `hub --help`. An embedded store's folder must exist unless
 * `create` (the command's `--create`): a mistyped path fails instead of
 * starting an empty database.
 */
export async function openCliStore(uri: unknown, options: { create?: boolean } = {}): Promise<HubStore> {
  const { openStore } = require('../stores') as typeof import('../stores');
  return openStore(typeof uri === 'string' && uri !== '' ? uri : defaultStoreUri(), {
    create: options.create === true,
  });
}

/** The `--create` option, for commands that may start a new embedded store. */
export const CREATE_OPTION = { create: { type: 'boolean' } } as const;

/** Help line for `--create`. */
export const CREATE_HELP =
  '  --create         create the store if its folder does not exist (embedded PGlite; otherwise an error)';

/** Parses `--tenant`; a missing one is a usage error. */
export function requireTenant(value: unknown): TenantId {
  if (typeof value !== 'string' || value === '') throw new UsageError('--tenant is required');
  return parseTenantId(value);
}

/** Parses a positive integer option. */
export function intOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

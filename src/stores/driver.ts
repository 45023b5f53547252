/**
 * How stores are opened by URI (`memory:`, `pglite:<dir>`, `postgres://...`,
 * `snowflake://...`, `sharepoint://...`). Each store folder exports one
 * {@link StoreDriver}; `src/stores/index.ts` lists them. Nothing else in the
 * code base branches on the kind of store.
 */
import type { HubStore } from '../hub/store';
import type { UsageSink } from '../platform/usage';

export interface OpenStoreOptions {
  /** Write an outbox entry per created record (dual-write primaries); ignored by stores without `capabilities.outbox`. */
  readonly outbox?: boolean;
  /** Structured logger for the store's warnings (retries, reconnects). */
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
  /**
   * Key (64 hex digits) for stores whose database verifies tenant tickets
   * (PostgreSQL); default: that driver's own configuration
   * (HUB_PG_TICKET_KEY). Others ignore it.
   */
  readonly ticketKey?: string;
  /**
   * Create the store's storage when it does not exist (embedded stores: the
   * data folder). Default true; the CLI passes false unless `--create`, so a
   * mistyped path fails instead of starting an empty database.
   */
  readonly create?: boolean;
}

export interface StoreDriver {
  /** URI schemes this driver opens, without the colon (e.g. `postgres`, `postgresql`). */
  readonly schemes: readonly string[];
  /** Opens a store for the URI. The store is ready to serve when this resolves. */
  open(uri: string, options?: OpenStoreOptions): Promise<HubStore>;
  /**
   * Creates or upgrades the backend's schema for the URI (`hub db migrate`):
   * idempotent and safe to run concurrently. Resolves to the steps applied
   * (empty when already current).
   */
  migrate?(
    uri: string,
    options?: {
      log?: (line: string) => void;
      create?: boolean;
      /** Also bring derived data (pre-aggregates) of existing records up to date (default true). */
      backfill?: boolean;
    },
  ): Promise<string[]>;
  /**
   * Manages the keys the database verifies tenant tickets with (`hub db
   * ticket-key`), connected as the schema owner: `install` a new random key
   * (`generate`, returned once in `installed.key`) or the process's configured
   * one (`configured`) as the current key, the current one staying accepted
   * as the previous; `retirePrevious` stops accepting the previous key.
   * Resolves to what was installed and the key ids now accepted.
   */
  ticketKeys?(
    uri: string,
    request: { readonly install?: 'generate' | 'configured'; readonly retirePrevious?: boolean },
  ): Promise<TicketKeysReport>;
  /**
   * Opens the per-tenant usage table of the database the URI names (see
   * src/platform/usage.ts), for drivers whose backend keeps one.
   */
  openUsage?(uri: string): Promise<UsageSink>;
}

/** What `StoreDriver.ticketKeys` did, and the keys accepted after it. */
export interface TicketKeysReport {
  /** The key installed: its id, and the key itself (hex) when it was generated. */
  readonly installed?: { readonly kid: string; readonly key?: string };
  readonly keys: readonly { readonly kid: string; readonly state: string; readonly development: boolean }[];
}

/** Returns the scheme of a store URI (`postgres://x` -> `postgres`, `memory:` -> `memory`). */
export function schemeOf(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(uri);
  return m ? (m[1] as string).toLowerCase() : '';
}

/** Query parameters that carry secrets (e.g. `sharepoint://...?token=`, `snowflake://...&privateKeyPass=`). */
const SECRET_PARAMS = /([?&](?:token|access_token|password|secret|privateKeyPass)=)[^&#]*/gi;

/** Hides credentials in a store URI for logs and error messages (user:password@ and secret query parameters). */
export function redactUri(uri: string): string {
  return uri
    .replace(
      /\/\/([^/@:]*)(:[^/@]*)?@/,
      (_m, user: string, pass?: string) => `//${user}${pass ? ':***' : ''}@`,
    )
    .replace(SECRET_PARAMS, '$1***');
}

/**
 * An integer query option of a store URI: `fallback` when absent, else an
 * integer in `min..max`. @throws the error `invalid` makes when it is not.
 */
export function integerOption(
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
  invalid: (message: string) => Error,
): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name} must be an integer ${min}..${max}`);
  return n;
}

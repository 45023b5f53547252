/**
 * Store URIs for this folder and the options they carry.
 *
 * `postgres://user:pass@host:5432/db?max=10&statement_timeout=5000&app_role=hub_app`
 * `pglite:` or `pglite:memory` (in memory), `pglite:<dir>` (files in <dir>).
 *
 * Options (query parameters, removed before the URI reaches the driver):
 * - `max`: most connections this store's pool opens (default 10). Connections
 *   open on demand and close after `idle_timeout` ms idle (default 10000), so a
 *   store per tenant (Modes B/C) costs connections only while it is busy.
 * - `statement_timeout`: ms before PostgreSQL cancels a statement (default 30000; 0 = none).
 * - `connect_timeout`: ms to wait for a connection, from the pool or the server (default 5000).
 * - `app_role`: the role queries run as (see README.md "Roles").
 * - `relay_role`: the role the outbox relay switches to (default `<app role>_relay`).
 * - `prepare`: keep hot statements prepared per connection (default true; set
 *   false behind a pooler in transaction mode that cannot carry them).
 * - `generic_lookups`: run lookups by id and list pages with generic plans
 *   (default true; false leaves the plan choice to the server, which re-plans
 *   them per call).
 * - `rollup_consumer`: run the background consumer that folds the change feed
 *   into the rollup cells (default true; set false on replicas that should
 *   leave it to others; answers are exact either way).
 * - `stage_rows` (also on `pglite:`): a write's chunks of at least this many
 *   rows go through COPY into a staging table (default 500; 0: never; see
 *   README.md "Writes").
 * Other query parameters (e.g. `sslmode`) go to `pg` unchanged.
 */
import { HubError } from '../../hub/errors';
import { redactUri, schemeOf } from '../driver';
import { checkRoleName } from './migrations';

export interface PostgresUri {
  /** The URI for `pg`, without this store's options. */
  readonly connectionString: string;
  readonly max: number;
  readonly idleTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly appRole?: string;
  /** The outbox relay's role (default `<app role>_relay`). */
  readonly relayRole?: string;
  /** Keep the store's hot statements prepared per connection (default true). */
  readonly prepare: boolean;
  /** Run lookups by id and list pages with generic plans (default true; see RunOptions.genericPlans). */
  readonly genericLookups: boolean;
  /** Run the rollup feed consumer in the background (default true). */
  readonly rollupConsumer: boolean;
  /** Rows from which a write's chunk is staged through COPY (0: never). */
  readonly stageRows: number;
}

export interface PgliteUri {
  /** Directory of the database files; undefined for an in-memory database. */
  readonly dataDir?: string;
  readonly appRole?: string;
  readonly relayRole?: string;
  /** Rows from which a write's chunk is staged through COPY (0: never). */
  readonly stageRows: number;
}

const intOption = (
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number => {
  const raw = params.get(name);
  params.delete(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new HubError('VALIDATION', `store URI option ${name} must be an integer ${min}..${max}`);
  return n;
};

const boolOption = (params: URLSearchParams, name: string, fallback: boolean): boolean => {
  const raw = params.get(name);
  params.delete(name);
  if (raw === null) return fallback;
  if (raw !== 'true' && raw !== 'false')
    throw new HubError('VALIDATION', `store URI option ${name} must be true or false`);
  return raw === 'true';
};

const roleOption = (params: URLSearchParams, name = 'app_role'): string | undefined => {
  const raw = params.get(name);
  params.delete(name);
  return raw === null ? undefined : checkRoleName(raw, name);
};

/** Default of `stage_rows`: below it, the staging statements weigh more than the parsing they save. */
export const DEFAULT_STAGE_ROWS = 500;

const stageRowsOption = (params: URLSearchParams): number =>
  intOption(params, 'stage_rows', DEFAULT_STAGE_ROWS, 0, 1_000_000);

/** Parses a `postgres://` or `postgresql://` URI. @throws HubError VALIDATION. */
export function parsePostgresUri(uri: string): PostgresUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (err) {
    throw new HubError('VALIDATION', `invalid PostgreSQL URI ${JSON.stringify(redactUri(uri))}`, {
      cause: err,
    });
  }
  const p = url.searchParams;
  const parsed = {
    max: intOption(p, 'max', 10, 1, 1000),
    idleTimeoutMs: intOption(p, 'idle_timeout', 10_000, 0, 86_400_000),
    statementTimeoutMs: intOption(p, 'statement_timeout', 30_000, 0, 86_400_000),
    connectTimeoutMs: intOption(p, 'connect_timeout', 5_000, 0, 600_000),
    appRole: roleOption(p),
    relayRole: roleOption(p, 'relay_role'),
    prepare: boolOption(p, 'prepare', true),
    genericLookups: boolOption(p, 'generic_lookups', true),
    rollupConsumer: boolOption(p, 'rollup_consumer', true),
    stageRows: stageRowsOption(p),
  };
  return { connectionString: url.toString(), ...parsed };
}

/** Parses a `pglite:` URI. */
export function parsePgliteUri(uri: string): PgliteUri {
  if (schemeOf(uri) !== 'pglite') throw new HubError('VALIDATION', 'not a pglite: URI');
  const rest = uri.slice('pglite:'.length);
  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  const params = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '');
  const appRole = roleOption(params);
  const relayRole = roleOption(params, 'relay_role');
  const stageRows = stageRowsOption(params);
  const memory = path === '' || path === 'memory' || path === '//memory' || path === 'memory://';
  return { dataDir: memory ? undefined : path.replace(/^\/\/(?=\/)/, ''), appRole, relayRole, stageRows };
}

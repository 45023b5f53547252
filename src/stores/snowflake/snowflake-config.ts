/**
 * The `snowflake://` store URI and the per-tenant database naming.
 *
 *   snowflake://USER[:PASSWORD]@ACCOUNT/?warehouse=W&role=R
 *     &databasePattern=CLARESIA_{TENANT}_HUB   database per tenant (default shown)
 *     &schema=HUB                              schema inside each tenant database
 *     &authenticator=SNOWFLAKE_JWT&privateKeyPath=/keys/rsa.p8[&privateKeyPass=...]
 *     &accessUrl=http://127.0.0.1:PORT         explicit endpoint (the test emulator)
 *     &flushMs=2000&batchRows=10000            micro-batch writer limits
 *     &fileStageRows=1000                      stage a type's rows by PUT + COPY INTO from this many (0: never)
 *     &timeoutMs=60000                         deadline of one statement
 *     &tenants=a,b                             tenants `migrate` provisions
 *     &streams=true&downstreamSchema=ANALYTICS streams + tasks (real accounts only)
 */
import { HubError } from '../../hub/errors';
import { type TenantId, parseTenantId } from '../../hub/tenant';
import { integerOption } from '../driver';

/** Parsed store URI. */
export interface SnowflakeConfig {
  readonly account: string;
  readonly username: string;
  /** Password auth (tests, legacy accounts). */
  readonly password?: string;
  /** `SNOWFLAKE` (password) or `SNOWFLAKE_JWT` (key pair). */
  readonly authenticator: 'SNOWFLAKE' | 'SNOWFLAKE_JWT';
  /** PKCS#8 private key file for key-pair auth. */
  readonly privateKeyPath?: string;
  readonly privateKeyPass?: string;
  readonly warehouse?: string;
  readonly role?: string;
  /** Endpoint override, e.g. `http://127.0.0.1:PORT` for the wire emulator. */
  readonly accessUrl?: string;
  /** Upper-case pattern with one `{TENANT}`, e.g. `CLARESIA_{TENANT}_HUB`. */
  readonly databasePattern: string;
  /** Schema holding the six tables in each tenant database. */
  readonly schema: string;
  /** Longest time a buffered record waits before its batch is written (ms). */
  readonly flushMs: number;
  /** A tenant's buffer is written as soon as it holds this many records. */
  readonly batchRows: number;
  /**
   * A flush stages a type's rows as a CSV file (`PUT` to the table stage, `COPY INTO`) when it
   * holds at least this many of them, else with an array bind; 0 never stages by file.
   */
  readonly fileStageRows: number;
  /** Deadline of one statement (ms); past it the store reports TIMEOUT or UNAVAILABLE. */
  readonly timeoutMs: number;
  /** Tenants provisioned by `migrate`. */
  readonly tenants: readonly TenantId[];
  /** Create streams and tasks for new tenants (needs a real account: the emulator refuses them). */
  readonly streams: boolean;
  /** Schema (in each tenant database) the tasks copy new rows into. */
  readonly downstreamSchema: string;
  /** Warehouse the tasks run on (defaults to `warehouse`). */
  readonly taskWarehouse?: string;
}

const IDENT_RE = /^[A-Z_][A-Z0-9_$]{0,254}$/;

function invalid(message: string): HubError {
  return new HubError('VALIDATION', `invalid snowflake store URI: ${message}`);
}

const intParam = (
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number => integerOption(params, name, fallback, min, max, invalid);

function identParam(params: URLSearchParams, name: string, fallback: string): string {
  const value = (params.get(name) ?? fallback).toUpperCase();
  if (!IDENT_RE.test(value)) throw invalid(`${name} must be a plain identifier ([A-Za-z_][A-Za-z0-9_$]*)`);
  return value;
}

/** `tenants=a,b`: tenant ids, each validated. */
function tenantsParam(params: URLSearchParams): TenantId[] {
  return (params.get('tenants') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((t) => parseTenantId(t));
}

/**
 * Parses a `snowflake://` URI (see the file comment).
 * @throws HubError VALIDATION naming the bad part; never echoes the password.
 */

export function parseSnowflakeUri(uri: string): SnowflakeConfig {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (err) {
    throw new HubError('VALIDATION', 'invalid snowflake store URI: not a URL', { cause: err });
  }
  if (url.protocol !== 'snowflake:') throw invalid('scheme must be snowflake://');
  const account = decodeURIComponent(url.hostname);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(account)) throw invalid('missing or malformed account');
  const username = decodeURIComponent(url.username);
  if (!username) throw invalid('missing user');
  const params = url.searchParams;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const authenticator = (
    params.get('authenticator') ?? (password ? 'SNOWFLAKE' : 'SNOWFLAKE_JWT')
  ).toUpperCase();
  if (authenticator !== 'SNOWFLAKE' && authenticator !== 'SNOWFLAKE_JWT')
    throw invalid('authenticator must be SNOWFLAKE (password) or SNOWFLAKE_JWT (key pair)');
  const privateKeyPath = params.get('privateKeyPath') ?? undefined;
  if (authenticator === 'SNOWFLAKE' && !password) throw invalid('password auth needs user:password@');
  if (authenticator === 'SNOWFLAKE_JWT' && !privateKeyPath)
    throw invalid('SNOWFLAKE_JWT needs privateKeyPath');
  const accessUrl = params.get('accessUrl') ?? undefined;
  if (accessUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(accessUrl))
    throw invalid('accessUrl must be http(s)://host[:port]');
  const databasePattern = (params.get('databasePattern') ?? 'CLARESIA_{TENANT}_HUB').toUpperCase();
  const parts = databasePattern.split('{TENANT}');
  if (parts.length !== 2 || !IDENT_RE.test(parts.join('X')))
    throw invalid('databasePattern must be an identifier with exactly one {TENANT}');
  const optional = (name: string): string | undefined => params.get(name) ?? undefined;
  const streams = params.get('streams');
  if (streams !== null && streams !== 'true' && streams !== 'false')
    throw invalid('streams must be true or false');
  return {
    account,
    username,
    password,
    authenticator,
    privateKeyPath,
    privateKeyPass: optional('privateKeyPass'),
    warehouse: optional('warehouse'),
    role: optional('role'),
    accessUrl: accessUrl?.replace(/\/$/, ''),
    databasePattern,
    schema: identParam(params, 'schema', 'HUB'),
    flushMs: intParam(params, 'flushMs', 2000, 0, 2000),
    batchRows: intParam(params, 'batchRows', 10_000, 1, 50_000),
    fileStageRows: intParam(params, 'fileStageRows', 1000, 0, 50_000),
    timeoutMs: intParam(params, 'timeoutMs', 60_000, 100, 3_600_000),
    tenants: tenantsParam(params),
    streams: streams === 'true',
    downstreamSchema: identParam(params, 'downstreamSchema', 'ANALYTICS'),
    taskWarehouse: optional('taskWarehouse') ?? optional('warehouse'),
  };
}

/**
 * The database of one tenant: the pattern with `{TENANT}` replaced by the
 * tenant id upper-cased with `-` mapped to `_`. Tenant ids are re-validated
 * (`a-z0-9-` only, and `_` never occurs in one, so the mapping is one-to-one),
 * and the result is checked against a plain-identifier pattern before it is
 * double-quoted: no tenant id can inject SQL.
 */
export function tenantDatabase(config: Pick<SnowflakeConfig, 'databasePattern'>, tenant: TenantId): string {
  const safe = parseTenantId(tenant).toUpperCase().replace(/-/g, '_');
  const name = config.databasePattern.replace('{TENANT}', safe);
  if (!IDENT_RE.test(name)) throw new HubError('INTERNAL', 'tenant database name is not a plain identifier');
  return name;
}

/** Double-quotes an identifier already known to be plain (`[A-Z0-9_$]`). */
export function quoteIdent(name: string): string {
  if (!/^[A-Z0-9_$]+$/.test(name))
    throw new HubError('INTERNAL', `refusing to quote identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

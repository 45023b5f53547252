/**
 * Maps errors from `pg` and PGlite to the Hub's closed set of codes. The
 * driver's error is kept as `cause` (for logs); the message names the
 * operation and the SQLSTATE only, never SQL text or values, which may carry
 * another tenant's data or secrets.
 */
import { type ErrorCode, HubError, unreachable } from '../../hub/errors';

/** Node socket errors that mean the server is not reachable or went away. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** `pg` raises these (without a SQLSTATE) when a connection dies under it. */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection error',
  'Client was closed',
  'not queryable',
  'timeout exceeded when trying to connect',
];

/** The SQLSTATE or Node error code of a driver error, if any. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Which Hub code a driver error maps to. */
export function hubCodeFor(err: unknown): ErrorCode {
  const code = errorCodeOf(err);
  if (code !== undefined) {
    if (code === '23505') return 'CONFLICT';
    if (code === '57014') return 'TIMEOUT'; // statement_timeout or cancel
    if (code === '42501') return 'FORBIDDEN'; // privilege or RLS WITH CHECK violation
    if (code === '53300') return 'THROTTLED'; // too_many_connections
    // Connection exceptions, admin shutdown / crash / cannot connect now,
    // and serialization failures or deadlocks: all transient, safe to retry.
    if (code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '40001' || code === '40P01')
      return 'UNAVAILABLE';
    if (NETWORK_CODES.has(code)) return 'UNAVAILABLE';
    return 'INTERNAL';
  }
  const message = err instanceof Error ? err.message : '';
  if (CONNECTION_MESSAGES.some((m) => message.includes(m))) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** True when the error means the connection was lost (the statement may not have run). */
export function isConnectionLoss(err: unknown): boolean {
  const code = errorCodeOf(err);
  if (code === '40001' || code === '40P01') return false;
  return hubCodeFor(err) === 'UNAVAILABLE';
}

/** What a store URI asks the server for: named in the messages about a connection it refuses. */
export interface ConnectionTarget {
  /** The connection string (`postgres://user@host:port/db?...`). */
  readonly connectionString: string;
  /** The role the session switches to at startup (`-c role=`), when any. */
  readonly role?: string;
}

/**
 * Explains a connection the server refused for a reason the operator must
 * fix, naming what is missing and what to run: a database that does not exist
 * (3D000), an application role that does not exist or a refused startup
 * parameter (22023), a login the server refuses (28000, 28P01), a server
 * nothing answers for (ECONNREFUSED, ENOTFOUND). All are UNAVAILABLE: the
 * store cannot be used as configured, and a request that opens it on demand
 * (the router's store pool) must answer the generic 503, never the names of
 * the server, database or roles, which only the operator (CLI, logs) sees.
 * @returns the HubError (the driver's error as `cause`), or undefined for any other error.
 */
export function connectionProblem(
  err: unknown,
  operation: string,
  target: ConnectionTarget,
): HubError | undefined {
  const sqlstate = errorCodeOf(err);
  if (
    sqlstate !== '3D000' &&
    sqlstate !== '22023' &&
    sqlstate !== '28000' &&
    sqlstate !== '28P01' &&
    sqlstate !== 'ECONNREFUSED' &&
    sqlstate !== 'ENOTFOUND'
  )
    return undefined;
  const { database, user, host, port } = describeTarget(target.connectionString);
  const server = `${host}:${port}`;
  const fail = (message: string): HubError =>
    new HubError('UNAVAILABLE', `postgres ${operation}: ${message} (${sqlstate})`, { cause: err });
  switch (sqlstate) {
    case '3D000':
      return fail(
        `database "${database}" does not exist on ${server}: create it (createdb -h ${host} -p ${port} ${database}, ` +
          `or CREATE DATABASE ${database}), then run 'hub db migrate --store <owner URI>', or fix the database in the store URI`,
      );
    case '22023': {
      const message = err instanceof Error ? err.message : '';
      if (target.role !== undefined && /parameter "role"|role "[^"]*" does not exist/.test(message))
        return fail(
          `the application role "${target.role}" does not exist on ${server}: run 'hub db migrate --store <owner URI>' ` +
            '(it creates the application role and its grants), or set app_role= in the store URI to an existing role',
        );
      return fail(`the server refused a parameter of the store URI: ${message}`);
    }
    case '28000':
      return fail(
        `the server refused the login "${user}" to database "${database}" on ${server}: the role does not exist, ` +
          'may not log in, or pg_hba.conf does not admit it; create the login role or fix the user in the store URI',
      );
    case '28P01':
      return fail(
        `password authentication failed for "${user}" on ${server}: fix the password in the store URI`,
      );
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
      return fail(
        sqlstate === 'ENOTFOUND'
          ? `the host "${host}" of the store URI does not resolve`
          : `nothing accepts connections on ${server}: is PostgreSQL running there, and is the store URI's host and port right?`,
      );
    default:
      return unreachable(sqlstate, 'SQLSTATE');
  }
}

/** Database, user and host:port of a connection string, for messages (never the password). */
function describeTarget(connectionString: string): {
  database: string;
  user: string;
  host: string;
  port: string;
} {
  try {
    const url = new URL(connectionString);
    const host = url.searchParams.get('host') ?? (url.hostname || 'localhost');
    const user = decodeURIComponent(url.username) || process.env.PGUSER || 'the default user';
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || user;
    return { database, user, host, port: url.port || '5432' };
  } catch {
    return { database: '(unparsed)', user: '(unparsed)', host: 'the server', port: '5432' };
  }
}

/**
 * Wraps a driver error as a HubError for `operation` (e.g. `putBatch`),
 * keeping it as `cause`. HubErrors pass through unchanged. With the
 * connection's `target`, a refused connection is explained
 * ({@link connectionProblem}).
 */
export function toPostgresHubError(err: unknown, operation: string, target?: ConnectionTarget): HubError {
  if (err instanceof HubError) return err;
  const explained = target === undefined ? undefined : connectionProblem(err, operation, target);
  if (explained) return explained;
  const code = hubCodeFor(err);
  const sqlstate = errorCodeOf(err);
  const detail = sqlstate ? ` (${sqlstate})` : '';
  const what: Record<ErrorCode, string> = {
    CONFLICT: 'a record with this id already exists',
    TIMEOUT: 'the statement timed out',
    FORBIDDEN: 'the database refused access',
    THROTTLED: 'the database has too many connections',
    UNAVAILABLE: 'the database is unavailable',
    INTERNAL: 'the database reported an error',
    VALIDATION: 'invalid input',
    NOT_FOUND: 'not found',
    UNAUTHENTICATED: 'not authenticated',
    READ_ONLY: 'the tenant is read-only',
  };
  return new HubError(code, `postgres ${operation}: ${what[code]}${detail}`, { cause: err });
}

/**
 * Maps errors from `pg` and PGlite to the Hub's closed set of codes. The
 * driver's error is kept as `cause` (for logs); the message names the
 * operation and the SQLSTATE only, never SQL text or values, which may carry
 * another tenant's data or secrets.
 */
import { type ErrorCode, HubError } from '../../hub/errors';

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

/**
 * Wraps a driver error as a HubError for `operation` (e.g. `putBatch`),
 * keeping it as `cause`. HubErrors pass through unchanged.
 */
export function toPostgresHubError(err: unknown, operation: string): HubError {
  if (err instanceof HubError) return err;
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

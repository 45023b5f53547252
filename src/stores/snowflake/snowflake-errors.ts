/**
 * Maps snowflake-sdk errors to the Hub's closed set of codes. Server errors
 * carry Snowflake's own code (a 6-digit string such as `002003`); client-side
 * failures carry the driver's numeric codes (401001 network, ...).
 */
import { type ErrorCode, HubError } from '../../hub/errors';

/** The parts of a snowflake-sdk error the mapping reads. */
export interface SnowflakeErrorLike {
  readonly code?: string | number;
  readonly sqlState?: string;
  readonly message?: string;
}

/** Snowflake's "object does not exist or not authorized" (also a never-provisioned tenant). */
export const OBJECT_MISSING = '002003';

/** The Snowflake (server) error code of a driver error, if it has one. */
export function snowflakeCode(err: unknown): string | undefined {
  const code = (err as SnowflakeErrorLike | undefined)?.code;
  return code === undefined ? undefined : String(code);
}

/** True when the error says the database/schema/table does not exist. */
export function isObjectMissing(err: unknown): boolean {
  return snowflakeCode(err) === OBJECT_MISSING;
}

/** Session token expired or unknown to the server: a new login fixes it. */
const SESSION_GONE = new Set(['390104', '390112', '390114', '401004']);

/** True when the error means the server no longer knows the session. */
export function isSessionGone(err: unknown): boolean {
  const code = snowflakeCode(err);
  return code !== undefined && SESSION_GONE.has(code);
}

const BY_CODE: Record<string, ErrorCode> = {
  // Authentication and authorisation.
  '390100': 'UNAUTHENTICATED',
  '390101': 'UNAUTHENTICATED',
  '390104': 'UNAUTHENTICATED',
  '390112': 'UNAUTHENTICATED',
  '390144': 'UNAUTHENTICATED',
  '390318': 'UNAUTHENTICATED',
  '003001': 'FORBIDDEN',
  // Cancelled or timed out statements.
  '000604': 'TIMEOUT',
  '000630': 'TIMEOUT',
  // Warehouse overloaded / queued too long.
  '000610': 'THROTTLED',
  '000625': 'UNAVAILABLE',
  '000603': 'UNAVAILABLE',
  // Driver-side network failures (ERR_SF_NETWORK_COULD_NOT_CONNECT, response failures).
  '401001': 'UNAVAILABLE',
  '401002': 'UNAVAILABLE',
  '401003': 'UNAVAILABLE',
  '402001': 'UNAVAILABLE',
  '402002': 'UNAVAILABLE',
  '405503': 'UNAVAILABLE',
};

/**
 * Wraps a driver error as a HubError (the original kept as `cause`). Codes not
 * listed (compilation errors, unsupported features, conversions) are INTERNAL:
 * they mean the store sent SQL the backend rejects, which is a bug here.
 */
export function toSnowflakeHubError(err: unknown, what: string): HubError {
  if (err instanceof HubError) return err;
  const code = snowflakeCode(err);
  const mapped: ErrorCode = (code && BY_CODE[code]) || (isNetworkError(err) ? 'UNAVAILABLE' : 'INTERNAL');
  const detail = code ? ` (Snowflake ${code})` : '';
  return new HubError(mapped, `snowflake ${what} failed${detail}`, { cause: err });
}

function isNetworkError(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; cause?: { code?: unknown } } | undefined;
  const sys = String(e?.cause?.code ?? e?.code ?? '');
  return (
    e?.name === 'NetworkError' || /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NOTFOUND|PIPE|TIMEDOUT)$/.test(sys)
  );
}

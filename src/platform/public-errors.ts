/**
 * What a client may learn from an error, whatever the protocol (GraphQL,
 * NDJSON ingest): the HTTP status of each code of the closed set
 * (src/hub/errors.ts) and a message that is safe to show. Codes whose
 * messages may carry infrastructure details (a host, SQL) get a generic one;
 * the original stays in the logs.
 */
import type { ErrorCode, HubError } from '../hub/errors';

/** HTTP status for a request-level error of each code. */
export const HTTP_STATUS: { readonly [C in ErrorCode]: number } = {
  VALIDATION: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  THROTTLED: 429,
  TIMEOUT: 504,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  INTERNAL: 500,
  READ_ONLY: 503,
};

/**
 * Seconds a client should wait before retrying, for codes that mean "not now"
 * (sent as `Retry-After`): a read-only tenant is usually so for minutes, a
 * fenced one (a move's switch) for well under a second.
 */
export function retryAfterSeconds(err: HubError): number | undefined {
  if (err.code !== 'READ_ONLY') return undefined;
  return err.retryAfterSeconds ?? 5;
}

/** Messages shown instead of the original for codes whose messages may carry infrastructure details. */
const GENERIC: Partial<Record<ErrorCode, string>> = {
  UNAVAILABLE: 'the data store is unavailable; retry later',
  THROTTLED: 'too many requests to the data store; retry later',
  TIMEOUT: 'the operation timed out',
  INTERNAL: 'internal error',
};

/** The message a client may see for a HubError. */
export function publicMessage(err: HubError): string {
  return GENERIC[err.code] ?? err.message;
}

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
 * fenced one (a move's switch) for well under a second; a throttled call
 * (a fair share of the gateway, or a store's own limit) after 1 s unless it
 * says otherwise.
 */
export function retryAfterSeconds(err: HubError): number | undefined {
  if (err.code === 'READ_ONLY') return err.retryAfterSeconds ?? 5;
  if (err.code === 'THROTTLED') return err.retryAfterSeconds ?? 1;
  return undefined;
}

/** Messages shown instead of the original for codes whose messages may carry infrastructure details. */
const GENERIC: Partial<Record<ErrorCode, string>> = {
  UNAVAILABLE: 'the data store is unavailable; retry later',
  THROTTLED: 'too many requests to the data store; retry later',
  TIMEOUT: 'the operation timed out',
  INTERNAL: 'internal error',
};

/**
 * The message a client may see for a HubError. A THROTTLED error without a
 * `cause` is the gateway's own refusal (a tenant's fair share, written about
 * the caller's own tenant: src/platform/fair-store.ts) and keeps its message;
 * a store's (a driver's error as `cause`) gets the generic one.
 */
export function publicMessage(err: HubError): string {
  if (err.code === 'THROTTLED' && err.cause === undefined) return err.message;
  return GENERIC[err.code] ?? err.message;
}

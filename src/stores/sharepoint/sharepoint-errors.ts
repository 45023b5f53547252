/**
 * Maps what @pnp/sp and fetch throw to the Hub's closed set of codes. pnp
 * throws `HttpRequestError` (with `status` and the response) for non-2xx
 * answers; fetch throws a TypeError whose `cause` has the socket error code,
 * or a `TimeoutError` when our per-attempt deadline fires.
 *
 * Messages name the operation and the HTTP status or SharePoint error class,
 * never a URL with its query or a header, so the bearer token cannot leak.
 */
import { type ErrorCode, HubError } from '../../hub/errors';

/** The parts of pnp's HttpRequestError the mapping reads. */
interface HttpErrorLike {
  readonly isHttpRequestError: true;
  readonly status: number;
  readonly message: string;
  readonly response?: { readonly headers?: { get(name: string): string | null } };
}

/** True for pnp's HttpRequestError (checked structurally: pnp is loaded lazily as ESM). */
export function isHttpError(err: unknown): err is HttpErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { isHttpRequestError?: unknown }).isHttpRequestError === true &&
    typeof (err as { status?: unknown }).status === 'number'
  );
}

/** The HTTP status of a pnp error, if it has one. */
export function httpStatus(err: unknown): number | undefined {
  return isHttpError(err) ? err.status : undefined;
}

/**
 * SharePoint's error class from an `odata.error` body (`-2130575169,
 * Microsoft.SharePoint.SPDuplicateValuesFoundException` ->
 * `SPDuplicateValuesFoundException`). pnp keeps the body in the message after `::> `.
 */
export function odataErrorClass(err: unknown): string | undefined {
  if (!isHttpError(err)) return undefined;
  const at = err.message.indexOf('::> ');
  if (at < 0) return undefined;
  try {
    const body = JSON.parse(err.message.slice(at + 4)) as {
      'odata.error'?: { code?: unknown };
      error?: { code?: unknown };
    };
    const code = body['odata.error']?.code ?? body.error?.code;
    if (typeof code !== 'string') return undefined;
    const name = code.split(',').pop()?.trim() ?? '';
    return name.split('.').pop() || undefined;
  } catch {
    return undefined;
  }
}

/** The value of the Retry-After header of a pnp error's response, if any. */
export function retryAfterOf(err: unknown): string | null {
  return isHttpError(err) ? (err.response?.headers?.get('Retry-After') ?? null) : null;
}

/** True when SharePoint refused a write because an EnforceUniqueValues column already holds the value. */
export function isDuplicateValue(err: unknown): boolean {
  return odataErrorClass(err) === 'SPDuplicateValuesFoundException';
}

/** True when the list (or site, or file) does not exist. */
export function isNotFound(err: unknown): boolean {
  return httpStatus(err) === 404;
}

/** True when the object being created already exists (a concurrent provisioner won). */
export function isAlreadyExists(err: unknown): boolean {
  const name = odataErrorClass(err);
  return (
    name === 'SPException' &&
    isHttpError(err) &&
    /already exists|duplicate field name/i.test(err.message.slice(err.message.indexOf('::> ')))
  );
}

/** True for throttling answers (429, or 503 with Retry-After). */
export function isThrottle(err: unknown): boolean {
  const status = httpStatus(err);
  return status === 429 || (status === 503 && retryAfterOf(err) !== null);
}

function socketCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return String(e?.cause?.code ?? e?.code ?? '');
}

/** True for a deadline (ours or a server 408/504). */
function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError' || /TIMEDOUT/.test(socketCode(err));
}

/** True for network failures (nothing answered): connection refused, reset, DNS. */
export function isNetworkError(err: unknown): boolean {
  return (
    /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EPIPE|EAI_AGAIN|UND_ERR_SOCKET)$/.test(
      socketCode(err),
    ) ||
    (err instanceof TypeError && /fetch failed/i.test(err.message))
  );
}

/**
 * Wraps anything thrown while talking to SharePoint as a HubError (the
 * original kept as `cause`): 401 UNAUTHENTICATED, 403 FORBIDDEN, 404
 * NOT_FOUND, 412 CONFLICT, 429 (and 503 with Retry-After) THROTTLED, 408/504
 * and deadlines TIMEOUT, other 5xx and network failures UNAVAILABLE, and
 * anything else (a request SharePoint refuses as malformed, the list view
 * threshold) INTERNAL: the store sent something it should not have.
 */
export function toSharePointHubError(err: unknown, what: string): HubError {
  if (err instanceof HubError) return err;
  const status = httpStatus(err);
  const cls = odataErrorClass(err);
  let code: ErrorCode;
  if (status !== undefined) {
    if (status === 401) code = 'UNAUTHENTICATED';
    else if (status === 403) code = 'FORBIDDEN';
    else if (status === 404) code = 'NOT_FOUND';
    else if (status === 412) code = 'CONFLICT';
    else if (isThrottle(err)) code = 'THROTTLED';
    else if (status === 408 || status === 504) code = 'TIMEOUT';
    else if (cls === 'SPQueryThrottledException') code = 'INTERNAL';
    else if (status >= 500) code = 'UNAVAILABLE';
    else code = 'INTERNAL';
  } else if (isTimeout(err)) code = 'TIMEOUT';
  else if (isNetworkError(err)) code = 'UNAVAILABLE';
  else code = 'INTERNAL';
  const detail =
    status !== undefined
      ? ` (HTTP ${status}${cls ? ` ${cls}` : ''})`
      : code === 'INTERNAL'
        ? ''
        : ` (${code.toLowerCase()})`;
  return new HubError(code, `sharepoint ${what} failed${detail}`, { cause: err });
}

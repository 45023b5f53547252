/**
 * The closed set of error codes that cross every boundary of the Hub: the store
 * port, the Hub service, the router and (as `extensions.code`) GraphQL.
 *
 * Drivers' own errors never cross a boundary by themselves: each store maps them
 * to one of these codes and keeps the original as `cause` (for logs, never for
 * clients).
 */
export const ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'UNAVAILABLE',
  'THROTTLED',
  'TIMEOUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'INTERNAL',
  /**
   * The tenant takes no writes right now (read-only, or its writes are fenced
   * during a move's switch); reads are served. Retry after a while.
   */
  'READ_ONLY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem with one field of one record in a batch. */
export interface FieldIssue {
  /** Index of the record in the submitted batch (0-based); absent for non-batch input. */
  readonly index?: number;
  /** Dotted field path in storage names, e.g. `cost_usd` or `attributes.team`. */
  readonly path: string;
  readonly message: string;
}

/**
 * The one error class of the Hub. `code` is from {@link ERROR_CODES}; `issues`
 * lists every field problem for VALIDATION errors; `cause` keeps the driver's
 * original error.
 */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: ErrorCode;
  readonly issues: readonly FieldIssue[];
  /** For READ_ONLY (and other "not now" codes): how long the caller should wait before retrying. */
  readonly retryAfterSeconds?: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; issues?: readonly FieldIssue[]; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues ?? [];
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True when `err` is a {@link HubError}, optionally with the given code. */
export function isHubError(err: unknown, code?: ErrorCode): err is HubError {
  return err instanceof HubError && (code === undefined || err.code === code);
}

/** Builds a VALIDATION error whose message lists every issue (index and path first). */
export function validationError(issues: readonly FieldIssue[], subject = 'record'): HubError {
  const lines = issues.map((i) => `${i.index === undefined ? '' : `[${i.index}] `}${i.path}: ${i.message}`);
  const head = issues.length === 1 ? `invalid ${subject}` : `invalid ${subject}: ${issues.length} problems`;
  return new HubError('VALIDATION', `${head}: ${lines.join('; ')}`, { issues });
}

/**
 * Wraps anything thrown by lower layers into a HubError (INTERNAL unless it
 * already is one), keeping the original as `cause`.
 */
export function toHubError(err: unknown, fallbackMessage = 'internal error'): HubError {
  if (err instanceof HubError) return err;
  return new HubError('INTERNAL', fallbackMessage, { cause: err });
}

/** For exhaustive switches: a compile error when a case is missing, a runtime error if reached. */
export function unreachable(value: never, what = 'value'): never {
  throw new HubError('INTERNAL', `unexpected ${what}: ${String(value)}`);
}

/** Codes the gateway puts in `extensions.code` (a closed set), as a type. */
export type HubErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'THROTTLED'
  | 'TIMEOUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'INTERNAL';

/** One GraphQL error as the gateway sends it. */
export interface GraphQLErrorEntry {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly [key: string]: unknown };
}

const CODES: readonly string[] = [
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'UNAVAILABLE',
  'THROTTLED',
  'TIMEOUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'INTERNAL',
];

/** True when `value` is one of the gateway's error codes. */
export function isHubErrorCode(value: unknown): value is HubErrorCode {
  return typeof value === 'string' && CODES.includes(value);
}

/**
 * A failed request: the gateway answered with errors (`code` is the first
 * error's `extensions.code`), answered without GraphQL data, or could not be
 * reached (`code` UNAVAILABLE, `status` 0, the fetch error as `cause`).
 */
export class HubClientError extends Error {
  override readonly name = 'HubClientError';
  /** The first error's `extensions.code` (INTERNAL when the answer had none). */
  readonly code: HubErrorCode;
  /** HTTP status of the answer; 0 when there was none. */
  readonly status: number;
  /** Every GraphQL error of the answer, as sent. */
  readonly errors: readonly GraphQLErrorEntry[];
  /** The first error's `extensions` (e.g. `issues` of a VALIDATION error). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    options: {
      code: HubErrorCode;
      status: number;
      errors?: readonly GraphQLErrorEntry[];
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
    this.errors = options.errors ?? [];
    this.extensions = { ...(this.errors[0]?.extensions ?? {}) };
  }
}

/**
 * A small typed GraphQL client for the Hub gateway over `fetch`: pass a
 * generated document (./generated/graphql.js) and get typed data back.
 * Variables are checked at compile time against the operation: optional
 * when all of the operation's are, and an unknown variable is an error.
 */
import type { DocumentTypeDecoration } from './typed-document.js';
import { type GraphQLErrorEntry, HubClientError, isHubErrorCode } from './errors.js';

export interface HubClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql` (or `/graphql` in a browser). */
  readonly url: string;
  /** Bearer token, or a function giving one per request (for tokens that are refreshed). */
  readonly token?: string | (() => string | Promise<string>);
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Custom fetch (default: the global one). */
  readonly fetch?: typeof fetch;
}

/** A typed document: the generated `...Document` constants (or any TypedDocumentNode-compatible string). */
export type TypedDocument<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & {
  toString(): string;
};

/** Per-request options. */
export interface RequestOptions {
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/**
 * The variables argument of an operation: may be left out when every
 * variable is optional, must be given otherwise.
 */
export type VariablesArgs<TVariables> =
  Record<string, never> extends TVariables
    ? [variables?: TVariables, options?: RequestOptions]
    : [variables: TVariables, options?: RequestOptions];

/** A successful answer: typed data and the response's `extensions` (e.g. `routing`). */
export interface HubResult<TResult> {
  readonly data: TResult;
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface HubClient {
  /**
   * Runs an operation. Resolves to its data when the answer has no errors;
   * otherwise rejects with a {@link HubClientError}.
   */
  request<TResult, TVariables>(
    document: TypedDocument<TResult, TVariables>,
    // NoInfer: the variables are checked against the document, never inferred
    // from the argument (which would let unknown variables through).
    ...args: VariablesArgs<NoInfer<TVariables>>
  ): Promise<TResult>;
  /** As {@link request}, also returning the response's `extensions`. */
  execute<TResult, TVariables>(
    document: TypedDocument<TResult, TVariables>,
    ...args: VariablesArgs<NoInfer<TVariables>>
  ): Promise<HubResult<TResult>>;
}

interface Body {
  data?: unknown;
  errors?: GraphQLErrorEntry[];
  extensions?: Record<string, unknown>;
}

/** Creates a client for one gateway. */
export function createHubClient(options: HubClientOptions): HubClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('no fetch available: pass options.fetch');

  async function execute<TResult, TVariables>(
    document: TypedDocument<TResult, TVariables>,
    variables?: TVariables,
    requestOptions: RequestOptions = {},
  ): Promise<HubResult<TResult>> {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    let res: Response;
    try {
      res = await doFetch(options.url, {
        method: 'POST',
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
        ...(requestOptions.signal ? { signal: requestOptions.signal } : {}),
      });
    } catch (err) {
      throw new HubClientError(`the gateway could not be reached: ${(err as Error)?.message ?? err}`, {
        code: 'UNAVAILABLE',
        status: 0,
        cause: err,
      });
    }
    const text = await res.text();
    let body: Body;
    try {
      body = JSON.parse(text) as Body;
    } catch (err) {
      throw new HubClientError(`the gateway answered ${res.status} without JSON`, {
        code: res.status === 503 ? 'UNAVAILABLE' : 'INTERNAL',
        status: res.status,
        cause: err,
      });
    }
    const errors = Array.isArray(body.errors) ? body.errors : [];
    if (errors.length > 0 || body.data === null || body.data === undefined) {
      const first = errors[0];
      const code = first?.extensions?.code;
      throw new HubClientError(first?.message ?? `the gateway answered ${res.status} without data`, {
        code: isHubErrorCode(code) ? code : 'INTERNAL',
        status: res.status,
        errors,
      });
    }
    return { data: body.data as TResult, extensions: body.extensions ?? {} };
  }

  return {
    async request(document, ...args) {
      const [variables, requestOptions] = args;
      return (await execute(document, variables, requestOptions)).data;
    },
    execute(document, ...args) {
      const [variables, requestOptions] = args;
      return execute(document, variables, requestOptions);
    },
  };
}

/** One root field's routing, from `extensions.routing` (which store answered, and as of when). */
export interface FieldRouting {
  readonly stores: readonly { readonly store: string; readonly role: string; readonly reason: string }[];
  /** Every record acknowledged before this instant is counted (rollups only). */
  readonly watermark?: string;
  readonly lagMs?: number;
}

/** The routing of each root field of an answer (empty when the gateway sent none). */
export function routingOf(result: HubResult<unknown>): Readonly<Record<string, FieldRouting>> {
  const routing = result.extensions.routing;
  return typeof routing === 'object' && routing !== null ? (routing as Record<string, FieldRouting>) : {};
}

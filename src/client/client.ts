/**
 * A small typed GraphQL client for dashboards: pass a generated typed document
 * (src/client/generated/graphql.ts) and get typed data back. Uses the global
 * `fetch`; errors surface as {@link HubClientError} with the server's code.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface HubClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  readonly url: string;
  /** Bearer token (from the identity provider, or `hub token` in development). */
  readonly token: string;
  /** Custom fetch (default: the global one). */
  readonly fetch?: typeof fetch;
}

/** An error answered by the gateway; `code` is from the closed set (e.g. FORBIDDEN). */
export class HubClientError extends Error {
  override readonly name = 'HubClientError';
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly errors: readonly { message: string; extensions?: Record<string, unknown> }[],
  ) {
    super(message);
  }
}

export interface HubClient {
  /**
   * Runs a typed operation. Resolves to `data` when there are no errors;
   * otherwise rejects with a {@link HubClientError} carrying the first code.
   */
  request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult>;
}

/** Creates a client for one gateway and token. */
export function createHubClient(options: HubClientOptions): HubClient {
  const doFetch = options.fetch ?? fetch;
  return {
    async request(document, variables) {
      const res = await doFetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${options.token}`,
        },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const text = await res.text();
      let body: {
        data?: unknown;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new HubClientError(`gateway answered ${res.status} without JSON`, 'INTERNAL', res.status, []);
      }
      const errors = body.errors ?? [];
      if (errors.length > 0 || body.data == null) {
        const first = errors[0];
        throw new HubClientError(
          first?.message ?? `gateway answered ${res.status} without data`,
          String(first?.extensions?.code ?? 'INTERNAL'),
          res.status,
          errors,
        );
      }
      return body.data as Awaited<ReturnType<HubClient['request']>> as never;
    },
  };
}

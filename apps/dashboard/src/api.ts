/**
 * Data loading for the panels: one typed request per query through
 * @hub-gateway/client, with loading, error and the response's routing.
 */
import {
  type FieldRouting,
  type HubClient,
  HubClientError,
  type TypedDocument,
  createHubClient,
  routingOf,
} from '@hub-gateway/client';
import { useEffect, useState } from 'react';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'error'; readonly message: string; readonly code: string }
  | {
      readonly state: 'ok';
      readonly data: T;
      readonly routing: Readonly<Record<string, FieldRouting>>;
      /** The variables (as JSON) the data answers: a panel shows which request it is drawn from. */
      readonly variables: string;
    };

/** Creates the client for the page's endpoint and token. */
export function makeClient(endpoint: string, token: string): HubClient {
  return createHubClient({ url: endpoint, token });
}

/**
 * Runs `document` with `variables` whenever they change (compared as JSON);
 * a newer request supersedes an older one still in flight.
 */
export function useQuery<TResult, TVariables>(
  client: HubClient,
  document: TypedDocument<TResult, TVariables>,
  variables: TVariables | null,
): Loaded<TResult> {
  const [result, setResult] = useState<Loaded<TResult>>({ state: 'loading' });
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (variables === null) return undefined;
    const controller = new AbortController();
    setResult({ state: 'loading' });
    const run = client.execute as (
      d: TypedDocument<TResult, TVariables>,
      v: TVariables,
      o: { signal: AbortSignal },
    ) => ReturnType<HubClient['execute']>;
    run(document, variables, { signal: controller.signal }).then(
      (r) => {
        if (!controller.signal.aborted)
          setResult({ state: 'ok', data: r.data as TResult, routing: routingOf(r), variables: key });
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setResult({
          state: 'error',
          message: err instanceof Error ? err.message : String(err),
          code: err instanceof HubClientError ? err.code : 'INTERNAL',
        });
      },
    );
    return () => controller.abort();
  }, [client, document, key]);
  return result;
}

/**
 * A request a fair share refused while it ran (a rollup or store call that
 * found its tenant's queue full: src/platform/fair-store.ts), or that a store
 * throttled, answers like any other throttling: HTTP 429 with `Retry-After`
 * and one error, `THROTTLED`, with `retryAfterSeconds` (as the admission's
 * 429 before the body is read, src/http/admission.ts). Whatever else ran is
 * dropped: a field error inside a 200 would leave the client to find out that
 * it should come back, and when.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { type GraphQLFormattedError, GraphQLError } from 'graphql';
import { type HubError, isHubError } from '../hub/errors';
import { publicMessage, retryAfterSeconds } from '../platform/public-errors';
import type { GraphQLContext } from './context';

/** The Apollo plugin described in the module comment. */
export function throttledPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ errors, response }) {
          if (!errors || errors.length === 0) return;
          let first: HubError | undefined;
          let wait = 0;
          for (const e of errors) {
            const original = e instanceof GraphQLError ? (e.originalError ?? e) : e;
            if (!isHubError(original, 'THROTTLED')) continue;
            first ??= original;
            wait = Math.max(wait, retryAfterSeconds(original) ?? 1);
          }
          if (!first || response.body.kind !== 'single') return;
          response.http.status = 429;
          response.http.headers.set('retry-after', String(wait));
          const error: GraphQLFormattedError = {
            message: publicMessage(first),
            extensions: { code: 'THROTTLED', retryAfterSeconds: wait },
          };
          const { extensions } = response.body.singleResult;
          response.body.singleResult = { errors: [error], ...(extensions ? { extensions } : {}) };
        },
      };
    },
  };
}

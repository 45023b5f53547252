/**
 * HTTP answer for writes refused because the tenant is read-only (or fenced
 * during a move's switch): when every error of a response is READ_ONLY, the
 * status is 503 and `Retry-After` says when to try again, so HTTP clients and
 * proxies retry as they do for any temporary refusal. Reads are unaffected.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { isHubError } from '../hub/errors';
import { retryAfterSeconds } from '../platform/public-errors';
import type { GraphQLContext } from './context';

/** The Apollo plugin described in the module comment. */
export function readOnlyPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ errors, response }) {
          if (!errors || errors.length === 0) return;
          let wait = 0;
          for (const e of errors) {
            const original = e instanceof GraphQLError ? (e.originalError ?? e) : e;
            if (!isHubError(original, 'READ_ONLY')) return;
            wait = Math.max(wait, retryAfterSeconds(original) ?? 1);
          }
          response.http.status = 503;
          response.http.headers.set('retry-after', String(wait));
        },
      };
    },
  };
}

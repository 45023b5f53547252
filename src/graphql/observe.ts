/**
 * The Apollo plugin that observes each operation for logs and metrics: it
 * names the operation (a bounded metrics label), logs server-side errors with
 * their cause under the request id, and counts every error sent by its code.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { isHubError } from '../hub/errors';
import { errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import type { GraphQLContext } from './context';

/** Codes of errors the client caused: not logged as server errors. */
const CLIENT_ERROR_CODES = new Set([
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Records the operation for logs and metrics and counts errors by code. */
export function observePlugin(metrics: GatewayMetrics): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue }) {
          contextValue.stats.operation = metrics.operationLabel(operationName);
          contextValue.stats.operationType = operation?.operation ?? 'unknown';
        },
        async didEncounterErrors({ errors, contextValue }) {
          // Clients only see a code and a safe message; the cause goes to the log, under the request id.
          for (const e of errors) {
            const original = e.originalError ?? e;
            const code = isHubError(original) ? original.code : e.extensions?.code;
            if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) continue;
            contextValue.log.error('graphql error', { path: e.path?.join('.'), ...errorFields(original) });
          }
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const e of response.body.singleResult.errors ?? []) {
            metrics.errors.inc({ code: String(e.extensions?.code ?? 'INTERNAL') });
          }
        },
      };
    },
  };
}

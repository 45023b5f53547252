/**
 * The Apollo plugin that observes each operation for logs and metrics: it
 * names the operation (a bounded metrics label), logs server-side errors with
 * their cause under the request id, and counts every error sent by its code.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { isHubError } from '../hub/errors';
import { errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import type { Span } from '../platform/tracing';
import type { GraphQLContext } from './context';
import type { FieldRouting } from './route-extensions';
import type { UsageMeter } from '../platform/usage';

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
          contextValue.stats.operation = metrics.operationLabel(operationName, contextValue.tenant);
          contextValue.stats.operationType = operation?.operation ?? 'unknown';
          // The request's `graphql.operation` span (graphql/server.ts).
          const span = contextValue.span;
          if (span.recording) {
            // A span is one request's record, not a label set: it keeps the operation's own
            // name (the metric label is bounded to registered operations, see operationLabel).
            const name =
              operationName != null && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(operationName)
                ? operationName
                : contextValue.stats.operation;
            span.setName(`${contextValue.stats.operationType} ${name}`);
            span.setAttributes({
              'graphql.operation.type': contextValue.stats.operationType,
              'graphql.operation.name': name,
            });
          }
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
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          for (const e of response.body.singleResult.errors ?? []) {
            metrics.errors.inc({
              code: String(e.extensions?.code ?? 'INTERNAL'),
              ...metrics.tenantLabel(contextValue.tenant),
            });
          }
        },
      };
    },
  };
}

/**
 * Puts the response's outcome on the operation's span. Last in the plugin
 * list: the other plugins' `willSendResponse` (cost, routing) have run.
 */
export function tracePlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    // Only a sampled request gets a listener: Apollo then runs no hook of this plugin for the others.
    async requestDidStart({ contextValue }) {
      if (!contextValue.span.recording) return;
      return {
        async willSendResponse({ response, contextValue }) {
          const span = contextValue.span;
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          traceResult(
            span,
            (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL')),
            result.extensions,
          );
        },
      };
    },
  };
}

/**
 * Puts what the response tells about the operation on its span: the error
 * codes (never messages), the cost units when the response reports them
 * (`extensions.cost`), and which stores answered (`extensions.routing`).
 */
function traceResult(
  span: Span,
  codes: readonly string[],
  extensions: Record<string, unknown> | undefined,
): void {
  if (codes.length > 0) {
    span.setAttribute('graphql.error_codes', [...new Set(codes)]);
    span.fail(codes[0] as string);
  }
  const cost = extensions?.cost;
  if (typeof cost === 'number') span.setAttribute('hub.cost', cost);
  else if (typeof cost === 'object' && cost !== null) {
    for (const [key, value] of Object.entries(cost)) {
      if (typeof value === 'number') span.setAttribute(`hub.cost.${key}`, value);
    }
  }
  const routing = extensions?.routing;
  if (typeof routing === 'object' && routing !== null) {
    const routes: string[] = [];
    for (const [field, r] of Object.entries(routing as Record<string, FieldRouting>)) {
      for (const s of r.stores) routes.push(`${field}: ${s.store} (${s.role}, ${s.reason})`);
    }
    span.setAttribute('hub.routes', routes);
  }
}

/**
 * Counts each request into the tenant's usage: one request, one error when
 * the answer carries any error, the cost units the gateway computed
 * (`extensions.cost.requested`), and a mutation's body bytes as ingested
 * (as /ingest counts its body: what the tenant sent to be written, whether
 * or not every record was accepted). Last in the plugin list, like {@link tracePlugin}.
 */
export function usagePlugin(usage: UsageMeter): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const tenant = contextValue.tenant;
          usage.add(tenant, 'requests');
          if (contextValue.stats.operationType === 'mutation' && contextValue.bodyBytes > 0)
            usage.add(tenant, 'bytes_ingested', contextValue.bodyBytes);
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if ((result.errors?.length ?? 0) > 0) usage.add(tenant, 'errors');
          const cost = result.extensions?.cost as { requested?: unknown } | number | undefined;
          const units = typeof cost === 'number' ? cost : cost?.requested;
          if (typeof units === 'number' && Number.isFinite(units)) usage.add(tenant, 'cost_units', units);
        },
      };
    },
  };
}

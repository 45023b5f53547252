/**
 * Request limits enforced before execution (scopes by operation type, and the
 * preflight: tokens, aliases, root fields, directives, depth, representations
 * and cost; see preflight.ts, shape.ts and cost.ts) and during it (deadline).
 * Violations are request-level errors with a code from the closed set and
 * the matching HTTP status. The computed cost goes back to the client in
 * `extensions.cost` (`{ requested, limit }`) of every response it was
 * computed for, refusals over the cost limit included.
 */
import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  getNamedType,
  isLeafType,
  isObjectType,
} from 'graphql';
import { HubError, isHubError } from '../hub/errors';
import { hasScope } from '../platform/auth';
import type { GraphQLContext } from './context';
import { operationCost } from './cost';
import { toGraphQLError } from './errors';
import type { Preflight } from './preflight';
import { buildSchema } from './schema';
import { documentShape } from './shape';

export interface QueryLimits {
  /** Deepest field nesting allowed (introspection excluded). Default 12 (`HUB_MAX_DEPTH`). */
  readonly maxDepth: number;
  /** Highest cost allowed (cost.ts). Default 25,000 (`HUB_MAX_COST`). */
  readonly maxCost: number;
  /** Wall-clock budget of one request in ms. Default 10,000 (`HUB_QUERY_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** Most aliased or repeated fields. Default 100 (`HUB_MAX_ALIASES`). */
  readonly maxAliases: number;
  /** Most fields at the root of an operation. Default 20 (`HUB_MAX_ROOT_FIELDS`). */
  readonly maxRootFields: number;
  /** Most directives applied. Default 50 (`HUB_MAX_DIRECTIVES`). */
  readonly maxDirectives: number;
  /** Most lexical tokens in a query text. Default 2,000 (`HUB_MAX_TOKENS`). */
  readonly maxTokens: number;
  /**
   * Longest query text, in characters. Default 262,144 (`HUB_MAX_QUERY_CHARS`):
   * comments and string literals are not tokens the token limit stops at, and
   * graphql-js lexes 16 MB of them in about 100 ms of CPU in one step.
   */
  readonly maxQueryChars: number;
  /**
   * Most JSON values in a POST body (`{`, `[` and `,` counted as it is read).
   * Default 100,000 (`HUB_MAX_BODY_VALUES`): `JSON.parse` of 12 MB of small
   * objects took 200 ms of CPU in one step; 100,000 values take about 20 ms.
   */
  readonly maxBodyValues: number;
  /** Most `_entities` representations in one request. Default 1,000 (`HUB_MAX_REPRESENTATIONS`). */
  readonly maxRepresentations: number;
  /**
   * Largest operation compiled by graphql-jit, in fields it would generate
   * code for (shape.ts `jitFields`); larger ones run on graphql-js's
   * executor, so compiling one never holds the event loop long. Default 150
   * (`HUB_JIT_MAX_FIELDS`).
   */
  readonly jitMaxFields: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxCost: 25_000,
  timeoutMs: 10_000,
  maxAliases: 100,
  maxRootFields: 20,
  maxDirectives: 50,
  maxTokens: 2_000,
  maxQueryChars: 262_144,
  maxBodyValues: 100_000,
  maxRepresentations: 1_000,
  jitMaxFields: 150,
};

let defaultSchema: GraphQLSchema | undefined;

/**
 * Depth and cost of an operation in a document (see cost.ts), with `schema`
 * (default: the gateway's schema).
 */
export function measure(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
  schema: GraphQLSchema = (defaultSchema ??= buildSchema()),
): { depth: number; cost: number } {
  const shape = documentShape(schema, document).operations.get(operation.name?.value ?? '');
  return { depth: shape?.depth ?? 0, cost: operationCost(schema, document, operation, variables).cost };
}

/**
 * The Apollo plugin enforcing scopes and the cost half of the preflight, and
 * answering `extensions.cost`. Scopes: queries need hub:read, mutations
 * hub:write; subscriptions do not exist. The static half runs before Apollo
 * sees the request ({@link staticRefusal}).
 */
export function limitsPlugin(limits: QueryLimits, preflight: Preflight): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, contextValue }) {
          if (!operation) return;
          const needed = operation.operation === 'mutation' ? 'hub:write' : 'hub:read';
          if (!hasScope(contextValue, needed)) {
            throw toGraphQLError(new HubError('FORBIDDEN', `this operation needs the ${needed} scope`), true);
          }
          const checked = preflight.checkCost(document, operation, request.variables ?? {});
          contextValue.stats.cost = checked.cost;
          if (checked.refusal) {
            contextValue.stats.refused = true;
            throw toGraphQLError(checked.refusal, true);
          }
        },
        async willSendResponse({ response, contextValue }) {
          const requested = contextValue.stats.cost;
          if (requested !== undefined) addCost(response.body, { requested, limit: limits.maxCost });
        },
      };
    },
  };
}

/**
 * The static half of the preflight on a request's query text, before Apollo
 * parses and validates it (graphql-js validation compares same-named fields
 * pairwise: hundreds of repeats took it seconds). Apollo has no hook there
 * that may refuse a request (an error thrown from `didResolveSource` becomes
 * a 500), so the server calls this first and answers the refusal itself.
 * `appendedChars`: characters the gateway appended to the client's text.
 * @returns the error to answer with (400 VALIDATION), or undefined.
 */
export function staticRefusal(
  preflight: Preflight,
  query: string | undefined,
  appendedChars = 0,
): GraphQLError | undefined {
  if (query === undefined) return undefined;
  try {
    preflight.checkSource(query, appendedChars);
    return undefined;
  } catch (err) {
    if (!isHubError(err)) throw err;
    return toGraphQLError(err, true);
  }
}

function addCost(body: GraphQLResponse['body'], cost: { requested: number; limit: number }): void {
  const result = body.kind === 'single' ? body.singleResult : body.initialResult;
  // Most answers have no extensions yet: a literal, not a spread of nothing (this runs on every request).
  result.extensions = result.extensions ? { ...result.extensions, cost } : { cost };
}

/**
 * Enforces the request deadline: every field that can start work (root
 * fields, and fields with their own resolver returning objects or lists:
 * relations, connections) throws TIMEOUT instead of starting once the
 * context's deadline has passed. Leaf fields of a loaded record (scalars and
 * enums, computed or not: `id`, `provenance.hash`) start no store call and
 * are not wrapped: they finish in microseconds, and checking the clock on
 * every one of them cost a visible share of a list's CPU. Wrapping the
 * schema once replaces a per-field Apollo hook, which made Apollo instrument
 * every field of every record of every request. Mutates and returns `schema`.
 */
export function enforceDeadline(
  schema: GraphQLSchema,
  limits: Pick<QueryLimits, 'timeoutMs'>,
): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType()]);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve) continue;
      if (!roots.has(type) && isLeafType(getNamedType(field.type))) continue;
      field.resolve = (source, args, ctx: GraphQLContext, info) => {
        if (Date.now() > ctx.deadline) {
          throw new HubError('TIMEOUT', `the query ran longer than ${limits.timeoutMs} ms`);
        }
        return resolve(source, args, ctx, info);
      };
    }
  }
  return schema;
}

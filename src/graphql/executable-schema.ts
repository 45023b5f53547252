/**
 * The schema the gateway executes: schema.graphql with its resolvers
 * (schema.ts), then every rewrite of those resolvers, applied here and only
 * here, in this order:
 *
 * 1. `enforceDeadline` (limits.ts) wraps the resolvers the schema has: root
 *    fields and fields returning objects or lists. It runs before step 2 so
 *    that the default resolvers, which only read a loaded record, are never
 *    held to the deadline.
 * 2. `defaultResolvers` (jit-executor.ts) gives every field without a resolver
 *    the one that reads its snake_case storage name (`costUsd` -> `cost_usd`):
 *    graphql-jit has no default-resolver option. A field whose name is its
 *    storage name keeps no resolver: graphql-jit reads it inline; so do the
 *    fields of VIEW_TYPES (mapping.ts), whose parents use GraphQL's names.
 * 3. `traceRootFields` (route-extensions.ts) wraps each root field outermost,
 *    so its route trace is active before anything else of the field runs,
 *    the deadline check included.
 *
 * graphql-jit then compiles each operation against the result (server.ts).
 * test/graphql/executable-schema.test.ts asserts the order and the effect of
 * each step.
 */
import type { GraphQLSchema } from 'graphql';
import { withDefaultResolver } from './jit-executor';
import { type QueryLimits, enforceDeadline } from './limits';
import { VIEW_TYPES } from './mapping';
import { fieldResolverFor } from './resolvers/records';
import type { RouteExtensions } from './route-extensions';
import { buildSchema } from './schema';

/** One rewrite of the schema's resolvers (mutates the schema). */
export interface ResolverRewrite {
  readonly name: string;
  apply(schema: GraphQLSchema): void;
}

/** The rewrites, in the order they must be applied (see the module comment). */
export function resolverRewrites(
  limits: Pick<QueryLimits, 'timeoutMs'>,
  routes: RouteExtensions,
): readonly ResolverRewrite[] {
  return [
    { name: 'enforceDeadline', apply: (schema) => enforceDeadline(schema, limits) },
    {
      name: 'defaultResolvers',
      apply: (schema) => withDefaultResolver(schema, fieldResolverFor, VIEW_TYPES),
    },
    { name: 'traceRootFields', apply: (schema) => routes.traceRootFields(schema) },
  ];
}

/** A freshly built schema with every rewrite applied; `applied` names them in order. */
export function buildExecutableSchema(
  limits: Pick<QueryLimits, 'timeoutMs'>,
  routes: RouteExtensions,
): { readonly schema: GraphQLSchema; readonly applied: readonly string[] } {
  const schema = buildSchema();
  const applied: string[] = [];
  for (const rewrite of resolverRewrites(limits, routes)) {
    rewrite.apply(schema);
    applied.push(rewrite.name);
  }
  return { schema, applied };
}

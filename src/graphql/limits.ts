/**
 * Request limits enforced before execution (depth, cost, scopes by operation
 * type) and during it (deadline). Violations are request-level errors with a
 * code from the closed set and the matching HTTP status.
 *
 * Cost model: every field with a selection set costs one unit per object it may
 * produce; a field with a `first` argument multiplies everything below it by
 * that page size (default 50), and `reports` by 50 (a team's size is unknown
 * before execution). Rollups cost 100 each. So `outputs(first: 500) { nodes {
 * decisions(first: 50) { nodes { id } } } }` costs about 1 + 500 + 500 + 25,000.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  getNamedType,
  isLeafType,
  isObjectType,
} from 'graphql';
import { HubError } from '../hub/errors';
import { LIMITS } from '../hub/model';
import { hasScope } from '../platform/auth';
import type { GraphQLContext } from './context';
import { toGraphQLError } from './errors';

export interface QueryLimits {
  /** Deepest field nesting allowed (introspection excluded). Default 12. */
  readonly maxDepth: number;
  /** Highest estimated cost allowed. Default 25,000. */
  readonly maxCost: number;
  /** Wall-clock budget of one request in ms. Default 10,000. */
  readonly timeoutMs: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 12, maxCost: 25_000, timeoutMs: 10_000 };

const ROLLUPS = new Set(['costPerSkill', 'archetypeProgression', 'managerDashboard', 'managers', 'skills']);
const ROLLUP_COST = 100;
const REPORTS_FANOUT = 50;

interface Walk {
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly variables: Readonly<Record<string, unknown>>;
}

function argValue(node: ValueNode, walk: Walk): unknown {
  if (node.kind === Kind.VARIABLE) return walk.variables[node.name.value];
  if (node.kind === Kind.INT) return Number(node.value);
  return undefined;
}

function pageSize(field: FieldNode, walk: Walk): number | undefined {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (!arg) return undefined;
  const v = argValue(arg.value, walk);
  return typeof v === 'number' && Number.isFinite(v) ? Math.max(0, v) : LIMITS.defaultPageSize;
}

/** Depth of a selection set, fragments expanded, introspection fields skipped. */
export function depthOf(set: SelectionSetNode, walk: Walk, seen = new Set<string>()): number {
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      const below = sel.selectionSet ? depthOf(sel.selectionSet, walk, seen) : 0;
      max = Math.max(max, 1 + below);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(sel.selectionSet, walk, seen));
    } else {
      const frag = walk.fragments.get(sel.name.value);
      // A fragment cycle is a validation error anyway; never recurse into one.
      if (!frag || seen.has(frag.name.value)) continue;
      max = Math.max(max, depthOf(frag.selectionSet, walk, new Set([...seen, frag.name.value])));
    }
  }
  return max;
}

/** Estimated cost of a selection set evaluated `multiplier` times. */
export function costOf(
  set: SelectionSetNode,
  walk: Walk,
  multiplier: number,
  seen = new Set<string>(),
): number {
  let total = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const name = sel.name.value;
      if (name.startsWith('__') || !sel.selectionSet) continue;
      if (ROLLUPS.has(name)) {
        total += multiplier * ROLLUP_COST + costOf(sel.selectionSet, walk, multiplier, seen);
        continue;
      }
      const first = pageSize(sel, walk);
      const fanout = first ?? (name === 'reports' ? REPORTS_FANOUT : 1);
      total += multiplier + costOf(sel.selectionSet, walk, multiplier * Math.max(1, fanout), seen);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      total += costOf(sel.selectionSet, walk, multiplier, seen);
    } else {
      const frag = walk.fragments.get(sel.name.value);
      if (!frag || seen.has(frag.name.value)) continue;
      total += costOf(frag.selectionSet, walk, multiplier, new Set([...seen, frag.name.value]));
    }
  }
  return total;
}

/** Depth and cost of an operation in a document. */
export function measure(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): { depth: number; cost: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const walk = { fragments, variables };
  return { depth: depthOf(operation.selectionSet, walk), cost: costOf(operation.selectionSet, walk, 1) };
}

/**
 * The Apollo plugin enforcing scopes, depth and cost (the deadline is
 * {@link enforceDeadline}'s). Scopes: queries need hub:read, mutations
 * hub:write; subscriptions do not exist.
 */
export function limitsPlugin(limits: QueryLimits): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, contextValue }) {
          if (!operation) return;
          const needed = operation.operation === 'mutation' ? 'hub:write' : 'hub:read';
          if (!hasScope(contextValue, needed)) {
            throw toGraphQLError(new HubError('FORBIDDEN', `this operation needs the ${needed} scope`), true);
          }
          const { depth, cost } = measure(document, operation, request.variables ?? {});
          if (depth > limits.maxDepth) {
            throw toGraphQLError(
              new HubError('VALIDATION', `query depth ${depth} exceeds the limit of ${limits.maxDepth}`),
              true,
            );
          }
          if (cost > limits.maxCost) {
            throw toGraphQLError(
              new HubError(
                'VALIDATION',
                `query cost ${cost} exceeds the limit of ${limits.maxCost}: ask for smaller pages (first) or fewer nested lists`,
              ),
              true,
            );
          }
        },
      };
    },
  };
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

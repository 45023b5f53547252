/**
 * The executable schema: schema.graphql (the single source of truth) plus the
 * resolvers, built as an Apollo Federation 2 subgraph (it serves standalone
 * too: the federation fields are just two extra root fields).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { type DocumentNode, type GraphQLSchema, isObjectType, parse } from 'graphql';
import { type FieldIssue, validationError } from '../hub/errors';
import type { Resolvers } from './generated/resolvers';
import { batchResolvers, mutationResolvers, recordResultResolvers } from './resolvers/mutation';
import { queryResolvers } from './resolvers/query';
import { recordResolvers } from './resolvers/records';
import { usageMinuteResolvers, usageQuery } from './resolvers/usage';
import { DateTimeScalar, DecimalScalar, JSONScalar } from './scalars';

/** Path of schema.graphql at the repository root. */
export const SCHEMA_PATH = join(__dirname, '..', '..', 'schema.graphql');

let typeDefs: DocumentNode | undefined;

/** The parsed schema.graphql (read once). */
export function loadTypeDefs(): DocumentNode {
  typeDefs ??= parse(readFileSync(SCHEMA_PATH, 'utf8'));
  return typeDefs;
}

/** Every resolver of the API. */
export const resolvers: Resolvers = {
  ...recordResolvers,
  Decimal: DecimalScalar,
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query: { ...queryResolvers, usage: usageQuery },
  UsageMinute: usageMinuteResolvers,
  Mutation: mutationResolvers,
  RecordBatchResult: batchResolvers,
  RecordResult: recordResultResolvers,
};

/** Builds the executable subgraph schema. */
export function buildSchema(): GraphQLSchema {
  const schema = buildSubgraphSchema([
    { typeDefs: loadTypeDefs(), resolvers: resolvers as unknown as GraphQLResolverMap },
  ]);
  checkRepresentations(schema);
  return schema;
}

/**
 * Makes `_entities` check its representations before @apollo/subgraph
 * resolves them: one without `__typename`, naming a type the schema lacks, an
 * abstract type or a type that is not an entity, or without the `id` key, is
 * the caller's mistake (VALIDATION naming each, by index), where the library
 * would throw a plain Error that reaches the client as INTERNAL and the log
 * with a stack trace.
 */
function checkRepresentations(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field) return;
  const entities = new Set(
    Object.values(schema.getTypeMap())
      .filter((t) => isObjectType(t) && t.astNode?.directives?.some((d) => d.name.value === 'key'))
      .map((t) => t.name),
  );
  const resolve = field.resolve;
  if (!resolve) return;
  field.resolve = (source, args: { representations?: unknown }, ctx, info) => {
    const issues: FieldIssue[] = [];
    const representations = Array.isArray(args.representations) ? args.representations : [];
    representations.forEach((rep: unknown, index) => {
      const r = typeof rep === 'object' && rep !== null ? (rep as Record<string, unknown>) : {};
      const name = r.__typename;
      if (typeof name !== 'string') {
        issues.push({ index, path: '__typename', message: 'is required (the entity type to resolve)' });
      } else if (!entities.has(name)) {
        issues.push({ index, path: '__typename', message: `${name} is not an entity type of this subgraph` });
      } else if (typeof r.id !== 'string') {
        issues.push({ index, path: 'id', message: `is required (the key of ${name})` });
      }
    });
    if (issues.length > 0) throw validationError(issues, 'representations');
    return resolve(source, args, ctx, info);
  };
}

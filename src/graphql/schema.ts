/**
 * The executable schema: schema.graphql (the single source of truth) plus the
 * resolvers, built as an Apollo Federation 2 subgraph (it serves standalone
 * too: the federation fields are just two extra root fields).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { type DocumentNode, type GraphQLSchema, parse } from 'graphql';
import type { Resolvers } from './generated/resolvers';
import { batchResolvers, mutationResolvers, recordResultResolvers } from './resolvers/mutation';
import { queryResolvers } from './resolvers/query';
import { recordResolvers } from './resolvers/records';
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
  Query: queryResolvers,
  Mutation: mutationResolvers,
  RecordBatchResult: batchResolvers,
  RecordResult: recordResultResolvers,
};

/** Builds the executable subgraph schema. */
export function buildSchema(): GraphQLSchema {
  return buildSubgraphSchema([
    { typeDefs: loadTypeDefs(), resolvers: resolvers as unknown as GraphQLResolverMap },
  ]);
}

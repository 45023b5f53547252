/**
 * What the GraphQL layer offers the layers above: one server
 * ({@link createGraphQLServer}) and the types to call it. The HTTP layer
 * imports this module only (enforced by the lint rule in eslint.config.mjs).
 */
export {
  type GraphQLCaller,
  type GraphQLHttpRequest,
  type GraphQLOutcome,
  type GraphQLServer,
  type GraphQLServerOptions,
  createGraphQLServer,
} from './server';
export { DEFAULT_LIMITS, type QueryLimits } from './limits';
export { type SchemaReadAnswer, type SchemaReadRequest, answerSchemaRead } from './schema-read';

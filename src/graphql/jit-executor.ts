/**
 * Executes operations with graphql-jit instead of graphql-js, plugged into
 * Apollo Server through its gateway interface (the one extension point that
 * replaces execution; parsing, validation, plugins, APQ, error formatting and
 * HTTP stay Apollo's). Each operation is compiled once to a JavaScript
 * function specialised for its selection set (cached by Apollo's parsed
 * document, which Apollo itself caches by query text), so a repeated
 * dashboard query no longer walks its selection set field by field: on the
 * peer benchmark the per-field executor was the largest share of a list
 * query's CPU.
 *
 * Compiling costs about 0.1 ms of CPU per field graphql-jit generates code
 * for (a selection on an abstract type once per possible type), all in one
 * synchronous step. Operations above `jitMaxFields` such fields (shape.ts)
 * run on graphql-js's executor instead, which starts at once and yields
 * between fields that wait on I/O, so no compilation holds the event loop for
 * long; the dashboard's operations are 10 to 40 fields.
 */
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  execute,
  isObjectType,
  printSchema,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { documentShape } from './shape';

/**
 * Gives every field without a resolver the one `resolverFor` makes for it
 * (graphql-jit reads such fields by property name and has no default-resolver
 * option), once; where `resolverFor` gives none, the property read stays.
 * Mutates and returns `schema`.
 */
export function withDefaultResolver<TContext>(
  schema: GraphQLSchema,
  resolverFor: (fieldName: string) => GraphQLFieldResolver<unknown, TContext> | undefined,
): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) field.resolve ??= resolverFor(field.name);
  }
  return schema;
}

/** Most compiled operations kept per document (one per operation name asked for). */
const MAX_OPERATIONS_PER_DOCUMENT = 8;

/** Marks an operation too large to compile: graphql-js executes it. */
const INTERPRET = 'interpret';

/** Whether graphql-jit compiles `operationName` of `document` (at most `maxFields` generated fields). */
export function compilesWithJit(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  maxFields: number,
): boolean {
  const shape = documentShape(schema, document).operations;
  const op = operationName === undefined ? [...shape.values()][0] : shape.get(operationName);
  return (op?.jitFields ?? 0) <= maxFields;
}

/**
 * An Apollo "gateway" serving `schema` whose executor runs compiled
 * operations (graphql-js's executor for those above `jitMaxFields`). The
 * schema must already carry every resolver (see {@link withDefaultResolver}).
 */
export function jitGateway(schema: GraphQLSchema, options: { jitMaxFields: number }): GatewayInterface {
  const compiled = new WeakMap<
    DocumentNode,
    Map<string, CompiledQuery | ExecutionResult | typeof INTERPRET>
  >();
  const executor: GatewayExecutor = async (request) => {
    const name = request.operationName ?? '';
    const variables = request.request.variables ?? {};
    let byName = compiled.get(request.document);
    if (!byName) compiled.set(request.document, (byName = new Map()));
    let query = byName.get(name);
    if (!query) {
      const operationName = name === '' ? undefined : name;
      query = compilesWithJit(schema, request.document, operationName, options.jitMaxFields)
        ? compileQuery(schema, request.document, operationName, {
            // Errors from resolvers keep their original error (HubError codes are read from it).
            disablingCapturingStackErrors: true,
          })
        : INTERPRET;
      if (byName.size >= MAX_OPERATIONS_PER_DOCUMENT) byName.clear();
      byName.set(name, query);
    }
    if (query === INTERPRET) {
      const result = await execute({
        schema,
        document: request.document,
        contextValue: request.context,
        variableValues: variables,
        operationName: request.operationName,
      });
      return result.errors ? asGraphQLErrors(result, !('data' in result)) : result;
    }
    if (!isCompiledQuery(query)) return asGraphQLErrors(query, false);
    const result = await query.query(undefined, request.context, variables);
    // No `data` at all: the variables did not coerce (a bad input, as graphql-js reports it).
    return result.errors ? asGraphQLErrors(result, !('data' in result)) : result;
  };
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async stop() {},
  };
}

/**
 * graphql-jit builds its errors with a constructor of its own; Apollo's error
 * formatting expects graphql-js GraphQLErrors (it failed on jit's, answering
 * "Internal server error" for every error). Rebuilt here with the same message,
 * locations, path, extensions and original error (HubError codes are read from
 * it); variable coercion failures get graphql-js's BAD_USER_INPUT code.
 */
function asGraphQLErrors(result: ExecutionResult, badInput: boolean): ExecutionResult {
  const errors = (result.errors ?? []).map(
    (e) =>
      new GraphQLError(e.message, {
        ...(e.nodes ? { nodes: e.nodes } : {}),
        ...(e.source ? { source: e.source } : {}),
        ...(e.positions ? { positions: e.positions } : {}),
        ...(e.path ? { path: e.path } : {}),
        ...(e.originalError ? { originalError: e.originalError } : {}),
        extensions: badInput ? { ...e.extensions, code: 'BAD_USER_INPUT' } : { ...e.extensions },
      }),
  );
  return { ...result, errors };
}

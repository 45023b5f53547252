/**
 * Executes operations with graphql-jit instead of graphql-js, plugged into
 * Apollo Server through its gateway interface (the one extension point that
 * replaces execution; parsing, validation, plugins, APQ, error formatting and
 * HTTP stay Apollo's). Each operation is compiled once to a JavaScript
 * function specialised for its selection set (cached per tenant by query
 * hash, within a quota: see {@link jitGateway}), so a repeated
 * dashboard query no longer walks its selection set field by field: on the
 * peer benchmark the per-field executor was the largest share of a list
 * query's CPU.
 *
 * Compiling costs 0.1 to 0.3 ms of CPU per field graphql-jit generates code
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
import { TenantCache, type TenantCacheQuota } from './tenant-cache';

/**
 * Gives every field without a resolver the one `resolverFor` makes for it
 * (graphql-jit reads such fields by property name and has no default-resolver
 * option), once; where `resolverFor` gives none, the property read stays.
 * Types in `skipTypes` (parents already under GraphQL's names) get none.
 * Mutates and returns `schema`.
 */
export function withDefaultResolver<TContext>(
  schema: GraphQLSchema,
  resolverFor: (fieldName: string) => GraphQLFieldResolver<unknown, TContext> | undefined,
  skipTypes: ReadonlySet<string> = new Set(),
): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || skipTypes.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) field.resolve ??= resolverFor(field.name);
  }
  return schema;
}

/** Marks an operation too large to compile: graphql-js executes it. */
const INTERPRET = 'interpret';

/** Whether graphql-jit compiles `operationName` of `document` (at most `maxFields` generated fields). */
export function compilesWithJit(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  maxFields: number,
): boolean {
  return jitFieldsOf(schema, document, operationName) <= maxFields;
}

/** Fields graphql-jit generates code for in `operationName` of `document`. */
function jitFieldsOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
): number {
  const shape = documentShape(schema, document).operations;
  const op = operationName === undefined ? [...shape.values()][0] : shape.get(operationName);
  return op?.jitFields ?? 0;
}

/**
 * Default quotas of the compiled-operation cache, per tenant: 256 operations
 * and 20,000 compiled fields (about 2 s of compilation to rebuild, and the
 * code it made), for at most 512 tenants at once.
 */
export const COMPILED_CACHE_QUOTA: TenantCacheQuota = { entries: 256, weight: 20_000, tenants: 512 };

/** Options of {@link jitGateway}. */
export interface JitGatewayOptions {
  /** Operations above this many generated fields run on graphql-js's executor. */
  readonly jitMaxFields: number;
  /** Quotas of the per-tenant compiled-operation cache (default {@link COMPILED_CACHE_QUOTA}). */
  readonly compiledCache?: Partial<TenantCacheQuota>;
  /** Called for each operation compiled (or found too large to compile), with the tenant. */
  readonly onCompile?: (tenant: string) => void;
}

type Prepared = CompiledQuery | ExecutionResult | typeof INTERPRET;

/**
 * An Apollo "gateway" serving `schema` whose executor runs compiled
 * operations (graphql-js's executor for those above `jitMaxFields`). The
 * schema must already carry every resolver (see {@link withDefaultResolver}).
 *
 * Compiled operations are kept per tenant (the context's `tenant`), by query
 * hash and operation name, each tenant within its own quota (see
 * tenant-cache.ts): a tenant sending many distinct operations evicts only
 * its own, and no tenant's can make the gateway hold unbounded code.
 */
export function jitGateway(schema: GraphQLSchema, options: JitGatewayOptions): GatewayInterface {
  const compiled = new TenantCache<Prepared>({ ...COMPILED_CACHE_QUOTA, ...options.compiledCache });
  const executor: GatewayExecutor = async (request) => {
    const name = request.operationName ?? '';
    const variables = request.request.variables ?? {};
    const tenant = String((request.context as { tenant?: unknown }).tenant ?? '');
    const key = `${request.queryHash}\u0000${name}`;
    let query = compiled.get(tenant, key);
    if (!query) {
      const operationName = name === '' ? undefined : name;
      const fields = jitFieldsOf(schema, request.document, operationName);
      query =
        fields <= options.jitMaxFields
          ? compileQuery(schema, request.document, operationName, {
              // Errors from resolvers keep their original error (HubError codes are read from it).
              disablingCapturingStackErrors: true,
            })
          : INTERPRET;
      options.onCompile?.(tenant);
      compiled.set(tenant, key, query, query === INTERPRET ? 1 : fields);
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

/**
 * What a schema-only caller (a `hub:schema` token, no tenant) may ask: the
 * subgraph SDL, `{ _service { sdl } }`, which `rover subgraph introspect` and
 * supergraph composition send, and `__typename`. Any other field is refused
 * before anything runs, so the credential can never reach a resolver that
 * reads tenant data: the operation runs on the bare subgraph schema with no
 * context at all (`_service` needs none).
 */
import {
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type SelectionSetNode,
  execute,
  getOperationAST,
  parse,
  validate,
} from 'graphql';
import { buildSchema } from './schema';

/** A schema read as received: the operation text and, when given, its name and variables. */
export interface SchemaReadRequest {
  readonly query: unknown;
  readonly operationName?: unknown;
  readonly variables?: unknown;
}

/** The answer: a GraphQL result to send, or a refusal (VALIDATION: a bad request; FORBIDDEN: a field beyond the SDL). */
export type SchemaReadAnswer =
  | { readonly kind: 'result'; readonly result: ExecutionResult }
  | { readonly kind: 'refused'; readonly code: 'VALIDATION' | 'FORBIDDEN'; readonly message: string };

/** The fields a schema-only caller may select, by the field that holds them (`''`: the root). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '': ['_service', '__typename'],
  _service: ['sdl', '__typename'],
};

/**
 * Most selections (fields, fragments) a schema read may make: `{ _service { sdl } }`
 * needs two. Counted before validation, whose cost grows with the square of
 * repeated fields.
 */
export const MAX_SCHEMA_READ_SELECTIONS = 50;

let schema: GraphQLSchema | undefined;

/**
 * Runs a schema-only caller's operation when it selects nothing but
 * `_service { sdl }` and `__typename`; the text is bounded by `maxTokens`
 * (as every operation's) and validated against the schema first.
 * @returns the result, or the refusal naming the first field not allowed.
 */
export async function answerSchemaRead(
  request: SchemaReadRequest,
  maxTokens: number,
): Promise<SchemaReadAnswer> {
  const refuse = (code: 'VALIDATION' | 'FORBIDDEN', message: string): SchemaReadAnswer => ({
    kind: 'refused',
    code,
    message,
  });
  if (typeof request.query !== 'string' || request.query.trim() === '')
    return refuse('VALIDATION', 'send the operation text: { _service { sdl } }');
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens });
  } catch (err) {
    return refuse('VALIDATION', err instanceof GraphQLError ? err.message : 'the operation does not parse');
  }
  const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) return refuse('VALIDATION', 'name the operation to run (operationName)');
  if (operation.operation !== 'query')
    return refuse(
      'FORBIDDEN',
      `a hub:schema token reads only the schema: a ${operation.operation} needs a tenant's token`,
    );
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  // Before validation: refused fields and oversized documents never reach it.
  const walk = { selections: 0, fragments: new Set<string>() };
  const beyond = fieldBeyondSdl(operation.selectionSet, '', fragments, walk);
  if (beyond !== undefined)
    return refuse(
      'FORBIDDEN',
      `a hub:schema token reads only { _service { sdl } }: ${beyond} needs a tenant's token with hub:read`,
    );
  if (walk.selections > MAX_SCHEMA_READ_SELECTIONS)
    return refuse('VALIDATION', `a schema read selects at most ${MAX_SCHEMA_READ_SELECTIONS} fields`);
  schema ??= buildSchema();
  const [invalid] = validate(schema, document);
  if (invalid) return refuse('VALIDATION', invalid.message);
  const variables =
    typeof request.variables === 'object' && request.variables !== null
      ? (request.variables as Record<string, unknown>)
      : undefined;
  const result = await execute({
    schema,
    document,
    ...(operationName !== undefined ? { operationName } : {}),
    ...(variables !== undefined ? { variableValues: variables } : {}),
  });
  return { kind: 'result', result };
}

/**
 * The first field selected (through fragments) that a schema-only caller may
 * not read, as a path (`outputs`, `_service.foo`), or undefined; counts the
 * selections walked into `walk`. Runs before validation: a fragment is
 * walked once per place (so a cycle ends), an unknown one is left to validation.
 */
function fieldBeyondSdl(
  selections: SelectionSetNode,
  parent: string,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  walk: { selections: number; fragments: Set<string> },
): string | undefined {
  for (const selection of selections.selections) {
    if (++walk.selections > MAX_SCHEMA_READ_SELECTIONS) return undefined;
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      // Once per fragment and place: each place is checked, and a cycle ends.
      const key = `${parent}/${selection.name.value}`;
      if (walk.fragments.has(key)) continue;
      walk.fragments.add(key);
    }
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const path = parent === '' ? name : `${parent}.${name}`;
      if (!(ALLOWED[parent] ?? []).includes(name)) return path;
      if (selection.selectionSet) {
        const inner = fieldBeyondSdl(selection.selectionSet, name, fragments, walk);
        if (inner !== undefined) return inner;
      }
    } else {
      const set =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : fragments.get(selection.name.value)?.selectionSet;
      const inner = set === undefined ? undefined : fieldBeyondSdl(set, parent, fragments, walk);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

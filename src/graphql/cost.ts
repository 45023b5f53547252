/**
 * The cost of an operation as it will really run: measured on the document
 * after variable coercion (given values and defaults), in time linear in the
 * document's size plus the representations it carries.
 *
 * Cost model (units are "objects built", plus bytes for fields carrying them):
 * - every field with a selection costs 1 per parent object it runs on; a field
 *   returning a list of objects costs 1 more per element;
 * - a page size (`first`, `last` or `limit`, after coercion; the argument's
 *   default when absent) multiplies everything below the field; lists without
 *   one count {@link DEFAULT_LIST_SIZE} elements, except `edges` and `nodes`
 *   (sized by their connection), `results` (sized by the batch) and `topSkills` (5);
 * - `node(id)` costs 1 per record type (it looks the id up in each);
 * - fields resolved by a rollup (`costPerSkill`, `archetypeProgression`,
 *   `managerDashboard`, `managers`, `skills`, and `EmployeeProfile.reports`,
 *   which runs the dashboard rollup per profile) cost {@link ROLLUP_COST} each;
 * - `_entities` costs, per representation, 1 plus its selection on the
 *   representation's `__typename`;
 * - a mutation's root field costs 1 plus 1 per record written, which also
 *   sizes its `results`, plus 1 per KiB of the records' long strings (an
 *   artifact's `bodyBase64`, as its reads are costed);
 * - leaves cost 0, except those carrying bytes: `bodyBase64(maxBytes)` costs 1
 *   per KiB of base64 it may return ({@link BODY_BYTES_PER_UNIT}), and JSON
 *   leaves 1 per {@link JSON_BYTES_PER_UNIT} of the most their record may hold
 *   (`attributes` 64 KiB: 4; `content`, `properties` 256 KiB: 16);
 * - fields under `@skip(if: true)` or `@include(if: false)` cost nothing;
 *   introspection is bounded by the schema and costs nothing.
 * A field's cost is multiplied by the number of parent objects it runs on, so
 * bytes under a list count once per element.
 *
 * Each (selection set, type) pair is costed once per request and memoised
 * (a fragment spread at every level of a doubling chain is costed once), so
 * the walk is linear; figures saturate at {@link FIGURE_CAP}.
 *
 * Nothing the caller sends is walked past a limit ({@link CostBounds}): a list
 * of representations longer than the limit is refused by its length before
 * one item is read, a mutation's records past the cost limit are not read,
 * and only the variables the cost reads are coerced.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLSchema,
  GraphQLSkipDirective,
  Kind,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isAbstractType,
  isCompositeType,
  isLeafType,
  isListType,
  isObjectType,
  typeFromAST,
} from 'graphql';
import { RECORD_TYPES } from '../hub/model';
import {
  BODY_BYTES_PER_UNIT,
  DEFAULT_LIST_SIZE,
  JSON_BYTES_PER_UNIT,
  LIST_SIZES,
  ROLLUP_COST,
  ROLLUP_FIELDS,
  SIZED_ABOVE,
  leafCost,
  literalTypename,
  pageSize,
  textBytesCost,
  typenameOf,
} from './cost-prices';
import { type CostVariables, costVariables } from './cost-variables';
import { add, mul } from './shape';

export { BODY_BYTES_PER_UNIT, DEFAULT_LIST_SIZE, JSON_BYTES_PER_UNIT, ROLLUP_COST, ROLLUP_FIELDS };
export { type CostVariables, costVariables };

/**
 * Where the walk stops: past either figure the operation is refused, so the
 * rest of what the caller sent is not read (the walk's time stays bounded by
 * the limits, not by the input).
 */
export interface CostBounds {
  /** Most representations (summed over every `_entities` field). */
  readonly maxRepresentations?: number;
  /** Highest cost. */
  readonly maxCost?: number;
  /** The operation's cost variables ({@link costVariables}), when already known. */
  readonly variableNames?: readonly string[];
}

/** The computed cost of one operation. */
export interface OperationCost {
  /** The cost, in units (see the module comment). */
  readonly cost: number;
  /** Representations passed to `_entities`, summed over every `_entities` field (0 when none). */
  readonly representations: number;
  /** Selection sets costed: linear in the document's size (observable for tests). */
  readonly visits: number;
  /**
   * False when a variable did not coerce or an argument or directive could
   * not be read, so a part was costed at its defaults (execution refuses such
   * a request before any resolver runs): a cost not to be reused for another request.
   */
  readonly exact: boolean;
  /**
   * True when the walk stopped at a bound ({@link CostBounds}): `cost` (or
   * `representations`) is then a figure the operation has at least, already
   * over its limit.
   */
  readonly stopped: boolean;
}

/** A list argument as given: a literal's value nodes, or a variable's raw items. */
interface ListArgument {
  readonly items: readonly unknown[];
  readonly literal: boolean;
}

/** Thrown inside the walk when a bound is passed: the rest is not walked. */
class Stopped {}

/**
 * Costs `operation` of `document` with the caller's raw `variables` (the
 * ones the cost reads coerced here as execution will coerce them; when they
 * do not coerce, execution refuses the request anyway and the defaults are
 * used), stopping at `bounds`. The document must have passed validation.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
  bounds: CostBounds = {},
): OperationCost {
  // Only the variables that set a figure are coerced (page sizes, maxBytes,
  // @skip/@include: scalars). The others (ids, records, representations) pass
  // as given: the cost reads only the lengths of lists, and execution coerces them, once.
  const names = new Set(bounds.variableNames ?? costVariables(document, operation).names);
  const definitions = operation.variableDefinitions ?? [];
  const read = definitions.filter((d) => {
    if (!names.has(d.variable.name.value)) return false;
    const type = typeFromAST(schema, d.type);
    return type !== undefined && isLeafType(getNamedType(type));
  });
  const values: Record<string, unknown> = {};
  for (const d of definitions) {
    const name = d.variable.name.value;
    if (!read.includes(d) && Object.hasOwn(variables, name)) values[name] = variables[name];
  }
  const coerced = getVariableValues(schema, read, variables, { maxErrors: 1 });
  Object.assign(values, coerced.coerced);
  const walker = new CostWalker(schema, document, values, variables, bounds);
  const root = schema.getRootType(operation.operation) ?? undefined;
  let cost: number;
  let stopped = false;
  try {
    cost = walker.cost(operation.selectionSet, root);
  } catch (err) {
    if (!(err instanceof Stopped)) throw err;
    cost = walker.partial;
    stopped = true;
  }
  return {
    cost,
    representations: walker.representations,
    visits: walker.visits,
    exact: walker.exact && !coerced.errors,
    stopped,
  };
}

class CostWalker {
  visits = 0;
  representations = 0;
  /** False once an argument or directive could not be read (costed at its defaults). */
  exact = true;
  /** When the walk stopped at a bound: the cost the operation has at least. */
  partial = 0;
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly memo = new Map<SelectionSetNode, Map<string, number | 'pending'>>();
  private readonly maxRepresentations: number;
  private readonly maxCost: number;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly rawVariables: Readonly<Record<string, unknown>>,
    bounds: CostBounds,
  ) {
    this.maxRepresentations = bounds.maxRepresentations ?? Infinity;
    this.maxCost = bounds.maxCost ?? Infinity;
    for (const def of document.definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(def.name.value, def);
    }
  }

  /** Cost of `set` run once on an object of `type` (abstract: the dearest possible type). */
  cost(set: SelectionSetNode, type: GraphQLCompositeType | undefined): number {
    if (type && isAbstractType(type)) {
      let most = 0;
      for (const possible of this.schema.getPossibleTypes(type))
        most = Math.max(most, this.cost(set, possible));
      return most;
    }
    const key = type?.name ?? '';
    let byType = this.memo.get(set);
    if (!byType) this.memo.set(set, (byType = new Map()));
    const known = byType.get(key);
    if (known === 'pending') return 0; // a fragment cycle: never valid
    if (known !== undefined) return known;
    byType.set(key, 'pending');
    this.visits++;
    let total = 0;
    for (const sel of set.selections) {
      if (!this.runs(sel)) continue;
      if (sel.kind === Kind.FIELD) {
        total = add(total, this.field(sel, type));
        continue;
      }
      const inner =
        sel.kind === Kind.INLINE_FRAGMENT
          ? { set: sel.selectionSet, on: sel.typeCondition?.name.value }
          : this.spread(sel.name.value);
      if (inner && this.applies(type, inner.on)) total = add(total, this.cost(inner.set, type));
    }
    byType.set(key, total);
    return total;
  }

  private field(node: FieldNode, parent: GraphQLCompositeType | undefined): number {
    const name = node.name.value;
    if (name.startsWith('__')) return 0;
    const def = parent && 'getFields' in parent ? parent.getFields()[name] : undefined;
    if (!def) return node.selectionSet ? add(1, this.cost(node.selectionSet, undefined)) : 0;
    const args = this.args(def, node);
    const named = getNamedType(def.type);
    if (!node.selectionSet || !isCompositeType(named)) return leafCost(name, named.name, args);
    if (name === '_entities') return this.entities(node.selectionSet, this.listArgument(node));
    let own = name === 'node' ? RECORD_TYPES.length : 1;
    let size = 1;
    if (parent === this.schema.getMutationType()) {
      const records = this.listArgument(node);
      size = records?.items.length ?? 1;
      own = add(own, size);
      // Records past the cost limit are not read: the operation is refused by their count.
      if (own > this.maxCost) this.stop(own);
      // Literal records carry no long text: the query text's length bounds them.
      if (records && !records.literal) own = add(own, textBytesCost(records.items, this.maxCost - own));
      if (own > this.maxCost) this.stop(own);
    } else {
      const page = pageSize(args);
      const isList = isListType(getNullableType(def.type));
      size = page ?? (isList ? (LIST_SIZES[name] ?? DEFAULT_LIST_SIZE) : 1);
      if (isList && !SIZED_ABOVE.has(name)) own = add(own, size);
    }
    if (ROLLUP_FIELDS.has(name)) own = add(own, ROLLUP_COST);
    return add(own, mul(size, this.cost(node.selectionSet, named)));
  }

  /** Ends the walk: the operation is over a limit with a cost of at least `cost`. */
  private stop(cost: number): never {
    this.partial = cost;
    throw new Stopped();
  }

  /**
   * The first list argument of a field, as given: a literal's items (value
   * nodes, bounded by the query text's limits), or a variable's raw value
   * (uncoerced: execution coerces it, once).
   */
  private listArgument(node: FieldNode): ListArgument | undefined {
    for (const arg of node.arguments ?? []) {
      const value = arg.value;
      if (value.kind === Kind.LIST) return { items: value.values, literal: true };
      if (value.kind === Kind.VARIABLE) {
        const raw = this.rawVariables[value.name.value];
        if (Array.isArray(raw)) return { items: raw as unknown[], literal: false };
      }
    }
    return undefined;
  }

  /** `_entities`: per representation, 1 plus the selection on its `__typename`. */
  private entities(set: SelectionSetNode, representations: ListArgument | undefined): number {
    const list = representations?.items ?? [];
    this.representations = add(this.representations, list.length);
    // Refused by the count alone: not one representation is read.
    if (this.representations > this.maxRepresentations) this.stop(add(1, list.length));
    const byType = new Map<string, number>();
    for (const rep of list) {
      const key = representations?.literal ? literalTypename(rep as ValueNode) : typenameOf(rep);
      byType.set(key, (byType.get(key) ?? 0) + 1);
    }
    let total = 1;
    for (const [typename, count] of byType) {
      const type = typename === '' ? undefined : this.schema.getType(typename);
      const each = type && isObjectType(type) ? this.cost(set, type) : 0;
      total = add(total, mul(count, add(1, each)));
    }
    return total;
  }

  private args(def: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> {
    if (!node.arguments?.length && !def.args.some((a) => a.defaultValue !== undefined)) return {};
    try {
      return getArgumentValues(def, node, this.variables);
    } catch {
      // An invalid argument fails execution before any resolver runs; cost it at its defaults.
      this.exact = false;
      return {};
    }
  }

  /** False for a selection skipped by `@skip(if: true)` or `@include(if: false)`. */
  private runs(sel: SelectionNode): boolean {
    if (!sel.directives?.length) return true;
    try {
      if (getDirectiveValues(GraphQLSkipDirective, sel, this.variables)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, sel, this.variables)?.if !== false;
    } catch {
      this.exact = false;
      return true;
    }
  }

  private spread(name: string): { set: SelectionSetNode; on: string } | undefined {
    const frag = this.fragments.get(name);
    return frag ? { set: frag.selectionSet, on: frag.typeCondition.name.value } : undefined;
  }

  /** Whether a fragment on `condition` applies to objects of `type`. */
  private applies(type: GraphQLCompositeType | undefined, condition: string | undefined): boolean {
    if (condition === undefined || !type) return true;
    const named = this.schema.getType(condition);
    if (!named || named === type) return true;
    return isAbstractType(named) && isObjectType(type) && this.schema.isSubType(named, type);
  }
}

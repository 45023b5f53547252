/**
 * The static shape of a GraphQL document, measured in one linear walk before
 * graphql-js validates it: aliases (and repeated fields), root fields,
 * directives, depth, and how much code graphql-jit would generate for it.
 * Nothing here depends on variables, so a shape is computed once per document.
 *
 * Linear time: every (selection set, type) pair is measured once and
 * memoised, so a fragment spread twice at each of 30 levels is measured 30
 * times, not 2^30 (the figures themselves are multiplied, saturating at
 * {@link FIGURE_CAP}). Fragment cycles (a validation error anyway) count 0.
 */
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isObjectType,
} from 'graphql';

/** Figures saturate here (exact integers below it). */
export const FIGURE_CAP = Number.MAX_SAFE_INTEGER;

/** Saturating sum. */
export function add(a: number, b: number): number {
  return Math.min(FIGURE_CAP, a + b);
}

/** Saturating product of non-negative figures. */
export function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : Math.min(FIGURE_CAP, a * b);
}

/** What one operation selects, fragments expanded (each counted at every spread). */
export interface OperationShape {
  /** Aliased fields plus repeats of a response name already selected in the same selection set. */
  readonly aliases: number;
  /** Fields selected at the root (`__typename` excluded). */
  readonly rootFields: number;
  /** Directives applied (on fields, fragment spreads and inline fragments, and on the operation). */
  readonly directives: number;
  /** Deepest field nesting; introspection fields (`__schema`, `__type`, `__typename`) do not count. */
  readonly depth: number;
  /**
   * Fields graphql-jit generates code for: a field of an abstract type counts
   * its selection once per possible type (how graphql-jit compiles it).
   */
  readonly jitFields: number;
}

/** The shape of a whole document. */
export interface DocumentShape {
  /** Each operation's shape, by name ('' for an anonymous one). */
  readonly operations: ReadonlyMap<string, OperationShape>;
  /**
   * Aliases and repeated fields written in the document, each counted once,
   * with inline fragments merged into their selection set (graphql-js
   * validation compares every pair of same-named fields there).
   */
  readonly writtenAliases: number;
  /** Directives written in the document, each counted once. */
  readonly writtenDirectives: number;
  /** Selection sets measured: at most a small multiple of the document's size (linear time). */
  readonly visits: number;
}

interface Summary {
  aliases: number;
  fields: number;
  directives: number;
  depth: number;
  jitFields: number;
}

const ZERO: Summary = { aliases: 0, fields: 0, directives: 0, depth: 0, jitFields: 0 };

/** Measures every operation of `document` against `schema` (unknown fields count as leaves). */
export function documentShape(schema: GraphQLSchema, document: DocumentNode): DocumentShape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const walker = new ShapeWalker(schema, fragments);
  const operations = new Map<string, OperationShape>();
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    operations.set(def.name?.value ?? '', walker.operation(def));
  }
  const written = writtenFigures(document);
  return { operations, ...written, visits: walker.visits };
}

class ShapeWalker {
  visits = 0;
  private readonly memo = new Map<SelectionSetNode, Map<string, Summary | 'pending'>>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  ) {}

  operation(op: OperationDefinitionNode): OperationShape {
    const root = this.schema.getRootType(op.operation) ?? undefined;
    const s = this.summary(op.selectionSet, root);
    return {
      aliases: s.aliases,
      rootFields: s.fields,
      directives: add(s.directives, op.directives?.length ?? 0),
      depth: s.depth,
      jitFields: s.jitFields,
    };
  }

  /** The summary of `set` evaluated on objects of `type` (undefined: unknown type). */
  private summary(set: SelectionSetNode, type: GraphQLCompositeType | undefined): Summary {
    const key = type?.name ?? '';
    let byType = this.memo.get(set);
    if (!byType) this.memo.set(set, (byType = new Map()));
    const known = byType.get(key);
    if (known === 'pending') return ZERO; // a fragment cycle: graphql-js refuses it
    if (known) return known;
    byType.set(key, 'pending');
    this.visits++;
    const out = this.measure(set, type);
    byType.set(key, out);
    return out;
  }

  private measure(set: SelectionSetNode, type: GraphQLCompositeType | undefined): Summary {
    const out: Summary = { ...ZERO };
    const names = new Set<string>();
    for (const sel of set.selections) {
      out.directives = add(out.directives, sel.directives?.length ?? 0);
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        const responseName = sel.alias?.value ?? name;
        if (sel.alias || names.has(responseName)) out.aliases = add(out.aliases, 1);
        names.add(responseName);
        if (name !== '__typename') out.fields = add(out.fields, 1);
        out.jitFields = add(out.jitFields, 1);
        if (!sel.selectionSet) {
          if (!name.startsWith('__')) out.depth = Math.max(out.depth, 1);
          continue;
        }
        const child = fieldType(this.schema, type, name);
        const below = this.summary(sel.selectionSet, child);
        out.aliases = add(out.aliases, below.aliases);
        out.directives = add(out.directives, below.directives);
        if (!name.startsWith('__')) out.depth = Math.max(out.depth, 1 + below.depth);
        out.jitFields = add(out.jitFields, this.jitBelow(sel.selectionSet, child, below));
      } else {
        const inner =
          sel.kind === Kind.INLINE_FRAGMENT
            ? { set: sel.selectionSet, on: sel.typeCondition?.name.value }
            : this.spread(sel.name.value);
        if (!inner) continue;
        const on = this.narrow(type, inner.on);
        if (on === null) continue;
        const s = this.summary(inner.set, on);
        out.aliases = add(out.aliases, s.aliases);
        out.fields = add(out.fields, s.fields);
        out.directives = add(out.directives, s.directives);
        out.depth = Math.max(out.depth, s.depth);
        out.jitFields = add(out.jitFields, s.jitFields);
      }
    }
    return out;
  }

  /** graphql-jit compiles a selection on an abstract type once per possible type. */
  private jitBelow(set: SelectionSetNode, type: GraphQLCompositeType | undefined, own: Summary): number {
    if (!type || !isAbstractType(type)) return own.jitFields;
    let total = 0;
    for (const possible of this.schema.getPossibleTypes(type)) {
      total = add(total, this.summary(set, possible).jitFields);
    }
    return total;
  }

  private spread(name: string): { set: SelectionSetNode; on: string } | undefined {
    const frag = this.fragments.get(name);
    return frag ? { set: frag.selectionSet, on: frag.typeCondition.name.value } : undefined;
  }

  /**
   * The type a fragment's fields are read on: the object type being walked
   * (null when the fragment cannot apply to it), else the fragment's own type
   * condition.
   */
  private narrow(
    type: GraphQLCompositeType | undefined,
    condition: string | undefined,
  ): GraphQLCompositeType | undefined | null {
    if (condition === undefined) return type;
    const named = this.schema.getType(condition);
    if (!named || !isCompositeType(named)) return type;
    if (type && isObjectType(type)) {
      const applies = named === type || (isAbstractType(named) && this.schema.isSubType(named, type));
      return applies ? type : null;
    }
    return named;
  }
}

/** The composite type a field of `parent` returns (undefined when unknown or a leaf). */
export function fieldType(
  schema: GraphQLSchema,
  parent: GraphQLCompositeType | undefined,
  name: string,
): GraphQLCompositeType | undefined {
  let named: GraphQLNamedType | undefined;
  if (name === '__schema') named = schema.getType('__Schema') ?? undefined;
  else if (name === '__type') named = schema.getType('__Type') ?? undefined;
  else if (parent && 'getFields' in parent) {
    const def = parent.getFields()[name];
    named = def ? getNamedType(def.type) : undefined;
  }
  return named && isCompositeType(named) ? named : undefined;
}

/** Aliases, repeated fields and directives as written (each selection counted once). */
function writtenFigures(document: DocumentNode): { writtenAliases: number; writtenDirectives: number } {
  let aliases = 0;
  let directives = 0;
  // One response-name set per selection set; inline fragments share their parent's.
  const visit = (set: SelectionSetNode, names: Set<string>): void => {
    for (const sel of set.selections) {
      directives += sel.directives?.length ?? 0;
      if (sel.kind === Kind.FIELD) {
        const responseName = sel.alias?.value ?? sel.name.value;
        if (sel.alias || names.has(responseName)) aliases++;
        names.add(responseName);
        if (sel.selectionSet) visit(sel.selectionSet, new Set());
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        visit(sel.selectionSet, names);
      }
    }
  };
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION && def.kind !== Kind.FRAGMENT_DEFINITION) continue;
    directives += def.directives?.length ?? 0;
    visit(def.selectionSet, new Set());
  }
  return { writtenAliases: aliases, writtenDirectives: directives };
}

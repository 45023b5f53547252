/**
 * Look-ahead for nested lists: when a list's selection asks, for each of its
 * records, for a child list (an output's `decisions`), the list resolver can
 * load the page and every child page in one Hub call (one store round trip)
 * instead of the page and then one batched call for the children.
 *
 * Only the plain case is looked ahead: the child field without `@skip` or
 * `@include`, without `after` (a first page), and with a valid page size. Anything else is left to
 * the child field's own resolver, which then runs as usual, so look-ahead
 * changes how many store calls a request makes, never its answer.
 */
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
  getArgumentValues,
  isObjectType,
} from 'graphql';
import { isPageSize } from '../hub/hub';
import { LIMITS, type RecordType } from '../hub/model';
import type { ReadProjection } from '../hub/store';
import { readPathLayerOff } from '../platform/read-path-layers';
import { GRAPHQL_TYPE_OF } from './mapping';

/** Child list fields by parent type: GraphQL field name -> child record type (filtered by `outputId`). */
const CHILD_FIELDS: Partial<Record<RecordType, Readonly<Record<string, RecordType>>>> = {
  outputs: { decisions: 'decisions', artifacts: 'artifacts' },
};

/** A child list to load with its parents' page. */
export interface ChildList {
  readonly type: RecordType;
  readonly key: 'outputId';
  /** Page size of each child list, exactly as the child field's resolver will ask for it. */
  readonly first: number;
  /** Heavy fields the child field's selection does not read (see {@link projectionOf}). */
  readonly projection?: ReadProjection;
}

// The child field nodes found under a list field, per field node: the walk
// depends only on the document, which Apollo caches and reuses.
const childFieldsCache = new WeakMap<FieldNode, readonly FieldNode[]>();

// Off only when the read-path benchmark measures what look-ahead gains.
const LOOKAHEAD = !readPathLayerOff('lookahead');

/**
 * The child list the selection of a `type` connection asks for under
 * `nodes` or `edges { node }`, when it can be loaded with the page; else
 * undefined.
 */
export function childListOf(info: GraphQLResolveInfo, type: RecordType): ChildList | undefined {
  const children = CHILD_FIELDS[type];
  const fieldNode = info.fieldNodes[0];
  if (!LOOKAHEAD || !children || !fieldNode || info.fieldNodes.length !== 1) return undefined;
  let found = childFieldsCache.get(fieldNode);
  if (found === undefined) {
    found = findChildFields(fieldNode.selectionSet, info.fragments, children);
    childFieldsCache.set(fieldNode, found);
  }
  const parentType = info.schema.getType(GRAPHQL_TYPE_OF[type]);
  if (!isObjectType(parentType)) return undefined;
  for (const node of found) {
    const def = parentType.getFields()[node.name.value];
    if (!def) continue;
    const args = getArgumentValues(def, node, info.variableValues) as {
      first?: number | null;
      after?: unknown;
    };
    if (args.after !== undefined && args.after !== null) continue;
    // An invalid page size is left to the child field, which fails it at each
    // parent (and not at all under an empty page), exactly as without look-ahead.
    if (!isPageSize(args.first)) continue;
    const childType = children[node.name.value] as RecordType;
    const projection = projectionOfField(node, info.fragments, childType);
    return {
      type: childType,
      key: 'outputId',
      first: args.first ?? LIMITS.defaultPageSize,
      ...(projection ? { projection } : {}),
    };
  }
  return undefined;
}

/** Child list fields selected on the records of a connection's selection set. */
function findChildFields(
  selectionSet: SelectionSetNode | undefined,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  children: Readonly<Record<string, RecordType>>,
): FieldNode[] {
  const out: FieldNode[] = [];
  for (const field of fieldsOf(selectionSet, fragments)) {
    if (field.name.value === 'nodes') {
      out.push(...childFieldsOfRecord(field.selectionSet, fragments, children));
    } else if (field.name.value === 'edges') {
      for (const edgeField of fieldsOf(field.selectionSet, fragments)) {
        if (edgeField.name.value === 'node') {
          out.push(...childFieldsOfRecord(edgeField.selectionSet, fragments, children));
        }
      }
    }
  }
  return out;
}

function childFieldsOfRecord(
  selectionSet: SelectionSetNode | undefined,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  children: Readonly<Record<string, RecordType>>,
): FieldNode[] {
  return fieldsOf(selectionSet, fragments).filter(
    (f) => f.name.value in children && (f.directives?.length ?? 0) === 0,
  );
}

/** The fields of a selection set, fragments expanded (fragments with directives are skipped). */
function fieldsOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  depth = 0,
): FieldNode[] {
  if (!selectionSet || depth > 8) return [];
  const out: FieldNode[] = [];
  for (const sel of selectionSet.selections) {
    if (sel.kind === 'Field') out.push(sel);
    else if ((sel.directives?.length ?? 0) > 0) continue;
    else if (sel.kind === 'InlineFragment') out.push(...fieldsOf(sel.selectionSet, fragments, depth + 1));
    else {
      const fragment = fragments[sel.name.value];
      if (fragment) out.push(...fieldsOf(fragment.selectionSet, fragments, depth + 1));
    }
  }
  return out;
}

// Whether a connection field's records read an artifact body, per field node
// (like the child fields, it depends only on the document).
const bodyCache = new WeakMap<FieldNode, boolean>();

/**
 * The projection a `type` connection's selection allows: `{ body: false }`
 * for artifacts when nothing under `nodes` or `edges { node }` reads the body
 * (`bodyBase64`, or `provenance { verified }`, which hashes it); else
 * undefined (read everything). The walk is conservative: fields under
 * `@skip`/`@include` and under fragments of any type condition count as
 * selected. When a projected record still meets a field that needs its body
 * (merged field nodes, a record shared through a loader), that field reads
 * the record whole (see the Artifact resolvers), so a projection changes
 * what is read, never an answer.
 */
export function projectionOf(info: GraphQLResolveInfo, type: RecordType): ReadProjection | undefined {
  const fieldNode = info.fieldNodes[0];
  if (!fieldNode || info.fieldNodes.length !== 1) return undefined;
  return projectionOfField(fieldNode, info.fragments, type);
}

function projectionOfField(
  field: FieldNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  type: RecordType,
): ReadProjection | undefined {
  if (type !== 'artifacts') return undefined;
  let reads = bodyCache.get(field);
  if (reads === undefined) {
    const walk = new SelectionWalk(fragments);
    const recordReadsBody = (f: FieldNode): boolean => readsBody(walk, f);
    reads = walk.any(field.selectionSet, 'connection', (f) =>
      f.name.value === 'nodes'
        ? walk.any(f.selectionSet, 'record', recordReadsBody)
        : f.name.value === 'edges' &&
          walk.any(
            f.selectionSet,
            'edge',
            (e) => e.name.value === 'node' && walk.any(e.selectionSet, 'record', recordReadsBody),
          ),
    );
    bodyCache.set(field, reads);
  }
  return reads ? undefined : { body: false };
}

// Whether a by-id field's record reads an artifact body, per field node.
const recordBodyCache = new WeakMap<FieldNode, boolean>();

/**
 * The projection a field answering records directly allows (`artifact(id)`,
 * `node(id)`, `_entities`, whose selection is the record's own): `{ body:
 * false }` when `type` is artifacts and nothing in the selection reads the
 * body (`bodyBase64`, `provenance { verified }`); else undefined. The same
 * conservative walk as {@link projectionOf}, and the same safety net: a
 * projected record that still meets a body field reads itself whole.
 */
export function recordProjectionOf(info: GraphQLResolveInfo, type: RecordType): ReadProjection | undefined {
  const fieldNode = info.fieldNodes[0];
  if (type !== 'artifacts' || !fieldNode || info.fieldNodes.length !== 1) return undefined;
  let reads = recordBodyCache.get(fieldNode);
  if (reads === undefined) {
    const walk = new SelectionWalk(info.fragments);
    reads = walk.any(fieldNode.selectionSet, 'record', (f) => readsBody(walk, f));
    recordBodyCache.set(fieldNode, reads);
  }
  return reads ? undefined : { body: false };
}

/** True for a field of a record that needs its artifact body. */
function readsBody(walk: SelectionWalk, f: FieldNode): boolean {
  return (
    f.name.value === 'bodyBase64' ||
    (f.name.value === 'provenance' &&
      walk.any(f.selectionSet, 'verified', (p) => p.name.value === 'verified'))
  );
}

/**
 * Asks whether any field of a selection set passes a test, every fragment
 * expanded whatever its directives or type condition (conservative), each
 * named fragment walked once per test: a document whose fragments spread
 * each other many times costs its size, not the number of paths.
 */
class SelectionWalk {
  private readonly memo = new Map<string, boolean>();

  constructor(private readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>) {}

  /** `name` identifies `test` for the memo (one name per distinct test). */
  any(
    selectionSet: SelectionSetNode | undefined,
    name: string,
    test: (field: FieldNode) => boolean,
  ): boolean {
    if (!selectionSet) return false;
    for (const sel of selectionSet.selections) {
      if (sel.kind === 'Field') {
        if (test(sel)) return true;
      } else if (sel.kind === 'InlineFragment') {
        if (this.any(sel.selectionSet, name, test)) return true;
      } else {
        const key = `${sel.name.value}\u0000${name}`;
        let hit = this.memo.get(key);
        if (hit === undefined) {
          // Marked first: a cycle (invalid, but not ours to fail) ends here.
          this.memo.set(key, false);
          const fragment = this.fragments[sel.name.value];
          hit = fragment ? this.any(fragment.selectionSet, name, test) : false;
          this.memo.set(key, hit);
        }
        if (hit) return true;
      }
    }
    return false;
  }
}

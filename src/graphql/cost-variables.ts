/**
 * Which variables an operation's cost reads (cost.ts): those that set a page
 * size, `maxBytes`, or `@skip`/`@include`, found from the document alone.
 */
import {
  type DocumentNode,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** Arguments that set a page size. */
export const PAGE_ARGUMENTS = ['first', 'last', 'limit'] as const;
/** The argument bounding the bytes of `bodyBase64`. */
export const MAX_BYTES_ARGUMENT = 'maxBytes';
/** Every argument whose value the cost reads (the others only select records). */
const COST_ARGUMENTS: ReadonlySet<string> = new Set([...PAGE_ARGUMENTS, MAX_BYTES_ARGUMENT]);

/** What an operation's cost reads from its variables (see {@link costVariables}). */
export interface CostVariables {
  /**
   * Variables whose values can change the cost: those given to a page size
   * argument, to `maxBytes`, or to `@skip`/`@include`.
   */
  readonly names: readonly string[];
  /**
   * False when the cost also reads list arguments (`_entities`
   * representations, a mutation's records), so it depends on more than
   * {@link names}.
   */
  readonly byNames: boolean;
}

/**
 * The variables {@link operationCost} reads for `operation`, from the
 * document alone (every fragment it spreads, skipped or not): two requests
 * whose values of these variables are equal have the same cost, when
 * `byNames` holds and both costs are exact.
 */
export function costVariables(document: DocumentNode, operation: OperationDefinitionNode): CostVariables {
  const fragments = new Map<string, SelectionSetNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def.selectionSet);
  }
  const names = new Set<string>();
  let byNames = operation.operation !== 'mutation';
  const seen = new Set<string>();
  const sets: SelectionSetNode[] = [operation.selectionSet];
  for (let set = sets.pop(); set; set = sets.pop()) {
    for (const sel of set.selections) {
      for (const d of sel.directives ?? []) {
        const name = d.name.value;
        if (name === GraphQLSkipDirective.name || name === GraphQLIncludeDirective.name) {
          for (const arg of d.arguments ?? []) variablesIn(arg.value, names);
        }
      }
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value === '_entities') byNames = false;
        for (const arg of sel.arguments ?? []) {
          if (COST_ARGUMENTS.has(arg.name.value)) variablesIn(arg.value, names);
        }
        if (sel.selectionSet) sets.push(sel.selectionSet);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        sets.push(sel.selectionSet);
      } else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        const spread = fragments.get(sel.name.value);
        if (spread) sets.push(spread);
      }
    }
  }
  return { names: [...names], byNames };
}

/** Adds the names of the variables used anywhere in `value` to `into`. */
function variablesIn(value: ValueNode, into: Set<string>): void {
  if (value.kind === Kind.VARIABLE) into.add(value.name.value);
  else if (value.kind === Kind.LIST) for (const v of value.values) variablesIn(v, into);
  else if (value.kind === Kind.OBJECT) for (const f of value.fields) variablesIn(f.value, into);
}

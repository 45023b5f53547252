/**
 * The preflight: every limit on what one request may ask, checked before any
 * resolver runs, each refused with a VALIDATION error naming the limit and
 * the figure ("query has 8000 aliases; the limit is 100").
 *
 * Two steps, both linear in the request's size:
 * 1. {@link Preflight.checkSource}, on the query text before graphql-js
 *    validates it (validation compares same-named fields pairwise, so a
 *    document with hundreds of repeats takes it seconds): length in
 *    characters (before a character is lexed), tokens (graphql-js
 *    `maxTokens`), aliases and repeated fields, root fields, directives and
 *    depth (see shape.ts). Accepted texts (up to 8 KiB) are remembered, 2,048
 *    at most, least recently used first out.
 * 2. {@link Preflight.checkCost}, on the validated operation with the
 *    variables it reads coerced: `_entities` representations and the cost
 *    (see cost.ts), the walk stopping at either limit, so a long list of
 *    representations or records is refused by its length, unread. An
 *    operation's cost depends on its document and the values of a few of
 *    its variables (page sizes, `maxBytes`,
 *    `@skip`/`@include`: cost.ts `costVariables`), so it is remembered per
 *    parsed operation and those values (the server keeps parsed documents
 *    of repeated texts): an ordinary read is costed once, not on every
 *    request. Operations whose cost reads list arguments (`_entities`,
 *    mutations) and costs computed from variables that did not coerce are
 *    never reused.
 */
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  parse,
} from 'graphql';
import { HubError } from '../hub/errors';
import { type CostVariables, type OperationCost, costVariables, operationCost } from './cost';
import { FIGURE_CAP, documentShape } from './shape';

/** The limits the preflight enforces (a part of QueryLimits). */
export interface PreflightLimits {
  readonly maxCost: number;
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxRootFields: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly maxQueryChars: number;
  readonly maxRepresentations: number;
}

/** Accepted query texts remembered so their shape is not measured again. */
const ACCEPTED_CAPACITY = 2048;
/** Longer texts are measured every time rather than kept as keys. */
const ACCEPTED_MAX_LENGTH = 8192;
/** Costs remembered per operation (distinct values of its cost variables); the oldest go first. */
const COSTS_PER_OPERATION = 32;
/** Longest key of those values remembered (page sizes and flags are short). */
const COST_KEY_MAX_LENGTH = 256;

/** An operation's cost variables and the costs measured for their values so far. */
interface KnownCosts extends CostVariables {
  readonly costs: Map<string, OperationCost>;
}

/** Checks requests against `limits`; one per server. */
export class Preflight {
  private readonly accepted = new Map<string, true>();
  /** Per parsed operation: dropped with its document when the server's document cache drops it. */
  private readonly known = new WeakMap<OperationDefinitionNode, KnownCosts>();

  constructor(
    private readonly schema: GraphQLSchema,
    readonly limits: PreflightLimits,
  ) {}

  /**
   * Checks a query text's static limits. Syntax errors other than too many
   * tokens are left to the parser that follows (the same text is parsed
   * again, with the same token limit, by the server). `appendedChars`: the
   * end of the text the gateway added (a tenant tag), not counted in its length.
   * @throws HubError VALIDATION naming the first limit exceeded.
   */
  checkSource(source: string, appendedChars = 0): void {
    if (this.accepted.has(source)) {
      // Most recently used last: the oldest entry is evicted first.
      this.accepted.delete(source);
      this.accepted.set(source, true);
      return;
    }
    // Before lexing: comments and string literals are not counted as tokens.
    const chars = source.length - appendedChars;
    if (chars > this.limits.maxQueryChars) {
      throw refusal(`query text has ${chars} characters; the limit is ${this.limits.maxQueryChars}`);
    }
    let document: DocumentNode;
    try {
      document = parse(source, { maxTokens: this.limits.maxTokens, noLocation: true });
    } catch (err) {
      if (err instanceof GraphQLError && /contains more tha[nt] \d+ tokens/.test(err.message)) {
        throw refusal(
          `query has more than ${this.limits.maxTokens} tokens; the limit is ${this.limits.maxTokens}`,
        );
      }
      return;
    }
    this.checkDocument(document);
    if (source.length > ACCEPTED_MAX_LENGTH) return;
    if (this.accepted.size >= ACCEPTED_CAPACITY) {
      const oldest = this.accepted.keys().next().value;
      if (oldest !== undefined) this.accepted.delete(oldest);
    }
    this.accepted.set(source, true);
  }

  /**
   * Checks a parsed document's static limits (every operation in it).
   * @throws HubError VALIDATION naming the first limit exceeded.
   */
  checkDocument(document: DocumentNode): void {
    const shape = documentShape(this.schema, document);
    const { limits } = this;
    let aliases = shape.writtenAliases;
    let directives = shape.writtenDirectives;
    for (const op of shape.operations.values()) {
      aliases = Math.max(aliases, op.aliases);
      directives = Math.max(directives, op.directives);
    }
    over(aliases, limits.maxAliases, 'aliases or repeated fields');
    over(directives, limits.maxDirectives, 'directives');
    for (const op of shape.operations.values()) {
      over(op.rootFields, limits.maxRootFields, 'root fields');
      if (op.depth > limits.maxDepth) {
        throw refusal(`query depth ${figure(op.depth)} exceeds the limit of ${limits.maxDepth}`);
      }
    }
  }

  /**
   * Costs a validated operation with the caller's variables; `refusal` is set
   * when the representations or the cost exceed their limits (the cost is
   * still reported to the caller).
   */
  checkCost(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>>,
  ): OperationCost & { readonly refusal?: HubError } {
    const measured = this.cost(document, operation, variables);
    const { maxRepresentations, maxCost } = this.limits;
    if (measured.representations > maxRepresentations) {
      return {
        ...measured,
        refusal: overMessage(measured.representations, maxRepresentations, 'representations'),
      };
    }
    if (measured.cost > maxCost) {
      // A walk stopped at the limit knows a figure the cost is at least, not the cost.
      const cost = measured.stopped ? `of at least ${figure(measured.cost)}` : figure(measured.cost);
      const message = `query cost ${cost} exceeds the limit of ${maxCost}: ask for smaller pages (first), fewer nested lists or smaller bodies (maxBytes)`;
      return { ...measured, refusal: refusal(message) };
    }
    return measured;
  }

  /** The operation's cost: remembered for the values of its cost variables, or measured. */
  private cost(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>>,
  ): OperationCost {
    let known = this.known.get(operation);
    if (!known) {
      known = { ...costVariables(document, operation), costs: new Map() };
      this.known.set(operation, known);
    }
    const bounds = {
      maxRepresentations: this.limits.maxRepresentations,
      maxCost: this.limits.maxCost,
      variableNames: known.names,
    };
    const key = known.byNames ? costKey(known.names, variables) : undefined;
    if (key === undefined) return operationCost(this.schema, document, operation, variables, bounds);
    const remembered = known.costs.get(key);
    if (remembered) return remembered;
    const measured = operationCost(this.schema, document, operation, variables, bounds);
    if (!measured.exact || measured.stopped) return measured;
    if (known.costs.size >= COSTS_PER_OPERATION) {
      const oldest = known.costs.keys().next().value;
      if (oldest !== undefined) known.costs.delete(oldest);
    }
    known.costs.set(key, measured);
    return measured;
  }
}

/**
 * The values of `names` in `variables` as one string (a variable not given
 * differs from one given as null: a default applies), or undefined when too
 * long to keep. Page sizes and flags are short scalars: an object, an array
 * or a long string is not stringified (its size is the caller's).
 */
function costKey(names: readonly string[], variables: Readonly<Record<string, unknown>>): string | undefined {
  if (names.length === 0) return '';
  const values: unknown[] = [];
  for (const n of names) {
    if (!Object.hasOwn(variables, n)) {
      values.push(0);
      continue;
    }
    const v = variables[n];
    if (typeof v === 'object' && v !== null) return undefined;
    if (typeof v === 'string' && v.length > COST_KEY_MAX_LENGTH) return undefined;
    values.push([v]);
  }
  const key = JSON.stringify(values);
  return key.length > COST_KEY_MAX_LENGTH ? undefined : key;
}

function over(value: number, limit: number, what: string): void {
  if (value > limit) throw overMessage(value, limit, what);
}

function overMessage(value: number, limit: number, what: string): HubError {
  return refusal(`query has ${figure(value)} ${what}; the limit is ${limit}`);
}

function figure(n: number): string {
  return n >= FIGURE_CAP ? `more than ${FIGURE_CAP - 1}` : String(n);
}

function refusal(message: string): HubError {
  return new HubError('VALIDATION', message);
}

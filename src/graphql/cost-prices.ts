/**
 * The prices of the cost model (cost.ts, whose module comment states it):
 * what a rollup, a list without a size, a byte of a body or of a JSON leaf
 * costs, and the pure functions pricing leaves, page sizes, records' text and
 * representations' types. cost.ts walks the document and adds these up.
 */
import { type ValueNode, Kind } from 'graphql';
import { LIMITS } from '../hub/model';
import { MAX_BYTES_ARGUMENT, PAGE_ARGUMENTS } from './cost-variables';
import { add } from './shape';

/** Cost of one rollup call. */
export const ROLLUP_COST = 100;
/** Elements assumed for a list whose size no argument gives. */
export const DEFAULT_LIST_SIZE = LIMITS.defaultPageSize;
/** Bytes of an artifact body (as base64) per cost unit. */
export const BODY_BYTES_PER_UNIT = 1024;
/** Bytes of a JSON leaf's bound per cost unit. */
export const JSON_BYTES_PER_UNIT = 16 * 1024;
/** Default `maxBytes` of `Artifact.bodyBase64` (schema.graphql). */
const DEFAULT_MAX_BODY = 1_048_576;

/** Fields resolved by running a rollup. */
export const ROLLUP_FIELDS: ReadonlySet<string> = new Set([
  'costPerSkill',
  'archetypeProgression',
  'managerDashboard',
  'managers',
  'skills',
  'reports',
]);

/** Lists whose size is known without an argument. */
export const LIST_SIZES: Readonly<Record<string, number>> = { edges: 1, nodes: 1, results: 1, topSkills: 5 };
/** Lists sized by the field above them (their elements are already counted there). */
export const SIZED_ABOVE = new Set(['edges', 'nodes', 'results']);

/**
 * Units for the text records carry in their own string fields (an artifact's
 * `bodyBase64` above all): one per {@link BODY_BYTES_PER_UNIT} characters of
 * each string of at least that length. Nested values are not walked, nor
 * records once the units pass `budget` (the figure returned is then over it).
 */
export function textBytesCost(records: readonly unknown[], budget: number): number {
  let units = 0;
  for (const record of records) {
    if (typeof record !== 'object' || record === null) continue;
    for (const value of Object.values(record)) {
      if (typeof value === 'string' && value.length >= BODY_BYTES_PER_UNIT)
        units = add(units, Math.ceil(value.length / BODY_BYTES_PER_UNIT));
    }
    if (units > budget) return units;
  }
  return units;
}

/** The page size an argument asks for (undefined when the field takes none). */
export function pageSize(args: Record<string, unknown>): number | undefined {
  for (const name of PAGE_ARGUMENTS) {
    if (!(name in args)) continue;
    const v = args[name];
    return typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.ceil(v)) : DEFAULT_LIST_SIZE;
  }
  return undefined;
}

/** The `__typename` of a representation given in a variable ('' when it has none). */
export function typenameOf(rep: unknown): string {
  const typename = (rep as { __typename?: unknown } | null)?.__typename;
  return typeof typename === 'string' ? typename : '';
}

/** The `__typename` of a representation written in the query text ('' when it has none). */
export function literalTypename(value: ValueNode): string {
  if (value.kind !== Kind.OBJECT) return '';
  const field = value.fields.find((f) => f.name.value === '__typename');
  return field?.value.kind === Kind.STRING ? field.value.value : '';
}

/** Cost of a leaf: 0, or by the bytes it may carry. */
export function leafCost(field: string, typeName: string, args: Record<string, unknown>): number {
  if (field === 'bodyBase64') {
    const given = args[MAX_BYTES_ARGUMENT];
    const asked = typeof given === 'number' ? given : DEFAULT_MAX_BODY;
    const max = Math.min(Math.max(0, asked), LIMITS.maxArtifactBodyBytes);
    return Math.ceil((Math.ceil(max / 3) * 4) / BODY_BYTES_PER_UNIT);
  }
  if (typeName === 'JSON') {
    const bound = field === 'attributes' ? LIMITS.maxAttributesBytes : LIMITS.maxRecordBytes;
    return Math.ceil(bound / JSON_BYTES_PER_UNIT);
  }
  return 0;
}

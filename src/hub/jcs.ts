/**
 * RFC 8785 JSON Canonicalization Scheme (JCS) for the JSON values the Hub
 * stores. ECMAScript's own `JSON.stringify` already serialises strings and
 * numbers exactly as JCS requires (RFC 8785 section 3.2.2 defers to it); JCS
 * adds the object-key order (UTF-16 code units, which is what the default
 * `Array.prototype.sort` compares) and forbids non-finite numbers.
 */

/** Thrown for values JSON (and so JCS) cannot represent. */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

/**
 * Returns the JCS canonical JSON text of `value`. Object properties whose value
 * is `undefined` are left out, as `JSON.stringify` does.
 * @throws CanonicalJsonError for NaN, Infinity, bigint, functions, symbols and cycles.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0);
}

const NO_OMISSIONS: ReadonlySet<string> = new Set();

/**
 * The canonical JSON of the object whose members are those of `obj` except
 * the ones named in `omit` and the ones whose value is `null` or `undefined`
 * (what provenance hashes: the same text as `canonicalJson` of that object,
 * without building it).
 * @throws CanonicalJsonError as {@link canonicalJson}.
 */
export function canonicalJsonOfMembers(
  obj: Readonly<Record<string, unknown>>,
  omit: ReadonlySet<string>,
): string {
  return serializeObject(obj, 0, omit, true);
}

/** Characters `JSON.stringify` escapes (quote, backslash, controls), and every surrogate (lone ones are escaped). */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

// A depth bound instead of a visited set: the same protection against cycles
// (they exceed any bound) without a Set operation per object on the hot path.
const MAX_DEPTH = 1000;

/** An object's keys as `Object.keys` listed them, sorted, and each as its JSON text followed by `:`. */
interface Shape {
  readonly keys: readonly string[];
  readonly members: readonly string[];
  readonly prefixes: readonly string[];
}

// Records of a type share their keys, so sorting them and serialising each key is done once per
// set of keys rather than once per object (it was most of a record's canonicalisation). Bounded:
// emptied when full, so arbitrary JSON keys cannot grow it without limit.
const MAX_SHAPES = 512;
/** Shapes met last, tried before the map (a record's keys and its attributes' alternate). */
const RECENT = 4;

interface Shapes {
  readonly recent: Shape[];
  readonly byKeys: Map<string, Shape>;
}

// Weak: a caller passing a new set of omissions each time leaves nothing behind.
const shapes = new WeakMap<ReadonlySet<string>, Shapes>();

function shapeOf(keys: readonly string[], omit: ReadonlySet<string>): Shape {
  let cache = shapes.get(omit);
  if (!cache) shapes.set(omit, (cache = { recent: [], byKeys: new Map() }));
  // Comparing the keys with a recent shape's is cheaper than joining them for the map.
  for (const shape of cache.recent) if (sameKeys(shape.keys, keys)) return shape;
  const id = keys.join('\u0000');
  let shape = cache.byKeys.get(id);
  // Keys may contain the separator: the cached shape counts only when its keys are these keys.
  if (!shape || !sameKeys(shape.keys, keys)) {
    const members = keys.filter((k) => !omit.has(k)).sort();
    shape = { keys, members, prefixes: members.map((k) => `${JSON.stringify(k)}:`) };
    if (cache.byKeys.size >= MAX_SHAPES) cache.byKeys.clear();
    cache.byKeys.set(id, shape);
  }
  cache.recent.unshift(shape);
  if (cache.recent.length > RECENT) cache.recent.pop();
  return shape;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function serializeObject(
  obj: Readonly<Record<string, unknown>>,
  depth: number,
  omit: ReadonlySet<string>,
  skipNull: boolean,
): string {
  const { members, prefixes } = shapeOf(Object.keys(obj), omit);
  let out = '{';
  for (let i = 0; i < members.length; i++) {
    const v = obj[members[i] as string];
    if (v === undefined || (skipNull && v === null)) continue;
    out += `${out.length === 1 ? '' : ','}${prefixes[i] as string}${serialize(v, depth + 1)}`;
  }
  return `${out}}`;
}

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      // Most strings need no escape: quoting them directly is a few times cheaper.
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number ${value}`);
      // A finite number's JSON text is its ECMAScript string (Number::toString; -0 gives "0").
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > MAX_DEPTH)
        throw new CanonicalJsonError('cyclic structure or nesting deeper than 1000 levels');
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += `${i === 0 ? '' : ','}${v === undefined ? 'null' : serialize(v, depth + 1)}`;
        }
        return `${out}]`;
      }
      return serializeObject(value as Record<string, unknown>, depth, NO_OMISSIONS, false);
    }
    default:
      throw new CanonicalJsonError(`${typeof value} is not a JSON value`);
  }
}

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
  return serializeObject(obj, 0, shapesFor(omit), true);
}

/** Characters `JSON.stringify` escapes (quote, backslash, controls), and every surrogate (lone ones are escaped). */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

// Up to this length a string is scanned by a loop over its code units, which costs less than a
// regular expression call for the short strings records are made of (ids, times, names).
const SHORT_STRING = 128;

/** True when `s` has a character {@link NEEDS_ESCAPE} matches. */
function needsEscape(s: string): boolean {
  if (s.length > SHORT_STRING) return NEEDS_ESCAPE.test(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Below '#': the controls and '"'; above: '\\' and the surrogates D800-DFFF.
    if (c < 0x23 ? c < 0x20 || c === 0x22 : c === 0x5c || (c & 0xf800) === 0xd800) return true;
  }
  return false;
}

/** The JSON text of a string: the one `JSON.stringify` gives. */
function quote(s: string): string {
  // Most strings need no escape: quoting them directly is a few times cheaper.
  return needsEscape(s) ? JSON.stringify(s) : `"${s}"`;
}

// A depth bound instead of a visited set: the same protection against cycles
// (they exceed any bound) without a Set operation per object on the hot path.
const MAX_DEPTH = 1000;

/**
 * An object's keys as `Object.keys` listed them, the ones serialised (sorted),
 * and the text before each one's value in every context it can have
 * (`PLAIN`, `QUOTED`, `AFTER_*`): a member costs two concatenations.
 */
interface Shape {
  readonly keys: readonly string[];
  readonly members: readonly string[];
  /** Member `i`'s text in context `c` at `i * CONTEXTS + c`. */
  readonly prefixes: readonly string[];
}

// The text before a value holds what ends the previous member (nothing, or the quote that closes
// a string) and what starts this one (its key, and the quote that opens a string when the value
// is one needing no escape): one string per case, so the concatenations, and the nodes of the
// string the hash then flattens, are fewer. A context is AFTER_* + (QUOTED or PLAIN).
const PLAIN = 0;
const QUOTED = 1;
const AFTER_NOTHING = 0;
const AFTER_VALUE = 2;
const AFTER_STRING = 4;
const CONTEXTS = 6;

function prefixesOf(members: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of members) {
    const key = `${JSON.stringify(k)}:`;
    out.push(key, `${key}"`, `,${key}`, `,${key}"`, `",${key}`, `",${key}"`);
  }
  return out;
}

// Records of a type share their keys, so sorting them and serialising each key is done once per
// set of keys rather than once per object (it was most of a record's canonicalisation). Bounded:
// emptied when full, so arbitrary JSON keys cannot grow it without limit.
const MAX_SHAPES = 512;
/** Shapes met last, tried before the map (a record's keys and its attributes' alternate). */
const RECENT = 4;

interface Shapes {
  readonly omit: ReadonlySet<string>;
  readonly recent: Shape[];
  readonly byKeys: Map<string, Shape>;
}

const newShapes = (omit: ReadonlySet<string>): Shapes => ({ omit, recent: [], byKeys: new Map() });

/** The shapes of nested objects (nothing omitted), apart: they alternate with the records'. */
const NESTED = newShapes(NO_OMISSIONS);

// Weak: a caller passing a new set of omissions each time leaves nothing behind.
const shapes = new WeakMap<ReadonlySet<string>, Shapes>();

function shapesFor(omit: ReadonlySet<string>): Shapes {
  if (omit === NO_OMISSIONS) return NESTED;
  let cache = shapes.get(omit);
  if (!cache) shapes.set(omit, (cache = newShapes(omit)));
  return cache;
}

function shapeOf(keys: readonly string[], cache: Shapes): Shape {
  // Comparing the keys with a recent shape's is cheaper than joining them for the map.
  const recent = cache.recent;
  for (let i = 0; i < recent.length; i++) {
    const shape = recent[i] as Shape;
    if (sameKeys(shape.keys, keys)) return shape;
  }
  const id = keys.join('\u0000');
  let shape = cache.byKeys.get(id);
  // Keys may contain the separator: the cached shape counts only when its keys are these keys.
  if (!shape || !sameKeys(shape.keys, keys)) {
    const members = keys.filter((k) => !cache.omit.has(k)).sort();
    shape = { keys, members, prefixes: prefixesOf(members) };
    if (cache.byKeys.size >= MAX_SHAPES) cache.byKeys.clear();
    cache.byKeys.set(id, shape);
  }
  recent.unshift(shape);
  if (recent.length > RECENT) recent.pop();
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
  cache: Shapes,
  skipNull: boolean,
): string {
  const { members, prefixes } = shapeOf(Object.keys(obj), cache);
  let out = '{';
  let after = AFTER_NOTHING;
  for (let i = 0; i < members.length; i++) {
    const v = obj[members[i] as string];
    if (v === undefined || (skipNull && v === null)) continue;
    if (typeof v === 'string' && !needsEscape(v)) {
      out += prefixes[i * CONTEXTS + after + QUOTED] as string;
      out += v;
      after = AFTER_STRING;
    } else {
      out += prefixes[i * CONTEXTS + after + PLAIN] as string;
      out += typeof v === 'string' ? JSON.stringify(v) : serialize(v, depth + 1);
      after = AFTER_VALUE;
    }
  }
  return after === AFTER_STRING ? `${out}"}` : `${out}}`;
}

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
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
      return serializeObject(value as Record<string, unknown>, depth, NESTED, false);
    }
    default:
      throw new CanonicalJsonError(`${typeof value} is not a JSON value`);
  }
}

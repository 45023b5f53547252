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

// A depth bound instead of a visited set: the same protection against cycles
// (they exceed any bound) without a Set operation per object on the hot path.
const MAX_DEPTH = 1000;

function serialize(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number ${value}`);
      return JSON.stringify(value);
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
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = obj[key];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${serialize(v, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(`${typeof value} is not a JSON value`);
  }
}

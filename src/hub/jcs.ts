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
  return serialize(value, new Set());
}

function serialize(value: unknown, seen: Set<object>): string {
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
      if (seen.has(value)) throw new CanonicalJsonError('cyclic structure');
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((v) => (v === undefined ? 'null' : serialize(v, seen))).join(',')}]`;
      } else {
        const obj = value as Record<string, unknown>;
        const keys = Object.keys(obj).sort();
        const parts: string[] = [];
        for (const key of keys) {
          const v = obj[key];
          if (v === undefined) continue;
          parts.push(`${JSON.stringify(key)}:${serialize(v, seen)}`);
        }
        out = `{${parts.join(',')}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new CanonicalJsonError(`${typeof value} is not a JSON value`);
  }
}

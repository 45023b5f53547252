/**
 * The checks of one field value against its spec (src/hub/model.ts): the full
 * check with its problem and canonical form (`checkField`, used when sealing
 * input) and the cheap test that a value is already valid and canonical
 * (`isCanonicalField`, used on every field a store is given).
 */
import { DECIMAL_INT_DIGITS, DECIMAL_SCALE, parseDecimal } from './decimal';
import { unreachable } from './errors';
import { type FieldSpec, LIMITS } from './model';
import { formatTimestamp, isCanonicalTimestamp, parseTimestamp } from './time';
import { isUuid } from './uuid';

/** Receives one problem: the field's path and what is wrong with it. */
export type Report = (path: string, message: string) => void;

const ID_RE = /^[A-Za-z0-9._:@-]+$/;
const SHA256_RE = /^[0-9a-fA-F]{64}$/;
// U+0000 cannot be stored by PostgreSQL text/jsonb; a lone surrogate has no
// UTF-8 form and no canonical JSON. Both are rejected everywhere.
// eslint-disable-next-line no-control-regex
const BAD_TEXT_RE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_JSON_DEPTH = 64;

/**
 * Checks one field value against its spec; reports a problem through `report`
 * (and returns undefined), else returns the value in canonical form (ids and
 * hashes lowercased, timestamps and decimals normalised).
 */
export function checkField(spec: FieldSpec, value: unknown, report: Report): unknown {
  const path = spec.name;
  switch (spec.kind) {
    case 'id':
      if (typeof value !== 'string' || value.length === 0) return report(path, 'must be a non-empty string');
      if (value.length > LIMITS.maxIdLength)
        return report(path, `must be at most ${LIMITS.maxIdLength} characters`);
      if (!ID_RE.test(value)) return report(path, 'may contain only A-Z a-z 0-9 . _ : @ -');
      return value;
    case 'uuid':
      return isUuid(value) ? value.toLowerCase() : report(path, 'must be a UUID (8-4-4-4-12 hex)');
    case 'text':
      if (typeof value !== 'string') return report(path, `must be a string, got ${typeof value}`);
      if (spec.required && value.trim().length === 0) return report(path, 'must not be empty');
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        return report(path, `must be at most ${spec.maxLength} characters`);
      }
      if (BAD_TEXT_RE.test(value)) return report(path, 'contains U+0000 or an unpaired surrogate');
      return value;
    case 'enum':
      if (typeof value === 'string' && spec.values?.includes(value)) return value;
      return report(path, `must be one of ${spec.values?.join(', ')}`);
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        return report(path, 'must be an integer >= 0');
      }
      return value;
    case 'decimal': {
      const d = parseDecimal(value);
      if (!d.ok) return report(path, d.message);
      if (d.value.startsWith('-')) return report(path, 'must be >= 0');
      return d.value;
    }
    case 'timestamp': {
      const t = parseTimestamp(value);
      return t.ok ? formatTimestamp(t.ms) : report(path, t.message);
    }
    case 'json':
      return checkJson(value, path, report, false);
    case 'json_object':
      return checkJson(value, path, report, true);
    case 'sha256':
      return typeof value === 'string' && SHA256_RE.test(value)
        ? value.toLowerCase()
        : report(path, 'must be 64 hex characters (SHA-256)');
    default:
      return unreachable(spec.kind, 'field kind');
  }
}

// Counted repeats (`[0-9a-f]{64}`) cost Irregexp about twice what a `+` run over the same
// characters does: the fast tests below match runs and check the lengths (and the dashes'
// places) apart. A store runs them on every record it writes.
const LOWER_HEX_RE = /^[0-9a-f]+$/;
const LOWER_UUID_RUNS_RE = /^[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/;
/** A canonical decimal >= 0: no leading zeros, no trailing fractional zeros, within the digit limits. */
const CANONICAL_DECIMAL_RE = new RegExp(
  `^(?:0|[1-9]\\d{0,${DECIMAL_INT_DIGITS - 1}})(?:\\.\\d{0,${DECIMAL_SCALE - 1}}[1-9])?$`,
);
// eslint-disable-next-line no-control-regex
const NUL_OR_SURROGATE_RE = /[\u0000\uD800-\uDFFF]/;

/**
 * True when {@link checkField} would accept `value` and return it unchanged
 * (valid and already in canonical form), decided by cheaper tests: a store
 * checks every field of every record it writes, and almost all are like
 * this. False says nothing: ask {@link checkField} for the problem. JSON
 * kinds are not decided here (always false).
 */
export function isCanonicalField(spec: FieldSpec, value: unknown): boolean {
  switch (spec.kind) {
    case 'id':
      return (
        typeof value === 'string' &&
        value.length > 0 &&
        value.length <= LIMITS.maxIdLength &&
        ID_RE.test(value)
      );
    case 'uuid':
      return isLowerUuid(value);
    case 'text':
      return (
        typeof value === 'string' &&
        (spec.maxLength === undefined || value.length <= spec.maxLength) &&
        // Surrogate pairs are fine but rarer: the full test decides those.
        (!NUL_OR_SURROGATE_RE.test(value) || !BAD_TEXT_RE.test(value)) &&
        (!spec.required || value.trim().length > 0)
      );
    case 'enum':
      return typeof value === 'string' && spec.values?.includes(value) === true;
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
    case 'decimal':
      return typeof value === 'string' && CANONICAL_DECIMAL_RE.test(value);
    case 'timestamp':
      return isCanonicalTimestamp(value);
    case 'sha256':
      return typeof value === 'string' && value.length === 64 && LOWER_HEX_RE.test(value);
    case 'json':
    case 'json_object':
      return false;
    default:
      return unreachable(spec.kind, 'field kind');
  }
}

/**
 * True for a UUID in lowercase 8-4-4-4-12 hex form (as checkField returns
 * it): 36 characters, dashes at 8, 13, 18 and 23, and five runs of hex
 * digits between four dashes, so the runs have exactly those lengths.
 */
function isLowerUuid(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length === 36 &&
    value.charCodeAt(8) === 45 &&
    value.charCodeAt(13) === 45 &&
    value.charCodeAt(18) === 45 &&
    value.charCodeAt(23) === 45 &&
    LOWER_UUID_RUNS_RE.test(value)
  );
}

/** Checks a JSON value is representable everywhere (finite numbers, clean strings, plain objects). */
export function checkJson(value: unknown, path: string, report: Report, objectOnly: boolean): unknown {
  if (objectOnly && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    return report(path, 'must be a JSON object');
  }
  const problem = jsonProblem(value, path, 0);
  if (problem) return report(problem.path, problem.message);
  return value;
}

function jsonProblem(
  value: unknown,
  path: string,
  depth: number,
): { path: string; message: string } | undefined {
  if (depth > MAX_JSON_DEPTH) return { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  switch (typeof value) {
    case 'string':
      return BAD_TEXT_RE.test(value)
        ? { path, message: 'contains U+0000 or an unpaired surrogate' }
        : undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, message: 'must be a finite number' };
    case 'boolean':
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const p = jsonProblem(value[i], `${path}[${i}]`, depth + 1);
          if (p) return p;
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        return { path, message: 'must be a plain JSON object' };
      for (const [k, v] of Object.entries(value)) {
        if (BAD_TEXT_RE.test(k))
          return { path: `${path}.${k}`, message: 'key contains U+0000 or an unpaired surrogate' };
        if (v === undefined) return { path: `${path}.${k}`, message: 'must not be undefined' };
        const p = jsonProblem(v, `${path}.${k}`, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    default:
      return { path, message: `${typeof value} is not a JSON value` };
  }
}

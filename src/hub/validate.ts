/**
 * Validation and sealing: turns client input into stored records. Every problem
 * in a batch is collected (index + field path), and a batch with any problem is
 * rejected whole, so nothing is ever half-written because of bad input.
 */
import { isBase64 } from './base64';
import { DECIMAL_INT_DIGITS, DECIMAL_SCALE, parseDecimal } from './decimal';
import { type FieldIssue, unreachable, validationError } from './errors';
import { CanonicalJsonError, canonicalJson } from './jcs';
import { type FieldSpec, type HubRecord, LIMITS, type RecordType, TYPE_FIELDS, isRecordType } from './model';
import { bodySha256, computeProvenanceHash } from './provenance';
import type { TenantId } from './tenant';
import { formatTimestamp, isCanonicalTimestamp, parseTimestamp } from './time';
import { isUuid, uuidv7 } from './uuid';

/** Input for one record: storage names, optional fields may be absent or null. */
export type RecordInput = Readonly<Record<string, unknown>>;

export interface SealOptions {
  /** Clock for defaults (`created_at`, UUIDv7 ids); epoch ms. */
  readonly now?: () => number;
  /** Artifact body limit in bytes (default {@link LIMITS.maxArtifactBodyBytes}). */
  readonly maxArtifactBodyBytes?: number;
}

const ID_RE = /^[A-Za-z0-9._:@-]+$/;
const SHA256_RE = /^[0-9a-fA-F]{64}$/;
// U+0000 cannot be stored by PostgreSQL text/jsonb; a lone surrogate has no
// UTF-8 form and no canonical JSON. Both are rejected everywhere.
// eslint-disable-next-line no-control-regex
const BAD_TEXT_RE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_JSON_DEPTH = 64;
const ENVELOPE_INPUT = new Set([
  'record_id',
  'tenant_id',
  'record_type',
  'created_at',
  'attributes',
  'provenance_hash',
]);

/**
 * Validates, defaults and seals a batch of records of one type for a tenant.
 * @returns the sealed records, in input order.
 * @throws HubError VALIDATION listing every problem as `[index] field: message`.
 */
export function sealBatch(
  tenant: TenantId,
  type: RecordType,
  inputs: readonly unknown[],
  options: SealOptions = {},
): HubRecord[] {
  if (!isRecordType(type))
    throw validationError([{ path: 'record_type', message: `unknown record type ${String(type)}` }]);
  const issues: FieldIssue[] = [];
  const out: HubRecord[] = [];
  const seenIds = new Map<string, number>();
  inputs.forEach((input, index) => {
    const recordIssues: FieldIssue[] = [];
    const record = sealOne(tenant, type, input, options, (path, message) =>
      recordIssues.push({ index, path, message }),
    );
    if (record && recordIssues.length === 0) {
      const earlier = seenIds.get(record.record_id);
      if (earlier !== undefined) {
        recordIssues.push({
          index,
          path: 'record_id',
          message: `repeats the record_id of record [${earlier}] in this batch`,
        });
      } else {
        seenIds.set(record.record_id, index);
      }
    }
    issues.push(...recordIssues);
    if (record) out.push(record);
  });
  if (issues.length > 0) throw validationError(issues, `${type} batch`);
  return out;
}

/** Validates and seals one record; see {@link sealBatch}. */
export function sealRecord(
  tenant: TenantId,
  type: RecordType,
  input: unknown,
  options: SealOptions = {},
): HubRecord {
  const [record] = sealBatch(tenant, type, [input], options);
  return record as HubRecord;
}

/** Receives one problem: the field's path and what is wrong with it. */
export type Report = (path: string, message: string) => void;

/**
 * One record, in named steps: an object with no unknown field, the envelope
 * (id, tenant, type, time, attributes), the type's fields, an artifact's
 * body, then the size and the hash. Every problem is reported, in that order.
 */
function sealOne(
  tenant: TenantId,
  type: RecordType,
  input: unknown,
  options: SealOptions,
  report: Report,
): HubRecord | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    report('', 'must be an object');
    return undefined;
  }
  const src = input as Record<string, unknown>;
  const specs = TYPE_FIELDS[type];
  reportUnknownFields(src, type, specs, report);
  const now = options.now?.() ?? Date.now();
  const rec: Record<string, unknown> = {};
  sealEnvelope(src, tenant, type, now, rec, report);
  sealFields(src, specs, rec, report);
  if (type === 'artifacts') checkArtifactBody(src.body, rec, options, report);
  const hash = sealHash(src, rec, report);
  if (hash === undefined) return undefined;
  rec.provenance_hash = hash;
  return rec as unknown as HubRecord;
}

/** Reports every field the type does not have (an artifact may carry its `body`). */
function reportUnknownFields(
  src: Record<string, unknown>,
  type: RecordType,
  specs: (typeof TYPE_FIELDS)[RecordType],
  report: Report,
): void {
  const known = new Set(specs.map((s) => s.name));
  for (const key of Object.keys(src)) {
    if (!known.has(key) && !ENVELOPE_INPUT.has(key) && !(type === 'artifacts' && key === 'body')) {
      report(key, `unknown field for ${type}`);
    }
  }
}

/** The envelope into `rec`: record id (a UUIDv7 when absent), tenant and type (the caller's), created_at, attributes. */
function sealEnvelope(
  src: Record<string, unknown>,
  tenant: TenantId,
  type: RecordType,
  now: number,
  rec: Record<string, unknown>,
  report: Report,
): void {
  // Envelope.
  const rid = src.record_id;
  if (rid === undefined || rid === null) rec.record_id = uuidv7(now);
  else if (isUuid(rid)) rec.record_id = rid.toLowerCase();
  else report('record_id', 'must be a UUID (8-4-4-4-12 hex)');

  if (src.tenant_id !== undefined && src.tenant_id !== null && src.tenant_id !== tenant) {
    report('tenant_id', 'comes from the caller identity and must not be set to another value');
  }
  rec.tenant_id = tenant;
  if (src.record_type !== undefined && src.record_type !== null && src.record_type !== type) {
    report('record_type', `must be ${type} (or absent) in a ${type} batch`);
  }
  rec.record_type = type;

  if (src.created_at === undefined || src.created_at === null) rec.created_at = formatTimestamp(now);
  else {
    const t = parseTimestamp(src.created_at);
    if (t.ok) rec.created_at = formatTimestamp(t.ms);
    else report('created_at', t.message);
  }

  if (src.attributes !== undefined && src.attributes !== null) {
    const attrs = checkJson(src.attributes, 'attributes', report, true);
    if (attrs !== undefined) {
      const size = Buffer.byteLength(safeCanonical(attrs));
      if (size > LIMITS.maxAttributesBytes) {
        report('attributes', `is ${size} bytes as canonical JSON; the limit is ${LIMITS.maxAttributesBytes}`);
      } else rec.attributes = attrs;
    }
  }
}

/** The type's fields into `rec`, checked and canonical; absent ones take their default or are reported. */
function sealFields(
  src: Record<string, unknown>,
  specs: (typeof TYPE_FIELDS)[RecordType],
  rec: Record<string, unknown>,
  report: Report,
): void {
  for (const spec of specs) {
    const value = src[spec.name];
    if (value === undefined || value === null) {
      if (spec.defaultValue !== undefined) rec[spec.name] = spec.defaultValue;
      else if (spec.defaultFrom !== undefined) rec[spec.name] = rec[spec.defaultFrom];
      else if (spec.required) report(spec.name, 'is required');
      continue;
    }
    const checked = checkField(spec, value, report);
    if (checked !== undefined) rec[spec.name] = checked;
  }
}

/** The record's provenance hash when it is within the size limit and canonical, checked against a supplied one. */
function sealHash(
  src: Record<string, unknown>,
  rec: Record<string, unknown>,
  report: Report,
): string | undefined {
  // Hash only a record that passed every check: a hash over bad data means nothing.
  let hash: string | undefined;
  try {
    const size = Buffer.byteLength(canonicalJson({ ...rec, body: undefined }));
    if (size > LIMITS.maxRecordBytes)
      report('', `is ${size} bytes as canonical JSON; the limit is ${LIMITS.maxRecordBytes}`);
    else hash = computeProvenanceHash(rec);
  } catch (err) {
    report('', err instanceof CanonicalJsonError ? err.message : 'cannot be canonicalised');
  }
  const supplied = src.provenance_hash;
  if (supplied !== undefined && supplied !== null && hash !== undefined) {
    if (typeof supplied !== 'string' || supplied.toLowerCase() !== hash) {
      report('provenance_hash', `does not match the content (expected ${hash} under hub-sha256-jcs-v1)`);
    }
  }
  return hash;
}

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

const LOWER_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOWER_SHA256_RE = /^[0-9a-f]{64}$/;
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
      return typeof value === 'string' && LOWER_UUID_RE.test(value);
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
      return typeof value === 'string' && LOWER_SHA256_RE.test(value);
    case 'json':
    case 'json_object':
      return false;
    default:
      return unreachable(spec.kind, 'field kind');
  }
}

/** Checks a JSON value is representable everywhere (finite numbers, clean strings, plain objects). */
function checkJson(value: unknown, path: string, report: Report, objectOnly: boolean): unknown {
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

function checkArtifactBody(
  body: unknown,
  rec: Record<string, unknown>,
  options: SealOptions,
  report: Report,
): void {
  let bytes: Uint8Array | undefined;
  if (body instanceof Uint8Array) bytes = body;
  else if (typeof body === 'string') {
    if (!isBase64(body)) return report('body', 'must be base64');
    bytes = Buffer.from(body, 'base64');
  } else return report('body', 'is required (bytes, or a base64 string)');
  const limit = options.maxArtifactBodyBytes ?? LIMITS.maxArtifactBodyBytes;
  if (bytes.byteLength > limit) return report('body', `is ${bytes.byteLength} bytes; the limit is ${limit}`);
  if (rec.size_bytes !== undefined && rec.size_bytes !== bytes.byteLength) {
    report('size_bytes', `is ${String(rec.size_bytes)} but the body has ${bytes.byteLength} bytes`);
  }
  if (rec.content_sha256 !== undefined && rec.content_sha256 !== bodySha256(bytes)) {
    report('content_sha256', 'does not match the SHA-256 of the body');
  }
  // A Buffer is kept as is (no second view of the same bytes, and its remembered digest stays with it).
  rec.body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function safeCanonical(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch {
    return '';
  }
}

/**
 * Validation and sealing: turns client input into stored records. Every problem
 * in a batch is collected (index + field path), and a batch with any problem is
 * rejected whole, so nothing is ever half-written because of bad input.
 */
import { isBase64 } from './base64';
import { type FieldIssue, validationError } from './errors';
import { type Report, checkField, checkJson } from './field-checks';
import { CanonicalJsonError, canonicalJson } from './jcs';
import { type HubRecord, LIMITS, type RecordType, TYPE_FIELDS, isRecordType } from './model';
import { bodySha256, computeProvenanceHash } from './provenance';
import type { TenantId } from './tenant';
import { formatTimestamp, parseTimestamp } from './time';
import { isUuid, uuidv7 } from './uuid';

/** Input for one record: storage names, optional fields may be absent or null. */
export type RecordInput = Readonly<Record<string, unknown>>;

export interface SealOptions {
  /** Clock for defaults (`created_at`, UUIDv7 ids); epoch ms. */
  readonly now?: () => number;
  /** Artifact body limit in bytes (default {@link LIMITS.maxArtifactBodyBytes}). */
  readonly maxArtifactBodyBytes?: number;
}

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

/**
 * The check every store runs on a batch before writing any of it: each
 * record is a sealed record of the store's caller's tenant, of a known type,
 * with every field present where required, of its kind and in canonical form.
 * It does not recompute provenance hashes (that is the Hub's job at sealing,
 * and too dear to repeat per write); it stops a record that was changed or
 * built by hand after sealing from reaching a store half-valid.
 */
import { type FieldIssue, validationError } from './errors';
import {
  ENVELOPE_FIELDS,
  type FieldSpec,
  type HubRecord,
  RECORD_TYPES,
  type RecordType,
  fieldsOf,
  isRecordType,
} from './model';
import type { TenantId } from './tenant';
import { checkField, isCanonicalField } from './field-checks';

const FIELDS = new Map<RecordType, readonly FieldSpec[]>(RECORD_TYPES.map((t) => [t, fieldsOf(t)]));

const TENANT_SPEC = ENVELOPE_FIELDS.find((s) => s.name === 'tenant_id') as FieldSpec;

// What looksSealed tests per record: every field but two whose verdict it knows without
// looking. `record_type` found in FIELDS is one of RECORD_TYPES, the values its enum allows;
// `tenant_id` equal to the batch's tenant has that tenant's verdict, decided once per batch.
const LOOK_FIELDS = new Map<RecordType, readonly FieldSpec[]>(
  RECORD_TYPES.map((t) => [t, fieldsOf(t).filter((s) => s.name !== 'record_type' && s.name !== 'tenant_id')]),
);

/**
 * Throws VALIDATION listing every problem of `records` as `[index] field:
 * message (type id)` when any record is not a well-formed sealed record of
 * `tenant`; returns normally otherwise. Callers write nothing when it throws.
 */
export function checkSealedBatch(tenant: TenantId, records: readonly HubRecord[]): void {
  const issues: FieldIssue[] = [];
  // A tenant id that is not a canonical id (never, for a parsed one) sends every record to the full check.
  const tenantOk = isCanonicalField(TENANT_SPEC, tenant);
  for (let index = 0; index < records.length; index++) {
    // The common case decided without building a report (a closure per record was a tenth of a
    // copy's CPU); a record it does not pass is checked again in full, for the messages.
    if (!tenantOk || !looksSealed(tenant, records[index])) checkSealed(tenant, records[index], index, issues);
  }
  if (issues.length > 0) throw validationError(issues, 'batch');
}

/**
 * True when `record` has none of the problems {@link checkSealed} reports,
 * given a `tenant` that is a canonical id; false says nothing.
 */
function looksSealed(tenant: TenantId, record: HubRecord | undefined): boolean {
  if (typeof record !== 'object' || record === null || record.tenant_id !== tenant) return false;
  const src = record as unknown as Record<string, unknown>;
  const specs = LOOK_FIELDS.get(record.record_type);
  if (specs === undefined) return false;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as FieldSpec;
    const value = src[spec.name];
    if (value === undefined || value === null) {
      if (spec.required || spec.defaultValue !== undefined || spec.defaultFrom !== undefined) return false;
    } else if (spec.kind === 'json_object') {
      if (typeof value !== 'object' || Array.isArray(value)) return false;
    } else if (spec.kind !== 'json' && !isCanonicalField(spec, value)) return false;
  }
  if (record.record_type !== 'artifacts') return true;
  return record.body instanceof Uint8Array && record.body.byteLength === record.size_bytes;
}

/** Adds the problems of one record (at `index` of its batch) to `issues`. */
function checkSealed(
  tenant: TenantId,
  record: HubRecord | undefined,
  index: number,
  issues: FieldIssue[],
): void {
  const src = record as unknown as Record<string, unknown>;
  const report = (path: string, message: string): void => {
    issues.push({
      index,
      path,
      message: `${message} (${String(src.record_type)} ${String(src.record_id)})`,
    });
  };
  if (typeof record !== 'object' || record === null) return report('', 'must be a sealed record');
  if (!isRecordType(src.record_type)) return report('record_type', 'is not a record type');
  if (src.tenant_id !== tenant) report('tenant_id', `is not the tenant written to (${tenant})`);
  for (const spec of FIELDS.get(src.record_type) ?? fieldsOf(src.record_type)) {
    const value = src[spec.name];
    if (value === undefined || value === null) {
      // Sealing materialises defaults: a sealed record has every field that has one.
      if (spec.required || spec.defaultValue !== undefined || spec.defaultFrom !== undefined) {
        report(spec.name, 'is required');
      }
      continue;
    }
    if (spec.kind === 'json' || spec.kind === 'json_object') {
      // Walked value by value at sealing (and covered by the hash); here only its shape,
      // so a batch is not walked twice (and objects cloned in another realm still pass).
      if (spec.kind === 'json_object' && (typeof value !== 'object' || Array.isArray(value))) {
        report(spec.name, 'must be a JSON object');
      }
      continue;
    }
    // The common case decided cheaply; anything else goes through checkField for its message.
    if (isCanonicalField(spec, value)) continue;
    let bad = false;
    const canonical = checkField(spec, value, (path, message) => {
      bad = true;
      report(path, message);
    });
    if (!bad && typeof value === 'string' && canonical !== value)
      report(spec.name, 'is not in canonical form');
  }
  if (src.record_type === 'artifacts') {
    const body = src.body;
    if (!(body instanceof Uint8Array)) report('body', 'must be bytes');
    else if (body.byteLength !== src.size_bytes) report('size_bytes', 'does not match the body');
  }
}

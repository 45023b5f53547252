/**
 * The Hub data model: six immutable record types sharing one envelope. Field
 * names here are the storage / hashing names (snake_case); GraphQL maps them to
 * camelCase. Optional fields that are absent are `undefined`, never `null`.
 */
import type { TenantId } from './tenant';

export const RECORD_TYPES = [
  'outputs',
  'decisions',
  'governance_events',
  'artifacts',
  'employee_profiles',
  'telemetry_events',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

export const OUTPUT_STATUSES = ['SUCCEEDED', 'FAILED', 'BLOCKED'] as const;
export const DECISION_OUTCOMES = ['ACCEPTED', 'REJECTED', 'EDITED', 'ESCALATED'] as const;
export const SEVERITIES = ['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const GOVERNANCE_ACTIONS = ['ALLOWED', 'FLAGGED', 'BLOCKED', 'REDACTED'] as const;
export const LEVELS = ['L1', 'L2', 'L3', 'L4', 'L5'] as const;

export type OutputStatus = (typeof OUTPUT_STATUSES)[number];
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];
export type Severity = (typeof SEVERITIES)[number];
export type GovernanceAction = (typeof GOVERNANCE_ACTIONS)[number];
export type Level = (typeof LEVELS)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Fields every record carries. */
export interface RecordEnvelope {
  record_id: string;
  tenant_id: TenantId;
  record_type: RecordType;
  /** Canonical RFC 3339 UTC with milliseconds, e.g. `2026-03-01T12:00:00.000Z`. */
  created_at: string;
  attributes?: JsonObject;
  /** Lowercase hex SHA-256 (algorithm `hub-sha256-jcs-v1`). */
  provenance_hash: string;
}

export interface OutputRecord extends RecordEnvelope {
  record_type: 'outputs';
  skill_id: string;
  employee_id: string;
  invocation_id?: string;
  model?: string;
  status: OutputStatus;
  input_tokens: number;
  output_tokens: number;
  /** Canonical decimal string. */
  cost_usd: string;
  latency_ms?: number;
  content?: JsonValue;
}

export interface DecisionRecord extends RecordEnvelope {
  record_type: 'decisions';
  output_id: string;
  skill_id: string;
  decided_by: string;
  outcome: DecisionOutcome;
  rationale?: string;
}

export interface GovernanceEventRecord extends RecordEnvelope {
  record_type: 'governance_events';
  policy_id: string;
  severity: Severity;
  action: GovernanceAction;
  skill_id?: string;
  employee_id?: string;
  subject_record_id?: string;
  detail?: string;
}

export interface ArtifactRecord extends RecordEnvelope {
  record_type: 'artifacts';
  name: string;
  media_type: string;
  size_bytes: number;
  /** Lowercase hex SHA-256 of `body`. */
  content_sha256: string;
  skill_id?: string;
  output_id?: string;
  employee_id?: string;
  /**
   * The file's bytes. Not part of the provenance content: `content_sha256`
   * covers it. {@link BODY_NOT_READ} when a read left it out (a projection).
   */
  body: Uint8Array;
}

export interface EmployeeProfileRecord extends RecordEnvelope {
  record_type: 'employee_profiles';
  employee_id: string;
  display_name: string;
  archetype: string;
  level: Level;
  manager_id?: string;
  team?: string;
  /** Defaults to `created_at`. */
  effective_at: string;
}

export interface TelemetryEventRecord extends RecordEnvelope {
  record_type: 'telemetry_events';
  name: string;
  skill_id?: string;
  employee_id?: string;
  duration_ms?: number;
  cost_usd?: string;
  input_tokens?: number;
  output_tokens?: number;
  properties?: JsonObject;
}

/**
 * The `body` of an artifact read without it (`ReadProjection` with `body:
 * false`): empty and frozen, told apart from an empty body by identity
 * ({@link bodyWasRead}). Never written: validation copies bodies it is given.
 */
export const BODY_NOT_READ: Uint8Array = Object.freeze(new Uint8Array(0));

/** False when the artifact was read without its body (see {@link BODY_NOT_READ}). */
export function bodyWasRead(record: ArtifactRecord): boolean {
  return record.body !== BODY_NOT_READ;
}

/** A stored record: validated, defaulted and sealed with its provenance hash. */
export type HubRecord =
  | OutputRecord
  | DecisionRecord
  | GovernanceEventRecord
  | ArtifactRecord
  | EmployeeProfileRecord
  | TelemetryEventRecord;

/** Maps a record type name to its record interface. */
export interface RecordOf {
  outputs: OutputRecord;
  decisions: DecisionRecord;
  governance_events: GovernanceEventRecord;
  artifacts: ArtifactRecord;
  employee_profiles: EmployeeProfileRecord;
  telemetry_events: TelemetryEventRecord;
}

/**
 * How a field is checked, stored and hashed. Stores derive their columns from
 * this table, so a field added here reaches every backend's column list.
 */
export type FieldKind =
  | 'id' // up to 128 of [A-Za-z0-9._:@-]
  | 'uuid'
  | 'text' // free text, no NUL
  | 'enum'
  | 'int' // safe integer >= 0
  | 'decimal' // canonical decimal string >= 0, scale <= 6
  | 'timestamp'
  | 'json' // any JSON value
  | 'json_object'
  | 'sha256';

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  /** Allowed values for `enum`. */
  readonly values?: readonly string[];
  /** Maximum length in characters for `text`. */
  readonly maxLength?: number;
  /** Value used when the input omits the field (materialised before hashing). */
  readonly defaultValue?: number | string;
  /** Names the field that supplies the default (e.g. `effective_at` defaults to `created_at`). */
  readonly defaultFrom?: string;
}

const f = (
  name: string,
  kind: FieldKind,
  required: boolean,
  extra: Omit<FieldSpec, 'name' | 'kind' | 'required'> = {},
): FieldSpec => ({ name, kind, required, ...extra });

/** The envelope fields, in storage order. */
export const ENVELOPE_FIELDS: readonly FieldSpec[] = [
  f('record_id', 'uuid', true),
  f('tenant_id', 'id', true),
  f('record_type', 'enum', true, { values: RECORD_TYPES }),
  f('created_at', 'timestamp', true),
  f('attributes', 'json_object', false),
  f('provenance_hash', 'sha256', true),
];

/** Per-type fields (beyond the envelope), in storage order. */
export const TYPE_FIELDS: { readonly [T in RecordType]: readonly FieldSpec[] } = {
  outputs: [
    f('skill_id', 'id', true),
    f('employee_id', 'id', true),
    f('invocation_id', 'id', false),
    f('model', 'text', false, { maxLength: 256 }),
    f('status', 'enum', true, { values: OUTPUT_STATUSES }),
    f('input_tokens', 'int', false, { defaultValue: 0 }),
    f('output_tokens', 'int', false, { defaultValue: 0 }),
    f('cost_usd', 'decimal', false, { defaultValue: '0' }),
    f('latency_ms', 'int', false),
    f('content', 'json', false),
  ],
  decisions: [
    f('output_id', 'uuid', true),
    f('skill_id', 'id', true),
    f('decided_by', 'id', true),
    f('outcome', 'enum', true, { values: DECISION_OUTCOMES }),
    f('rationale', 'text', false, { maxLength: 16_384 }),
  ],
  governance_events: [
    f('policy_id', 'id', true),
    f('severity', 'enum', true, { values: SEVERITIES }),
    f('action', 'enum', true, { values: GOVERNANCE_ACTIONS }),
    f('skill_id', 'id', false),
    f('employee_id', 'id', false),
    f('subject_record_id', 'uuid', false),
    f('detail', 'text', false, { maxLength: 16_384 }),
  ],
  artifacts: [
    f('name', 'text', true, { maxLength: 1024 }),
    f('media_type', 'text', true, { maxLength: 255 }),
    f('size_bytes', 'int', true),
    f('content_sha256', 'sha256', true),
    f('skill_id', 'id', false),
    f('output_id', 'uuid', false),
    f('employee_id', 'id', false),
  ],
  employee_profiles: [
    f('employee_id', 'id', true),
    f('display_name', 'text', true, { maxLength: 256 }),
    f('archetype', 'id', true),
    f('level', 'enum', true, { values: LEVELS }),
    f('manager_id', 'id', false),
    f('team', 'text', false, { maxLength: 256 }),
    f('effective_at', 'timestamp', false, { defaultFrom: 'created_at' }),
  ],
  telemetry_events: [
    f('name', 'id', true),
    f('skill_id', 'id', false),
    f('employee_id', 'id', false),
    f('duration_ms', 'int', false),
    f('cost_usd', 'decimal', false),
    f('input_tokens', 'int', false),
    f('output_tokens', 'int', false),
    f('properties', 'json_object', false),
  ],
};

/** Every field of a type (envelope first), in storage order. The artifact body is not listed. */
export function fieldsOf(type: RecordType): readonly FieldSpec[] {
  return [...ENVELOPE_FIELDS, ...TYPE_FIELDS[type]];
}

/** Limits of records and pages (docs/semantics.md states them). */
export const LIMITS = {
  /** Canonical JSON of a record, artifact body excluded. */
  maxRecordBytes: 256 * 1024,
  maxAttributesBytes: 64 * 1024,
  maxIdLength: 128,
  /** Default artifact body limit; configurable per Hub. */
  maxArtifactBodyBytes: 10 * 1024 * 1024,
  defaultPageSize: 50,
  maxPageSize: 500,
} as const;

/** True when `value` names one of the six record types. */
export function isRecordType(value: unknown): value is RecordType {
  return typeof value === 'string' && (RECORD_TYPES as readonly string[]).includes(value);
}

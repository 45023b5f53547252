/**
 * The stored columns of each record type, derived from the model
 * (TYPE_FIELDS), and the text array literal statements send column values
 * in. Shared by every statement builder of the PostgreSQL store.
 */
import { HubError } from '../../hub/errors';
import { type FieldKind, type RecordType, TYPE_FIELDS, isRecordType } from '../../hub/model';

/** A stored column: its name and the kind of value it holds. */
export interface Column {
  readonly name: string;
  readonly kind: FieldKind | 'bytes';
}

/** Stored columns of a type besides tenant_id, in storage order (the record type is the table). */
export function columnsOf(type: RecordType): readonly Column[] {
  // Table names are interpolated into SQL: only the six known types pass.
  if (!isRecordType(type)) throw new HubError('VALIDATION', 'unknown record type');
  return COLUMNS[type];
}

const buildColumns = (type: RecordType): readonly Column[] => [
  { name: 'record_id', kind: 'uuid' },
  { name: 'created_at', kind: 'timestamp' },
  { name: 'attributes', kind: 'json_object' },
  { name: 'provenance_hash', kind: 'sha256' },
  ...TYPE_FIELDS[type].map((f) => ({ name: f.name, kind: f.kind })),
  ...(type === 'artifacts' ? [{ name: 'body', kind: 'bytes' as const }] : []),
];

const COLUMNS = Object.fromEntries(
  (Object.keys(TYPE_FIELDS) as RecordType[]).map((t) => [t, buildColumns(t)]),
) as { readonly [T in RecordType]: readonly Column[] };

/**
 * Builds a PostgreSQL array literal (`{"a","b",NULL}`) from text values. Every
 * element is quoted, so only `"` and `\` need escaping; the literal travels as
 * one text parameter and is cast to the column's array type in SQL.
 */
export function arrayLiteral(values: readonly (string | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    parts[i] =
      v === null || v === undefined ? 'NULL' : `"${/["\\]/.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`;
  }
  return `{${parts.join(',')}}`;
}

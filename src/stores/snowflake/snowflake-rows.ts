/**
 * Records <-> Snowflake values. Writes stage every column as text (one array
 * bind per column, all typed TEXT by the driver); reads get numbers as exact
 * strings (`fetchAsString: ['Number']`), timestamps as epoch milliseconds and
 * VARIANT as JSON text, so every field round-trips exactly and the record's
 * provenance hash verifies after a read.
 */
import { HubError } from '../../hub/errors';
import { parseDecimal } from '../../hub/decimal';
import { BODY_NOT_READ, type HubRecord, type RecordType } from '../../hub/model';
import type { ReadProjection } from '../../hub/store';
import { formatTimestamp } from '../../hub/time';
import { type Column, columnsOf, ntzText, readColumnsOf } from './snowflake-sql';

/** One staged row: every column as text or null, in {@link columnsOf} order. */
export function toStageRow(record: HubRecord): (string | null)[] {
  const fields = record as unknown as Record<string, unknown>;
  return columnsOf(record.record_type).map((c) => encodeStageValue(c, fields[c.field]));
}

/** One column's staged text (as {@link toStageRow} encodes it), or null for SQL NULL. */
export function encodeStageValue(c: Column, value: unknown): string | null {
  if (value === undefined || (value === null && c.kind !== 'json')) return null;
  switch (c.kind) {
    case 'int':
      return String(value);
    case 'timestamp':
      return ntzText(value as string);
    case 'json':
    case 'json_object':
      // JSON null is a value (VARIANT null), distinct from an absent field (SQL NULL).
      return JSON.stringify(value);
    case 'body':
      return Buffer.from(value as Uint8Array).toString('base64');
    default:
      return value as string;
  }
}

/**
 * Decodes one result row (array mode, {@link readColumnsOf} order for the
 * same projection) into a record; an artifact read without BODY gets
 * BODY_NOT_READ.
 */
export function fromRow(type: RecordType, row: readonly unknown[], projection?: ReadProjection): HubRecord {
  const out: Record<string, unknown> = {};
  readColumnsOf(type, projection).forEach((c, i) => {
    const v = row[i];
    if (v === null || v === undefined) return;
    out[c.field] = decode(c, v);
  });
  if (type === 'artifacts' && out.body === undefined) out.body = BODY_NOT_READ;
  return out as unknown as HubRecord;
}

function decode(c: Column, v: unknown): unknown {
  switch (c.kind) {
    case 'int':
      return Number(v);
    case 'decimal': {
      const d = parseDecimal(String(v));
      if (!d.ok) throw new HubError('INTERNAL', `stored ${c.field} is not a decimal: ${d.message}`);
      return d.value;
    }
    case 'timestamp':
      return formatTimestamp(Number(v));
    case 'json':
    case 'json_object':
      return JSON.parse(String(v)) as unknown;
    case 'body':
      return Buffer.isBuffer(v) ? Buffer.from(v) : Buffer.from(String(v), 'hex');
    default:
      return String(v);
  }
}

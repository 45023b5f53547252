/**
 * Scans (a copy reads every record of a tenant through them, page by page):
 * the statements of a page, and a row decoder per record type, built once,
 * that turns a row's column texts (select-list order, null for NULL) into the
 * record {@link recordFromRow} builds from the same row after the drivers'
 * type parsers (see {@link Statement.decode}). The general path spent more
 * CPU per record than the rest of the copier's read side: a row object
 * filled by name, a type parser call per column, then a second pass by
 * column kind.
 */
import { unreachable } from '../../hub/errors';
import { BODY_NOT_READ, type FieldKind, type RecordType } from '../../hub/model';
import type { ScanQuery } from '../../hub/store';
import type { TenantId } from '../../hub/tenant';
import { type Column, columnsOf } from './postgres-columns';
import { canonicalDbNumeric, scanStatement } from './postgres-sql';
import { type Row, type RowDecoder, type Statement, parseTimestamptz } from './queryable';

type TextDecoder = (text: string) => unknown;

const asIs: TextDecoder = (text) => text;
const asNumber: TextDecoder = (text) => Number(text);
const asJson: TextDecoder = (text) => JSON.parse(text) as unknown;
// Base64 text as the select list encodes bytea (selectListOf).
const asBytes: TextDecoder = (text) => Buffer.from(text, 'base64');

/**
 * The decoder of a column's text: what the driver's type parser and
 * recordFromRow's fromDb together make of it (int8 and numeric as text,
 * timestamptz in a UTC session, jsonb through JSON.parse, uuids selected as
 * text, bytea as base64).
 */
function decoderOf(kind: FieldKind | 'bytes'): TextDecoder {
  switch (kind) {
    case 'int':
      return asNumber;
    case 'decimal':
      return canonicalDbNumeric;
    case 'timestamp':
      return parseTimestamptz;
    case 'json':
    case 'json_object':
      return asJson;
    case 'bytes':
      return asBytes;
    case 'id':
    case 'uuid':
    case 'text':
    case 'enum':
    case 'sha256':
      return asIs;
    default:
      return unreachable(kind, 'field kind');
  }
}

/** One record type's columns, split as recordFromRow orders a record's fields. */
interface TypeDecoder {
  readonly recordId: number;
  readonly createdAt: number;
  readonly attributes: number;
  readonly provenanceHash: number;
  /** The other columns, in storage order: their positions, names and decoders. */
  readonly at: readonly number[];
  readonly names: readonly string[];
  readonly decoders: readonly TextDecoder[];
}

const ENVELOPE = new Set(['record_id', 'created_at', 'attributes', 'provenance_hash']);

function typeDecoder(columns: readonly Column[]): TypeDecoder {
  const index = (name: string): number => columns.findIndex((c) => c.name === name);
  const rest = columns.map((c, i) => ({ c, i })).filter(({ c }) => !ENVELOPE.has(c.name));
  return {
    recordId: index('record_id'),
    createdAt: index('created_at'),
    attributes: index('attributes'),
    provenanceHash: index('provenance_hash'),
    at: rest.map(({ i }) => i),
    names: rest.map(({ c }) => c.name),
    decoders: rest.map(({ c }) => decoderOf(c.kind)),
  };
}

const typeDecoders = new Map<RecordType, TypeDecoder>();

/**
 * The decoder of rows selected with every stored column of `type` in storage
 * order (the select list of {@link selectListOf} over `columnsOf(type)`),
 * making records of `tenant`. Each record has its fields in the order
 * recordFromRow gives them: record_id, tenant_id, record_type, created_at,
 * attributes when not null, the type's fields that are not null in storage
 * order, provenance_hash, and for artifacts the body (BODY_NOT_READ when the
 * row has none).
 * @throws HubError VALIDATION for an unknown type; SyntaxError (from the
 *   decoder, when called) for a jsonb text that is not JSON, HubError
 *   INTERNAL for a malformed numeric, RangeError for an unreadable timestamp.
 */
export function recordDecoder(tenant: TenantId, type: RecordType): RowDecoder {
  let d = typeDecoders.get(type);
  if (d === undefined) {
    d = typeDecoder(columnsOf(type));
    typeDecoders.set(type, d);
  }
  const { recordId, createdAt, attributes, provenanceHash, at, names, decoders } = d;
  const artifacts = type === 'artifacts';
  const n = at.length;
  return (texts) => {
    const rec: Row = {
      record_id: texts[recordId],
      tenant_id: tenant,
      record_type: type,
      created_at: parseTimestamptz(texts[createdAt] as string),
    };
    const attrs = texts[attributes];
    // jsonb `null` is as absent as SQL NULL (as in recordFromRow, which tests the parsed value).
    const parsed = attrs === null || attrs === undefined ? null : (JSON.parse(attrs) as unknown);
    if (parsed !== null) rec.attributes = parsed;
    for (let k = 0; k < n; k++) {
      const text = texts[at[k] as number];
      if (text === null || text === undefined) continue;
      const value = (decoders[k] as TextDecoder)(text);
      if (value !== null) rec[names[k] as string] = value;
    }
    rec.provenance_hash = texts[provenanceHash];
    if (artifacts && rec.body === undefined) rec.body = BODY_NOT_READ;
    return rec;
  };
}

/**
 * Sorting off for the scan's transaction: the page is then read from the
 * `(tenant_id, created_at, record_id)` index in page order, whatever the
 * table's statistics say. A tenant just written and not yet analysed looks
 * like a few hundred rows to the planner, which then fetched every row of
 * the tenant (a bitmap scan) and sorted them on disk for each page, the
 * first page of a copy included: on 50,000 outputs in pages of 10,000 the
 * server spent 4.6 µs of CPU per record, 1.5 µs with the index.
 */
const INDEX_ORDER: Statement = {
  sql: "SELECT set_config('enable_sort', 'off', true)",
  params: [],
  prepare: true,
};

/**
 * The statements of one scan page of `tenant`, to run in one transaction:
 * the second one's rows are the page's records, decoded by
 * {@link recordDecoder} (see scanStatement for the order and the keyset).
 */
export function scanStatements(tenant: TenantId, query: ScanQuery): readonly [Statement, Statement] {
  return [INDEX_ORDER, { ...scanStatement(tenant, query), decode: recordDecoder(tenant, query.type) }];
}

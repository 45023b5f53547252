/**
 * How records are laid out in a tenant's SharePoint site: one generic list
 * per record type, one document library for artifact bodies and oversized
 * record JSON, and the columns of each list.
 *
 * Every column has a pinned internal name made of letters only (`HubRecordId`),
 * created with `createfieldasxml` and option 8 (AddFieldInternalNameHint), so
 * SharePoint's `_x005f_` encoding of other characters never applies.
 *
 * Columns are Text (indexed where lists filter or order on them) plus one Note
 * column with the record's JSON: the JSON is the source of truth on reads, so
 * every field round-trips exactly and the provenance hash verifies. Timestamps
 * are Text in the canonical millisecond form (which sorts lexically in time
 * order), not DateTime: SharePoint's DateTime keeps whole seconds only.
 */
import type { RecordType } from '../../hub/model';
import type { ListFilter } from '../../hub/store';
import { TYPE_FILTERS, isFieldFilter } from '../../hub/filters';

/** Title of each type's list. */
export const LIST_TITLES: { readonly [T in RecordType]: string } = {
  outputs: 'HubOutputs',
  decisions: 'HubDecisions',
  governance_events: 'HubGovernanceEvents',
  artifacts: 'HubArtifacts',
  employee_profiles: 'HubEmployeeProfiles',
  telemetry_events: 'HubTelemetryEvents',
};

/** The document library of a tenant site (artifact bodies, oversized JSON). */
export const LIBRARY_TITLE = 'HubFiles';

/** A column of a list. */
export interface ColumnDef {
  readonly name: string;
  readonly type: 'Text' | 'Note';
  readonly indexed: boolean;
  readonly unique: boolean;
}

const col = (name: string, indexed = true, unique = false): ColumnDef => ({
  name,
  type: 'Text',
  indexed,
  unique,
});

/** Columns of every list. */
const COMMON: readonly ColumnDef[] = [
  col('HubRecordId', true, true),
  col('HubCreatedAt'),
  col('HubHash', false),
  // The putBatch call that wrote the item: tells our own earlier (ambiguous) attempt from another writer's.
  col('HubWriteId', false),
  { name: 'HubJson', type: 'Note', indexed: false, unique: false },
];

/**
 * Filter key -> column and record field. Every one is indexed (list view
 * threshold). Filters without a column here (`managerId`, and the derived
 * `team` and a decision's `employeeId`) are applied by the store in process,
 * so lists provisioned before they existed need no new column.
 */
export const FILTER_COLUMNS = {
  skillIds: { column: 'HubSkillId', field: 'skill_id' },
  employeeId: { column: 'HubEmployeeId', field: 'employee_id' },
  status: { column: 'HubStatus', field: 'status' },
  outcome: { column: 'HubOutcome', field: 'outcome' },
  severity: { column: 'HubSeverity', field: 'severity' },
  action: { column: 'HubAction', field: 'action' },
  outputId: { column: 'HubOutputId', field: 'output_id' },
} as const satisfies Record<
  Exclude<keyof ListFilter, 'from' | 'to' | 'team' | 'managerId'>,
  { column: string; field: string }
>;

type FilterKey = keyof typeof FILTER_COLUMNS;

const COLUMN_KEYS = Object.fromEntries(
  (Object.keys(TYPE_FILTERS) as RecordType[]).map((type) => [
    type,
    TYPE_FILTERS[type].filter((k): k is FilterKey => k in FILTER_COLUMNS && isFieldFilter(type, k)),
  ]),
) as unknown as { readonly [T in RecordType]: readonly FilterKey[] };

/** Every column of a type's list, in creation order. */
export function columnsOf(type: RecordType): ColumnDef[] {
  return [...COMMON, ...COLUMN_KEYS[type].map((k) => col(FILTER_COLUMNS[k].column))];
}

/** Filter keys a type's list has columns for (equalities on the record's own fields). */
export function filterKeysOf(type: RecordType): readonly FilterKey[] {
  return COLUMN_KEYS[type];
}

/** The `createfieldasxml` SchemaXml of a column. */
export function fieldXml(c: ColumnDef): string {
  const flags = [
    c.indexed ? ' Indexed="TRUE"' : '',
    c.unique ? ' EnforceUniqueValues="TRUE"' : '',
    c.type === 'Note' ? ' NumLines="6" RichText="FALSE" UnlimitedLengthInDocumentLibrary="TRUE"' : '',
  ].join('');
  return `<Field Type="${c.type}" Name="${c.name}" StaticName="${c.name}" DisplayName="${c.name}"${flags} />`;
}

/** `createfieldasxml` option pinning the internal name to `Name` (SP.AddFieldOptions.AddFieldInternalNameHint). */
export const ADD_FIELD_INTERNAL_NAME_HINT = 8;

/** A JSON longer than this goes to a file in the library, the Note column holding a pointer. */
export const MAX_INLINE_JSON = 60_000;

/** Quotes a string for an OData `$filter` literal. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

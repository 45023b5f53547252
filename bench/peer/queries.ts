/**
 * The four dashboard queries, as each server spells them, with the same
 * variables; how to normalise both answers for comparison; and the SQL the raw
 * `pg` floor runs (our store's own statements, so the floor is "the same SQL
 * without any GraphQL server in front").
 */
import type { TenantId } from '../../src/hub/tenant';
import { costPerSkillPreaggStatement } from '../../src/stores/postgres/postgres-preagg-sql';
import { costPerSkillWholeStatement } from '../../src/stores/postgres/postgres-preagg-whole';
import { getByIdsStatement, listStatement } from '../../src/stores/postgres/postgres-sql';
import type { Statement } from '../../src/stores/postgres/queryable';

/** What one request asks for: the caller's tenant and the query's arguments. */
export interface Variant {
  readonly tenant: TenantId;
  readonly id: string;
  readonly skill: string;
  /** Start of a range (inclusive) and its end (exclusive), canonical timestamps. */
  readonly from: string;
  readonly to: string;
}

/** A GraphQL request body. */
export interface GraphQLBody {
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

export interface PeerQuery {
  readonly name: string;
  readonly ours: (v: Variant) => GraphQLBody;
  readonly theirs: (v: Variant) => GraphQLBody;
  /** The part of each `data` that is compared (after {@link normalise}). */
  readonly pickOurs: (data: Record<string, unknown>) => unknown;
  readonly pickTheirs: (data: Record<string, unknown>) => unknown;
  /** The statement the raw floor runs in a tenant-scoped transaction. */
  readonly floor: (v: Variant) => Statement;
}

const OUTPUT_OURS = `id createdAt attributes provenance { hash } skillId employeeId invocationId model status
  inputTokens outputTokens costUsd latencyMs content`;
const OUTPUT_THEIRS = `recordId createdAt attributes provenanceHash skillId employeeId invocationId model status
  inputTokens outputTokens costUsd latencyMs content`;
const DECISION_OURS =
  'id createdAt attributes provenance { hash } outputId skillId decidedBy outcome rationale';
const DECISION_THEIRS =
  'recordId createdAt attributes provenanceHash outputId skillId decidedBy outcome rationale';
const TELEMETRY_OURS = `id createdAt attributes provenance { hash } name skillId employeeId durationMs costUsd
  inputTokens outputTokens properties`;
const TELEMETRY_THEIRS = `recordId createdAt attributes provenanceHash name skillId employeeId durationMs costUsd
  inputTokens outputTokens properties`;
const ROLLUP_FIELDS = `skillId bucketStart invocations failed totalCostUsd avgCostUsd inputTokens outputTokens
  p95LatencyMs`;
const NEWEST_FIRST = 'orderBy: [CREATED_AT_DESC, RECORD_ID_DESC]';

const get = (data: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string, unknown> | null | undefined)?.[k], data);

/** The queries, by name. */
export const QUERIES: readonly PeerQuery[] = [
  {
    name: 'output_by_id',
    ours: (v) => ({
      query: `query OutputById($id: ID!) { output(id: $id) { ${OUTPUT_OURS} } }`,
      variables: { id: v.id },
    }),
    theirs: (v) => ({
      query: `query OutputById($t: String!, $id: UUID!) { outputByTenantIdAndRecordId(tenantId: $t, recordId: $id) { ${OUTPUT_THEIRS} } }`,
      variables: { t: v.tenant, id: v.id },
    }),
    pickOurs: (d) => get(d, 'output'),
    pickTheirs: (d) => get(d, 'outputByTenantIdAndRecordId'),
    floor: (v) => getByIdsStatement(v.tenant, 'outputs', [v.id]),
  },
  {
    name: 'outputs_by_skill_with_decisions',
    ours: (v) => ({
      query: `query OutputsBySkill($skill: String!) { outputs(filter: { skillIds: [$skill] }, first: 50) {
  nodes { ${OUTPUT_OURS} decisions(first: 50) { nodes { ${DECISION_OURS} } } } } }`,
      variables: { skill: v.skill },
    }),
    theirs: (v) => ({
      query: `query OutputsBySkill($skill: String!) { allOutputs(condition: { skillId: $skill }, ${NEWEST_FIRST}, first: 50) {
  nodes { ${OUTPUT_THEIRS} decisions(${NEWEST_FIRST}, first: 50) { nodes { ${DECISION_THEIRS} } } } } }`,
      variables: { skill: v.skill },
    }),
    pickOurs: (d) => get(d, 'outputs', 'nodes'),
    pickTheirs: (d) => get(d, 'allOutputs', 'nodes'),
    floor: (v) => {
      // The page plus each output's decisions as JSON, in one statement. The
      // outputs' ids are joined as uuid (a text-to-uuid cast of an outer
      // column is not leakproof, so under RLS it could not use the index).
      return {
        sql: `SELECT l.*, (SELECT coalesce(json_agg(d), '[]') FROM (
  SELECT * FROM hub.decisions d WHERE d.tenant_id = $1 AND d.output_id = l.oid
  ORDER BY d.created_at DESC, d.record_id DESC LIMIT 50) d) AS decisions
FROM (SELECT o.record_id AS oid, o.* FROM hub.outputs o WHERE o.tenant_id = $1 AND o.skill_id = $2
  ORDER BY o.created_at DESC, o.record_id DESC LIMIT 50) l`,
        params: [v.tenant, v.skill],
      };
    },
  },
  {
    name: 'telemetry_page_time_range',
    ours: (v) => ({
      query: `query Telemetry($from: DateTime!, $to: DateTime!) { telemetryEvents(filter: { from: $from, to: $to }, first: 50) {
  nodes { ${TELEMETRY_OURS} } } }`,
      variables: { from: v.from, to: v.to },
    }),
    theirs: (v) => ({
      query: `query Telemetry($from: Datetime!, $to: Datetime!) { allTelemetryEvents(
  filter: { createdAt: { greaterThanOrEqualTo: $from, lessThan: $to } }, ${NEWEST_FIRST}, first: 50) {
  nodes { ${TELEMETRY_THEIRS} } } }`,
      variables: { from: v.from, to: v.to },
    }),
    pickOurs: (d) => get(d, 'telemetryEvents', 'nodes'),
    pickTheirs: (d) => get(d, 'allTelemetryEvents', 'nodes'),
    floor: (v) =>
      listStatement(v.tenant, { type: 'telemetry_events', filter: { from: v.from, to: v.to }, limit: 51 }),
  },
  {
    name: 'cost_per_skill_30d',
    ours: (v) => ({
      query: `query CostPerSkill($from: DateTime!, $to: DateTime!) { costPerSkill(from: $from, to: $to, bucket: DAY) { ${ROLLUP_FIELDS} } }`,
      variables: { from: v.from, to: addDays(v.from, 30) },
    }),
    theirs: (v) => ({
      query: `query CostPerSkill($from: Datetime!, $to: Datetime!) { costPerSkill(rangeStart: $from, rangeEnd: $to, bucket: "day") { nodes { ${ROLLUP_FIELDS} } } }`,
      variables: { from: v.from, to: addDays(v.from, 30) },
    }),
    pickOurs: (d) => get(d, 'costPerSkill'),
    pickTheirs: (d) => get(d, 'costPerSkill', 'nodes'),
    // The statement the store runs first: whole buckets from their cells (postgres-preagg-whole.ts).
    floor: (v) => {
      const q = { from: v.from, to: addDays(v.from, 30), bucket: 'DAY' } as const;
      return costPerSkillWholeStatement(v.tenant, q) ?? costPerSkillPreaggStatement(v.tenant, q);
    },
  },
];

/** `ts` plus `days` days, canonical. */
export function addDays(ts: string, days: number): string {
  return new Date(Date.parse(ts) + days * 86_400_000).toISOString();
}

const NUMBER_RE = /^-?\d+(\.\d+)?$/;
const TIMESTAMP_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

/** A decimal or integer in one canonical spelling (`2008`, `0.02507`), whatever its type on the wire. */
function canonicalNumber(text: string): string {
  if (!text.includes('.')) return text.replace(/^(-?)0+(?=\d)/, '$1');
  return text.replace(/\.?0+$/, '');
}

/**
 * Puts an answer from either server into one shape: `recordId` and `id` are
 * both `id`; `provenance { hash }` and `provenanceHash` are both
 * `provenanceHash`; numbers, numeric strings and BigInt strings compare by
 * value; timestamps compare as instants; object keys are sorted. JSON columns
 * (attributes, content, properties) are compared as given.
 */
export function normalise(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return null;
  if (key === 'attributes' || key === 'content' || key === 'properties') return sortKeys(value);
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (typeof value === 'number') return canonicalNumber(String(value));
  if (typeof value === 'string') {
    if (NUMBER_RE.test(value)) return canonicalNumber(value);
    if (TIMESTAMP_RE.test(value)) return new Date(value).toISOString();
    return value;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'provenance') out.provenanceHash = normalise(get(v, 'hash'));
      else if (k === 'recordId') out.id = normalise(v);
      else out[k] = normalise(v, k);
    }
    return sortKeys(out);
  }
  return value;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value as object)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

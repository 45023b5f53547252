/**
 * Shapes the GraphQL layer hands between resolvers (codegen's mappers point at
 * these) and the name mapping between GraphQL (camelCase) and the Hub's
 * storage names (snake_case).
 */
import type { RecordResult } from '../hub/hub';
import type { HubRecord, RecordType } from '../hub/model';
import type { CostPerSkillRow, ManagerDashboard } from '../hub/store';

/** A record whose provenance is being resolved. */
export type ProvenanceParent = HubRecord;

/** One record of a page with its own cursor. */
export interface EdgeParent {
  readonly cursor: string;
  readonly node: HubRecord;
}

/** Paging information of a page. */
export interface PageInfoParent {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly startCursor: string | null;
  readonly endCursor: string | null;
}

/** A page of one record type (cursors may be computed lazily, when `edges` is read). */
export interface ConnectionParent {
  readonly edges: readonly EdgeParent[];
  /** The page's records (read without building edges or their cursors). */
  readonly nodes: readonly HubRecord[];
  readonly pageInfo: PageInfoParent;
}

/** Outcome of one batch mutation. */
export interface BatchParent {
  readonly results: RecordResult[];
}

export type DashboardDecisionsParent = ManagerDashboard['decisions'];
export type GovernanceBySeverityParent = ManagerDashboard['governance_by_severity'];
export type DashboardSkillParent = ManagerDashboard['top_skills'][number];
export type DashboardMemberParent = ManagerDashboard['members'][number];

/**
 * A cost-per-skill row under its GraphQL field names. A rollup answers
 * hundreds of rows of nine scalars (30 days by day over 12 skills: 360); with
 * the Hub's storage names every one of those fields was a resolver call in
 * the compiled query (3,240 per request), under GraphQL's names graphql-jit
 * reads them inline: 0.35-0.41 -> 0.12-0.13 ms of execution for 360 rows.
 */
export interface CostPerSkillRowView {
  readonly skillId: string;
  readonly bucketStart: string;
  readonly invocations: number;
  readonly failed: number;
  readonly totalCostUsd: string;
  readonly avgCostUsd: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly p95LatencyMs: number | null;
}

/** `row` under its GraphQL field names (see {@link CostPerSkillRowView}). */
export function costPerSkillView(row: CostPerSkillRow): CostPerSkillRowView {
  return {
    skillId: row.skill_id,
    bucketStart: row.bucket_start,
    invocations: row.invocations,
    failed: row.failed,
    totalCostUsd: row.total_cost_usd,
    avgCostUsd: row.avg_cost_usd,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    p95LatencyMs: row.p95_latency_ms,
  };
}

/**
 * GraphQL object types whose parents carry the GraphQL field names (views
 * above), so their fields need no default resolver.
 */
export const VIEW_TYPES: ReadonlySet<string> = new Set(['CostPerSkillRow']);

/** GraphQL type name of each record type. */
export const GRAPHQL_TYPE_OF = {
  outputs: 'Output',
  decisions: 'Decision',
  governance_events: 'GovernanceEvent',
  artifacts: 'Artifact',
  employee_profiles: 'EmployeeProfile',
  telemetry_events: 'TelemetryEvent',
} as const satisfies { readonly [T in RecordType]: string };

const snakeCache = new Map<string, string>();

/** `costUsd` -> `cost_usd` (memoised: field names form a small closed set). */
export function toSnake(name: string): string {
  let s = snakeCache.get(name);
  if (s === undefined) {
    s = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeCache.set(name, s);
  }
  return s;
}

/** `cost_usd` -> `costUsd`. */
export function toCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** GraphQL input field names whose storage name is not plain snake_case. */
const INPUT_RENAMES: Readonly<Record<string, string>> = { id: 'record_id', bodyBase64: 'body' };
const OUTPUT_RENAMES: Readonly<Record<string, string>> = { record_id: 'id', body: 'bodyBase64' };

/**
 * Converts one GraphQL record input to the Hub's storage names. Only top-level
 * keys are renamed: `attributes`, `content` and `properties` are the caller's
 * own JSON and pass through untouched.
 */
export function inputToRecord(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    out[INPUT_RENAMES[key] ?? toSnake(key)] = value;
  }
  return out;
}

/**
 * Converts a Hub field path (storage names, e.g. `cost_usd` or
 * `attributes.team`) to the GraphQL input name of its first segment.
 */
export function issuePathToGraphQL(path: string): string {
  if (path === '') return path;
  const dot = path.search(/[.[]/);
  const head = dot < 0 ? path : path.slice(0, dot);
  const rest = dot < 0 ? '' : path.slice(dot);
  // Storage names never start with `_`: such a path (`__typename`) is already a GraphQL name.
  const mapped =
    OUTPUT_RENAMES[head] ?? (head.startsWith('filter') || head.startsWith('_') ? head : toCamel(head));
  return mapped + rest;
}

/**
 * A small dataset for the rollups whose expected results were worked out by
 * hand, not computed by the code under test: the figures, each with its
 * working, are in rollup-expected-cost.ts, rollup-expected-progression.ts and
 * rollup-expected-dashboard.ts. Calendar facts used: 2026-03-01 is a Sunday,
 * 2026-03-02 a Monday; February 2026 has 28 days.
 */
import type { RecordType } from '../../src/hub/model';
import type { RecordInput } from '../../src/hub/validate';
import { randomUUID } from 'node:crypto';

type Out = [
  id: string,
  createdAt: string,
  skill: string,
  employee: string,
  status: string,
  cost: string,
  inTok: number | null,
  outTok: number | null,
  latency: number | null,
];

/** Builds the dataset; ids are fresh per call so several tenants can hold copies. */
export function rollupFixture(): { [T in RecordType]?: RecordInput[] } {
  const id: Record<string, string> = {};
  const uid = (k: string): string => (id[k] ??= randomUUID());
  const outputs: Out[] = [
    ['o1', '2026-03-01T23:59:59.999Z', 'A', 'e1', 'SUCCEEDED', '0.1', 100, 50, 100],
    ['o2', '2026-03-02T00:00:00.000Z', 'A', 'e1', 'FAILED', '0.2', 10, 0, 200],
    ['o3', '2026-03-02T10:00:00.000Z', 'A', 'e2', 'SUCCEEDED', '0.000002', 5, 5, null],
    ['o4', '2026-03-03T12:00:00.000Z', 'A', 'e2', 'BLOCKED', '0.3', 0, 0, 300],
    ['o5', '2026-03-04T00:00:00.000Z', 'B', 'e3', 'SUCCEEDED', '1.5', 1000, 2000, 50],
    ['o6', '2026-03-08T23:00:00.000Z', 'B', 'e1', 'SUCCEEDED', '0.5', 1, 1, null],
    ['o7', '2026-03-09T00:00:00.000Z', 'A', 'e3', 'SUCCEEDED', '0.333333', 1, 1, 400],
    ['o8', '2026-04-01T00:00:00.000Z', 'B', 'e1', 'SUCCEEDED', '2', null, null, 10],
    ['o9', '2026-05-01T00:00:00.000Z', 'C', 'e4', 'SUCCEEDED', '0.000001', null, null, 1],
    ['o10', '2026-05-01T01:00:00.000Z', 'C', 'e4', 'SUCCEEDED', '0', null, null, 2],
    ['o11', '2026-03-20T00:00:00.000Z', 'C', 'e5', 'SUCCEEDED', '0.25', null, null, 5],
    ['o12', '2026-03-21T00:00:00.000Z', 'C', 'e5', 'SUCCEEDED', '0.25', null, null, null],
    // Manager m3's single report e9 uses six skills in June: top_skills keeps five.
    ['s1a', '2026-06-02T00:00:00.000Z', 's1', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s1b', '2026-06-03T00:00:00.000Z', 's1', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s1c', '2026-06-04T00:00:00.000Z', 's1', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s2a', '2026-06-02T00:00:00.000Z', 's2', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s2b', '2026-06-03T00:00:00.000Z', 's2', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s6a', '2026-06-02T00:00:00.000Z', 's6', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s5a', '2026-06-02T00:00:00.000Z', 's5', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s4a', '2026-06-02T00:00:00.000Z', 's4', 'e9', 'SUCCEEDED', '1', null, null, null],
    ['s3a', '2026-06-02T00:00:00.000Z', 's3', 'e9', 'SUCCEEDED', '1', null, null, null],
  ];
  const profiles: [string, string, string, string, string | null, string][] = [
    // employee, effective_at, archetype, level, manager, display name
    ['m1', '2025-06-01T00:00:00.000Z', 'lead', 'L4', null, 'Margaret'],
    ['e1', '2026-01-01T00:00:00.000Z', 'analyst', 'L1', 'm1', 'Ada'],
    ['e1', '2026-03-01T00:00:00.000Z', 'analyst', 'L2', 'm1', 'Ada'],
    ['e1', '2026-04-15T00:00:00.000Z', 'analyst', 'L2', 'm2', 'Ada'],
    ['e2', '2026-02-01T00:00:00.000Z', 'analyst', 'L1', 'm1', 'Grace'],
    ['e2', '2026-03-15T12:00:00.000Z', 'analyst', 'L2', 'm1', 'Grace'],
    ['e3', '2026-01-10T00:00:00.000Z', 'engineer', 'L1', 'm1', 'Linus'],
    ['e3', '2026-02-10T00:00:00.000Z', 'engineer', 'L1', 'm1', 'Linus'],
    ['e3', '2026-03-20T00:00:00.000Z', 'engineer', 'L2', 'm1', 'Linus'],
    ['e4', '2026-01-01T00:00:00.000Z', 'analyst', 'L1', 'm2', 'Edsger'],
    ['e4', '2026-03-05T00:00:00.000Z', 'analyst', 'L2', 'm2', 'Edsger'],
    ['e4', '2026-03-25T00:00:00.000Z', 'analyst', 'L3', 'm2', 'Edsger'],
    ['e5', '2026-01-01T00:00:00.000Z', 'analyst', 'L2', 'm1', 'Barbara'],
    ['e7', '2026-02-01T00:00:00.000Z', 'analyst', 'L1', 'm2', 'Alan'],
    ['e7', '2026-03-12T08:00:00.000Z', 'analyst', 'L2', 'm2', 'Alan'],
    ['e8', '2026-01-01T00:00:00.000Z', 'engineer', 'L1', 'm2', 'Dennis'],
    ['e8', '2026-03-02T00:00:00.000Z', 'engineer', 'L2', 'm2', 'Dennis'],
    ['e8', '2026-03-03T00:00:00.000Z', 'engineer', 'L1', 'm2', 'Dennis'],
    ['e8', '2026-03-04T00:00:00.000Z', 'engineer', 'L2', 'm2', 'Dennis'],
    ['e9', '2026-01-01T00:00:00.000Z', 'support', 'L1', 'm3', 'Frances'],
  ];
  const decisions: [string, string, string][] = [
    // created_at, output key, outcome
    ['2026-03-02T01:00:00.000Z', 'o1', 'ACCEPTED'],
    ['2026-03-02T02:00:00.000Z', 'o2', 'REJECTED'],
    ['2026-03-03T00:00:00.000Z', 'o3', 'ACCEPTED'],
    ['2026-03-05T00:00:00.000Z', 'o5', 'ESCALATED'],
    ['2026-02-28T23:59:59.999Z', 'o1', 'ACCEPTED'], // before the range
    ['2026-03-06T00:00:00.000Z', 'o9', 'ACCEPTED'], // e4 is not in m1's team
    ['2026-03-07T00:00:00.000Z', 'missing', 'ACCEPTED'], // output does not exist
    ['2026-03-31T23:59:59.999Z', 'o7', 'EDITED'],
    ['2026-03-09T00:00:00.000Z', 'o6', 'EDITED'],
  ];
  const governance: [string, string | null, string][] = [
    ['2026-03-02T00:00:00.000Z', 'e1', 'HIGH'],
    ['2026-03-03T00:00:00.000Z', 'e2', 'LOW'],
    ['2026-03-04T00:00:00.000Z', 'e1', 'HIGH'],
    ['2026-03-05T00:00:00.000Z', 'e4', 'CRITICAL'], // not in the team
    ['2026-02-27T00:00:00.000Z', 'e1', 'INFO'], // before the range
    ['2026-03-06T00:00:00.000Z', null, 'MEDIUM'], // no employee
    ['2026-03-07T00:00:00.000Z', 'e5', 'INFO'],
  ];
  return {
    outputs: outputs.map(
      ([k, created_at, skill_id, employee_id, status, cost_usd, inTok, outTok, latency]) => ({
        record_id: uid(k),
        created_at,
        skill_id,
        employee_id,
        status,
        cost_usd,
        input_tokens: inTok,
        output_tokens: outTok,
        latency_ms: latency,
      }),
    ),
    employee_profiles: profiles.map(
      ([employee_id, effective_at, archetype, level, manager_id, display_name]) => ({
        created_at: effective_at,
        employee_id,
        effective_at,
        archetype,
        level,
        manager_id,
        display_name,
      }),
    ),
    decisions: decisions.map(([created_at, out, outcome]) => ({
      created_at,
      output_id: uid(out),
      skill_id: 'A',
      decided_by: 'reviewer',
      outcome,
    })),
    governance_events: governance.map(([created_at, employee_id, severity]) => ({
      created_at,
      employee_id,
      severity,
      policy_id: 'policy',
      action: 'FLAGGED',
    })),
  };
}

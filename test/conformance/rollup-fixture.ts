/**
 * A small dataset for the rollups whose expected results were worked out by
 * hand (see the comments next to each figure), not computed by the code under
 * test. Calendar facts used: 2026-03-01 is a Sunday, 2026-03-02 a Monday;
 * February 2026 has 28 days.
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

const W = '2026-03-02T00:00:00.000Z';

/** costPerSkill WEEK over [2026-03-02, 2026-03-09): o2..o6 (o1 before, o7 at the exclusive end). */
export const EXPECT_WEEK = [
  // A: o2, o3, o4; failed o2 + o4; 0.2 + 0.000002 + 0.3 = 0.500002; /3 = 0.1666673.. -> 0.166667;
  // latencies [200, 300] (o3 null): position 0.95 -> 200 + 0.95 * 100 = 295
  {
    skill_id: 'A',
    bucket_start: W,
    invocations: 3,
    failed: 2,
    total_cost_usd: '0.500002',
    avg_cost_usd: '0.166667',
    input_tokens: 15,
    output_tokens: 5,
    p95_latency_ms: 295,
  },
  // B: o5, o6 (Sunday 23:00 is still the week of Monday 2 March); latencies [50]
  {
    skill_id: 'B',
    bucket_start: W,
    invocations: 2,
    failed: 0,
    total_cost_usd: '2',
    avg_cost_usd: '1',
    input_tokens: 1001,
    output_tokens: 2001,
    p95_latency_ms: 50,
  },
];

/** costPerSkill DAY over [2026-03-01, 2026-03-10). */
export const EXPECT_DAY = [
  {
    skill_id: 'A',
    bucket_start: '2026-03-01T00:00:00.000Z',
    invocations: 1,
    failed: 0,
    total_cost_usd: '0.1',
    avg_cost_usd: '0.1',
    input_tokens: 100,
    output_tokens: 50,
    p95_latency_ms: 100,
  },
  // o2 + o3: (0.2 + 0.000002) / 2 = 0.100001; latencies [200]
  {
    skill_id: 'A',
    bucket_start: '2026-03-02T00:00:00.000Z',
    invocations: 2,
    failed: 1,
    total_cost_usd: '0.200002',
    avg_cost_usd: '0.100001',
    input_tokens: 15,
    output_tokens: 5,
    p95_latency_ms: 200,
  },
  {
    skill_id: 'A',
    bucket_start: '2026-03-03T00:00:00.000Z',
    invocations: 1,
    failed: 1,
    total_cost_usd: '0.3',
    avg_cost_usd: '0.3',
    input_tokens: 0,
    output_tokens: 0,
    p95_latency_ms: 300,
  },
  {
    skill_id: 'B',
    bucket_start: '2026-03-04T00:00:00.000Z',
    invocations: 1,
    failed: 0,
    total_cost_usd: '1.5',
    avg_cost_usd: '1.5',
    input_tokens: 1000,
    output_tokens: 2000,
    p95_latency_ms: 50,
  },
  // only latency is null -> p95 null
  {
    skill_id: 'B',
    bucket_start: '2026-03-08T00:00:00.000Z',
    invocations: 1,
    failed: 0,
    total_cost_usd: '0.5',
    avg_cost_usd: '0.5',
    input_tokens: 1,
    output_tokens: 1,
    p95_latency_ms: null,
  },
  {
    skill_id: 'A',
    bucket_start: '2026-03-09T00:00:00.000Z',
    invocations: 1,
    failed: 0,
    total_cost_usd: '0.333333',
    avg_cost_usd: '0.333333',
    input_tokens: 1,
    output_tokens: 1,
    p95_latency_ms: 400,
  },
];

/** costPerSkill MONTH over [2026-01-01, 2026-05-01). */
export const EXPECT_MONTH = [
  // A in March: o1 o2 o3 o4 o7 = 0.1 + 0.2 + 0.000002 + 0.3 + 0.333333 = 0.933335; /5 = 0.186667;
  // tokens in 100+10+5+0+1 = 116, out 50+0+5+0+1 = 56; latencies [100,200,300,400]:
  // position 0.95 * 3 = 2.85 -> 300 + 0.85 * 100 = 385
  {
    skill_id: 'A',
    bucket_start: '2026-03-01T00:00:00.000Z',
    invocations: 5,
    failed: 2,
    total_cost_usd: '0.933335',
    avg_cost_usd: '0.186667',
    input_tokens: 116,
    output_tokens: 56,
    p95_latency_ms: 385,
  },
  {
    skill_id: 'B',
    bucket_start: '2026-03-01T00:00:00.000Z',
    invocations: 2,
    failed: 0,
    total_cost_usd: '2',
    avg_cost_usd: '1',
    input_tokens: 1001,
    output_tokens: 2001,
    p95_latency_ms: 50,
  },
  // C in March: o11, o12 (tokens default to 0); latencies [5]
  {
    skill_id: 'C',
    bucket_start: '2026-03-01T00:00:00.000Z',
    invocations: 2,
    failed: 0,
    total_cost_usd: '0.5',
    avg_cost_usd: '0.25',
    input_tokens: 0,
    output_tokens: 0,
    p95_latency_ms: 5,
  },
  {
    skill_id: 'B',
    bucket_start: '2026-04-01T00:00:00.000Z',
    invocations: 1,
    failed: 0,
    total_cost_usd: '2',
    avg_cost_usd: '2',
    input_tokens: 0,
    output_tokens: 0,
    p95_latency_ms: 10,
  },
];

/**
 * costPerSkill DAY over [2026-05-01, 2026-05-02), skill C: o9 + o10.
 * avg 0.000001 / 2 = 0.0000005 -> half away from zero -> 0.000001.
 * latencies [1, 2]: 1 + 0.95 = 1.95 -> one place, half away -> 2 (binary floating point would give 1.9).
 */
export const EXPECT_ROUNDING = [
  {
    skill_id: 'C',
    bucket_start: '2026-05-01T00:00:00.000Z',
    invocations: 2,
    failed: 0,
    total_cost_usd: '0.000001',
    avg_cost_usd: '0.000001',
    input_tokens: 0,
    output_tokens: 0,
    p95_latency_ms: 2,
  },
];

/**
 * archetypeProgression over [2026-03-01, 2026-04-01).
 * analyst L1->L2: e1 59 days (Jan 1 -> Mar 1, the inclusive lower bound), e2 42.5 (Feb 1 -> Mar 15 12:00),
 *   e4 63 (Jan 1 -> Mar 5), e7 39.333.. (Feb 1 -> Mar 12 08:00); median of 4 = (42.5 + 59) / 2 = 50.75.
 * analyst L2->L3: e4 20 (Mar 5 -> Mar 25).
 * engineer L1->L2: e3 38 (from its second L1 version Feb 10, not the first), e8 60 (Jan 1 -> Mar 2) and
 *   e8 again 1 (Mar 3 -> Mar 4): 3 transitions by 2 employees, median 38.
 * engineer L2->L1: e8 1 (Mar 2 -> Mar 3). e5 (one version) and e1's manager change make no rows.
 */
export const EXPECT_PROGRESSION = [
  {
    archetype: 'analyst',
    from_level: 'L1',
    to_level: 'L2',
    transitions: 4,
    employees: 4,
    median_days: 50.75,
  },
  { archetype: 'analyst', from_level: 'L2', to_level: 'L3', transitions: 1, employees: 1, median_days: 20 },
  { archetype: 'engineer', from_level: 'L1', to_level: 'L2', transitions: 3, employees: 2, median_days: 38 },
  { archetype: 'engineer', from_level: 'L2', to_level: 'L1', transitions: 1, employees: 1, median_days: 1 },
];

/** analyst over [2026-03-10, 2026-04-01): e2 42.5 and e7 39.333..: median 40.91666.. -> 40.92; e4 L2->L3 20. */
export const EXPECT_PROGRESSION_ANALYST_LATE = [
  {
    archetype: 'analyst',
    from_level: 'L1',
    to_level: 'L2',
    transitions: 2,
    employees: 2,
    median_days: 40.92,
  },
  { archetype: 'analyst', from_level: 'L2', to_level: 'L3', transitions: 1, employees: 1, median_days: 20 },
];

/**
 * managerDashboard m1 over [2026-03-01, 2026-04-01). Team as of Apr 1: e1 (its Apr 15 move to m2 is later),
 * e2, e3, e5. Outputs in range: o1 o2 o6 (e1), o3 o4 (e2), o5 o7 (e3), o11 o12 (e5) = 9; failed o2, o4;
 * cost 0.1+0.2+0.5 + 0.000002+0.3 + 1.5+0.333333 + 0.25+0.25 = 3.433335.
 * Decisions in range on team outputs: o1 ACCEPTED, o2 REJECTED, o3 ACCEPTED, o5 ESCALATED, o7 EDITED,
 * o6 EDITED = 6; accepted 2 -> 0.3333. Governance of team members in range: HIGH e1 x2, LOW e2, INFO e5.
 * Top skills: A (o1 o2 o3 o4 o7) 5 / 0.933335, then B and C tie at 2 and order by id.
 */
export const EXPECT_DASHBOARD_M1 = {
  manager_id: 'm1',
  invocations: 9,
  failed: 2,
  total_cost_usd: '3.433335',
  decisions: { accepted: 2, total: 6, acceptance_rate: 0.3333, escalations: 1 },
  governance_by_severity: { INFO: 1, LOW: 1, MEDIUM: 0, HIGH: 2, CRITICAL: 0 },
  top_skills: [
    { skill_id: 'A', invocations: 5, total_cost_usd: '0.933335' },
    { skill_id: 'B', invocations: 2, total_cost_usd: '2' },
    { skill_id: 'C', invocations: 2, total_cost_usd: '0.5' },
  ],
  members: [
    {
      employee_id: 'e1',
      display_name: 'Ada',
      archetype: 'analyst',
      level: 'L2',
      invocations: 3,
      total_cost_usd: '0.8',
    },
    {
      employee_id: 'e2',
      display_name: 'Grace',
      archetype: 'analyst',
      level: 'L2',
      invocations: 2,
      total_cost_usd: '0.300002',
    },
    {
      employee_id: 'e3',
      display_name: 'Linus',
      archetype: 'engineer',
      level: 'L2',
      invocations: 2,
      total_cost_usd: '1.833333',
    },
    {
      employee_id: 'e5',
      display_name: 'Barbara',
      archetype: 'analyst',
      level: 'L2',
      invocations: 2,
      total_cost_usd: '0.5',
    },
  ],
};

/** m3 over June 2026: e9 used s1 x3, s2 x2, s3..s6 x1; top five by count then id: s1 s2 s3 s4 s5. */
export const EXPECT_TOP_SKILLS_M3 = [
  { skill_id: 's1', invocations: 3, total_cost_usd: '3' },
  { skill_id: 's2', invocations: 2, total_cost_usd: '2' },
  { skill_id: 's3', invocations: 1, total_cost_usd: '1' },
  { skill_id: 's4', invocations: 1, total_cost_usd: '1' },
  { skill_id: 's5', invocations: 1, total_cost_usd: '1' },
];

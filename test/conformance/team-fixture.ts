/**
 * Expected figures of the dashboard queries (test/conformance/cases/team.ts)
 * on the rollup fixture (rollup-fixture.ts), worked out by hand from its
 * tables. Teams: as of Apr 1, m1 = e1 e2 e3 e5, m2 = e4 e7 e8, m3 = e9; on
 * Apr 15 e1 moves to m2, so as of Apr 16 (or May 2) m1 = e2 e3 e5 and
 * m2 = e1 e4 e7 e8.
 */

const row = (
  skill_id: string,
  month: string,
  invocations: number,
  failed: number,
  total_cost_usd: string,
  avg_cost_usd: string,
  input_tokens: number,
  output_tokens: number,
  p95_latency_ms: number | null,
) => ({
  skill_id,
  bucket_start: `2026-${month}-01T00:00:00.000Z`,
  invocations,
  failed,
  total_cost_usd,
  avg_cost_usd,
  input_tokens,
  output_tokens,
  p95_latency_ms,
});

/**
 * costPerSkill MONTH over [Mar 1, May 2), team m2 as of May 2 (e1 e4 e7 e8): e1's March outputs count
 * because the team is taken as of `to`.
 * March A: o1 0.1 + o2 0.2 (FAILED) = 0.3, avg 0.15, tokens 110/50, latencies [100, 200] -> 100 + 0.95*100 = 195.
 * March B: o6 0.5, no latency. April B: o8 2, latency 10.
 * May C: o9 0.000001 + o10 0 -> avg 0.0000005 rounds half away to 0.000001; latencies [1, 2] -> 1.95 -> 2.
 */
export const EXPECT_COST_M2_MAY = [
  row('A', '03', 2, 1, '0.3', '0.15', 110, 50, 195),
  row('B', '03', 1, 0, '0.5', '0.5', 1, 1, null),
  row('B', '04', 1, 0, '2', '2', 0, 0, 10),
  row('C', '05', 2, 0, '0.000001', '0.000001', 0, 0, 2),
];

/**
 * Same range, team m1 as of May 2 (e2 e3 e5).
 * March A: o3 0.000002 + o4 0.3 (BLOCKED) + o7 0.333333 = 0.633335, /3 = 0.2111116.. -> 0.211112; tokens 6/6;
 * latencies [300, 400] (o3 none) -> 395. March B: o5 1.5, 1000/2000, latency 50. March C: o11 + o12 = 0.5,
 * avg 0.25, latency [5].
 */
export const EXPECT_COST_M1_MAY = [
  row('A', '03', 3, 1, '0.633335', '0.211112', 6, 6, 395),
  row('B', '03', 1, 0, '1.5', '1.5', 1000, 2000, 50),
  row('C', '03', 2, 0, '0.5', '0.25', 0, 0, 5),
];

/** Same range, team m2 taken as of Apr 1 instead (e4 e7 e8): only e4's May outputs. */
export const EXPECT_COST_M2_APRIL_TEAM = [row('C', '05', 2, 0, '0.000001', '0.000001', 0, 0, 2)];

/**
 * archetypeProgression over March, team m2 as of Apr 1 (e4 e7 e8).
 * analyst L1->L2: e4 63 days (Jan 1 -> Mar 5), e7 39.333.. (Feb 1 -> Mar 12 08:00): median 51.1666.. -> 51.17.
 * analyst L2->L3: e4 20. engineer L1->L2: e8 60 (Jan 1 -> Mar 2) and 1 (Mar 3 -> Mar 4): 2 by 1 employee,
 * median 30.5. engineer L2->L1: e8 1.
 */
export const EXPECT_PROGRESSION_M2 = [
  {
    archetype: 'analyst',
    from_level: 'L1',
    to_level: 'L2',
    transitions: 2,
    employees: 2,
    median_days: 51.17,
  },
  { archetype: 'analyst', from_level: 'L2', to_level: 'L3', transitions: 1, employees: 1, median_days: 20 },
  {
    archetype: 'engineer',
    from_level: 'L1',
    to_level: 'L2',
    transitions: 2,
    employees: 1,
    median_days: 30.5,
  },
  { archetype: 'engineer', from_level: 'L2', to_level: 'L1', transitions: 1, employees: 1, median_days: 1 },
];

/** Team m1 as of Apr 1 (e1 e2 e3 e5): analyst L1->L2 e1 59 and e2 42.5 -> 50.75; engineer L1->L2 e3 38. */
export const EXPECT_PROGRESSION_M1 = [
  {
    archetype: 'analyst',
    from_level: 'L1',
    to_level: 'L2',
    transitions: 2,
    employees: 2,
    median_days: 50.75,
  },
  { archetype: 'engineer', from_level: 'L1', to_level: 'L2', transitions: 1, employees: 1, median_days: 38 },
];

/** Managers as of Apr 1; only m1 has a profile of their own (display name Margaret). */
export const EXPECT_MANAGERS_APR1 = [
  { manager_id: 'm1', display_name: 'Margaret', team_size: 4 },
  { manager_id: 'm2', display_name: null, team_size: 3 },
  { manager_id: 'm3', display_name: null, team_size: 1 },
];

/** As of Apr 16: e1 has moved from m1 to m2. */
export const EXPECT_MANAGERS_APR16 = [
  { manager_id: 'm1', display_name: 'Margaret', team_size: 3 },
  { manager_id: 'm2', display_name: null, team_size: 4 },
  { manager_id: 'm3', display_name: null, team_size: 1 },
];

/** As of Jan 2: versions in effect (effective_at < Jan 2) are m1's own, e1 e5 (m1), e4 e8 (m2), e9 (m3). */
export const EXPECT_MANAGERS_JAN2 = [
  { manager_id: 'm1', display_name: 'Margaret', team_size: 2 },
  { manager_id: 'm2', display_name: null, team_size: 2 },
  { manager_id: 'm3', display_name: null, team_size: 1 },
];

/** Skills over March: A o1 o2 o3 o4 o7 = 0.933335; B o5 o6 = 2; C o11 o12 = 0.5. */
export const EXPECT_SKILLS_MARCH = [
  { skill_id: 'A', invocations: 5, total_cost_usd: '0.933335' },
  { skill_id: 'B', invocations: 2, total_cost_usd: '2' },
  { skill_id: 'C', invocations: 2, total_cost_usd: '0.5' },
];

/** Skills over [Mar 1, May 2) of team m2 as of May 2: A o1 o2 = 0.3; B o6 o8 = 2.5; C o9 o10 = 0.000001. */
export const EXPECT_SKILLS_M2_TO_MAY2 = [
  { skill_id: 'A', invocations: 2, total_cost_usd: '0.3' },
  { skill_id: 'B', invocations: 2, total_cost_usd: '2.5' },
  { skill_id: 'C', invocations: 2, total_cost_usd: '0.000001' },
];

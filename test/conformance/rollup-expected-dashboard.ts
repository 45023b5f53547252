/**
 * managerDashboard on the rollup fixture (rollup-fixture.ts), worked out by
 * hand (the working is next to each figure), not computed by the code under
 * test.
 */

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

/**
 * archetypeProgression on the rollup fixture (rollup-fixture.ts), worked out
 * by hand (the working is next to each figure), not computed by the code under
 * test. February 2026 has 28 days.
 */

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

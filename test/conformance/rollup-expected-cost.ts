/**
 * costPerSkill on the rollup fixture (rollup-fixture.ts), worked out by hand
 * (the working is next to each figure), not computed by the code under test.
 * Calendar facts used: 2026-03-01 is a Sunday, 2026-03-02 a Monday; weeks
 * start on Monday; `to` is exclusive.
 */

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

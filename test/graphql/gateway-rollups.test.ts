/**
 * End to end over HTTP against a real gateway on the memory store: the three
 * rollups (costPerSkill, archetypeProgression, managerDashboard) equal the Hub
 * service's results field by field, and their argument errors are VALIDATION.
 */
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { type TestGateway, startGateway } from './harness';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

describe('rollups', () => {
  const tenant = 'rollup-co';
  let t: string;
  beforeAll(async () => {
    t = await gw.token(tenant, ['hub:read']);
    const data = generateDataset({ days: 21, managers: 2, teamSize: 4, outputsPerDay: 12, artifacts: false });
    for (const [type, records] of Object.entries(data)) {
      if (records.length > 0) await gw.gateway.hub.record(parseTenantId(tenant), type as never, records);
    }
  });

  test('the three rollups equal the Hub service results, field by field', async () => {
    const hub = gw.gateway.hub;
    const tid = parseTenantId(tenant);
    const from = '2026-01-05T00:00:00.000Z';
    const to = '2026-01-26T00:00:00.000Z';
    const res = await gw.gql(
      t,
      `query($from: DateTime!, $to: DateTime!) {
        costPerSkill(from: $from, to: $to, bucket: WEEK) { skillId bucketStart invocations failed totalCostUsd avgCostUsd inputTokens outputTokens p95LatencyMs }
        archetypeProgression(from: "2020-01-01T00:00:00Z", to: $to) { archetype fromLevel toLevel transitions employees medianDays }
        managerDashboard(managerId: "mgr-000", from: $from, to: $to) { managerId invocations failed totalCostUsd
          decisions { accepted total acceptanceRate escalations } governanceBySeverity { INFO LOW MEDIUM HIGH CRITICAL }
          topSkills { skillId invocations totalCostUsd } members { employeeId displayName archetype level invocations totalCostUsd } } }`,
      { from, to },
    );
    expect(res.body.errors).toBeUndefined();
    const cps = await hub.costPerSkill(tid, { from, to, bucket: 'WEEK' });
    expect(cps.length).toBeGreaterThan(0);
    expect(res.body.data?.costPerSkill).toEqual(
      cps.map((r) => ({
        skillId: r.skill_id,
        bucketStart: r.bucket_start,
        invocations: r.invocations,
        failed: r.failed,
        totalCostUsd: r.total_cost_usd,
        avgCostUsd: r.avg_cost_usd,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        p95LatencyMs: r.p95_latency_ms,
      })),
    );
    const prog = await hub.archetypeProgression(tid, { from: '2020-01-01T00:00:00Z', to });
    expect(prog.length).toBeGreaterThan(0);
    expect(res.body.data?.archetypeProgression).toEqual(
      prog.map((r) => ({
        archetype: r.archetype,
        fromLevel: r.from_level,
        toLevel: r.to_level,
        transitions: r.transitions,
        employees: r.employees,
        medianDays: r.median_days,
      })),
    );
    const dash = await hub.managerDashboard(tid, { managerId: 'mgr-000', from, to });
    expect(dash.invocations).toBeGreaterThan(0);
    expect(res.body.data?.managerDashboard).toEqual({
      managerId: 'mgr-000',
      invocations: dash.invocations,
      failed: dash.failed,
      totalCostUsd: dash.total_cost_usd,
      decisions: {
        accepted: dash.decisions.accepted,
        total: dash.decisions.total,
        acceptanceRate: dash.decisions.acceptance_rate,
        escalations: dash.decisions.escalations,
      },
      governanceBySeverity: dash.governance_by_severity,
      topSkills: dash.top_skills.map((s) => ({
        skillId: s.skill_id,
        invocations: s.invocations,
        totalCostUsd: s.total_cost_usd,
      })),
      members: dash.members.map((m) => ({
        employeeId: m.employee_id,
        displayName: m.display_name,
        archetype: m.archetype,
        level: m.level,
        invocations: m.invocations,
        totalCostUsd: m.total_cost_usd,
      })),
    });
  });

  test('rollup argument errors are VALIDATION', async () => {
    const res = await gw.gql(
      t,
      `{ costPerSkill(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z", bucket: DAY) { skillId } }`,
    );
    expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    const bad = await gw.gql(
      t,
      `{ costPerSkill(from: "yesterday", to: "2026-01-01T00:00:00Z", bucket: DAY) { skillId } }`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  });
});

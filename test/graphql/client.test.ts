/**
 * The typed client package (@hub-gateway/client, built from
 * packages/hub-client) runs every dashboard operation against a real
 * gateway; the assignments below are checked by `tsc` against the generated
 * types, so a schema change that breaks a dashboard fails the typecheck.
 * (test/graphql/client-package.test.ts installs it from its tarball.)
 */
import {
  ArchetypeProgressionDocument,
  type ArchetypeProgressionQuery,
  CostPerSkillDocument,
  EmployeeWithReportsDocument,
  HubClientError,
  ManagerDashboardDocument,
  type ManagerDashboardQuery,
  ManagersDocument,
  SkillsDocument,
  TeamDecisionsDocument,
  TeamGovernanceEventsDocument,
  TeamOutputsDocument,
  createHubClient,
  routingOf,
} from '@hub-gateway/client';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { type TestGateway, startGateway } from './harness';

let gw: TestGateway;
const from = '2026-01-05T00:00:00.000Z';
const to = '2026-02-05T00:00:00.000Z';
beforeAll(async () => {
  gw = await startGateway();
  const data = generateDataset({ days: 31, managers: 2, teamSize: 4, outputsPerDay: 10, artifacts: false });
  for (const [type, records] of Object.entries(data)) {
    if (records.length > 0) await gw.gateway.hub.record(parseTenantId('demo'), type as never, records);
  }
});
afterAll(async () => gw.close());

test('runs the dashboard operations with typed results', async () => {
  const client = createHubClient({ url: `${gw.url}/graphql`, token: await gw.token('demo', ['hub:read']) });

  const dash: ManagerDashboardQuery = await client.request(ManagerDashboardDocument, {
    managerId: 'mgr-000',
    from,
    to,
  });
  expect(dash.managerDashboard.members).toHaveLength(4);
  expect(dash.managerDashboard.invocations).toBeGreaterThan(0);
  const rate: number | null = dash.managerDashboard.decisions.acceptanceRate;
  expect(rate === null || (rate >= 0 && rate <= 1)).toBe(true);

  const cost = await client.request(CostPerSkillDocument, { from, to, bucket: 'WEEK' });
  expect(cost.costPerSkill.length).toBeGreaterThan(0);
  const total: string = cost.costPerSkill[0]?.totalCostUsd ?? '';
  expect(total).toMatch(/^\d+(\.\d+)?$/);

  const prog: ArchetypeProgressionQuery = await client.request(ArchetypeProgressionDocument, {
    from: '2025-01-01T00:00:00Z',
    to,
  });
  expect(prog.archetypeProgression.some((r) => r.fromLevel === 'L1' && r.toLevel === 'L2')).toBe(true);

  const member = dash.managerDashboard.members[0]?.employeeId ?? '';
  const page1 = await client.request(TeamOutputsDocument, { filter: { employeeId: member }, first: 5 });
  expect(page1.outputs.edges.length).toBeGreaterThan(0);
  expect(page1.outputs.edges.every((e) => e.node.employeeId === member)).toBe(true);
  if (page1.outputs.pageInfo.hasNextPage) {
    const page2 = await client.request(TeamOutputsDocument, {
      filter: { employeeId: member },
      first: 5,
      after: page1.outputs.pageInfo.endCursor,
    });
    expect(page2.outputs.edges[0]?.node.id).not.toBe(page1.outputs.edges[0]?.node.id);
  }

  const decisions = await client.request(TeamDecisionsDocument, { first: 10 });
  expect(decisions.decisions.nodes.every((d) => d.output !== null)).toBe(true);

  // The dashboard's pickers and team-scoped queries.
  const managers = await client.request(ManagersDocument, { asOf: to });
  expect(managers.managers.map((m) => [m.managerId, m.teamSize])).toEqual([
    ['mgr-000', 4],
    ['mgr-001', 4],
  ]);
  const managersNow = await client.request(ManagersDocument); // every variable is optional
  expect(managersNow.managers.length).toBe(2);
  const team = { managerId: 'mgr-000' };
  const skills = await client.request(SkillsDocument, { from, to, team });
  const teamCost = await client.request(CostPerSkillDocument, { from, to, bucket: 'MONTH', team });
  const sum = (xs: { invocations: number }[]): number => xs.reduce((n, x) => n + x.invocations, 0);
  expect(sum(skills.skills)).toBe(dash.managerDashboard.invocations);
  expect(sum(teamCost.costPerSkill)).toBe(dash.managerDashboard.invocations);
  const teamDecisions = await client.request(TeamDecisionsDocument, {
    filter: { from, to, team },
    first: 500,
  });
  expect(teamDecisions.decisions.nodes.length).toBe(dash.managerDashboard.decisions.total);
  const governance = await client.request(TeamGovernanceEventsDocument, {
    filter: { from, to, team },
    first: 500,
  });
  const bySeverity = dash.managerDashboard.governanceBySeverity;
  expect(governance.governanceEvents.nodes.length).toBe(
    bySeverity.INFO + bySeverity.LOW + bySeverity.MEDIUM + bySeverity.HIGH + bySeverity.CRITICAL,
  );
  // execute() also returns the response's extensions (routing appears behind the router).
  const executed = await client.execute(SkillsDocument, { from, to });
  expect(executed.data.skills.length).toBeGreaterThan(0);
  expect(typeof routingOf(executed)).toBe('object');

  const person = await client.request(EmployeeWithReportsDocument, { employeeId: 'mgr-000' });
  expect(person.employee?.reports.map((r) => r.employeeId)).toEqual(
    dash.managerDashboard.members.map((m) => m.employeeId),
  );
  expect(person.employee?.provenance.verified).toBe(true);
});

test('errors reject with the server code', async () => {
  const readOnly = createHubClient({ url: `${gw.url}/graphql`, token: 'nonsense' });
  await expect(readOnly.request(CostPerSkillDocument, { from, to, bucket: 'DAY' })).rejects.toMatchObject({
    code: 'UNAUTHENTICATED',
    status: 401,
  });
  const client = createHubClient({ url: `${gw.url}/graphql`, token: await gw.token('demo', ['hub:read']) });
  const err = await client
    .request(CostPerSkillDocument, { from: to, to: from, bucket: 'DAY' })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HubClientError);
  expect((err as HubClientError).code).toBe('VALIDATION');
  expect((err as HubClientError).extensions.code).toBe('VALIDATION');
  const unreachable = createHubClient({ url: 'http://127.0.0.1:1/graphql', token: 'x' });
  await expect(unreachable.request(ManagersDocument)).rejects.toMatchObject({
    code: 'UNAVAILABLE',
    status: 0,
  });
});

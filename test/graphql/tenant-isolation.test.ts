/**
 * Tenant isolation through every GraphQL path: tenant A's token never reads,
 * counts, pages into or infers tenant B's data (ids, node lookups, relations,
 * cursors, rollups, federation `_entities`, writes with B's ids, headers).
 */
import { createHash } from 'node:crypto';
import { parseTenantId } from '../../src/hub/tenant';
import { tagQueryWithTenant } from '../../src/http/apq';
import { generateDataset } from '../../src/seed/generator';
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let tokenA: string;
let tokenB: string;
const B = parseTenantId('tenant-b');
let bIds: Record<string, string>;
let bManager: string;
let bOtherOutput: string;

beforeAll(async () => {
  gw = await startGateway();
  tokenA = await gw.token('tenant-a', ['hub:read', 'hub:write']);
  tokenB = await gw.token('tenant-b', ['hub:read', 'hub:write']);
  const data = generateDataset({ days: 10, managers: 1, teamSize: 3, outputsPerDay: 10 });
  bIds = {};
  for (const [type, records] of Object.entries(data)) {
    if (records.length === 0) continue;
    await gw.gateway.hub.record(B, type as never, records);
    bIds[type] = String(records[0]?.record_id);
  }
  bOtherOutput = String(data.outputs[data.outputs.length - 1]?.record_id);
  bManager = 'mgr-000';
  // Tenant A has one output of its own.
  await gw.gql(
    tokenA,
    `mutation { recordOutputs(records: [{ id: "${uuid(1)}", skillId: "skill.00", employeeId: "emp-000-000", status: SUCCEEDED }]) { created } }`,
  );
});
afterAll(async () => gw.close());

const FIELD: Record<string, string> = {
  outputs: 'output',
  decisions: 'decision',
  governance_events: 'governanceEvent',
  artifacts: 'artifact',
  employee_profiles: 'employeeProfile',
  telemetry_events: 'telemetryEvent',
};
const TYPENAME: Record<string, string> = {
  outputs: 'Output',
  decisions: 'Decision',
  governance_events: 'GovernanceEvent',
  artifacts: 'Artifact',
  employee_profiles: 'EmployeeProfile',
  telemetry_events: 'TelemetryEvent',
};

test("B's ids are invisible to A by type, by node and through _entities; B sees them", async () => {
  for (const [type, id] of Object.entries(bIds)) {
    const q = `{ r: ${FIELD[type]}(id: "${id}") { id } n: node(id: "${id}") { id } _entities(representations: [{ __typename: "${TYPENAME[type]}", id: "${id}" }]) { ... on HubRecord { id } } }`;
    const a = await gw.gql(tokenA, q);
    expect(a.body).toEqual({
      data: { r: null, n: null, _entities: [null] },
      extensions: { cost: expect.any(Object) },
    });
    const b = await gw.gql(tokenB, q);
    expect(b.body).toEqual({
      data: { r: { id }, n: { id }, _entities: [{ id }] },
      extensions: { cost: expect.any(Object) },
    });
  }
});

test("A's lists contain only A's records, with or without filters", async () => {
  const q = `{ outputs(first: 500) { nodes { id tenantId } pageInfo { hasNextPage } }
    bySkill: outputs(filter: { skillIds: ["skill.00"] }) { nodes { id } }
    byEmp: outputs(filter: { employeeId: "emp-000-000" }) { nodes { id } }
    decisions { nodes { id } } governanceEvents { nodes { id } } artifacts { nodes { id } }
    employeeProfiles { nodes { id } } telemetryEvents { nodes { id } } employee(employeeId: "${bManager}") { id } }`;
  const res = await gw.gql(tokenA, q);
  expect(res.body.data).toEqual({
    outputs: { nodes: [{ id: uuid(1), tenantId: 'tenant-a' }], pageInfo: { hasNextPage: false } },
    bySkill: { nodes: [{ id: uuid(1) }] },
    byEmp: { nodes: [{ id: uuid(1) }] },
    decisions: { nodes: [] },
    governanceEvents: { nodes: [] },
    artifacts: { nodes: [] },
    employeeProfiles: { nodes: [] },
    telemetryEvents: { nodes: [] },
    employee: null,
  });
});

test("B's cursors are rejected for A exactly like garbage (no inference)", async () => {
  const b = await gw.gql(tokenB, '{ outputs(first: 2) { pageInfo { endCursor } } }');
  const cursor = (b.body.data?.outputs as { pageInfo: { endCursor: string } }).pageInfo.endCursor;
  const q = 'query($c: String) { outputs(first: 2, after: $c) { nodes { id } } }';
  const withB = await gw.gql(tokenA, q, { c: cursor });
  const garbage = await gw.gql(tokenA, q, { c: 'AAAA' + cursor.slice(4) });
  expect(withB.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect(withB.body).toEqual(garbage.body);
  // B's own cursor still works for B.
  expect((await gw.gql(tokenB, q, { c: cursor })).body.errors).toBeUndefined();
});

test("A's rollups never count B's data", async () => {
  const q = `{ costPerSkill(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", bucket: MONTH) { skillId invocations }
    archetypeProgression(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { transitions }
    managerDashboard(managerId: "${bManager}", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { invocations members { employeeId } decisions { total } topSkills { skillId } } }`;
  const a = await gw.gql(tokenA, q);
  expect(a.body.data).toEqual({
    costPerSkill: [{ skillId: 'skill.00', invocations: 1 }],
    archetypeProgression: [],
    managerDashboard: { invocations: 0, members: [], decisions: { total: 0 }, topSkills: [] },
  });
  const b = await gw.gql(tokenB, q);
  expect((b.body.data?.managerDashboard as { members: unknown[] }).members.length).toBe(3);
});

test("A's dashboard queries (team filters, team rollups, pickers, team cursors) never see B's data", async () => {
  const range = 'from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z"';
  const team = `team: { managerId: "${bManager}" }`;
  const q = `{
    outputs(filter: { ${range}, ${team} }) { nodes { id } }
    decisions(filter: { ${range}, ${team} }) { nodes { id } }
    byEmployee: decisions(filter: { employeeId: "emp-000-000" }) { nodes { id } }
    governanceEvents(filter: { ${range}, ${team} }) { nodes { id } }
    employeeProfiles(filter: { managerId: "${bManager}" }) { nodes { id } }
    costPerSkill(${range}, bucket: MONTH, ${team}) { skillId }
    archetypeProgression(${range}, ${team}) { transitions }
    managers(asOf: "2100-01-01T00:00:00Z") { managerId teamSize }
    skills(${range}, ${team}) { skillId }
  }`;
  const a = await gw.gql(tokenA, q);
  expect(a.body.errors).toBeUndefined();
  expect(a.body.data).toEqual({
    outputs: { nodes: [] },
    decisions: { nodes: [] },
    byEmployee: { nodes: [] },
    governanceEvents: { nodes: [] },
    employeeProfiles: { nodes: [] },
    costPerSkill: [],
    archetypeProgression: [],
    managers: [],
    skills: [],
  });
  // The same query as B finds B's team everywhere (so A's empty answers are not vacuous).
  const b = await gw.gql(tokenB, q);
  const data = b.body.data as Record<string, { nodes?: unknown[] } | unknown[]>;
  for (const key of ['outputs', 'decisions', 'byEmployee', 'employeeProfiles'])
    expect((data[key] as { nodes: unknown[] }).nodes.length).toBeGreaterThan(0);
  expect(data.managers).toEqual([{ managerId: bManager, teamSize: 3 }]);
  expect((data.skills as unknown[]).length).toBeGreaterThan(0);
  // B's cursor of a team list is refused for A like garbage.
  const list =
    'query($c: String) { outputs(first: 2, after: $c, filter: { ' +
    `${range}, ${team}` +
    ' }) { pageInfo { endCursor } } }';
  const cursor = ((await gw.gql(tokenB, list)).body.data?.outputs as { pageInfo: { endCursor: string } })
    .pageInfo.endCursor;
  const withB = await gw.gql(tokenA, list, { c: cursor });
  const garbage = await gw.gql(tokenA, list, { c: 'AAAA' + cursor.slice(4) });
  expect(withB.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
  expect(withB.body).toEqual(garbage.body);
  expect((await gw.gql(tokenB, list, { c: cursor })).body.errors).toBeUndefined();
});

test("writing with B's record ids is an ordinary create for A (no conflict to infer from)", async () => {
  const res = await gw.gql(
    tokenA,
    `mutation { recordOutputs(records: [{ id: "${bIds.outputs}", skillId: "x", employeeId: "y", status: FAILED }]) { created errors } }`,
  );
  expect(res.body.data).toEqual({ recordOutputs: { created: 1, errors: 0 } });
  const b = await gw.gql(tokenB, `{ output(id: "${bIds.outputs}") { skillId } }`);
  expect((b.body.data?.output as { skillId: string }).skillId).not.toBe('x');
  // A decision of A pointing at an output only B has resolves to null.
  await gw.gql(
    tokenA,
    `mutation { recordDecisions(records: [{ id: "${uuid(50)}", outputId: "${bOtherOutput}", skillId: "s", decidedBy: "d", outcome: ACCEPTED }]) { created } }`,
  );
  const d = await gw.gql(tokenA, `{ decision(id: "${uuid(50)}") { output { id } } }`);
  expect(d.body.data).toEqual({ decision: { output: null } });
});

test('the tenant never comes from a header or an argument', async () => {
  const viaHeader = await gw.gql(tokenA, `{ output(id: "${bIds.outputs}") { skillId } }`, undefined, {
    'x-tenant-id': 'tenant-b',
    'x-hub-tenant': 'tenant-b',
  });
  expect((viaHeader.body.data?.output as { skillId: string }).skillId).toBe('x');
  const viaArg = await gw.gql(
    tokenA,
    'mutation { recordOutputs(records: [{ tenantId: "tenant-b", skillId: "x", employeeId: "y", status: FAILED }]) { created } }',
  );
  expect(viaArg.status).toBe(400);
  expect(viaArg.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
});

test("persisted queries are per tenant: A's registered hash is unknown to B", async () => {
  const query = `{ managerDashboard(managerId: "${bManager}", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { invocations } }`;
  const sha256Hash = createHash('sha256').update(query).digest('hex');
  const extensions = { persistedQuery: { version: 1, sha256Hash } };
  const post = (token: string, body: unknown) =>
    fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }).then(async (r) => (await r.json()) as { data?: unknown; errors?: { message: string }[] });
  expect((await post(tokenB, { query, extensions })).data).toBeDefined();
  expect((await post(tokenB, { extensions })).data).toBeDefined();
  // A cannot learn that B ever sent this query.
  expect((await post(tokenA, { extensions })).errors?.[0]?.message).toBe('PersistedQueryNotFound');
});

test('query texts reach the shared document cache tagged with the tenant (no cross-tenant cache hits)', () => {
  const a = tagQueryWithTenant(parseTenantId('tenant-a'), 'POST', '', {
    query: '{ outputs { nodes { id } } }',
  });
  const b = tagQueryWithTenant(B, 'POST', '', { query: '{ outputs { nodes { id } } }' });
  expect((a.body as { query: string }).query).not.toBe((b.body as { query: string }).query);
  const get = tagQueryWithTenant(
    B,
    'GET',
    '?query=%7B%20outputs%20%7B%20nodes%20%7B%20id%20%7D%20%7D%20%7D',
    undefined,
  );
  expect(new URLSearchParams(get.search).get('query')).toBe(
    '{ outputs { nodes { id } } }\n# tenant tenant-b',
  );
});

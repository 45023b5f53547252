/**
 * The dashboard API over HTTP: bad team scopes and picker arguments are
 * refused with VALIDATION naming the field; the pickers and team rollups are
 * routed like the rollups (extensions.routing names the analytics store).
 */
import { parseTenantId } from '../../src/hub/tenant';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { generateDataset } from '../../src/seed/generator';
import { type TestGateway, startGateway } from './harness';

let gw: TestGateway;
let token: string;
const range = 'from: "2026-01-05T00:00:00Z", to: "2026-02-05T00:00:00Z"';

beforeAll(async () => {
  const config = parseRegistryConfig(
    {
      stores: { warehouse: 'memory:warehouse', primary: 'memory:' },
      tenants: [{ id: 'demo', mode: 'A', primary: 'primary', analytics: 'warehouse', fallback: 'primary' }],
    },
    'test',
  );
  const store = await RoutingStore.open({ load: async () => config });
  gw = await startGateway({ store });
  token = await gw.token('demo', ['hub:read']);
  const data = generateDataset({ days: 31, managers: 2, teamSize: 3, outputsPerDay: 8, artifacts: false });
  for (const [type, records] of Object.entries(data)) {
    if (records.length > 0) await gw.gateway.hub.record(parseTenantId('demo'), type as never, records);
  }
  await settleRouter(store);
});
afterAll(async () => gw.close());

test.each([
  [`{ outputs(filter: { team: { managerId: "mgr-000" } }) { nodes { id } } }`, 'filter.team.asOf'],
  [
    `{ outputs(filter: { ${range}, team: { managerId: "no spaces allowed" } }) { nodes { id } } }`,
    'filter.team.managerId',
  ],
  [
    `{ decisions(filter: { team: { managerId: "m", asOf: "yesterday" } }) { nodes { id } } }`,
    '"yesterday" is not an RFC 3339 timestamp',
  ],
  [`{ costPerSkill(${range}, bucket: DAY, team: { managerId: "" }) { skillId } }`, 'team.managerId'],
  [`{ managers(first: 0) { managerId } }`, 'first'],
  [`{ managers(after: "a b") { managerId } }`, 'after'],
  [`{ skills(${range}, first: 1001) { skillId } }`, 'first'],
])('refuses %s naming %s', async (query, path) => {
  const res = await gw.gql(token, query);
  const error = res.body.errors?.[0];
  expect(error?.extensions?.code).toBe('VALIDATION');
  expect(error?.message).toContain(path);
});

test('the team filter is not offered where it does not apply (schema validation)', async () => {
  const res = await gw.gql(token, `{ artifacts(filter: { team: { managerId: "m" } }) { nodes { id } } }`);
  expect(res.status).toBe(400);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
});

test('pickers and team rollups are routed like rollups, with a watermark', async () => {
  const res = await gw.gql(
    token,
    `{ managers(asOf: "2026-02-05T00:00:00Z") { managerId teamSize }
       skills(${range}, team: { managerId: "mgr-000" }) { skillId invocations }
       costPerSkill(${range}, bucket: MONTH, team: { managerId: "mgr-000" }) { invocations } }`,
  );
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data?.managers).toEqual([
    { managerId: 'mgr-000', teamSize: 3 },
    { managerId: 'mgr-001', teamSize: 3 },
  ]);
  const routing = (
    res.body as { extensions?: { routing?: Record<string, { stores: unknown[]; watermark?: string }> } }
  ).extensions?.routing;
  for (const field of ['managers', 'skills', 'costPerSkill']) {
    expect(routing?.[field]?.stores).toEqual([
      { store: 'warehouse', role: 'analytics', reason: 'analytics' },
    ]);
    expect(routing?.[field]?.watermark).toMatch(/^\d{4}-/);
  }
  const skills = res.body.data?.skills as { invocations: number }[];
  const cost = res.body.data?.costPerSkill as { invocations: number }[];
  const sum = (xs: { invocations: number }[]): number => xs.reduce((n, x) => n + x.invocations, 0);
  expect(sum(skills)).toBe(sum(cost));
  expect(sum(skills)).toBeGreaterThan(0);
});

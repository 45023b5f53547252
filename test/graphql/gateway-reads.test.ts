/**
 * End to end over HTTP against a real gateway on the memory store: reads of
 * every record type — lookups by id and node(id), relations, the filters of
 * every list, keyset paging with cursors bound to their filter, and bad
 * arguments as VALIDATION errors naming the problem.
 */
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway();
  token = await gw.token('acme');
});
afterAll(async () => gw.close());

const OUT_FIELDS = 'id skillId employeeId status costUsd inputTokens latencyMs createdAt recordType';

describe('reads', () => {
  beforeAll(async () => {
    const m = `mutation($o: [OutputInput!]!, $d: [DecisionInput!]!, $p: [EmployeeProfileInput!]!, $g: [GovernanceEventInput!]!, $t: [TelemetryEventInput!]!) {
      recordOutputs(records: $o) { created } recordDecisions(records: $d) { created }
      recordEmployeeProfiles(records: $p) { created } recordGovernanceEvents(records: $g) { created }
      recordTelemetryEvents(records: $t) { created } }`;
    const o = Array.from({ length: 7 }, (_, i) => ({
      id: uuid(100 + i),
      createdAt: `2026-02-0${i + 1}T00:00:00Z`,
      skillId: i % 2 ? 'odd' : 'even',
      employeeId: 'r1',
      status: i === 3 ? 'FAILED' : 'SUCCEEDED',
      costUsd: `${i}.5`,
      latencyMs: 100 * i,
    }));
    const d = [
      { id: uuid(200), outputId: uuid(100), skillId: 'even', decidedBy: 'boss', outcome: 'ACCEPTED' },
      { id: uuid(201), outputId: uuid(100), skillId: 'even', decidedBy: 'boss', outcome: 'ESCALATED' },
      { id: uuid(202), outputId: uuid(101), skillId: 'odd', decidedBy: 'boss', outcome: 'REJECTED' },
    ];
    const p = [
      {
        id: uuid(300),
        employeeId: 'boss',
        displayName: 'Boss',
        archetype: 'lead',
        level: 'L4',
        effectiveAt: '2025-01-01T00:00:00Z',
      },
      {
        id: uuid(301),
        employeeId: 'r1',
        displayName: 'Ann',
        archetype: 'analyst',
        level: 'L1',
        managerId: 'boss',
        effectiveAt: '2025-01-01T00:00:00Z',
      },
      {
        id: uuid(302),
        employeeId: 'r1',
        displayName: 'Ann',
        archetype: 'analyst',
        level: 'L2',
        managerId: 'boss',
        effectiveAt: '2025-06-01T00:00:00Z',
      },
      {
        id: uuid(303),
        employeeId: 'r2',
        displayName: 'Bob',
        archetype: 'engineer',
        level: 'L1',
        managerId: 'boss',
        effectiveAt: '2025-02-01T00:00:00Z',
      },
    ];
    const g = [
      { id: uuid(400), policyId: 'pii', severity: 'HIGH', action: 'REDACTED', employeeId: 'r1' },
      { id: uuid(401), policyId: 'pii', severity: 'LOW', action: 'ALLOWED', employeeId: 'r2' },
    ];
    const t = [
      { id: uuid(500), name: 'skill.invoked', skillId: 'odd', costUsd: '0.001', properties: { a: 1 } },
    ];
    const res = await gw.gql(token, m, { o, d, p, g, t });
    expect(res.body.errors).toBeUndefined();
  });

  test('every type by id, node(id) and unknown ids', async () => {
    const q = `{ output(id: "${uuid(100)}") { ${OUT_FIELDS} }
      decision(id: "${uuid(200)}") { outcome outputId }
      governanceEvent(id: "${uuid(400)}") { severity action policyId }
      employeeProfile(id: "${uuid(302)}") { level effectiveAt managerId }
      telemetryEvent(id: "${uuid(500)}") { name costUsd properties }
      n: node(id: "${uuid(202)}") { __typename id ... on Decision { outcome } }
      missing: output(id: "${uuid(999)}") { id }
      malformed: output(id: "not-a-uuid") { id } }`;
    const res = await gw.gql(token, q);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toMatchObject({
      output: {
        id: uuid(100),
        skillId: 'even',
        status: 'SUCCEEDED',
        costUsd: '0.5',
        latencyMs: 0,
        createdAt: '2026-02-01T00:00:00.000Z',
        recordType: 'OUTPUTS',
      },
      decision: { outcome: 'ACCEPTED', outputId: uuid(100) },
      governanceEvent: { severity: 'HIGH', action: 'REDACTED', policyId: 'pii' },
      employeeProfile: { level: 'L2', effectiveAt: '2025-06-01T00:00:00.000Z', managerId: 'boss' },
      telemetryEvent: { name: 'skill.invoked', costUsd: '0.001', properties: { a: 1 } },
      n: { __typename: 'Decision', id: uuid(202), outcome: 'REJECTED' },
      missing: null,
      malformed: null,
    });
  });

  test('relations: decision.output, output.decisions/artifacts, manager, reports, employee', async () => {
    const q = `{ output(id: "${uuid(100)}") { decisions { nodes { id outcome output { id } } } artifacts { nodes { id } } }
      employee(employeeId: "r1") { id level manager { employeeId displayName } }
      boss: employee(employeeId: "boss") { reports { employeeId level } manager { id } } }`;
    const res = await gw.gql(token, q);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      output: {
        decisions: {
          nodes: [
            { id: uuid(201), outcome: 'ESCALATED', output: { id: uuid(100) } },
            { id: uuid(200), outcome: 'ACCEPTED', output: { id: uuid(100) } },
          ],
        },
        artifacts: { nodes: [] },
      },
      employee: { id: uuid(302), level: 'L2', manager: { employeeId: 'boss', displayName: 'Boss' } },
      boss: {
        reports: [
          { employeeId: 'r1', level: 'L2' },
          { employeeId: 'r2', level: 'L1' },
        ],
        manager: null,
      },
    });
  });

  test('filters of every list', async () => {
    const q = `{ failed: outputs(filter: { status: FAILED, employeeId: "r1" }) { nodes { id } }
      odd: outputs(filter: { skillIds: ["odd"], from: "2026-02-01T00:00:00Z", to: "2026-02-06T00:00:00Z" }) { nodes { id } }
      dec: decisions(filter: { outcome: REJECTED }) { nodes { id } }
      byOut: decisions(filter: { outputId: "${uuid(100)}", skillIds: ["even"] }) { nodes { id } }
      gov: governanceEvents(filter: { severity: HIGH, action: REDACTED }) { nodes { id } }
      prof: employeeProfiles(filter: { employeeId: "r1" }) { nodes { id } }
      tel: telemetryEvents(filter: { skillIds: ["odd"] }) { nodes { id } } }`;
    const res = await gw.gql(token, q);
    expect(res.body.errors).toBeUndefined();
    const ids = (k: string) =>
      ((res.body.data?.[k] as { nodes: { id: string }[] }).nodes ?? []).map((n) => n.id);
    expect(ids('failed')).toEqual([uuid(103)]);
    // `to` is exclusive: the output created exactly at 2026-02-06 is not listed.
    expect(ids('odd')).toEqual([uuid(103), uuid(101)]);
    expect(ids('dec')).toEqual([uuid(202)]);
    expect(ids('byOut')).toEqual([uuid(201), uuid(200)]);
    expect(ids('gov')).toEqual([uuid(400)]);
    expect(ids('prof').sort()).toEqual([uuid(301), uuid(302)]);
    expect(ids('tel')).toEqual([uuid(500)]);
  });

  test('keyset paging: endCursor and edge cursors continue the list; cursors bind to their filter', async () => {
    const q = `query($after: String, $f: OutputFilter) { outputs(first: 3, after: $after, filter: $f) { edges { cursor node { id } } pageInfo { hasNextPage endCursor startCursor hasPreviousPage } } }`;
    const f = { employeeId: 'r1' };
    type Conn = { edges: { cursor: string; node: { id: string } }[]; pageInfo: Record<string, unknown> };
    const p1 = (await gw.gql(token, q, { f })).body.data?.outputs as Conn;
    expect(p1.edges.map((e) => e.node.id)).toEqual([uuid(106), uuid(105), uuid(104)]);
    expect(p1.pageInfo).toMatchObject({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: p1.edges[0]?.cursor,
    });
    expect(p1.pageInfo.endCursor).toBe(p1.edges[2]?.cursor);
    const p2 = (await gw.gql(token, q, { f, after: p1.pageInfo.endCursor })).body.data?.outputs as Conn;
    expect(p2.edges.map((e) => e.node.id)).toEqual([uuid(103), uuid(102), uuid(101)]);
    const fromEdge = (await gw.gql(token, q, { f, after: p1.edges[0]?.cursor })).body.data?.outputs as Conn;
    expect(fromEdge.edges.map((e) => e.node.id)).toEqual([uuid(105), uuid(104), uuid(103)]);
    const p3 = (await gw.gql(token, q, { f, after: p2.pageInfo.endCursor })).body.data?.outputs as Conn;
    expect(p3.edges.map((e) => e.node.id)).toEqual([uuid(100)]);
    expect(p3.pageInfo.hasNextPage).toBe(false);
    const other = await gw.gql(token, q, { f: { employeeId: 'r2' }, after: p1.pageInfo.endCursor });
    expect(other.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(other.body.errors?.[0]?.message).toMatch(/invalid cursor/);
  });

  test('bad arguments are VALIDATION errors naming the problem', async () => {
    const cases: [string, RegExp][] = [
      ['{ outputs(first: 501) { nodes { id } } }', /first/],
      ['{ outputs(first: 0) { nodes { id } } }', /first/],
      [
        '{ outputs(filter: { from: "2026-02-02T00:00:00Z", to: "2026-02-01T00:00:00Z" }) { nodes { id } } }',
        /from/,
      ],
      ['{ outputs(filter: { skillIds: [] }) { nodes { id } } }', /skillIds/],
      ['{ decisions(filter: { outputId: "nope" }) { nodes { id } } }', /outputId/],
      ['{ outputs(after: "garbage") { nodes { id } } }', /cursor/],
    ];
    for (const [q, re] of cases) {
      const res = await gw.gql(token, q);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
      expect(JSON.stringify(res.body.errors)).toMatch(re);
    }
  });
});

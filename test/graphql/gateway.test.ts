/**
 * End to end over HTTP against a real gateway on the memory store: mutations,
 * lookups, relations, filters, paging, rollups and error paths.
 */
import { createHash } from 'node:crypto';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway();
  token = await gw.token('acme');
});
afterAll(async () => gw.close());

const OUT_FIELDS = 'id skillId employeeId status costUsd inputTokens latencyMs createdAt recordType';

describe('mutations', () => {
  test('created, duplicate and conflict are reported per record, in order', async () => {
    const rec = { id: uuid(1), skillId: 'sum', employeeId: 'e1', status: 'SUCCEEDED', costUsd: '0.10' };
    const m = `mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created duplicates errors results { index id status error { code message } } } }`;
    const first = await gw.gql(token, m, {
      r: [rec, { ...rec, id: uuid(2), createdAt: '2026-03-01T10:00:00+02:00' }],
    });
    expect(first.status).toBe(200);
    expect(first.body.data?.recordOutputs).toMatchObject({ created: 2, duplicates: 0, errors: 0 });
    // Same id, different content (cost): a CONFLICT for that record alone.
    const again = await gw.gql(token, m, {
      r: [
        { ...rec, costUsd: '0.2' },
        { ...rec, id: uuid(3) },
      ],
    });
    const batch = again.body.data?.recordOutputs as {
      created: number;
      errors: number;
      results: { index: number; id: string; status: string; error: unknown }[];
    };
    expect(batch.results.map((r) => [r.index, r.id, r.status])).toEqual([
      [0, uuid(1), 'ERROR'],
      [1, uuid(3), 'CREATED'],
    ]);
    expect(batch.results[0]?.error).toMatchObject({ code: 'CONFLICT' });
    expect(batch).toMatchObject({ created: 1, errors: 1 });
    const read = await gw.gql(token, `{ output(id: "${uuid(1)}") { costUsd } }`);
    expect(read.body.data?.output).toEqual({ costUsd: '0.1' });
  });

  test('an identical retry (same id and createdAt) is a duplicate', async () => {
    const rec = {
      id: uuid(10),
      createdAt: '2026-03-01T10:00:00.000Z',
      skillId: 'sum',
      employeeId: 'e1',
      status: 'FAILED',
    };
    const m = `mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created duplicates results { status } } }`;
    expect((await gw.gql(token, m, { r: [rec] })).body.data?.recordOutputs).toMatchObject({ created: 1 });
    expect((await gw.gql(token, m, { r: [rec] })).body.data?.recordOutputs).toMatchObject({
      created: 0,
      duplicates: 1,
    });
  });

  test('one invalid record rejects the whole batch with VALIDATION issues in GraphQL names', async () => {
    const m = `mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created } }`;
    const good = { id: uuid(20), skillId: 's', employeeId: 'e', status: 'SUCCEEDED' };
    const bad = {
      id: uuid(21),
      skillId: 'bad skill id!',
      employeeId: 'e',
      status: 'SUCCEEDED',
      inputTokens: -1,
    };
    const res = await gw.gql(token, m, { r: [good, bad] });
    expect(res.status).toBe(200);
    const err = res.body.errors?.[0];
    expect(err?.extensions?.code).toBe('VALIDATION');
    expect(err?.extensions?.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, path: 'skillId' }),
        expect.objectContaining({ index: 1, path: 'inputTokens' }),
      ]),
    );
    const read = await gw.gql(token, `{ output(id: "${uuid(20)}") { id } }`);
    expect(read.body.data?.output).toBeNull();
  });

  test('artifacts round-trip their body as base64 and verify', async () => {
    const body = Buffer.from('hello, artifact');
    const sha = createHash('sha256').update(body).digest('hex');
    const m = `mutation($r: [ArtifactInput!]!) { recordArtifacts(records: $r) { created } }`;
    const r = await gw.gql(token, m, {
      r: [
        {
          id: uuid(30),
          name: 'a.txt',
          mediaType: 'text/plain',
          sizeBytes: body.length,
          contentSha256: sha,
          outputId: uuid(2),
          bodyBase64: body.toString('base64'),
        },
      ],
    });
    expect(r.body.data?.recordArtifacts).toEqual({ created: 1 });
    const q = await gw.gql(
      token,
      `{ artifact(id: "${uuid(30)}") { name sizeBytes contentSha256 bodyBase64 small: bodyBase64(maxBytes: 4) provenance { verified } output { id } } }`,
    );
    expect(q.body.data?.artifact).toEqual({
      name: 'a.txt',
      sizeBytes: body.length,
      contentSha256: sha,
      bodyBase64: body.toString('base64'),
      small: null,
      provenance: { verified: true },
      output: { id: uuid(2) },
    });
    const wrong = await gw.gql(token, m, {
      r: [{ name: 'b', mediaType: 'x/y', sizeBytes: 3, contentSha256: sha, bodyBase64: 'YWJj' }],
    });
    expect(wrong.body.errors?.[0]?.extensions?.issues).toEqual([
      expect.objectContaining({ index: 0, path: 'contentSha256' }),
    ]);
  });
});

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

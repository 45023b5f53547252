/**
 * Per-tenant usage: the meter's minutes (injected clock), the gateway's
 * counters against a known load on PostgreSQL (requests, errors, cost units,
 * rows read, rollups, bytes ingested) kept in the database's usage table,
 * the `usage` query's scope rule (a tenant reads only its own usage; hub:admin
 * reads any), and retention.
 */
import { main } from '../../src/cli';
import { postgresDriver } from '../../src/stores/postgres/postgres-driver';
import { openStore } from '../../src/stores';
import { MemoryUsageSink, UsageMeter, type UsageRow, type UsageSink } from '../../src/platform/usage';
import { type TestGateway, startGateway } from '../graphql/harness';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const T0 = Date.parse('2026-03-01T10:00:30Z');

function totals(rows: readonly UsageRow[]): Record<string, number> {
  const out: Record<string, number> = {
    requests: 0,
    errors: 0,
    cost_units: 0,
    rows_read: 0,
    rollups: 0,
    bytes_ingested: 0,
  };
  for (const r of rows)
    for (const k of Object.keys(out)) out[k] = (out[k] as number) + (r[k as keyof UsageRow] as number);
  return out;
}

describe('the usage meter', () => {
  test('counts per tenant per minute, flushes, keeps a failed write, prunes past the retention', async () => {
    let now = T0;
    const sink = new MemoryUsageSink();
    let failNext = false;
    const flaky: UsageSink = {
      write: async (rows) => {
        if (failNext) {
          failNext = false;
          throw new Error('database down');
        }
        await sink.write(rows);
      },
      read: (t, f, to) => sink.read(t, f, to),
      prune: (t, b) => sink.prune(t, b),
      close: () => sink.close(),
    };
    const meter = new UsageMeter({ sink: flaky, flushMs: 0, retentionDays: 1, now: () => now });
    meter.add('acme', 'requests');
    meter.add('acme', 'rows_read', 7);
    meter.add('beta', 'requests');
    now += 60_000; // next minute
    meter.add('acme', 'requests');
    failNext = true;
    await meter.flush(); // fails: kept
    meter.add('acme', 'requests'); // same minute as the kept one: adds up
    await meter.flush();
    const rows = await meter.read('acme', '2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z');
    expect(rows.map((r) => [r.minute, r.requests, r.rows_read])).toEqual([
      ['2026-03-01T10:00:00.000Z', 1, 7],
      ['2026-03-01T10:01:00.000Z', 2, 0],
    ]);
    expect(
      totals(await meter.read('beta', '2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z')).requests,
    ).toBe(1);
    // Two days later, acme's next flush deletes its minutes past the one-day retention.
    now += 2 * 24 * 3600 * 1000;
    meter.add('acme', 'requests');
    await meter.flush();
    expect(await sink.read('acme', '2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z')).toEqual([]);
    // beta had no flush since: its minutes stay until it does.
    expect(await sink.read('beta', '2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z')).toHaveLength(1);
    await meter.close();
  });
});

describe('usage of a known load, kept in PostgreSQL', () => {
  let pg: PgTestDatabase;
  let gw: TestGateway;
  let meter: UsageMeter;

  beforeAll(async () => {
    pg = await createTestDatabase();
    const sink = await postgresDriver.openUsage?.(pg.appUri);
    if (!sink) throw new Error('the postgres driver keeps usage');
    meter = new UsageMeter({ sink, flushMs: 0 });
    gw = await startGateway({ store: await openStore(pg.appUri), usage: meter });
  });
  afterAll(async () => {
    await gw?.close();
    await meter?.close();
    await pg?.drop();
  });

  test('every counter equals what the traffic did, and a tenant reads only its own usage', async () => {
    const acme = await gw.token('acme');
    const beta = await gw.token('beta');
    const costs: number[] = [];
    const gql = async (token: string, query: string) => {
      const res = await gw.gql(token, query);
      const cost = (res.body as { extensions?: { cost?: { requested?: number } } }).extensions?.cost
        ?.requested;
      if (typeof cost === 'number') costs.push(cost);
      return res;
    };
    const ids = [1, 2, 3].map((n) => `0190a1b2-0000-7000-8000-00000000b00${n}`);
    // 1 request: a mutation writing three outputs (no rows read); its body counts as ingested.
    const mutation = `mutation { recordOutputs(records: [${ids
      .map(
        (id, i) =>
          `{ id: "${id}", createdAt: "2026-03-0${i + 2}T10:00:00Z", skillId: "s1", employeeId: "e1", status: SUCCEEDED, costUsd: "1" }`,
      )
      .join(',')}]) { created } }`;
    // The body the harness sends (JSON of the query; no variables).
    const mutationBytes = Buffer.byteLength(JSON.stringify({ query: mutation }));
    const w = await gql(acme, mutation);
    expect(w.body.data).toEqual({ recordOutputs: { created: 3 } });
    // 2 requests reading 3 records each.
    for (let i = 0; i < 2; i++) {
      const r = await gql(acme, '{ outputs(first: 10) { nodes { id } } }');
      expect((r.body.data?.outputs as { nodes: unknown[] }).nodes).toHaveLength(3);
    }
    // 1 request, 1 rollup returning 1 row.
    const rollup = await gql(
      acme,
      '{ costPerSkill(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z", bucket: MONTH) { skillId invocations } }',
    );
    expect(rollup.body.data).toEqual({ costPerSkill: [{ skillId: 's1', invocations: 3 }] });
    // 1 request answered with an error.
    const bad = await gql(acme, '{ outputs(first: 0) { nodes { id } } }');
    expect(bad.body.errors?.length).toBeGreaterThan(0);
    // 1 ingest request: two lines, one rejected (an error), its bytes counted.
    const ndjson = [
      JSON.stringify({
        record_id: '0190a1b2-0000-7000-8000-00000000c001',
        created_at: '2026-03-05T00:00:00.000Z',
        skill_id: 's1',
        employee_id: 'e1',
        status: 'SUCCEEDED',
        cost_usd: '1',
      }),
      '{"not json',
    ].join('\n');
    const ing = await fetch(`${gw.url}/ingest/outputs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${acme}` },
      body: ndjson,
    });
    expect(ing.status).toBe(200);
    // Another tenant's traffic: 1 request.
    await gql(beta, '{ outputs(first: 10) { nodes { id } } }');

    await meter.flush();
    const range = `from: "${new Date(Date.now() - 3600_000).toISOString()}", to: "${new Date(Date.now() + 3600_000).toISOString()}"`;
    const fields = 'minute requests errors costUnits rowsRead rollups bytesIngested';
    // An operator (hub:admin, any tenant) reads acme's usage.
    const admin = await gw.token('ops', ['hub:read', 'hub:admin']);
    const res = await gw.gql(admin, `{ usage(tenant: "acme", ${range}) { ${fields} } }`);
    expect(res.body.errors).toBeUndefined();
    const rows = res.body.data?.usage as {
      requests: number;
      errors: number;
      costUnits: number;
      rowsRead: number;
      rollups: number;
      bytesIngested: number;
    }[];
    const sum = (k: keyof (typeof rows)[number]) => rows.reduce((n, r) => n + r[k], 0);
    expect({
      requests: sum('requests'),
      errors: sum('errors'),
      rowsRead: sum('rowsRead'),
      rollups: sum('rollups'),
      bytesIngested: sum('bytesIngested'),
    }).toEqual({
      requests: 6,
      errors: 2,
      rowsRead: 7,
      rollups: 1,
      bytesIngested: mutationBytes + Buffer.byteLength(ndjson),
    });
    // Cost units: what the gateway reported in extensions.cost of acme's five GraphQL answers.
    expect(sum('costUnits')).toBe(costs.slice(0, 5).reduce((a, b) => a + b, 0));
    expect(sum('costUnits')).toBeGreaterThan(0);

    // A tenant token cannot read another tenant's usage, and reads its own.
    const cross = await gw.gql(beta, `{ usage(tenant: "acme", ${range}) { requests } }`);
    expect(cross.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(cross.body.data ?? null).toBeNull();
    const own = await gw.gql(beta, `{ usage(${range}) { requests bytesIngested } }`);
    const ownRows = own.body.data?.usage as { requests: number; bytesIngested: number }[];
    expect(ownRows.reduce((n, r) => n + r.requests, 0)).toBe(2); // its list, and the refused read of acme's usage
    expect(ownRows.reduce((n, r) => n + r.bytesIngested, 0)).toBe(0); // acme's writes are not beta's
    // A bounded range: more than 31 days is refused naming the argument.
    const wide = await gw.gql(
      admin,
      '{ usage(tenant: "acme", from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z") { requests } }',
    );
    expect(wide.body.errors?.[0]?.extensions?.code).toBe('VALIDATION');
    expect(JSON.stringify(wide.body.errors)).toMatch(/31 days/);

    // Kept in the database: a fresh sink over it reads the same minutes, and row-level security
    // keeps tenants apart there too.
    const again = await postgresDriver.openUsage?.(pg.appUri);
    const stored = await again?.read(
      'acme',
      new Date(Date.now() - 3600_000).toISOString(),
      new Date(Date.now() + 3600_000).toISOString(),
    );
    expect(totals(stored ?? []).requests).toBe(6);
    await again?.close();

    // `hub usage` reports the same figures from the same table.
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: () => undefined };
    process.env.HUB_USAGE_URL = pg.appUri;
    try {
      expect(await main(['usage', '--tenant', 'acme', '--json'], io)).toBe(0);
      const report = JSON.parse(out[0] as string) as { total: Record<string, number> };
      expect(report.total).toMatchObject({
        requests: 6,
        errors: 2,
        rows_read: 7,
        rollups: 1,
        bytes_ingested: mutationBytes + Buffer.byteLength(ndjson),
      });
      out.length = 0;
      expect(await main(['usage', '--tenant', 'acme'], io)).toBe(0);
      expect(out[0]).toMatch(
        /^minute \(UTC\)\s+requests\s+errors\s+cost units\s+rows read\s+rollups\s+bytes ingested$/,
      );
      expect(out[out.length - 1]).toMatch(
        new RegExp(`^total\\s+6\\s+2\\s+\\d+\\s+7\\s+1\\s+${mutationBytes + Buffer.byteLength(ndjson)}$`),
      );
      expect(await main(['usage', '--tenant', 'acme', '--from', 'yesterday'], io)).toBe(2);
    } finally {
      delete process.env.HUB_USAGE_URL;
    }
  });
});

/**
 * OpenTelemetry traces end to end, checked by what an OTLP collector receives
 * (an in-process OTLP/HTTP receiver, test/support/otlp-receiver.ts): the span
 * tree of a nested list request on PostgreSQL down to its SQL statements, a
 * routed rollup through the router to its analytics store, the join with a
 * caller's W3C traceparent, and that no token, record value or SQL parameter
 * appears anywhere in what is exported.
 */
import { randomBytes } from 'node:crypto';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { openStore } from '../../src/stores';
import { NOOP_TRACER, type Tracer, createTracer, installTracer, tracer } from '../../src/platform/tracing';
import { type TestGateway, startGateway } from '../graphql/harness';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';
import { OtlpReceiver, type SpanNode, allAttributeText, flatten, shape } from '../support/otlp-receiver';

// Values that must never reach a span: record content, filter values (SQL parameters), ids.
const SKILL = 'skill.sekrit-skill-7731';
const EMPLOYEE = 'emp-sekrit-4410';
const RATIONALE = 'rationale-sekrit-9a8b';
const COST = '12.345678';
const OUTPUT_IDS = ['0190a1b2-0000-7000-8000-00000000a001', '0190a1b2-0000-7000-8000-00000000a002'];
const DECISION_ID = '0190a1b2-0000-7000-8000-00000000d001';

function traceparent(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

function only<T>(list: readonly T[], what: string): T {
  if (list.length !== 1) throw new Error(`expected one ${what}, got ${list.length}`);
  return list[0] as T;
}

let receiver: OtlpReceiver;
let otel: Tracer;

beforeAll(async () => {
  receiver = new OtlpReceiver();
  const endpoint = await receiver.start();
  otel = createTracer({
    endpoint,
    sampler: 'always_on',
    serviceName: 'hub-gateway-test',
    headers: 'x-collector-key=k%3D1',
  });
  installTracer(otel);
});

afterAll(async () => {
  installTracer(NOOP_TRACER);
  await otel.shutdown();
  await receiver.stop();
});

describe('a nested list request on PostgreSQL', () => {
  let pg: PgTestDatabase;
  let gw: TestGateway;
  let token: string;

  beforeAll(async () => {
    pg = await createTestDatabase();
    gw = await startGateway({ store: await openStore(pg.appUri), storeLabel: 'postgres' });
    token = await gw.token('acme');
    const outputs = OUTPUT_IDS.map(
      (id, i) =>
        `{ id: "${id}", createdAt: "2026-03-0${i + 2}T10:00:00Z", skillId: "${SKILL}", employeeId: "${EMPLOYEE}", status: SUCCEEDED, costUsd: "${COST}" }`,
    );
    const w = await gw.gql(token, `mutation { recordOutputs(records: [${outputs.join(',')}]) { created } }`);
    expect(w.body.data).toEqual({ recordOutputs: { created: 2 } });
    const d = await gw.gql(
      token,
      `mutation { recordDecisions(records: [{ id: "${DECISION_ID}", outputId: "${OUTPUT_IDS[0]}", skillId: "${SKILL}", decidedBy: "${EMPLOYEE}", outcome: ACCEPTED, rationale: "${RATIONALE}" }]) { created } }`,
    );
    expect(d.body.data).toEqual({ recordDecisions: { created: 1 } });
  });

  afterAll(async () => {
    await gw?.close();
    await pg?.drop();
  });

  test('joins the caller trace and shows every layer down to the SQL statements, with no secret', async () => {
    await otel.flush();
    receiver.clear();
    const caller = traceparent();
    const res = await gw.gql(
      token,
      `query NestedOutputs($e: String) { outputs(first: 10, filter: { employeeId: $e }) {
         nodes { id costUsd decisions(first: 5) { nodes { id rationale } } } } }`,
      { e: EMPLOYEE },
      { traceparent: caller.header },
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    await receiver.flushUntil(
      () => otel.flush(),
      () => receiver.spans.some((s) => s.traceId === caller.traceId && s.parentSpanId === caller.parentId),
      'root span joined to the caller',
    );

    // The caller's span is the parent of the gateway's root: the traces join.
    const root = only(receiver.trees(caller.traceId), 'root');
    expect(root.parentSpanId).toBe(caller.parentId);
    expect(root.name).toBe('POST /graphql');
    expect(root.kind).toBe(2);
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'hub.tenant': 'acme',
    });
    expect(root.resource['service.name']).toBe('hub-gateway-test');

    // gateway -> GraphQL operation -> Hub -> store port -> SQL statement(s)
    const op = only(root.children, 'operation span');
    expect(op.name).toBe('query NestedOutputs');
    expect(op.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'NestedOutputs',
      'hub.tenant': 'acme',
    });
    // The cost the gateway computed (extensions.cost) is on the operation.
    expect(typeof op.attributes['hub.cost.requested']).toBe('number');
    const hubCall = only(op.children, 'hub call');
    expect(hubCall.name).toBe('hub.listWithChildren');
    expect(hubCall.attributes).toMatchObject({ 'hub.tenant': 'acme', 'hub.record_type': 'outputs' });
    const storeCall = only(hubCall.children, 'store call');
    expect(storeCall.name).toBe('store.listWithChildren');
    expect(storeCall.attributes).toMatchObject({
      'hub.store': 'postgres',
      'hub.tenant': 'acme',
      'hub.rows': 3,
    });
    expect(storeCall.children.length).toBeGreaterThan(0);
    for (const sql of storeCall.children) {
      expect(sql.name).toMatch(/^(SELECT|WITH) postgresql$/);
      expect(sql.kind).toBe(3);
      expect(sql.attributes['db.system']).toBe('postgresql');
      expect(sql.attributes['db.statement']).toMatch(/\$1/);
      // Timed: a statement starts and ends within its store call.
      expect(sql.startNs >= storeCall.startNs && sql.endNs <= storeCall.endNs).toBe(true);
      expect(sql.endNs > sql.startNs).toBe(true);
    }
    expect(
      storeCall.children.some((s) => /FROM hub\.outputs/.test(String(s.attributes['db.statement']))),
    ).toBe(true);

    // Nothing secret anywhere: not the token, not a record value, not a SQL parameter.
    const everything = allAttributeText(flatten(root));
    const forbidden = [
      token,
      token.split('.')[2] as string,
      SKILL,
      EMPLOYEE,
      RATIONALE,
      COST,
      ...OUTPUT_IDS,
      DECISION_ID,
    ];
    for (const text of everything) for (const secret of forbidden) expect(text).not.toContain(secret);
    for (const body of receiver.rawBodies) for (const secret of forbidden) expect(body).not.toContain(secret);
    // The exporter sent the configured headers to the collector.
    expect(receiver.requestHeaders[0]?.['x-collector-key']).toBe('k=1');
  });

  test('a request without traceparent starts a trace of its own: by id, down to its statement', async () => {
    await otel.flush();
    receiver.clear();
    const res = await gw.gql(token, `query ById { output(id: "${OUTPUT_IDS[1]}") { id skillId } }`);
    expect(res.body.errors).toBeUndefined();
    await receiver.flushUntil(
      () => otel.flush(),
      () => receiver.spans.some((s) => s.parentSpanId === undefined && s.name === 'POST /graphql'),
      'root span',
    );
    const roots = receiver.spans.filter((s) => s.parentSpanId === undefined && s.name === 'POST /graphql');
    const root = only(roots, 'root');
    const tree = only(receiver.trees(root.traceId), 'tree');
    expect(shape(tree)).toEqual({
      'POST /graphql': [{ 'query ById': [{ 'hub.get': [{ 'store.getByIds': ['SELECT postgresql'] }] }] }],
    });
  });

  test('requests in flight together keep their own spans: every SQL statement is under its own request', async () => {
    await otel.flush();
    receiver.clear();
    // Six sampled requests at once, by id and nested list alternately, each in a caller's trace:
    // their Hub, store and SQL spans interleave in time, and each must stay in its own tree.
    const callers = Array.from({ length: 6 }, () => traceparent());
    const results = await Promise.all(
      callers.map((caller, i) =>
        i % 2 === 0
          ? gw.gql(
              token,
              `query ById { output(id: "${OUTPUT_IDS[1]}") { id } }`,
              {},
              { traceparent: caller.header },
            )
          : gw.gql(
              token,
              `query Nested($e: String) { outputs(first: 10, filter: { employeeId: $e }) { nodes { id decisions(first: 5) { nodes { id } } } } }`,
              { e: EMPLOYEE },
              { traceparent: caller.header },
            ),
      ),
    );
    for (const r of results) expect(r.body.errors).toBeUndefined();
    await receiver.flushUntil(
      () => otel.flush(),
      () =>
        callers.every((c) =>
          receiver.spans.some((s) => s.traceId === c.traceId && s.parentSpanId === c.parentId),
        ),
      'every request span',
    );
    for (const [i, caller] of callers.entries()) {
      // One tree per trace, rooted at the caller's span: no span of this trace hangs under another's.
      const root = only(receiver.trees(caller.traceId), `tree of request ${i}`);
      expect(root.parentSpanId).toBe(caller.parentId);
      const hubName = i % 2 === 0 ? 'hub.get' : 'hub.listWithChildren';
      const storeName = i % 2 === 0 ? 'store.getByIds' : 'store.listWithChildren';
      const op = only(root.children, 'operation span');
      const hubCall = only(op.children, 'hub call');
      expect(hubCall.name).toBe(hubName);
      const storeCall = only(hubCall.children, 'store call');
      expect(storeCall.name).toBe(storeName);
      expect(storeCall.children.length).toBeGreaterThan(0);
      for (const sql of storeCall.children) {
        expect(sql.attributes['db.system']).toBe('postgresql');
        expect(sql.parentSpanId).toBe(storeCall.spanId);
        expect(sql.traceId).toBe(caller.traceId);
      }
    }
    // Every SQL statement exported belongs to one of the six requests' store calls.
    const storeSpanIds = new Set(
      receiver.spans.filter((s) => s.name.startsWith('store.')).map((s) => `${s.traceId}/${s.spanId}`),
    );
    const statements = receiver.spans.filter((s) => s.attributes['db.system'] === 'postgresql');
    expect(statements.length).toBeGreaterThanOrEqual(6);
    for (const s of statements) expect(storeSpanIds.has(`${s.traceId}/${s.parentSpanId}`)).toBe(true);
  });
});

describe('a routed rollup', () => {
  let store: RoutingStore;
  let gw: TestGateway;

  beforeAll(async () => {
    const config = parseRegistryConfig(
      {
        stores: { 'acme-pg': 'memory:trace-acme', warehouse: 'memory:trace-warehouse' },
        tenants: [
          {
            id: 'acme',
            mode: 'B',
            primary: 'acme-pg',
            analytics: 'warehouse',
            freshnessSeconds: 0,
            fallback: 'fail',
          },
        ],
      },
      'test',
    );
    store = await RoutingStore.open({ load: async () => config });
    gw = await startGateway({ store, storeLabel: 'router' });
  });
  afterAll(async () => {
    await gw.close();
    await store.close();
  });

  test('gateway -> Hub -> router -> analytics store, with the route decision, and relay batches as their own traces', async () => {
    const token = await gw.token('acme');
    const w = await gw.gql(
      token,
      `mutation { recordOutputs(records: [{ id: "${OUTPUT_IDS[0]}", createdAt: "2026-03-02T10:00:00Z", skillId: "${SKILL}", employeeId: "${EMPLOYEE}", status: SUCCEEDED, costUsd: "${COST}" }]) { created } }`,
    );
    expect(w.body.data).toEqual({ recordOutputs: { created: 1 } });
    await settleRouter(store);
    await otel.flush();
    // The relay shipped the record in a batch: a trace of its own, with the analytics write below it.
    const batch = receiver.spans.find((s) => s.name === 'outbox.batch');
    expect(batch).toBeDefined();
    expect(batch?.parentSpanId).toBeUndefined();
    expect(batch?.attributes).toMatchObject({ 'hub.relay': 'acme-pg', 'hub.entries': 1, 'hub.tenants': 1 });
    const batchTree = only(receiver.trees(batch?.traceId ?? ''), 'batch tree');
    expect(shape(batchTree)).toEqual({ 'outbox.batch': ['store.putBatch'] });
    expect(batchTree.children[0]?.attributes).toMatchObject({ 'hub.store': 'warehouse', 'hub.records': 1 });

    receiver.clear();
    const caller = traceparent();
    const res = await gw.gql(
      token,
      `query Rollup { costPerSkill(from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z", bucket: MONTH) { skillId invocations } }`,
      {},
      { traceparent: caller.header },
    );
    expect(res.body.errors).toBeUndefined();
    await receiver.flushUntil(
      () => otel.flush(),
      () => receiver.spans.some((s) => s.traceId === caller.traceId && s.parentSpanId === caller.parentId),
      'root span joined to the caller',
    );
    const root = only(receiver.trees(caller.traceId), 'root');
    expect(root.parentSpanId).toBe(caller.parentId);
    expect(shape(root)).toEqual({
      'POST /graphql': [
        { 'query Rollup': [{ 'hub.costPerSkill': [{ 'store.costPerSkill': ['store.costPerSkill'] }] }] },
      ],
    });
    const op = root.children[0] as SpanNode;
    expect(op.attributes['hub.routes']).toEqual(['costPerSkill: warehouse (analytics, analytics)']);
    const routerCall = op.children[0]?.children[0] as SpanNode;
    expect(routerCall.attributes['hub.store']).toBe('router');
    const route = only(
      routerCall.events.filter((e) => e.name === 'hub.route'),
      'route event',
    );
    expect(route.attributes).toMatchObject({
      'hub.op': 'costPerSkill',
      'hub.role': 'analytics',
      'hub.store': 'warehouse',
    });
    const analytics = routerCall.children[0] as SpanNode;
    expect(analytics.attributes).toMatchObject({
      'hub.store': 'warehouse',
      'hub.tenant': 'acme',
      'hub.rows': 1,
    });
    for (const text of allAttributeText(flatten(root))) {
      for (const secret of [token, SKILL, EMPLOYEE, COST]) expect(text).not.toContain(secret);
    }
  });
});

test('tracing off: the no-op tracer, and no span reaches the collector', () => {
  expect(tracer()).toBe(otel);
  expect(createTracer({})).toBe(NOOP_TRACER);
  expect(createTracer({ endpoint: 'http://127.0.0.1:1', disabled: true })).toBe(NOOP_TRACER);
  expect(() => createTracer({ endpoint: 'http://127.0.0.1:1', sampler: 'sometimes' })).toThrow(
    /OTEL_TRACES_SAMPLER/,
  );
  expect(() =>
    createTracer({ endpoint: 'http://127.0.0.1:1', sampler: 'traceidratio', samplerArg: '2' }),
  ).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
});

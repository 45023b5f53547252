/**
 * Spans below the store port for the SharePoint and Snowflake stores, as an
 * OTLP collector receives them (test/support/otlp-receiver.ts), each store on
 * its emulator behind a gateway: a span per SharePoint REST request with its
 * throttled answers (429) and retries (503) as events, a span per Snowflake
 * statement with a lost session's reconnect as an event, all in the caller's
 * trace under the store call; and no token, password, record value or filter
 * value in any attribute, event or exported body.
 */
import { randomBytes } from 'node:crypto';
import { NOOP_TRACER, type Tracer, createTracer, installTracer } from '../../src/platform/tracing';
import type { HubStore } from '../../src/hub/store';
import { sharepointDriver } from '../../src/stores/sharepoint/sharepoint-driver';
import { snowflakeDriver } from '../../src/stores/snowflake/snowflake-driver';
import { type TestGateway, startGateway } from '../graphql/harness';
import { OtlpReceiver, type SpanNode, allAttributeText, flatten } from '../support/otlp-receiver';
import {
  type SharePointEmulator,
  emulatorStoreUri as sharepointUri,
  startSharePointEmulator,
} from '../support/sharepoint-emulator';
import {
  type SnowflakeEmulator,
  emulatorStoreUri as snowflakeUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';

// Values that must never reach a span: record content, filter values, ids, credentials.
const SKILL = 'skill.sekrit-skill-5120';
const EMPLOYEE = 'emp-sekrit-7734';
const COST = '31.415926';
const OUTPUT_IDS = ['0190a1b2-0000-7000-8000-00000000e001', '0190a1b2-0000-7000-8000-00000000e002'];
const SNOWFLAKE_PASSWORD = `pw-sekrit-${randomBytes(4).toString('hex')}`;

const QUERY = `query ByEmployee($e: String) { outputs(first: 10, filter: { employeeId: $e }) { nodes { id costUsd } } }`;

let receiver: OtlpReceiver;
let otel: Tracer;

beforeAll(async () => {
  receiver = new OtlpReceiver();
  otel = createTracer({ endpoint: await receiver.start(), sampler: 'always_on' });
  installTracer(otel);
});

afterAll(async () => {
  installTracer(NOOP_TRACER);
  await otel.shutdown();
  await receiver.stop();
});

function traceparent(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

/** Writes the two outputs through the gateway. */
async function writeOutputs(gw: TestGateway, token: string): Promise<void> {
  const records = OUTPUT_IDS.map(
    (id, i) =>
      `{ id: "${id}", createdAt: "2026-03-0${i + 2}T10:00:00Z", skillId: "${SKILL}", employeeId: "${EMPLOYEE}", status: SUCCEEDED, costUsd: "${COST}" }`,
  );
  const w = await gw.gql(token, `mutation { recordOutputs(records: [${records.join(',')}]) { created } }`);
  expect(w.body.errors).toBeUndefined();
  expect(w.body.data).toEqual({ recordOutputs: { created: 2 } });
}

/** Runs the filtered list in a caller's trace; @returns the trace's one tree. */
async function tracedList(gw: TestGateway, token: string): Promise<SpanNode> {
  await otel.flush();
  const caller = traceparent();
  const res = await gw.gql(token, QUERY, { e: EMPLOYEE }, { traceparent: caller.header });
  expect(res.body.errors).toBeUndefined();
  expect((res.body.data?.outputs as { nodes: unknown[] }).nodes).toHaveLength(2);
  await receiver.flushUntil(
    () => otel.flush(),
    () => receiver.spans.some((s) => s.traceId === caller.traceId && s.parentSpanId === caller.parentId),
    'root span joined to the caller',
  );
  const roots = receiver.trees(caller.traceId);
  expect(roots).toHaveLength(1);
  return roots[0] as SpanNode;
}

/** The chain of span names from the root down to `node`. */
function pathTo(root: SpanNode, node: SpanNode): string[] {
  if (root === node) return [root.name];
  for (const c of root.children) {
    const p = pathTo(c, node);
    if (p.length > 0) return [root.name, ...p];
  }
  return [];
}

function expectNoSecret(root: SpanNode, secrets: readonly string[]): void {
  for (const text of allAttributeText(flatten(root)))
    for (const secret of secrets) expect(text).not.toContain(secret);
  for (const body of receiver.rawBodies) for (const secret of secrets) expect(body).not.toContain(secret);
}

describe('SharePoint store', () => {
  let emulator: SharePointEmulator;
  let store: HubStore;
  let gw: TestGateway;

  beforeAll(async () => {
    emulator = await startSharePointEmulator();
    store = await sharepointDriver.open(sharepointUri(emulator, { retries: 4, retryCapMs: 50 }));
    gw = await startGateway({ store, storeLabel: 'sharepoint' });
  });
  afterAll(async () => {
    await gw?.close();
    await store?.close();
    await emulator?.close();
  });

  test('a span per REST request under the store call, 429s and retries as its events, no secret', async () => {
    const token = await gw.token('acme');
    await writeOutputs(gw, token);
    receiver.clear();
    // The next three requests are refused: a 503, then two 429s with Retry-After.
    emulator.throttle({ scope: 'request', times: 1, status: 503, retryAfter: '1' });
    emulator.throttle({ scope: 'request', times: 2, retryAfter: '2' });
    const root = await tracedList(gw, token);

    const requests = flatten(root).filter((s) => s.name.startsWith('sharepoint '));
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.kind).toBe(3);
      expect(r.attributes).toMatchObject({
        'http.request.method': expect.stringMatching(/^(GET|POST)$/),
        'server.address': '127.0.0.1',
        'http.response.status_code': 200,
      });
      expect(r.attributes['sharepoint.api']).toMatch(/\/_api\//);
      // gateway -> operation -> Hub -> store port -> SharePoint request
      expect(pathTo(root, r).slice(0, 3)).toEqual(['POST /graphql', 'query ByEmployee', 'hub.list']);
      expect(pathTo(root, r).at(-2)).toMatch(/^store\./);
      expect(r.endNs > r.startNs).toBe(true);
    }
    const events = requests.flatMap((r) => r.events);
    const throttled = events.filter((e) => e.name === 'sharepoint.throttled');
    const retried = events.filter((e) => e.name === 'sharepoint.retry');
    expect(throttled.map((e) => e.attributes)).toEqual([
      expect.objectContaining({ 'http.response.status_code': 429, retry_after: '2', delay_ms: 50 }),
      expect.objectContaining({ 'http.response.status_code': 429, retry_after: '2', delay_ms: 50 }),
    ]);
    expect(retried.map((e) => e.attributes)).toEqual([
      expect.objectContaining({ 'http.response.status_code': 503, retry_after: '1', delay_ms: 50 }),
    ]);
    expectNoSecret(root, [token, emulator.token, SKILL, EMPLOYEE, COST, ...OUTPUT_IDS]);
  });
});

describe('Snowflake store', () => {
  let emulator: SnowflakeEmulator;
  let store: HubStore;
  let gw: TestGateway;

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator({ users: { hub: SNOWFLAKE_PASSWORD } });
    store = await snowflakeDriver.open(
      snowflakeUri(emulator, { timeoutMs: 20_000 }).replace('//hub:test@', `//hub:${SNOWFLAKE_PASSWORD}@`),
    );
    gw = await startGateway({ store, storeLabel: 'snowflake' });
  });
  afterAll(async () => {
    await gw?.close();
    await store?.close();
    await emulator?.close();
  });

  test('a span per statement under the store call, a lost session as an event, no secret', async () => {
    const token = await gw.token('acme');
    await writeOutputs(gw, token);
    receiver.clear();
    // The server forgets the session: the next statement logs in again and is repeated.
    emulator.forgetSessions();
    const root = await tracedList(gw, token);

    const statements = flatten(root).filter((s) => s.name.endsWith(' snowflake'));
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.kind).toBe(3);
      expect(s.name).toMatch(/^(SELECT|WITH) snowflake$/);
      expect(s.attributes).toMatchObject({ 'db.system': 'snowflake' });
      expect(typeof s.attributes['db.statement']).toBe('string');
      expect(typeof s.attributes['db.response.returned_rows']).toBe('number');
      expect(pathTo(root, s).slice(0, 3)).toEqual(['POST /graphql', 'query ByEmployee', 'hub.list']);
      expect(pathTo(root, s).at(-2)).toMatch(/^store\./);
    }
    expect(statements.some((s) => /outputs/i.test(String(s.attributes['db.statement'])))).toBe(true);
    const reconnects = statements.flatMap((s) => s.events).filter((e) => e.name === 'snowflake.reconnect');
    expect(reconnects).toHaveLength(1);
    expectNoSecret(root, [token, SNOWFLAKE_PASSWORD, SKILL, EMPLOYEE, COST, ...OUTPUT_IDS]);
  });
});

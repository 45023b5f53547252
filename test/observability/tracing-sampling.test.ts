/**
 * Sampling: a request the sampler drops records nothing at any layer (no
 * orphan trace starts below it, though nothing is active there), while a
 * caller's sampled trace is still followed all the way down by the same
 * gateway (parent-based sampling).
 */
import { randomBytes } from 'node:crypto';
import { NOOP_TRACER, type Tracer, createTracer, installTracer } from '../../src/platform/tracing';
import { type TestGateway, startGateway } from '../graphql/harness';
import { OtlpReceiver, type SpanNode, shape } from '../support/otlp-receiver';

let receiver: OtlpReceiver;
let otel: Tracer;
let gw: TestGateway;

beforeAll(async () => {
  receiver = new OtlpReceiver();
  // Parent-based, ratio 0: only a caller's sampled trace is recorded.
  otel = createTracer({
    endpoint: await receiver.start(),
    sampler: 'parentbased_traceidratio',
    samplerArg: '0',
  });
  installTracer(otel);
  gw = await startGateway();
});

afterAll(async () => {
  await gw.close();
  installTracer(NOOP_TRACER);
  await otel.shutdown();
  await receiver.stop();
});

test('dropped requests record nothing at any layer; a sampled caller trace is followed down to the store', async () => {
  const token = await gw.token('acme');
  const id = '0190a1b2-0000-7000-8000-00000000f001';
  const w = await gw.gql(
    token,
    `mutation { recordOutputs(records: [{ id: "${id}", createdAt: "2026-03-02T10:00:00Z", skillId: "s1", employeeId: "e1", status: SUCCEEDED, costUsd: "1" }]) { created } }`,
  );
  expect(w.body.data).toEqual({ recordOutputs: { created: 1 } });
  for (let i = 0; i < 5; i++) {
    const r = await gw.gql(token, `query ById { output(id: "${id}") { id } }`);
    expect(r.body.errors).toBeUndefined();
  }
  await otel.flush();
  expect(receiver.spans).toEqual([]);

  const traceId = randomBytes(16).toString('hex');
  const header = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
  const r = await gw.gql(token, `query ById { output(id: "${id}") { id } }`, {}, { traceparent: header });
  expect(r.body.errors).toBeUndefined();
  await otel.flush();
  const trees = receiver.trees(traceId);
  expect(trees).toHaveLength(1);
  expect(shape(trees[0] as SpanNode)).toEqual({
    'POST /graphql': [{ 'query ById': [{ 'hub.get': ['store.getByIds'] }] }],
  });
  // Nothing else was exported: no trace began below a dropped span.
  expect(receiver.spans.every((s) => s.traceId === traceId)).toBe(true);
});

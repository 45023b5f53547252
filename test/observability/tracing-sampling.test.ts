/**
 * Sampling: a request the sampler drops records nothing at any layer (no
 * orphan trace starts below it, though nothing is active there), while a
 * caller's sampled trace is still followed all the way down by the same
 * gateway (parent-based sampling). The root decision the tracer takes before
 * calling the SDK samples the same trace ids as the SDK's own sampler.
 */
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NOOP_TRACER, type Tracer, createTracer, installTracer } from '../../src/platform/tracing';
import { rootSamplingFor, sampledId } from '../../src/platform/tracing-otel';
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

/** Writes one output for `id` as the token's tenant. */
async function writeOutput(token: string, id: string): Promise<void> {
  const w = await gw.gql(
    token,
    `mutation { recordOutputs(records: [{ id: "${id}", createdAt: "2026-03-02T10:00:00Z", skillId: "s1", employeeId: "e1", status: SUCCEEDED, costUsd: "1" }]) { created } }`,
  );
  expect(w.body.data).toEqual({ recordOutputs: { created: 1 } });
}

/** A caller's W3C traceparent with the sampled flag, and its trace id. */
function sampledTraceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

/** The trace holds one whole by-id request: HTTP, operation, Hub, store. */
async function expectOneByIdTree(traceId: string): Promise<void> {
  await otel.flush();
  const trees = receiver.trees(traceId);
  expect(trees).toHaveLength(1);
  expect(shape(trees[0] as SpanNode)).toEqual({
    'POST /graphql': [{ 'query ById': [{ 'hub.get': ['store.getByIds'] }] }],
  });
}

test('dropped requests record nothing at any layer; a sampled caller trace is followed down to the store', async () => {
  const token = await gw.token('acme');
  const id = '0190a1b2-0000-7000-8000-00000000f001';
  await writeOutput(token, id);
  for (let i = 0; i < 5; i++) {
    const r = await gw.gql(token, `query ById { output(id: "${id}") { id } }`);
    expect(r.body.errors).toBeUndefined();
  }
  await otel.flush();
  expect(receiver.spans).toEqual([]);

  const { traceId, header } = sampledTraceparent();
  const r = await gw.gql(token, `query ById { output(id: "${id}") { id } }`, {}, { traceparent: header });
  expect(r.body.errors).toBeUndefined();
  await expectOneByIdTree(traceId);
  // Nothing else was exported: no trace began below a dropped span.
  expect(receiver.spans.every((s) => s.traceId === traceId)).toBe(true);
});

test('a sampled request among unsampled ones in flight at once: only its own spans, its tree whole', async () => {
  const token = await gw.token('acme');
  const id = '0190a1b2-0000-7000-8000-00000000f002';
  await writeOutput(token, id);
  await otel.flush();
  receiver.clear();
  const { traceId, header } = sampledTraceparent();
  // The sampled request in the middle of eight the sampler drops, all sent at once.
  const results = await Promise.all(
    Array.from({ length: 9 }, (_x, i) =>
      gw.gql(token, `query ById { output(id: "${id}") { id } }`, {}, i === 4 ? { traceparent: header } : {}),
    ),
  );
  for (const r of results) expect(r.body.errors).toBeUndefined();
  await expectOneByIdTree(traceId);
  // The dropped requests started no trace, and lent the sampled one no span.
  expect(receiver.spans.every((s) => s.traceId === traceId)).toBe(true);
  expect(receiver.spans).toHaveLength(4);
});

describe('the root decision taken before the SDK', () => {
  const words = (): [number, number, number, number] => {
    const b = randomBytes(16);
    return [b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)];
  };
  const hex = (w: readonly number[]): string => w.map((x) => x.toString(16).padStart(8, '0')).join('');

  test("samples exactly the trace ids the SDK's trace-id-ratio sampler samples", () => {
    for (const ratio of [0, 0.01, 0.25, 0.5, 0.99, 1]) {
      const sdk = new TraceIdRatioBasedSampler(ratio);
      const bound = ratio >= 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
      // Random ids, and ids whose words XOR to just below, at and just above the bound.
      const cases = Array.from({ length: 2000 }, words);
      for (const edge of [bound - 1, bound, bound + 1])
        if (edge >= 0 && edge <= 0xffffffff)
          cases.push([edge, 0x12345678, 0x9abcdef0, (0x12345678 ^ 0x9abcdef0) >>> 0]);
      const disagree = cases.filter((w) => {
        const ours = sampledId(w[0], w[1], w[2], w[3], bound);
        const theirs =
          sdk.shouldSample(ROOT_CONTEXT, hex(w)).decision === SamplingDecision.RECORD_AND_SAMPLED;
        return theirs ? ours !== hex(w) : ours !== undefined;
      });
      expect({ ratio, disagree: disagree.map(hex) }).toEqual({ ratio, disagree: [] });
    }
  });

  test('the samplers by name: on samples every root with a valid id, off none', () => {
    for (const name of ['always_on', 'parentbased_always_on', undefined]) {
      const id = rootSamplingFor(name, undefined).traceId();
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(id).not.toBe('0'.repeat(32));
    }
    for (const name of ['always_off', 'parentbased_always_off'])
      expect(rootSamplingFor(name, undefined).traceId()).toBeUndefined();
    expect(rootSamplingFor('parentbased_traceidratio', '0').traceId()).toBeUndefined();
    expect(rootSamplingFor('traceidratio', '1').traceId()).toMatch(/^[0-9a-f]{32}$/);
  });
});

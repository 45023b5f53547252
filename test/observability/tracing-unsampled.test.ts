/**
 * What an unsampled request does with tracing on: no layer below the HTTP
 * root touches its span beyond reading `recording` (no child span, no
 * attribute, no traced view), and its log lines carry no trace ids; a
 * caller's unsampled `traceparent` is honoured by a parent-based sampler that
 * would otherwise sample every root, and a sampled request's log lines carry
 * the ids of its exported server span. The root decision draws the ratio
 * rule's value before any id: the ids it samples are ids the SDK's sampler
 * samples, at the configured rate.
 */
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NOOP_TRACER, type Tracer, createTracer, installTracer } from '../../src/platform/tracing';
import { RootSampling } from '../../src/platform/tracing-otel';
import { type LogCapture, type TestGateway, captureLog, startGateway } from '../graphql/harness';
import { countingTracer } from '../support/counting-tracer';
import { OtlpReceiver } from '../support/otlp-receiver';

const ID = '0190a1b2-0000-7000-8000-00000000e001';
const BY_ID = `query ById { output(id: "${ID}") { id } }`;

/** Writes the output the by-id queries read. */
async function writeOutput(gw: TestGateway, token: string): Promise<void> {
  const w = await gw.gql(
    token,
    `mutation { recordOutputs(records: [{ id: "${ID}", createdAt: "2026-03-02T10:00:00Z", skillId: "s1", employeeId: "e1", status: SUCCEEDED, costUsd: "1" }]) { created } }`,
  );
  expect(w.body.data).toEqual({ recordOutputs: { created: 1 } });
}

describe('tracing on, every root dropped', () => {
  // A tracer that is on and drops every root, handing out a span that counts what is done with it.
  const { tracer: dropping, counts: calls } = countingTracer(true);
  let gw: TestGateway;
  let log: LogCapture;

  beforeAll(async () => {
    installTracer(dropping);
    log = captureLog();
    gw = await startGateway({ log: log.logger });
  });

  afterAll(async () => {
    await gw.close();
    installTracer(NOOP_TRACER);
  });

  test('a by-id request: one root decision, then no span call at any layer and no trace ids in its log lines', async () => {
    const token = await gw.token('acme');
    await writeOutput(gw, token);
    calls.clear();
    const r = await gw.gql(token, BY_ID, {}, { 'x-request-id': 'unsampled-1' });
    expect(r.body.data).toEqual({ output: { id: ID } });
    const access = await log.line((l) => l.requestId === 'unsampled-1' && l.msg === 'request');
    expect(Object.fromEntries(calls)).toEqual({ startServerSpan: 1 });
    expect(access.trace_id).toBeUndefined();
    expect(access.span_id).toBeUndefined();
  });
});

describe('with an OTLP receiver, parent-based, every root of our own sampled', () => {
  let receiver: OtlpReceiver;
  let otel: Tracer;
  let gw: TestGateway;
  let log: LogCapture;
  let token: string;

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    otel = createTracer({ endpoint: await receiver.start(), sampler: 'parentbased_always_on' });
    installTracer(otel);
    log = captureLog();
    gw = await startGateway({ log: log.logger });
    token = await gw.token('acme');
    await writeOutput(gw, token);
    await otel.flush();
    receiver.clear();
  });

  afterAll(async () => {
    await gw.close();
    installTracer(NOOP_TRACER);
    await otel.shutdown();
    await receiver.stop();
  });

  test("a caller's unsampled traceparent is followed: nothing recorded, no trace ids logged", async () => {
    const traceId = randomBytes(16).toString('hex');
    const header = `00-${traceId}-${randomBytes(8).toString('hex')}-00`;
    const r = await gw.gql(token, BY_ID, {}, { traceparent: header, 'x-request-id': 'caller-unsampled' });
    expect(r.body.data).toEqual({ output: { id: ID } });
    const access = await log.line((l) => l.requestId === 'caller-unsampled' && l.msg === 'request');
    await otel.flush();
    expect(receiver.spans).toEqual([]);
    expect(access.trace_id).toBeUndefined();
  });

  test("a sampled request's log lines carry its server span's ids; its tree is whole", async () => {
    const r = await gw.gql(token, BY_ID, {}, { 'x-request-id': 'sampled-1' });
    expect(r.body.data).toEqual({ output: { id: ID } });
    const access = await log.line((l) => l.requestId === 'sampled-1' && l.msg === 'request');
    await otel.flush();
    const server = receiver.spans.find((s) => s.kind === 2 && s.attributes['hub.request_id'] === 'sampled-1');
    expect(server).toBeDefined();
    expect({ trace_id: access.trace_id, span_id: access.span_id }).toEqual({
      trace_id: server?.traceId,
      span_id: server?.spanId,
    });
    expect(
      receiver.spans
        .filter((s) => s.traceId === server?.traceId)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['POST /graphql', 'hub.get', 'query ById', 'store.getByIds'].sort());
  });
});

describe('the root decision', () => {
  /** Math.random from a fixed seed (xorshift32), so the counts below are the same in every run. */
  function seededRandom(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 0x100000000;
    };
  }

  afterEach(() => jest.restoreAllMocks());

  test("samples the configured share of roots, each with an id the SDK's sampler samples", () => {
    jest.spyOn(Math, 'random').mockImplementation(seededRandom(17));
    for (const ratio of [0.01, 0.25, 0.5]) {
      const roots = RootSampling.ratio(ratio);
      const sdk = new TraceIdRatioBasedSampler(ratio);
      const ids = Array.from({ length: 20_000 }, () => roots.traceId()).filter(
        (id): id is string => id !== undefined,
      );
      // Binomial: 20,000 draws, a standard deviation of at most 71 roots; 4 of them either side.
      expect(Math.abs(ids.length - 20_000 * ratio)).toBeLessThan(4 * Math.sqrt(20_000 * ratio * (1 - ratio)));
      expect(new Set(ids).size).toBe(ids.length);
      // The SDK's sampler is slow to ask: a few hundred of the ids (the exact rule is tracing-sampling's test).
      for (const id of ids.slice(0, 200)) {
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(sdk.shouldSample(ROOT_CONTEXT, id).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
      }
    }
  });

  test('ratio 1 samples every root, ratio 0 none, each at one draw when dropped', () => {
    const random = jest.spyOn(Math, 'random').mockImplementation(seededRandom(7));
    const all = RootSampling.ratio(1);
    for (let i = 0; i < 1000; i++) expect(all.traceId()).toMatch(/^[0-9a-f]{32}$/);
    random.mockClear();
    const none = RootSampling.ratio(0);
    for (let i = 0; i < 1000; i++) expect(none.traceId()).toBeUndefined();
    expect(random).toHaveBeenCalledTimes(1000);
  });

  test('an all-zero draw still gives a valid id', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(RootSampling.ratio(1).traceId()).toBe(`${'0'.repeat(31)}1`);
  });
});

/**
 * Span times come from one monotonic clock: a child that starts after its
 * parent and ends before it is shown inside it, to the nanosecond. (Left to
 * itself the SDK starts each span at `Date.now()`, whole milliseconds, and
 * adds the measured duration: a child starting just past a millisecond
 * boundary after its parent was shown ending up to a millisecond after it.)
 */
import { type Tracer, createTracer } from '../../src/platform/tracing';
import { OtlpReceiver, type SpanNode } from '../support/otlp-receiver';

let receiver: OtlpReceiver;
let otel: Tracer;

beforeAll(async () => {
  receiver = new OtlpReceiver();
  otel = createTracer({
    endpoint: await receiver.start(),
    sampler: 'parentbased_traceidratio',
    samplerArg: '1',
  });
});

afterAll(async () => {
  await otel.shutdown();
  await receiver.stop();
});

test('a child ended before its parent is shown within it, in every one of 2,000 pairs', async () => {
  const traceIds: string[] = [];
  // Each pair crosses a millisecond boundary between the two starts now and then (about 1 in 100).
  for (let batch = 0; batch < 10; batch++) {
    for (let i = 0; i < 200; i++) {
      const parent = otel.startRoot('parent', 'internal');
      const child = parent.child('child', 'client');
      child.end();
      parent.end();
      const ids = parent.ids();
      if (ids === undefined) throw new Error('the sampler of 1 dropped a root');
      traceIds.push(ids.traceId);
    }
    // The batch processor holds at most 2,048 spans: export every 400.
    await otel.flush();
  }
  const outside: string[] = [];
  for (const traceId of traceIds) {
    const [parent] = receiver.trees(traceId);
    const child = (parent as SpanNode).children[0] as SpanNode;
    if (child.startNs < (parent as SpanNode).startNs || child.endNs > (parent as SpanNode).endNs)
      outside.push(traceId);
  }
  expect({ pairs: traceIds.length, outside }).toEqual({ pairs: 2000, outside: [] });
});

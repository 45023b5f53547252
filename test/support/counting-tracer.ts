/**
 * A tracer that records nothing and counts every call made to it and to its
 * one span (`startServerSpan`, `startRoot`, `span.child`, `span.end`, ...),
 * for the tests and the benchmark that check what a request asks of tracing.
 */
import type { Span, Tracer } from '../../src/platform/tracing';

/** The tracer (`enabled` as given; its span never records) and the counts by call name. */
export function countingTracer(enabled: boolean): { tracer: Tracer; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const count = (what: string): void => void counts.set(what, (counts.get(what) ?? 0) + 1);
  const span: Span = {
    recording: false,
    child: () => (count('span.child'), span),
    ids: () => (count('span.ids'), undefined),
    setName: () => count('span.setName'),
    setAttribute: () => count('span.setAttribute'),
    setAttributes: () => count('span.setAttributes'),
    addEvent: () => count('span.addEvent'),
    fail: () => count('span.fail'),
    end: () => count('span.end'),
  };
  const tracer: Tracer = {
    enabled,
    startServerSpan: () => (count('startServerSpan'), span),
    startRoot: () => (count('startRoot'), span),
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
  return { tracer, counts };
}

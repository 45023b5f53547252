/**
 * The tracing port as the layers from the Hub down see it: a {@link Span}
 * interface (implemented in src/platform/tracing-otel.ts over OpenTelemetry,
 * and by the shared no-op span when tracing is off or a trace is not sampled),
 * and the optional `traced` member of a store through which a caller hands
 * its span down.
 *
 * The parent of a span is always passed explicitly, never looked up in an
 * async context: a sampled request makes a traced view of the objects it
 * calls (the Hub, the store and its wrappers, a store's connection), each
 * view holding the span its calls are children of; an unsampled request, and
 * everything when tracing is off, calls the ordinary objects unchanged. (An
 * AsyncLocalStorage would carry the parent implicitly, but while one is
 * enabled Node runs a hook on every promise of every request, sampled or not.)
 */
import type { HubStore } from './store';

/** A span attribute value (OpenTelemetry's primitive kinds). */
export type AttributeValue = string | number | boolean | readonly string[];

/** Span attributes; undefined entries are skipped. */
export type Attributes = Readonly<Record<string, AttributeValue | undefined>>;

/** OpenTelemetry's span kinds that the gateway uses. */
export type SpanKind = 'internal' | 'server' | 'client';

/** One span. Calls on a non-recording span do nothing; its children are non-recording too. */
export interface Span {
  /** False for the no-op span (tracing off, or the trace not sampled): skip computing attributes. */
  readonly recording: boolean;
  /** Starts a span, child of this one; the caller ends it. The no-op span's child is the no-op span. */
  child(name: string, kind: SpanKind): Span;
  /** Trace and span id (lower-case hex) of a recording span, for log lines; undefined otherwise. */
  ids(): { readonly traceId: string; readonly spanId: string } | undefined;
  /** Renames the span (a GraphQL operation is named once it is parsed). */
  setName(name: string): void;
  setAttribute(key: string, value: AttributeValue): void;
  setAttributes(attributes: Attributes): void;
  /** A timestamped event (a retry, a throttled answer, a route decision). */
  addEvent(name: string, attributes?: Attributes): void;
  /** Marks the span failed with an error code (`error.type`), never a message. */
  fail(code: string): void;
  /** Ends the span; later calls are ignored. */
  end(): void;
}

/** The span of a disabled tracer or an unsampled trace: one shared object, every call does nothing. */
export const NOOP_SPAN: Span = Object.freeze({
  recording: false,
  child: (): Span => NOOP_SPAN,
  ids: () => undefined,
  setName: () => undefined,
  setAttribute: () => undefined,
  setAttributes: () => undefined,
  addEvent: () => undefined,
  fail: () => undefined,
  end: () => undefined,
});

/** The optional member of the store port that hands a span down. */
export interface Traceable {
  /**
   * A view of this store whose calls record their spans (a store's
   * statements or requests, a wrapper's own span) as children of `parent`.
   * The view shares everything else with the store (connections, caches,
   * state); it is made per traced call and dropped after it. Only called
   * with a recording span.
   */
  traced?(parent: Span): HubStore;
}

/**
 * `store` as seen inside `parent`: its traced view when `parent` records and
 * the store has one, else `store` itself (no allocation).
 */
export function tracedStore<S extends HubStore>(store: S, parent: Span): S {
  if (!parent.recording || store.traced === undefined) return store;
  return store.traced(parent) as S;
}

/**
 * The `traced` member of a wrapper (a Proxy over `inner` adding metrics,
 * fairness, ...): the inner store's view wrapped the same way, so a traced
 * call passes every wrapper the ordinary call passes. Undefined when the
 * inner store has no views.
 */
export function forwardTraced<S extends HubStore>(
  inner: S,
  wrap: (view: S) => S,
): ((parent: Span) => S) | undefined {
  if (inner.traced === undefined) return undefined;
  return (parent) => wrap(tracedStore(inner, parent));
}

/**
 * A view of `target`: the properties in `replaced` read from there, every
 * other read (and every write) goes to `target`, so state the object keeps
 * (counters, caches, a closed flag) stays shared with it. Methods run with
 * the view as `this` and so see the replaced properties. For the traced views
 * of objects whose calls go through one handle (a database, a session).
 */
export function viewWith<T extends object>(target: T, replaced: Readonly<Record<string, unknown>>): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      return typeof prop === 'string' && Object.prototype.hasOwnProperty.call(replaced, prop)
        ? replaced[prop]
        : Reflect.get(obj, prop, receiver);
    },
  });
}

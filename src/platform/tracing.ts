/**
 * Tracing as the layers see it: a tiny interface over OpenTelemetry, so no
 * layer imports the SDK. One process-wide {@link Tracer} is installed by the
 * composition root ({@link installTracer}); until then (and whenever tracing
 * is off) it is {@link NOOP_TRACER}, whose calls allocate nothing beyond the
 * closures their callers pass: every span is the shared {@link NOOP_SPAN}.
 *
 * The parent of every span is passed explicitly (src/hub/tracing-ports.ts
 * says why and how): a request's span is handed to the GraphQL operation,
 * which makes a traced view of the Hub, whose calls make traced views of the
 * store, down to a store's statements. The OpenTelemetry implementation lives
 * in tracing-otel.ts and is loaded only when an OTLP endpoint is configured
 * ({@link createTracer}), so the CLI's startup never loads the SDK.
 *
 * What may be recorded: names of operations, record types, tenant ids, store
 * labels, counts, sizes, status and error codes, SQL text with placeholders.
 * Never a token, a record's content, a filter value or a SQL parameter, and
 * never an error message (messages can quote input): errors are recorded by
 * their code only.
 */
import { isHubError } from '../hub/errors';
import { NOOP_SPAN, type Span, type SpanKind } from '../hub/tracing-ports';

export {
  type AttributeValue,
  type Attributes,
  NOOP_SPAN,
  type Span,
  type SpanKind,
} from '../hub/tracing-ports';

/** Request headers by lower-case name (node:http's shape), for W3C trace context. */
export type HeaderCarrier = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The tracer: where traces begin. Spans below a root are started from their parent ({@link Span.child}). */
export interface Tracer {
  /** True when spans are exported; false for {@link NOOP_TRACER}. */
  readonly enabled: boolean;
  /**
   * Starts a server span continuing the caller's trace from its W3C
   * `traceparent`/`tracestate` headers (a new trace when absent or
   * malformed); the no-op span when the sampler drops it. The caller ends it.
   */
  startServerSpan(name: string, headers: HeaderCarrier): Span;
  /**
   * Starts the root span of a new trace for work outside any request (a
   * relay's batch); the no-op span when the sampler drops it. The caller ends it.
   */
  startRoot(name: string, kind: SpanKind): Span;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Exports what is left and stops exporting. */
  shutdown(): Promise<void>;
}

/** Tracing off: every span is {@link NOOP_SPAN}. */
export const NOOP_TRACER: Tracer = Object.freeze({
  enabled: false,
  startServerSpan: () => NOOP_SPAN,
  startRoot: () => NOOP_SPAN,
  flush: async () => undefined,
  shutdown: async () => undefined,
});

/**
 * Runs `fn` with `span`, then ends it; when `fn` rejects, the span is failed
 * with the error's code and the error rethrown unchanged.
 */
export async function runInSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    span.fail(errorCode(err));
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` in a new span `name`, child of `parent` (see {@link runInSpan});
 * with a non-recording parent, `fn` runs at once with the no-op span.
 */
export function inChildSpan<T>(
  parent: Span,
  name: string,
  kind: SpanKind,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!parent.recording) return fn(NOOP_SPAN);
  return runInSpan(parent.child(name, kind), fn);
}

/** `trace_id`/`span_id` of a recording span, as log lines carry them; undefined otherwise. */
export function traceFields(span: Span): { trace_id: string; span_id: string } | undefined {
  const ids = span.ids();
  return ids && { trace_id: ids.traceId, span_id: ids.spanId };
}

let current: Tracer = NOOP_TRACER;

/** The process's tracer ({@link NOOP_TRACER} until one is installed). */
export function tracer(): Tracer {
  return current;
}

/**
 * Makes `t` the process's tracer (the composition root does, once; tests
 * install one and put {@link NOOP_TRACER} back). @returns the previous one.
 */
export function installTracer(t: Tracer): Tracer {
  const previous = current;
  current = t;
  return previous;
}

/**
 * The error code to record for a failure: a HubError's code, a driver's
 * short code (e.g. PostgreSQL's SQLSTATE), else the error's class name.
 */
export function errorCode(err: unknown): string {
  if (isHubError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(code)) return code;
  return err instanceof Error && /^[A-Za-z0-9_]{1,60}$/.test(err.name) ? err.name : 'Error';
}

/**
 * The tracing settings (the standard OTEL_* variables, read by src/config.ts).
 * Tracing is on when `endpoint` (or `tracesEndpoint`) is set and `disabled` is not.
 */
export interface TracingSettings {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL (`/v1/traces` is appended). */
  readonly endpoint?: string;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full traces URL (wins over `endpoint`). */
  readonly tracesEndpoint?: string;
  /** OTEL_EXPORTER_OTLP_HEADERS (and _TRACES_HEADERS): `k=v,k2=v2`, values URL-encoded. */
  readonly headers?: string;
  /** OTEL_SERVICE_NAME (default `hub-gateway`). */
  readonly serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES: `k=v,...`. */
  readonly resourceAttributes?: string;
  /** OTEL_TRACES_SAMPLER (default `parentbased_always_on`). */
  readonly sampler?: string;
  /** OTEL_TRACES_SAMPLER_ARG (the ratio of the `*traceidratio` samplers). */
  readonly samplerArg?: string;
  /** OTEL_SDK_DISABLED=true turns tracing off whatever else is set. */
  readonly disabled?: boolean;
  /** OTEL_EXPORTER_OTLP_PROTOCOL (and _TRACES_PROTOCOL): only `http/json` is spoken. */
  readonly protocol?: string;
}

/** True when the settings ask for traces to be exported. */
export function tracingWanted(settings: TracingSettings): boolean {
  return !settings.disabled && Boolean(settings.tracesEndpoint ?? settings.endpoint);
}

/**
 * Builds the tracer the settings ask for: {@link NOOP_TRACER} when tracing is
 * off (nothing loaded), else the OpenTelemetry one (its SDK loaded now, on
 * first use). Does not install it.
 * @throws Error naming the variable when a setting is malformed.
 */
export function createTracer(settings: TracingSettings): Tracer {
  if (!tracingWanted(settings)) return NOOP_TRACER;
  // Loaded here, not imported at the top: the SDK stays out of every process that does not trace.
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports
  const otel = require('./tracing-otel') as typeof import('./tracing-otel');
  return otel.createOtelTracer(settings);
}

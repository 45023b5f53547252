/**
 * Tracing as the layers see it: a tiny interface over OpenTelemetry, so no
 * layer imports the SDK. One process-wide {@link Tracer} is installed by the
 * composition root ({@link installTracer}); until then (and whenever tracing
 * is off) it is {@link NOOP_TRACER}, whose calls allocate nothing beyond the
 * closures their callers pass: every span is the shared {@link NOOP_SPAN}.
 *
 * Context (which span is the parent of a new one) travels with the async
 * work through an AsyncLocalStorage. The OpenTelemetry implementation lives in
 * tracing-otel.ts and is loaded only when an OTLP endpoint is configured
 * ({@link startTracing}), so the CLI's startup never loads the SDK.
 *
 * What may be recorded: names of operations, record types, tenant ids, store
 * labels, counts, sizes, status and error codes, SQL text with placeholders.
 * Never a token, a record's content, a filter value or a SQL parameter, and
 * never an error message (messages can quote input): errors are recorded by
 * their code only.
 */
import { isHubError } from '../hub/errors';

/** A span attribute value (OpenTelemetry's primitive kinds). */
export type AttributeValue = string | number | boolean | readonly string[];

/** Span attributes; undefined entries are skipped. */
export type Attributes = Readonly<Record<string, AttributeValue | undefined>>;

/** OpenTelemetry's span kinds that the gateway uses. */
export type SpanKind = 'internal' | 'server' | 'client';

/** One span. Calls on a non-recording span do nothing. */
export interface Span {
  /** False for the no-op span (tracing off, or the trace not sampled): skip computing attributes. */
  readonly recording: boolean;
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

/** Request headers by lower-case name (node:http's shape), for W3C trace context. */
export type HeaderCarrier = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The tracer. */
export interface Tracer {
  /** True when spans are exported; false for {@link NOOP_TRACER}. */
  readonly enabled: boolean;
  /**
   * Runs `fn` in a new span, child of the active one, that is active for
   * everything `fn` starts; ends it when `fn` settles, failed with the
   * error's code when it rejects (the error is rethrown unchanged).
   */
  inSpan<T>(name: string, kind: SpanKind, fn: (span: Span) => Promise<T>): Promise<T>;
  /**
   * Starts a server span continuing the caller's trace from its W3C
   * `traceparent`/`tracestate` headers (a new trace when absent or
   * malformed). Not active until passed to {@link withSpan}; the caller ends it.
   */
  startServerSpan(name: string, headers: HeaderCarrier): Span;
  /** Starts a span, child of the active one, without making it active; the caller ends it. */
  startSpan(name: string, kind: SpanKind): Span;
  /** Runs `fn` with `span` active (spans started below it are its children). */
  withSpan<T>(span: Span, fn: () => T): T;
  /** The active span (the no-op span when none). */
  activeSpan(): Span;
  /** Trace and span id (lower-case hex) of the active recording span, for log lines. */
  activeIds(): { readonly traceId: string; readonly spanId: string } | undefined;
  /** Exports every ended span now. */
  flush(): Promise<void>;
  /** Exports what is left and stops exporting. */
  shutdown(): Promise<void>;
}

/** The span of a disabled tracer: one shared object, every call does nothing. */
export const NOOP_SPAN: Span = Object.freeze({
  recording: false,
  setName: () => undefined,
  setAttribute: () => undefined,
  setAttributes: () => undefined,
  addEvent: () => undefined,
  fail: () => undefined,
  end: () => undefined,
});

/** Tracing off: spans are {@link NOOP_SPAN}, `fn` runs as if called directly. */
export const NOOP_TRACER: Tracer = Object.freeze({
  enabled: false,
  inSpan: <T>(_name: string, _kind: SpanKind, fn: (span: Span) => Promise<T>): Promise<T> => fn(NOOP_SPAN),
  startServerSpan: () => NOOP_SPAN,
  startSpan: () => NOOP_SPAN,
  withSpan: <T>(_span: Span, fn: () => T): T => fn(),
  activeSpan: () => NOOP_SPAN,
  activeIds: () => undefined,
  flush: async () => undefined,
  shutdown: async () => undefined,
});

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

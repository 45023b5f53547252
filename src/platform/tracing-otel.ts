/**
 * The OpenTelemetry implementation of the {@link Tracer} interface: spans made
 * by the SDK's tracer, exported in batches over OTLP/HTTP (JSON) to the
 * configured collector, W3C trace context read from callers' headers. Loaded
 * only by `createTracer` in tracing.ts when an endpoint is configured.
 *
 * No context is kept here: a span's children are started from it
 * ({@link Span.child}), the parent passed down explicitly by the layers (see
 * src/hub/tracing-ports.ts), and there is no global OpenTelemetry
 * registration, so two tracers in one process, as in tests, never share
 * state. A span the sampler dropped is the shared no-op span, whose children
 * are no-op spans: an unsampled request costs one sampling decision.
 *
 * That decision is made here, before the SDK is called, for a root without a
 * caller's `traceparent` (nearly every request): the SDK would generate two
 * hex ids, run its sampler and count the span in its metrics only to return a
 * non-recording span (about 2 µs a request). {@link RootSampling} draws the
 * trace id as four random 32-bit words and applies the trace-id-ratio rule to
 * them (the SDK's rule, so the decision is the same function of the trace id);
 * only a sampled root reaches the SDK, which is handed that trace id and
 * samples it again, identically. A dropped root is the shared no-op span.
 */
import {
  type Attributes as OtelAttributes,
  ROOT_CONTEXT,
  type Span as OtelSpanApi,
  SpanKind as OtelSpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { hrTime, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  RandomIdGenerator,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import {
  type AttributeValue,
  type Attributes,
  type HeaderCarrier,
  NOOP_SPAN,
  type Span,
  type SpanKind,
  type Tracer,
  type TracingSettings,
} from './tracing';

const KINDS: Record<SpanKind, OtelSpanKind> = {
  internal: OtelSpanKind.INTERNAL,
  server: OtelSpanKind.SERVER,
  client: OtelSpanKind.CLIENT,
};

/**
 * A span made by the SDK (recording, or dropped by the sampler). Its start,
 * end and event times are given from one monotonic clock (`hrTime()`: the
 * process's time origin plus `performance.now()`): left to itself the SDK
 * starts each span at `Date.now()`, whole milliseconds, so a statement that
 * ends within a millisecond of its store call could be shown ending after it.
 */
class OtelSpan implements Span {
  readonly recording: boolean;
  private ended = false;
  constructor(
    readonly span: OtelSpanApi,
    private readonly tracer: OtelTracer,
  ) {
    this.recording = span.isRecording();
  }
  child(name: string, kind: SpanKind): Span {
    // Below a span the sampler dropped, nothing records.
    if (!this.recording) return NOOP_SPAN;
    return this.tracer.startChild(name, KINDS[kind], this.span);
  }
  ids(): { traceId: string; spanId: string } | undefined {
    if (!this.recording) return undefined;
    const ctx = this.span.spanContext();
    return { traceId: ctx.traceId, spanId: ctx.spanId };
  }
  setName(name: string): void {
    this.span.updateName(name);
  }
  setAttribute(key: string, value: AttributeValue): void {
    this.span.setAttribute(key, value as string);
  }
  setAttributes(attributes: Attributes): void {
    for (const key in attributes) {
      const value = attributes[key];
      if (value !== undefined) this.span.setAttribute(key, value as string);
    }
  }
  addEvent(name: string, attributes?: Attributes): void {
    this.span.addEvent(name, attributes ? clean(attributes) : undefined, hrTime());
  }
  fail(code: string): void {
    this.span.setAttribute('error.type', code);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end(hrTime());
  }
}

function clean(attributes: Attributes): OtelAttributes {
  const out: OtelAttributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value as string;
  }
  return out;
}

const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key.toLowerCase()];
    return typeof value === 'string' ? value : value?.[0];
  },
};

/**
 * The sampling decision for a root span (no caller's trace context, no
 * active span), taken before the SDK is called; see the file comment.
 */
export class RootSampling {
  /**
   * @param upperBound the trace-id-ratio rule's bound, computed from the ratio
   * as the SDK's TraceIdRatioBasedSampler does: a root is sampled when the XOR
   * of its trace id's four 32-bit words is below it (0: never; 2^32: always).
   */
  constructor(private readonly upperBound: number) {}

  /** For a ratio from 0 to 1 (1: every root; 0: none). */
  static ratio(ratio: number): RootSampling {
    return new RootSampling(ratio >= 1 ? 0x100000000 : Math.floor(Math.max(ratio, 0) * 0xffffffff));
  }

  /** A new root's trace id (32 lower-case hex digits) if the root is sampled, else undefined. */
  traceId(): string | undefined {
    if (this.upperBound === 0) return undefined;
    const w0 = (Math.random() * 0x100000000) >>> 0;
    const w1 = (Math.random() * 0x100000000) >>> 0;
    const w2 = (Math.random() * 0x100000000) >>> 0;
    // An all-zero id is invalid: the SDK's generator sets its last bit, and so does this one.
    const w3 = (Math.random() * 0x100000000) >>> 0 || (w0 | w1 | w2 ? 0 : 1);
    return sampledId(w0, w1, w2, w3, this.upperBound);
  }
}

/** The trace id of the four words if the ratio rule samples it under `upperBound`, else undefined. */
export function sampledId(
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  upperBound: number,
): string | undefined {
  if ((w0 ^ w1 ^ w2 ^ w3) >>> 0 >= upperBound) return undefined;
  return hex8(w0) + hex8(w1) + hex8(w2) + hex8(w3);
}

function hex8(word: number): string {
  return word.toString(16).padStart(8, '0');
}

/** The SDK's random ids, except the trace id {@link RootSampling} chose for the root being started. */
class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  /** Taken by the next trace id asked for. */
  next: string | undefined;
  generateTraceId(): string {
    const id = this.next;
    if (id === undefined) return this.random.generateTraceId();
    this.next = undefined;
    return id;
  }
  generateSpanId(): string {
    return this.random.generateSpanId();
  }
}

class OtelTracer implements Tracer {
  readonly enabled = true;
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly tracer;

  constructor(
    private readonly provider: BasicTracerProvider,
    private readonly roots: RootSampling,
    private readonly ids: PresetIdGenerator,
  ) {
    this.tracer = provider.getTracer('hub-gateway');
  }

  /** A span of the SDK, child of `parent` (a recording span of this tracer). */
  startChild(name: string, kind: OtelSpanKind, parent: OtelSpanApi): Span {
    return new OtelSpan(
      this.tracer.startSpan(name, { kind, startTime: hrTime() }, trace.setSpan(ROOT_CONTEXT, parent)),
      this,
    );
  }

  /** A root span: sampled here first, the shared no-op span when dropped. */
  private root(name: string, kind: OtelSpanKind): Span {
    const traceId = this.roots.traceId();
    if (traceId === undefined) return NOOP_SPAN;
    this.ids.next = traceId;
    try {
      return new OtelSpan(this.tracer.startSpan(name, { kind, startTime: hrTime() }, ROOT_CONTEXT), this);
    } finally {
      this.ids.next = undefined;
    }
  }

  startRoot(name: string, kind: SpanKind): Span {
    return this.root(name, KINDS[kind]);
  }

  startServerSpan(name: string, headers: HeaderCarrier): Span {
    // Nearly every request: no caller's trace context to continue.
    if (headers.traceparent === undefined) return this.root(name, OtelSpanKind.SERVER);
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    const span = new OtelSpan(
      this.tracer.startSpan(name, { kind: OtelSpanKind.SERVER, startTime: hrTime() }, parent),
      this,
    );
    // A caller's unsampled trace: the shared no-op span, like a dropped root.
    return span.recording ? span : NOOP_SPAN;
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

function samplerRatio(arg: string | undefined): number {
  if (arg === undefined || arg === '') return 1;
  const r = Number(arg);
  if (!Number.isFinite(r) || r < 0 || r > 1)
    throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got ${arg}`);
  return r;
}

/**
 * How the sampler named by OTEL_TRACES_SAMPLER / _ARG decides a root span
 * (parent-based or not, a root has no parent to follow).
 */
export function rootSamplingFor(name: string | undefined, arg: string | undefined): RootSampling {
  switch (name ?? 'parentbased_always_on') {
    case 'always_on':
    case 'parentbased_always_on':
      return RootSampling.ratio(1);
    case 'always_off':
    case 'parentbased_always_off':
      return RootSampling.ratio(0);
    default:
      // The *traceidratio samplers (samplerFor has refused any other name).
      return RootSampling.ratio(samplerRatio(arg));
  }
}

/** The sampler named by OTEL_TRACES_SAMPLER / _ARG (the specification's names). */
export function samplerFor(name: string | undefined, arg: string | undefined): Sampler {
  const ratio = (): number => samplerRatio(arg);
  switch (name ?? 'parentbased_always_on') {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw new Error(
        `OTEL_TRACES_SAMPLER must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio, got ${name}`,
      );
  }
}

/** `k=v,k2=v2` (values URL-encoded), as OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES are written. */
export function parseKeyValues(text: string | undefined, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`${variable} must be key=value pairs separated by commas`);
    try {
      out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new Error(`${variable} has a value that is not URL-encoded correctly`);
    }
  }
  return out;
}

/** The OTLP traces URL: the traces endpoint as given, or the base endpoint with `/v1/traces`. */
export function tracesUrl(settings: TracingSettings): string {
  if (settings.tracesEndpoint) return settings.tracesEndpoint;
  return `${(settings.endpoint ?? '').replace(/\/+$/, '')}/v1/traces`;
}

/** Builds the OpenTelemetry tracer for `settings` (which must have an endpoint). */
export function createOtelTracer(settings: TracingSettings): Tracer {
  const protocol = settings.protocol ?? 'http/json';
  if (protocol !== 'http/json')
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: only http/json is supported, got ${protocol}`);
  const url = tracesUrl(settings);
  try {
    new URL(url);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT is not a URL: ${url}`);
  }
  const exporter = new OTLPTraceExporter({
    url,
    headers: parseKeyValues(settings.headers, 'OTEL_EXPORTER_OTLP_HEADERS'),
  });
  const sampler = samplerFor(settings.sampler, settings.samplerArg);
  const ids = new PresetIdGenerator();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      ...parseKeyValues(settings.resourceAttributes, 'OTEL_RESOURCE_ATTRIBUTES'),
      'service.name': settings.serviceName ?? 'hub-gateway',
    }),
    sampler,
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  return new OtelTracer(provider, rootSamplingFor(settings.sampler, settings.samplerArg), ids);
}

/**
 * The OpenTelemetry implementation of the {@link Tracer} interface: spans
 * exported in batches over OTLP/HTTP (JSON) by the SDK's batch span processor
 * and OTLP exporter to the configured collector, W3C trace context read from
 * callers' headers. Loaded only by `createTracer` in tracing.ts when an
 * endpoint is configured.
 *
 * No context is kept here: a span's children are started from it
 * ({@link Span.child}), the parent passed down explicitly by the layers (see
 * src/hub/tracing-ports.ts), and there is no global OpenTelemetry
 * registration, so two tracers in one process, as in tests, never share
 * state. A span the sampler dropped is the shared no-op span, whose children
 * are no-op spans: an unsampled request costs one sampling decision.
 *
 * That decision is made here for a root without a caller's `traceparent`
 * (nearly every request): {@link RootSampling} applies the trace-id-ratio
 * rule (the SDK's rule, so the decision is the same function of the trace id)
 * to a random draw before any id exists, and draws the id only for a sampled
 * root. A caller's
 * trace context is decided by the SDK's sampler the settings name.
 *
 * A sampled span is recorded in a {@link RecordedSpan} of our own, which is
 * also the SDK's `ReadableSpan` that the batch span processor buffers and the
 * exporter reads: the SDK's tracer and span objects are not used. Measured
 * with bench:gateway, spans made by the SDK's tracer cost every request of a
 * gateway sampling 1% about a fifth more JavaScript-thread CPU, where the same
 * traced path with spans that record nothing cost 5% (docs/observability.md,
 * Cost); a recorded span is a plain object whose calls store what they are
 * given, and nothing else runs until the processor exports.
 */
import {
  type Attributes as OtelAttributes,
  type HrTime,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind as OtelSpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  type TraceState,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';
import {
  type InstrumentationScope,
  W3CTraceContextPropagator,
  hrTime,
  hrTimeDuration,
} from '@opentelemetry/core';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  type SpanProcessor,
  type TimedEvent,
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
import { WorkerSpanProcessor } from './tracing-worker-processor';

// Read once into this module's constants: a name imported from another module is read through a
// getter of its exports on every use (a re-export's getter reads the source module's in turn), and
// on the path every request takes that was a getter call or two per request. Profiled
// (docs/observability.md, Cost), those reads kept the unsampled path of `startServerSpan` out of
// line and dear in a gateway sampling 1%, where with nothing sampled it was inlined.
const NOOP: Span = NOOP_SPAN;
const SERVER = OtelSpanKind.SERVER;
const UNSET = SpanStatusCode.UNSET;
const ERROR = SpanStatusCode.ERROR;
const SAMPLED = TraceFlags.SAMPLED;
const now = hrTime;
const between = hrTimeDuration;

const KINDS: Record<SpanKind, OtelSpanKind> = {
  internal: OtelSpanKind.INTERNAL,
  server: SERVER,
  client: OtelSpanKind.CLIENT,
};

/** What every span of one tracer shares: where it goes when ended, and what it is exported with. */
interface Recorder {
  readonly processor: SpanProcessor;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

const NO_LINKS: Link[] = [];

/**
 * A sampled span: our {@link Span} while it is open, the SDK's
 * {@link ReadableSpan} once ended (handed to the batch span processor). Its
 * start, end and event times come from one monotonic clock (`hrTime()`: the
 * process's time origin plus `performance.now()`), so a statement that ends
 * within a millisecond of its store call is never shown ending after it.
 * Calls after `end()` are ignored.
 */
class RecordedSpan implements Span, ReadableSpan {
  readonly recording = true;
  readonly startTime: HrTime = now();
  endTime: HrTime = [0, 0];
  duration: HrTime = [0, 0];
  ended = false;
  status: SpanStatus = { code: UNSET };
  readonly attributes: OtelAttributes = {};
  readonly events: TimedEvent[] = [];
  readonly links = NO_LINKS;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly context: SpanContext;

  constructor(
    private readonly recorder: Recorder,
    public name: string,
    readonly kind: OtelSpanKind,
    traceId: string,
    readonly parentSpanContext: SpanContext | undefined,
    traceState: TraceState | undefined,
  ) {
    this.context = { traceId, spanId: spanId(), traceFlags: SAMPLED, traceState };
  }
  get resource(): Resource {
    return this.recorder.resource;
  }
  get instrumentationScope(): InstrumentationScope {
    return this.recorder.scope;
  }
  spanContext(): SpanContext {
    return this.context;
  }
  child(name: string, kind: SpanKind): Span {
    const { traceId, traceState } = this.context;
    return new RecordedSpan(this.recorder, name, KINDS[kind], traceId, this.context, traceState);
  }
  ids(): { traceId: string; spanId: string } {
    return { traceId: this.context.traceId, spanId: this.context.spanId };
  }
  setName(name: string): void {
    if (!this.ended) this.name = name;
  }
  setAttribute(key: string, value: AttributeValue): void {
    if (!this.ended) this.attributes[key] = attributeValue(value);
  }
  setAttributes(attributes: Attributes): void {
    if (this.ended) return;
    for (const key in attributes) {
      const value = attributes[key];
      if (value !== undefined) this.attributes[key] = attributeValue(value);
    }
  }
  addEvent(name: string, attributes?: Attributes): void {
    if (this.ended) return;
    this.events.push({ name, time: now(), attributes: attributes ? clean(attributes) : {} });
  }
  fail(code: string): void {
    if (this.ended) return;
    this.attributes['error.type'] = code;
    this.status = { code: ERROR, message: code };
  }
  end(): void {
    if (this.ended) return;
    this.endTime = now();
    this.duration = between(this.startTime, this.endTime);
    this.ended = true;
    this.recorder.processor.onEnd(this);
  }
}

/** A value as stored: an array copied (the caller may reuse it), anything else as is. */
function attributeValue(value: AttributeValue): string | number | boolean | string[] {
  return typeof value === 'object' ? [...value] : value;
}

/** A new span id: 16 lower-case hex digits, never all zero (W3C). */
function spanId(): string {
  const w0 = (Math.random() * 0x100000000) >>> 0;
  const w1 = (Math.random() * 0x100000000) >>> 0 || (w0 === 0 ? 1 : 0);
  return hex8(w0) + hex8(w1);
}

function clean(attributes: Attributes): OtelAttributes {
  const out: OtelAttributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = attributeValue(value);
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

  /**
   * A new root's trace id (32 lower-case hex digits) if the root is sampled,
   * else undefined. The rule looks only at the XOR of the id's four words, so
   * that XOR is drawn first (uniform, like the XOR of four uniform words) and a
   * dropped root costs one random draw and a comparison; a sampled root then
   * draws three words and takes the fourth as what gives that XOR, which makes
   * the id uniform among the ids the rule samples.
   */
  traceId(): string | undefined {
    const x = (Math.random() * 0x100000000) >>> 0;
    if (x >= this.upperBound) return undefined;
    const w0 = (Math.random() * 0x100000000) >>> 0;
    const w1 = (Math.random() * 0x100000000) >>> 0;
    const w2 = (Math.random() * 0x100000000) >>> 0;
    // An all-zero id is invalid: its last bit is set then (the SDK's generator does the same).
    const w3 = (x ^ w0 ^ w1 ^ w2) >>> 0 || (w0 | w1 | w2 ? 0 : 1);
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

class OtelTracer implements Tracer {
  readonly enabled = true;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(
    private readonly recorder: Recorder,
    private readonly roots: RootSampling,
    private readonly sampler: Sampler,
  ) {}

  /** A root span: sampled here, the shared no-op span when dropped. */
  private root(name: string, kind: OtelSpanKind): Span {
    const traceId = this.roots.traceId();
    if (traceId === undefined) return NOOP;
    return this.recorded(name, kind, traceId);
  }

  /** A sampled root's span, apart from {@link root} so that the path of a dropped root stays small. */
  private recorded(name: string, kind: OtelSpanKind, traceId: string): Span {
    return new RecordedSpan(this.recorder, name, kind, traceId, undefined, undefined);
  }

  startRoot(name: string, kind: SpanKind): Span {
    return this.root(name, KINDS[kind]);
  }

  startServerSpan(name: string, headers: HeaderCarrier): Span {
    // Nearly every request: no caller's trace context to continue.
    if (headers.traceparent === undefined) return this.root(name, SERVER);
    const context = this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    const parent = trace.getSpanContext(context);
    // A malformed traceparent: a trace of our own, as without one.
    if (parent === undefined || !isSpanContextValid(parent)) return this.root(name, SERVER);
    // The configured sampler decides a caller's trace (parent-based ones follow its sampled flag).
    const decision = this.sampler.shouldSample(context, parent.traceId, name, SERVER, {}, []);
    // A caller's unsampled trace: the shared no-op span, like a dropped root.
    if (decision.decision !== SamplingDecision.RECORD_AND_SAMPLED) return NOOP;
    const traceState = decision.traceState ?? parent.traceState;
    return new RecordedSpan(this.recorder, name, SERVER, parent.traceId, parent, traceState);
  }

  flush(): Promise<void> {
    return this.recorder.processor.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.recorder.processor.shutdown();
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

/** Parts that replace the usual ones (benchmarks and tests only). */
export interface OtelParts {
  /** Instead of the OTLP/HTTP exporter. */
  readonly exporter?: SpanExporter;
  /** Instead of the batch span processor over the exporter (ended spans go there). */
  readonly processor?: SpanProcessor;
}

/** Builds the OpenTelemetry tracer for `settings` (which must have an endpoint). */
export function createOtelTracer(settings: TracingSettings, parts: OtelParts = {}): Tracer {
  const protocol = settings.protocol ?? 'http/json';
  if (protocol !== 'http/json')
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: only http/json is supported, got ${protocol}`);
  const url = tracesUrl(settings);
  try {
    new URL(url);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT is not a URL: ${url}`);
  }
  const headers = parseKeyValues(settings.headers, 'OTEL_EXPORTER_OTLP_HEADERS');
  const resourceAttributes = {
    ...parseKeyValues(settings.resourceAttributes, 'OTEL_RESOURCE_ATTRIBUTES'),
    'service.name': settings.serviceName ?? 'hub-gateway',
  };
  const scope = { name: 'hub-gateway' };
  // Every setting is checked before the processor exists: a refused setting must not leave an
  // export worker behind that nothing will ever shut down.
  const sampler = samplerFor(settings.sampler, settings.samplerArg);
  const roots = rootSamplingFor(settings.sampler, settings.samplerArg);
  // The OTLP export runs in a worker thread (see tracing-worker-processor.ts); injected parts stay here.
  const processor =
    parts.processor ??
    (parts.exporter
      ? new BatchSpanProcessor(parts.exporter)
      : new WorkerSpanProcessor({ url, headers, resourceAttributes, scope }));
  const recorder: Recorder = { processor, resource: resourceFromAttributes(resourceAttributes), scope };
  return new OtelTracer(recorder, roots, sampler);
}

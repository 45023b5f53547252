/**
 * An in-process OTLP/HTTP trace receiver for tests: a real HTTP server that
 * accepts what an OpenTelemetry exporter POSTs to `/v1/traces` in the OTLP
 * JSON encoding (`application/json`), decodes every span with its
 * attributes, events and resource, and answers as a collector does. A
 * protobuf body is refused with 415 (the gateway's exporter speaks JSON).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A decoded span. Ids are lower-case hex; times are nanoseconds since the epoch. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Absent on a root span. */
  readonly parentSpanId?: string;
  readonly name: string;
  /** OTLP's kind number: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly events: readonly {
    readonly name: string;
    readonly attributes: Readonly<Record<string, unknown>>;
  }[];
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message?: string };
  readonly resource: Readonly<Record<string, unknown>>;
}

/** A span with its children, ordered by start time. */
export interface SpanNode extends ReceivedSpan {
  readonly children: SpanNode[];
}

interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}

function decodeValue(v: OtlpAnyValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(decodeValue);
  return undefined;
}

function decodeAttributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = decodeValue(kv.value);
  return out;
}

/** Hex from an OTLP JSON id (hex already, or base64 as some encoders write it). */
function hexId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  if (/^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Every export request's headers (to check OTEL_EXPORTER_OTLP_HEADERS). */
  readonly requestHeaders: Record<string, string | string[] | undefined>[] = [];
  /** Raw bodies, for scanning for values that must never be exported. */
  readonly rawBodies: string[] = [];
  private server?: Server;
  private url = '';

  /** Starts listening on 127.0.0.1:0; resolves to the base URL (the OTLP endpoint). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.statusCode = 404;
      return void res.end();
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      res.statusCode = 415;
      return void res.end();
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    this.rawBodies.push(raw);
    this.requestHeaders.push({ ...req.headers });
    const body = JSON.parse(raw) as {
      resourceSpans?: {
        resource?: { attributes?: OtlpKeyValue[] };
        scopeSpans?: {
          spans?: {
            traceId: string;
            spanId: string;
            parentSpanId?: string;
            name: string;
            kind?: number;
            startTimeUnixNano: string | number;
            endTimeUnixNano: string | number;
            attributes?: OtlpKeyValue[];
            events?: { name: string; attributes?: OtlpKeyValue[] }[];
            status?: { code?: number; message?: string };
          }[];
        }[];
      }[];
    };
    for (const rs of body.resourceSpans ?? []) {
      const resource = decodeAttributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const parent = hexId(s.parentSpanId);
          this.spans.push({
            traceId: hexId(s.traceId) ?? '',
            spanId: hexId(s.spanId) ?? '',
            ...(parent ? { parentSpanId: parent } : {}),
            name: s.name,
            kind: s.kind ?? 0,
            startNs: BigInt(s.startTimeUnixNano),
            endNs: BigInt(s.endTimeUnixNano),
            attributes: decodeAttributes(s.attributes),
            events: (s.events ?? []).map((e) => ({
              name: e.name,
              attributes: decodeAttributes(e.attributes),
            })),
            status: {
              code: s.status?.code ?? 0,
              ...(s.status?.message ? { message: s.status.message } : {}),
            },
            resource,
          });
        }
      }
    }
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  }

  /**
   * Flushes `flush` (the tracer's) until `found()` holds, at most `most`
   * times. A request's root span ends when the server's response closes,
   * which can come after the client has read the whole answer: one flush
   * right after the answer may export the children without their root.
   * Each flush is an export round trip, so the server's pending close runs
   * between two; no timer is involved.
   * @throws Error naming `what` when it still does not hold.
   */
  async flushUntil(flush: () => Promise<void>, found: () => boolean, what: string, most = 50): Promise<void> {
    for (let i = 0; i < most; i++) {
      await flush();
      if (found()) return;
    }
    throw new Error(`after ${most} flushes: no ${what} among ${this.spans.length} spans received`);
  }

  /** Forgets every span received so far. */
  clear(): void {
    this.spans.length = 0;
    this.rawBodies.length = 0;
    this.requestHeaders.length = 0;
  }

  /** The spans of one trace as trees (its roots, usually one), children by start time. */
  trees(traceId: string): SpanNode[] {
    const spans = this.spans.filter((s) => s.traceId === traceId);
    const nodes = new Map<string, SpanNode>(spans.map((s) => [s.spanId, { ...s, children: [] }]));
    const roots: SpanNode[] = [];
    for (const node of nodes.values()) {
      const parent = node.parentSpanId ? nodes.get(node.parentSpanId) : undefined;
      if (parent) parent.children.push(node);
      else roots.push(node);
    }
    const sort = (list: SpanNode[]): void => {
      list.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
      for (const n of list) sort(n.children);
    };
    sort(roots);
    return roots;
  }
}

/** A tree as nested names (`name` then children), for readable equality checks. */
export function shape(node: SpanNode): unknown {
  return node.children.length === 0 ? node.name : { [node.name]: node.children.map(shape) };
}

/** Every node of a tree, depth first. */
export function flatten(node: SpanNode): SpanNode[] {
  return [node, ...node.children.flatMap(flatten)];
}

/** Every attribute and event-attribute value of the spans, as strings (for secret scans). */
export function allAttributeText(spans: readonly ReceivedSpan[]): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(add);
    else out.push(String(v));
  };
  for (const s of spans) {
    out.push(s.name);
    Object.values(s.attributes).forEach(add);
    for (const e of s.events) {
      out.push(e.name);
      Object.values(e.attributes).forEach(add);
    }
    if (s.status.message) out.push(s.status.message);
  }
  return out;
}

/**
 * Exports ended spans for tracing-worker-processor.ts, in a worker thread.
 *
 * Why a worker: with the SDK's batch span processor and OTLP exporter on the
 * gateway's own thread, a gateway sampling 1% of requests spent 5-10% more
 * instructions per request than one that recorded the same spans and dropped
 * them (bench:gateway --instructions): the serialiser and transport run
 * rarely, never get fully optimised, and share hot code with the server's
 * own paths. Here they run in their own V8 isolate; the gateway's thread only
 * copies ended spans into plain data and posts them in batches.
 *
 * Protocol (messages in; replies matched by id):
 *   { op: 'spans', spans: [PlainSpan] }   -> (none) each span goes to the batch processor
 *   { op: 'flush', id }                  -> { id } once the processor has exported what it holds
 *   { op: 'shutdown', id }               -> { id } after the processor's shutdown
 * A failed flush or shutdown replies { id, error: message }. The batch
 * processor reads the standard OTEL_BSP_* variables (a worker shares the
 * process's environment), as on the main thread.
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { TraceState } = require('@opentelemetry/core');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const { url, headers, resourceAttributes, scope } = workerData;
const resource = resourceFromAttributes(resourceAttributes);
const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url, headers }));

/** A posted span as the SDK's ReadableSpan (what the processor and exporter read). */
function readable(p) {
  const context = {
    traceId: p.traceId,
    spanId: p.spanId,
    traceFlags: p.traceFlags,
    traceState: p.traceState === undefined ? undefined : new TraceState(p.traceState),
  };
  return {
    name: p.name,
    kind: p.kind,
    spanContext: () => context,
    parentSpanContext: p.parent,
    startTime: p.startTime,
    endTime: p.endTime,
    duration: p.duration,
    status: p.status,
    attributes: p.attributes,
    links: [],
    events: p.events,
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

parentPort.on('message', (msg) => {
  switch (msg.op) {
    case 'spans':
      for (const p of msg.spans) processor.onEnd(readable(p));
      return;
    case 'flush':
    case 'shutdown':
      (msg.op === 'flush' ? processor.forceFlush() : processor.shutdown()).then(
        () => parentPort.postMessage({ id: msg.id }),
        (err) =>
          parentPort.postMessage({ id: msg.id, error: String(err && err.message ? err.message : err) }),
      );
      return;
    default:
      throw new Error(`tracing-export-worker: unknown op ${msg.op}`);
  }
});

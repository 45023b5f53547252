/**
 * `POST /ingest/<recordType>`: NDJSON bulk ingest, authenticated like
 * `/graphql` (scope hub:write). One JSON record per line, in storage names
 * (`skill_id`, `cost_usd`; an artifact's `body` as base64), exactly what
 * `Hub.record` accepts.
 *
 * Semantics (never a silent half-applied line):
 * - The body is streamed and cut into batches of lines; each batch is
 *   validated whole by the Hub. Lines that are not JSON, are over a bound, or
 *   fail validation are rejected with their line number and every problem;
 *   the valid lines of the batch are then written. A line is therefore either
 *   written exactly as sent or reported, never partly applied.
 * - Written lines report `created` or `duplicate` (same id, same content);
 *   a same-id-different-content line is rejected with CONFLICT.
 * - If the store fails mid-stream the answer is 503 with the counts so far and
 *   `stoppedAtLine`; lines before it are durable. If the stream runs out of
 *   time (the whole-stream or the idle limit, see request-timeouts.ts), the
 *   complete lines already read are written, the line being read is dropped,
 *   and the answer is 408 with the counts and `stoppedAtLine`, the line to
 *   resume from (every line before it was written or rejected). If the sender goes away
 *   mid-stream, the batches already written stay and the batch being read is
 *   dropped. Re-sending the whole file is safe: records with client-chosen ids
 *   come back as duplicates.
 *
 * Memory is bounded whatever the input (see {@link IngestLimits}): one line
 * is held at a time, an artifact body is decoded and hashed as it streams
 * (ndjson-reader.ts), a batch is written as soon as one more line could take
 * the request over its bytes in flight, and a request reserves its bytes from
 * the gateway's budget before reading (waiting, unread, while it is spent).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError, isHubError } from '../hub/errors';
import type { Hub } from '../hub/hub';
import { LIMITS, type RecordType, isRecordType } from '../hub/model';
import type { TenantId } from '../hub/tenant';
import { type Authenticator, requireScope } from '../platform/auth';
import { HTTP_STATUS, publicMessage, retryAfterSeconds } from '../platform/public-errors';
import { type Logger, errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import { ByteBudget } from './byte-budget';
import { type LineItem, NdjsonReader } from './ndjson-reader';
import { NOOP_SPAN, type Span } from '../platform/tracing';
import { tracedHub } from '../platform/tracing-ports';
import { DEFAULT_REQUEST_COST } from '../platform/tenant-limits';
import type { AdmissionControl } from './admission';
import { refuseUnreadBody, sendError, sendJson } from './respond';
import { noteTenant } from './access-log';
import { ChunkWriter, IngestTally } from './ingest-writer';
import { type BodyStop, TimedBody, answerAndDrop } from './request-timeouts';
import type { UsageMeter } from '../platform/usage';

/**
 * Bounds of `/ingest` (see {@link ingestLimits} for the defaults). Bytes "in
 * flight" are what a request holds between reading and writing: the JSON
 * text of lines read but not yet written, plus their decoded artifact bodies.
 */
export interface IngestLimits {
  /** Longest line as sent, body included (`HUB_INGEST_MAX_LINE_BYTES`). */
  readonly maxLineBytes: number;
  /** JSON text of one line held for parsing: every field but an artifact's body. */
  readonly maxTextBytes: number;
  /** Largest artifact body (decoded): the Hub's limit. */
  readonly maxBodyBytes: number;
  /** Bytes in flight per request (`HUB_INGEST_MAX_REQUEST_BYTES`); at least one line's worth. */
  readonly maxRequestBytes: number;
  /** Bytes in flight of every ingest of this gateway together (`HUB_INGEST_MAX_INFLIGHT_BYTES`). */
  readonly budget: ByteBudget;
  /** Longest stream, from its first read (`HUB_INGEST_TIMEOUT_MS`). */
  readonly maxStreamMs: number;
  /** Longest wait for the sender's next bytes (`HUB_INGEST_IDLE_TIMEOUT_MS`). */
  readonly idleMs: number;
}

/** Settings of {@link ingestLimits}; unset ones take the defaults. */
export interface IngestLimitOptions {
  readonly maxLineBytes?: number;
  readonly maxRequestBytes?: number;
  readonly maxInflightBytes?: number;
  /** The Hub's artifact body limit (default `LIMITS.maxArtifactBodyBytes`). */
  readonly maxBodyBytes?: number;
  /** A budget shared with other gateways of the process (then `maxInflightBytes` is its capacity). */
  readonly budget?: ByteBudget;
  readonly maxStreamMs?: number;
  readonly idleMs?: number;
}

/** JSON text of one line outside an artifact body: four times a record's canonical limit (escapes, spaces). */
const MAX_TEXT_BYTES = 4 * LIMITS.maxRecordBytes;
const MiB = 1024 * 1024;
/**
 * A batch is written once its lines hold this much: every byte of a batch is
 * copied on the event loop as its statement is built and sent (the bytea[]
 * parameter, pg's Bind message, the socket), in one step, so the batch's size
 * bounds that step, whatever the bound on bytes in flight. Under bench:abuse
 * an 8 MiB batch held the loop 23-27 ms of CPU; 2 MiB is a quarter of that,
 * and still one statement per two 1 MiB bodies (a larger body is a batch of
 * its own).
 */
const BATCH_BYTES = 2 * MiB;

/**
 * The ingest bounds: a line up to the base64 of the largest body plus a
 * record (14 MB for 10 MiB bodies), 32 MiB in flight per request and 256 MiB
 * per gateway by default; the per-request bound is raised to one whole line
 * and the per-gateway bound to one request when set lower. A stream may take
 * an hour, and wait a minute for its sender's next bytes.
 * @throws RangeError when a time limit is not a positive whole number of ms.
 */
export function ingestLimits(options: IngestLimitOptions = {}): IngestLimits {
  const maxBodyBytes = options.maxBodyBytes ?? LIMITS.maxArtifactBodyBytes;
  const maxLineBytes =
    options.maxLineBytes ?? Math.ceil((maxBodyBytes * 4) / 3) + LIMITS.maxRecordBytes + 1024;
  const maxTextBytes = Math.min(MAX_TEXT_BYTES, maxLineBytes);
  const maxRequestBytes = Math.max(options.maxRequestBytes ?? 32 * MiB, maxTextBytes + maxBodyBytes);
  const inflight = Math.max(options.maxInflightBytes ?? 256 * MiB, maxRequestBytes);
  const budget = options.budget ?? new ByteBudget(inflight);
  const maxStreamMs = options.maxStreamMs ?? 3_600_000;
  const idleMs = options.idleMs ?? 60_000;
  for (const [name, ms] of Object.entries({ maxStreamMs, idleMs })) {
    if (!Number.isSafeInteger(ms) || ms <= 0)
      throw new RangeError(`ingest ${name} must be a positive whole number of ms, got ${ms}`);
  }
  return { maxLineBytes, maxTextBytes, maxBodyBytes, maxRequestBytes, budget, maxStreamMs, idleMs };
}

export interface IngestDeps {
  readonly hub: Hub;
  readonly auth: Authenticator;
  readonly metrics: GatewayMetrics;
  /** Per-tenant requests in flight and cost budgets (429 THROTTLED before the body is read). */
  readonly admission: AdmissionControl;
  /** Lines per Hub call (default 500). */
  readonly chunkLines?: number;
  /** Bounds (default: {@link ingestLimits}(), made once per process). */
  readonly limits?: IngestLimits;
  /** Per-tenant usage: a request, its body bytes, and an error when any line failed. */
  readonly usage?: UsageMeter;
}

let processLimits: IngestLimits | undefined;

/** Handles one ingest request. */
export async function handleIngest(
  deps: IngestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  typeName: string,
  log: Logger,
  span: Span = NOOP_SPAN,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return sendError(res, 405, 'VALIDATION', 'use POST with an NDJSON body');
  }
  let tenant: TenantId;
  try {
    const identity = await deps.auth.authenticate(req.headers.authorization);
    noteTenant(res, identity.tenant);
    requireScope(identity, 'hub:write');
    tenant = identity.tenant;
    if (span.recording) span.setAttribute('hub.tenant', tenant);
  } catch (err) {
    const code = isHubError(err) ? err.code : 'INTERNAL';
    if (code === 'UNAUTHENTICATED') res.setHeader('www-authenticate', 'Bearer');
    refuseUnreadBody(req, res);
    return sendError(res, HTTP_STATUS[code], code, isHubError(err) ? err.message : 'internal error');
  }
  if (!isRecordType(typeName)) {
    refuseUnreadBody(req, res);
    return sendError(res, 404, 'NOT_FOUND', `unknown record type ${JSON.stringify(typeName.slice(0, 64))}`);
  }
  const ticket = await deps.admission.admit(tenant, req, res, deps.metrics);
  if (ticket === undefined) return;
  const read = { bytes: 0 };
  let lines = 0;
  try {
    // A sampled request writes through the Hub's traced view (its spans under the request's).
    const traced = span.recording ? { ...deps, hub: tracedHub(deps.hub, span) } : deps;
    lines = await ingest(traced, req, res, tenant, typeName, log, read);
  } finally {
    // An ingest costs a request, one unit per line and one per KiB read (the unit of bodies in
    // the GraphQL cost model): decoding, hashing and writing bytes is most of what it costs.
    ticket.done(DEFAULT_REQUEST_COST + lines + Math.ceil(read.bytes / INGEST_BYTES_PER_UNIT));
  }
}

/** Bytes of an `/ingest` body per cost unit charged to the tenant's budget. */
export const INGEST_BYTES_PER_UNIT = 1024;

/**
 * Streams the lines into the Hub and answers, in named steps: the reader and
 * the batching of lines ({@link LineSink}), the bytes reserved, the body read
 * to its end or its time limit ({@link readLines}), the last batch written,
 * and the answer: 200, 408 when the stream ran out of time, 503 (or the
 * error's own status) when the store failed.
 * @returns the lines read; `read.bytes`: the body's bytes read.
 */
async function ingest(
  deps: IngestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  tenant: TenantId,
  type: RecordType,
  log: Logger,
  read: { bytes: number },
): Promise<number> {
  const limits = deps.limits ?? (processLimits ??= ingestLimits());
  const report = new IngestTally(type, deps.metrics);
  const chunk = new ChunkWriter(deps.hub, tenant, report);
  const reader = readerFor(type, limits);
  // A body whose declared length fits the request's bound is reserved whole and
  // never flushed early; any other reserves the bound and writes its batch
  // before the next line could take the request over it.
  const declared = Number(req.headers['content-length']);
  const fitsWhole = Number.isSafeInteger(declared) && declared >= 0 && declared <= limits.maxRequestBytes;
  const sink = new LineSink(report, chunk, {
    chunkLines: deps.chunkLines ?? 500,
    flushAboveBytes: fitsWhole ? Infinity : limits.maxRequestBytes - reader.maxHeldPerLine,
  });
  // Nothing is read until the bytes are reserved: a waiting sender is held back by TCP.
  const release = await limits.budget.reserve(fitsWhole ? declared : limits.maxRequestBytes);
  let failed = true;
  let stop: BodyStop | undefined;
  const body = new TimedBody(req, { maxMs: limits.maxStreamMs, idleMs: limits.idleMs });
  try {
    stop = await readLines(body, reader, sink, read);
    await chunk.flush();
    failed = stop !== undefined || report.rejected > 0;
  } catch (err) {
    log.error('ingest stopped', { ...errorFields(err), type, line: sink.lastLine });
    req.resume();
    answerFailure(res, err, report, chunk.firstUnwritten(sink.lastLine));
    return report.lines;
  } finally {
    body.close();
    release();
    deps.usage?.add(tenant, 'requests');
    deps.usage?.add(tenant, 'bytes_ingested', read.bytes);
    if (failed) deps.usage?.add(tenant, 'errors');
  }
  if (stop) {
    log.warn('ingest stopped', { type, line: sink.lastLine + 1, limit: stop.limit });
    answerStopped(req, res, stop, sink.lastLine + 1, report);
    return report.lines;
  }
  sendJson(res, 200, report.answer());
  return report.lines;
}

/** The line reader of a type: an artifact's body is decoded as it streams, up to the Hub's limit. */
function readerFor(type: RecordType, limits: IngestLimits): NdjsonReader {
  return new NdjsonReader({
    maxLineBytes: limits.maxLineBytes,
    maxTextBytes: limits.maxTextBytes,
    lineLimitName: 'HUB_INGEST_MAX_LINE_BYTES',
    ...(type === 'artifacts' ? { spill: { field: 'body', maxBytes: limits.maxBodyBytes } } : {}),
  });
}

/**
 * Takes the reader's lines in order: blank ones are counted, invalid ones
 * rejected with their line number, records added to the batch, which is
 * written once it holds `chunkLines` lines, {@link BATCH_BYTES}, or more than
 * `flushAboveBytes` (room left in the request's bound for one more line).
 */
class LineSink {
  /** Number of the last line taken (0 before the first). */
  lastLine = 0;

  constructor(
    private readonly report: IngestTally,
    private readonly chunk: ChunkWriter,
    private readonly bounds: { readonly chunkLines: number; readonly flushAboveBytes: number },
  ) {}

  async take(item: LineItem): Promise<void> {
    this.lastLine = item.line;
    this.report.lines = item.line;
    if (item.kind === 'blank') return;
    if (item.kind === 'invalid') return this.report.reject(item.line, 'VALIDATION', item.message);
    const { chunk, bounds } = this;
    chunk.add(item.line, item.value, item.bytes);
    if (
      chunk.lines >= bounds.chunkLines ||
      chunk.bytes >= BATCH_BYTES ||
      chunk.bytes > bounds.flushAboveBytes
    )
      await chunk.flush();
  }
}

/**
 * Feeds the body's lines to `sink` to its end (the last line too), or until
 * it runs out of time: then the line being read is dropped and the complete
 * ones are taken. @returns the stop when out of time; `read.bytes` counts the body's bytes.
 */
async function readLines(
  body: TimedBody,
  reader: NdjsonReader,
  sink: LineSink,
  read: { bytes: number },
): Promise<BodyStop | undefined> {
  for (;;) {
    const next = await body.next();
    if (next === null) break;
    if (!Buffer.isBuffer(next)) return next;
    read.bytes += next.length;
    for (const item of reader.push(next)) await sink.take(item);
  }
  for (const item of reader.end()) await sink.take(item);
  return undefined;
}

/** The answer when writing failed: the counts so far and the line to resume from (503 for a server-side failure). */
function answerFailure(res: ServerResponse, err: unknown, report: IngestTally, line: number): void {
  const hubErr = isHubError(err) ? err : new HubError('INTERNAL', 'internal error', { cause: err });
  const retryAfter = retryAfterSeconds(hubErr);
  if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
  sendJson(
    res,
    HTTP_STATUS[hubErr.code] >= 500 ? 503 : HTTP_STATUS[hubErr.code],
    report.answer({ line, error: { line, code: hubErr.code, message: publicMessage(hubErr) } }),
  );
}

/** The answer when the stream ran out of time (408): every line before `line` is written or rejected. */
function answerStopped(
  req: IncomingMessage,
  res: ServerResponse,
  stop: BodyStop,
  line: number,
  report: IngestTally,
): void {
  const message = `${stop.message}; every line before line ${line} is written or rejected: send the rest from line ${line}`;
  answerAndDrop(req, res, () =>
    sendJson(res, 408, report.answer({ line, error: { line, code: 'TIMEOUT', message } })),
  );
}

/**
 * `POST /ingest/<recordType>`: NDJSON bulk ingest, authenticated like
 * `/graphql` (scope hub:write). One JSON record per line, in storage names
 * (`skill_id`, `cost_usd`; an artifact's `body` as base64), exactly what
 * `Hub.record` accepts.
 *
 * Semantics (never a silent half-applied line):
 * - The body is streamed and cut into chunks of lines; each chunk is validated
 *   whole by the Hub. Lines that are not JSON or fail validation are rejected
 *   with their line number and every problem; the valid lines of the chunk are
 *   then written. A line is therefore either written exactly as sent or
 *   reported, never partly applied.
 * - Written lines report `created` or `duplicate` (same id, same content);
 *   a same-id-different-content line is rejected with CONFLICT.
 * - If the store fails mid-stream the answer is 503 with the counts so far and
 *   `stoppedAtLine`; lines before it are durable. Re-sending the whole file is
 *   safe: records with client-chosen ids come back as duplicates.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError, isHubError } from '../hub/errors';
import type { Hub } from '../hub/hub';
import { LIMITS, isRecordType } from '../hub/model';
import type { TenantId } from '../hub/tenant';
import { type Authenticator, requireScope } from '../platform/auth';
import { HTTP_STATUS, publicMessage } from '../platform/public-errors';
import { type Logger, errorFields } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import { sendError, sendJson } from './respond';

export interface IngestDeps {
  readonly hub: Hub;
  readonly auth: Authenticator;
  readonly metrics: GatewayMetrics;
  /** Lines per Hub call (default 500). */
  readonly chunkLines?: number;
}

/** One rejected line. */
export interface RejectedLine {
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

/** The answer of an ingest request. */
export interface IngestReport {
  readonly type: string;
  readonly lines: number;
  readonly created: number;
  readonly duplicates: number;
  readonly rejected: number;
  /** The first 1000 rejected lines. */
  readonly errors: RejectedLine[];
  readonly errorsTruncated: boolean;
  /** Set when the store failed: no line at or after it was processed. */
  readonly stoppedAtLine?: number;
}

const MAX_REPORTED = 1000;
/** Longest line accepted: the largest artifact body in base64 plus a record. */
const MAX_LINE_BYTES = Math.ceil((LIMITS.maxArtifactBodyBytes * 4) / 3) + LIMITS.maxRecordBytes + 1024;

/** Splits a byte stream into lines, numbering them; an over-long line is yielded as `null` text. */
async function* lines(req: AsyncIterable<Buffer>): AsyncGenerator<{ n: number; text: string | null }> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let n = 0;
  for await (const chunk of req) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, nl < 0 ? chunk.length : nl);
      if (!tooLong) {
        size += piece.length;
        if (size > MAX_LINE_BYTES) {
          tooLong = true;
          parts = [];
        } else parts.push(piece);
      }
      if (nl < 0) break;
      n++;
      yield { n, text: tooLong ? null : Buffer.concat(parts).toString('utf8') };
      parts = [];
      size = 0;
      tooLong = false;
      start = nl + 1;
    }
  }
  if (size > 0 || tooLong) {
    n++;
    yield { n, text: tooLong ? null : Buffer.concat(parts).toString('utf8') };
  }
}

/** Handles one ingest request. */
export async function handleIngest(
  deps: IngestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  typeName: string,
  log: Logger,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return sendError(res, 405, 'VALIDATION', 'use POST with an NDJSON body');
  }
  let tenant: TenantId;
  try {
    const identity = await deps.auth.authenticate(req.headers.authorization);
    requireScope(identity, 'hub:write');
    tenant = identity.tenant;
  } catch (err) {
    const code = isHubError(err) ? err.code : 'INTERNAL';
    if (code === 'UNAUTHENTICATED') res.setHeader('www-authenticate', 'Bearer');
    req.resume();
    return sendError(res, HTTP_STATUS[code], code, isHubError(err) ? err.message : 'internal error');
  }
  if (!isRecordType(typeName)) {
    req.resume();
    return sendError(res, 404, 'NOT_FOUND', `unknown record type ${JSON.stringify(typeName.slice(0, 64))}`);
  }
  const type = typeName;
  const chunkLines = deps.chunkLines ?? 500;
  const report = {
    type,
    lines: 0,
    created: 0,
    duplicates: 0,
    rejected: 0,
    errors: [] as RejectedLine[],
    errorsTruncated: false,
  };
  const reject = (line: number, code: string, message: string): void => {
    report.rejected++;
    deps.metrics.ingested.inc({ type, outcome: 'rejected' });
    if (report.errors.length < MAX_REPORTED) report.errors.push({ line, code, message });
    else report.errorsTruncated = true;
  };

  let pending: { line: number; value: unknown }[] = [];
  /** First line of the chunk being written: where a store failure stops the ingest. */
  let writing: number | undefined;
  const flush = async (): Promise<void> => {
    let batch = pending;
    pending = [];
    if (batch.length === 0) return;
    writing = batch[0]?.line;
    for (let attempt = 0; attempt < 2 && batch.length > 0; attempt++) {
      try {
        const results = await deps.hub.record(
          tenant,
          type,
          batch.map((b) => b.value),
        );
        results.forEach((r, i) => {
          const line = (batch[i] as { line: number }).line;
          if (r.status === 'error')
            reject(line, r.error.code, r.error.message.replace(/^record \[\d+\] /, 'record '));
          else if (r.status === 'created') report.created++;
          else report.duplicates++;
          deps.metrics.ingested.inc({ type, outcome: r.status });
        });
        writing = undefined;
        return;
      } catch (err) {
        if (!isHubError(err, 'VALIDATION') || err.issues.length === 0 || attempt > 0) throw err;
        // Reject every line with a problem, then write the rest of the chunk.
        const bad = new Map<number, string[]>();
        for (const issue of err.issues) {
          if (issue.index === undefined) throw err;
          const list = bad.get(issue.index) ?? [];
          list.push(`${issue.path || 'record'}: ${issue.message}`);
          bad.set(issue.index, list);
        }
        const kept: typeof batch = [];
        batch.forEach((b, i) => {
          const problems = bad.get(i);
          if (problems) reject(b.line, 'VALIDATION', problems.join('; '));
          else kept.push(b);
        });
        batch = kept;
      }
    }
  };

  let lastLine = 0;
  try {
    for await (const { n, text } of lines(req)) {
      lastLine = n;
      report.lines = n;
      if (text === null) {
        reject(n, 'VALIDATION', `line longer than ${MAX_LINE_BYTES} bytes`);
        continue;
      }
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        reject(n, 'VALIDATION', 'not valid JSON');
        continue;
      }
      pending.push({ line: n, value });
      if (pending.length >= chunkLines) await flush();
    }
    await flush();
  } catch (err) {
    const hubErr = isHubError(err) ? err : new HubError('INTERNAL', 'internal error', { cause: err });
    log.error('ingest stopped', { ...errorFields(err), type, line: lastLine });
    req.resume();
    const firstUnwritten = writing ?? pending[0]?.line ?? lastLine;
    return sendJson(res, HTTP_STATUS[hubErr.code] >= 500 ? 503 : HTTP_STATUS[hubErr.code], {
      ...report,
      stoppedAtLine: firstUnwritten,
      errors: [
        ...report.errors,
        {
          line: firstUnwritten,
          code: hubErr.code,
          message: publicMessage(hubErr),
        },
      ],
    });
  }
  sendJson(res, 200, report);
}

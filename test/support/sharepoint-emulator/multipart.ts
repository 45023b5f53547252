/**
 * `$batch` bodies: parsing the multipart/mixed request (top-level parts and
 * changesets of `application/http` parts) and writing the flat response, in
 * the format @pnp/sp's batch parser expects (one `application/http` part per
 * sub-request, in order, bodies on one line, a newline after the closing
 * boundary; a part-count mismatch makes pnp throw).
 */
import { randomUUID } from 'node:crypto';

/** One sub-request of a batch. */
export interface BatchPart {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One sub-response. */
export interface PartResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A batch body the emulator cannot read. */
export class BatchFormatError extends Error {}

/** The `boundary` parameter of a multipart content type. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType ?? '');
  return m?.[1];
}

function splitParts(lines: readonly string[], boundary: string): string[][] {
  const parts: string[][] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    if (line === `--${boundary}`) {
      if (current) parts.push(current);
      current = [];
    } else if (line === `--${boundary}--`) {
      if (current) parts.push(current);
      current = undefined;
      closed = true;
      break;
    } else if (current) {
      current.push(line);
    }
  }
  if (!closed) throw new BatchFormatError(`missing closing boundary --${boundary}--`);
  return parts;
}

function headerBlock(lines: readonly string[]): { headers: Record<string, string>; rest: string[] } {
  const headers: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      i++;
      break;
    }
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { headers, rest: lines.slice(i) };
}

function httpPart(lines: readonly string[]): BatchPart {
  const { rest } = headerBlock(lines);
  const [requestLine = '', ...after] = rest;
  const m = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(requestLine.trim());
  if (!m) throw new BatchFormatError(`bad request line in batch part: ${JSON.stringify(requestLine)}`);
  const { headers, rest: bodyLines } = headerBlock(after);
  // Bodies end with blank lines before the next boundary.
  while (bodyLines.length && (bodyLines[bodyLines.length - 1] as string).trim() === '') bodyLines.pop();
  return { method: m[1] as string, url: m[2] as string, headers, body: bodyLines.join('\n') };
}

/** Parses a `$batch` request body into its sub-requests, changesets flattened, in order. */
export function parseBatch(body: string, contentType: string | undefined): BatchPart[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new BatchFormatError('Content-Type of $batch needs a multipart boundary');
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  const out: BatchPart[] = [];
  for (const part of splitParts(lines, boundary)) {
    const { headers, rest } = headerBlock(part);
    const type = headers['content-type'] ?? '';
    if (/^multipart\/mixed/i.test(type)) {
      const inner = boundaryOf(type);
      if (!inner) throw new BatchFormatError('changeset without boundary');
      for (const sub of splitParts(rest, inner)) out.push(httpPart(sub));
    } else if (/^application\/http/i.test(type)) {
      out.push(httpPart(part));
    } else {
      throw new BatchFormatError(`unsupported batch part type ${JSON.stringify(type)}`);
    }
  }
  return out;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The reason phrase of a status code. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/** Writes the `$batch` response: returns the body and its content type. */
export function formatBatchResponse(responses: readonly PartResponse[]): {
  body: string;
  contentType: string;
} {
  const boundary = `batchresponse_${randomUUID()}`;
  const chunks: string[] = [];
  for (const r of responses) {
    chunks.push(
      `--${boundary}\n`,
      'Content-Type: application/http\n',
      'Content-Transfer-Encoding: binary\n\n',
    );
    chunks.push(`HTTP/1.1 ${r.status} ${reasonPhrase(r.status)}\n`);
    for (const [k, v] of Object.entries(r.headers ?? {})) chunks.push(`${k}: ${v}\n`);
    // pnp joins body lines without separators: keep each body on one line.
    chunks.push('\n', `${(r.body ?? '').replace(/\n/g, ' ')}\n`);
  }
  chunks.push(`--${boundary}--\n`);
  return { body: chunks.join(''), contentType: `multipart/mixed; boundary=${boundary}` };
}

/**
 * Small HTTP helpers shared by the routes: JSON answers, GraphQL-shaped errors,
 * and body reading with a size limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../hub/errors';

/** Thrown by {@link readBody} when the body exceeds its limit. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Thrown by {@link readBody} when `inspect` refuses a chunk (its message says why). */
export class BodyRefusedError extends Error {
  override readonly name = 'BodyRefusedError';
}

/**
 * Reads a whole request body, failing as soon as it exceeds `limit` bytes, or
 * as soon as `inspect` (called with each chunk as it arrives) answers a
 * refusal message: the rest is then discarded unread.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  inspect?: (chunk: Buffer) => string | undefined,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new BodyTooLargeError(`body of ${declared} bytes exceeds ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new BodyTooLargeError(`body exceeds ${limit} bytes`);
    }
    const refusal = inspect?.(buf);
    if (refusal !== undefined) {
      req.resume();
      throw new BodyRefusedError(refusal);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Writes a JSON body with a status. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', `${contentType}; charset=utf-8`);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** Writes a GraphQL-shaped error response (`{ errors: [{ message, extensions: { code } }] }`). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, status, { errors: [{ message, extensions: { code, ...extra } }] });
}

/**
 * Before answering a request whose body will not be read (bad token,
 * throttled): the connection closes after the answer, so the unread body is
 * never read, parsed or waited for, and a body that never ends holds nothing.
 */
export function refuseUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || res.headersSent) return;
  res.setHeader('connection', 'close');
}

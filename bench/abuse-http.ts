/**
 * bench:abuse's HTTP client: one request at a time through a keep-alive agent,
 * resolving with its status, time and the start of its answer (never
 * rejecting), and the GraphQL bodies it sends.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One request; resolves with the status (0: the request failed or timed out) and the time it took. */
export function send(
  url: string,
  path: string,
  token: string,
  body: string | Buffer,
  contentType = 'application/json',
): Promise<{ status: number; ms: number; text: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const target = new URL(path, url);
    const req = request(
      target,
      {
        method: 'POST',
        agent,
        timeout: 60_000,
        headers: {
          'content-type': contentType,
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // Keep at most 64 KiB of an answer: a huge one only needs its status.
          if (size < 65_536) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', () => resolve({ status: 0, ms: 0, text: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () =>
      resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, text: '' }),
    );
    req.end(body);
  });
}

/** A GraphQL request body as bytes (built once, sent many times). */
export const jsonBytes = (query: string, variables: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify({ query, variables }));
/** A GraphQL request body as text. */
export const gql = (query: string, variables: Record<string, unknown> = {}, operationName?: string): string =>
  JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) });

/**
 * The load side of the benchmarks that drive a gateway over HTTP
 * (bench:gateway, bench:read-path): a GraphQL POST that fails on any error
 * in the answer, and a closed loop of clients timing every request.
 */
import { type Agent, request } from 'node:http';

/** A closed loop's outcome: each request's latency (ms) and the rate over the loop's wall time. */
export interface Run {
  readonly samples: number[];
  readonly perSec: number;
}

/**
 * Closed loop: `connections` workers each send the next request as soon as
 * the previous answers, for `seconds`; `once(i)` sends the i-th request.
 */
export async function closedLoop(
  connections: number,
  seconds: number,
  once: (i: number) => Promise<unknown>,
): Promise<Run> {
  const samples: number[] = [];
  const end = Date.now() + seconds * 1000;
  let i = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const s = process.hrtime.bigint();
        await once(i++);
        samples.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
    }),
  );
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  return { samples, perSec: samples.length / total };
}

/**
 * POSTs a GraphQL body to `url`'s /graphql with a bearer token through
 * `agent`; resolves to the answer's text.
 * @throws Error (rejects) on a status other than 200 or an `errors` member in the answer, prefixed with `label`.
 */
export function postGraphQL(
  agent: Agent,
  url: URL,
  token: string,
  body: string,
  label = '',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: '/graphql',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode !== 200 || text.includes('"errors"'))
            reject(new Error(`${label ? `${label}: ` : ''}bad answer: ${text.slice(0, 300)}`));
          else resolve(text);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

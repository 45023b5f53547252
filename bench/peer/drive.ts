/**
 * Load drivers: autocannon against an HTTP endpoint (every response's latency
 * is recorded, so p95 is exact rather than autocannon's fixed percentiles),
 * and the raw `pg` floor (the same SQL on a pipelined pool, in the same
 * tenant-scoped transaction our store uses), both for a fixed duration at a
 * fixed number of connections.
 */
import { Pool } from 'pg';
import { scopeStatement, type Statement, statementName } from '../../src/stores/postgres/queryable';
import { TicketSigner, configuredTicketKey } from '../../src/stores/postgres/tenant-tickets';

/** Tickets as the store signs them (the same key: HUB_PG_TICKET_KEY, else the development key). */
const credentials = { signer: new TicketSigner(configuredTicketKey()), relayRole: 'hub_app_relay' };

/** What one timed run measured. */
export interface RunResult {
  readonly requests: number;
  readonly seconds: number;
  /** Per-request latencies in ms. */
  readonly latencies: number[];
  /** Non-2xx responses plus connection errors and timeouts (must be 0 for a valid run). */
  readonly failures: number;
}

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** A prepared HTTP request: JSON body and headers. */
export interface PreparedRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
}

interface AutocannonResult {
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}
interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
// autocannon ships no types; this is the slice of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

/** Drives `url` with POSTs cycling through `requests`, for `seconds` at `connections`. */
export function runHttp(
  url: string,
  requests: readonly PreparedRequest[],
  connections: number,
  seconds: number,
): Promise<RunResult> {
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections,
        duration: seconds,
        timeout: 30,
        requests: [
          {
            setupRequest: (req: Record<string, unknown>) => {
              const r = requests[next++ % requests.length] as PreparedRequest;
              return { ...req, method: 'POST', body: r.body, headers: r.headers };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          requests: latencies.length,
          seconds: (performance.now() - started) / 1000,
          latencies,
          failures: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, ms) => void latencies.push(ms));
  });
}

/**
 * The floor: `connections` workers each running the statement for its next
 * variant in a tenant-scoped transaction (BEGIN, set_config, statement,
 * COMMIT, pipelined: one round trip), on a pool of `connections` clients;
 * a statement marked `prepare` is named (kept prepared per connection) and
 * one marked `generic` runs with generic plans, as the store runs them.
 */
export async function runFloor(
  connectionString: string,
  statements: readonly { tenant: string; statement: Statement }[],
  connections: number,
  seconds: number,
): Promise<RunResult> {
  const pool = new Pool({
    connectionString,
    max: connections,
    options: '-c TimeZone=UTC',
    pipeline: true,
  } as ConstructorParameters<typeof Pool>[0]);
  pool.on('error', () => undefined);
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const s = statements[next++ % statements.length] as (typeof statements)[number];
        const t0 = performance.now();
        const client = await pool.connect();
        try {
          // As the store runs it: kept prepared when marked so (named), with
          // generic plans when marked so (the scope sets plan_cache_mode).
          const scope = scopeStatement({ tenant: s.tenant }, credentials, s.statement.generic === true);
          const st = s.statement;
          // Corked: the pipelined transaction leaves in one write (as our store sends it).
          const socket = (client as unknown as { connection: { stream: NodeJS.WritableStream & Corkable } })
            .connection.stream;
          socket.cork();
          const done = Promise.all([
            client.query('BEGIN'),
            client.query(scope.sql, [...scope.params]),
            client.query(
              st.prepare
                ? { text: st.sql, values: [...st.params], name: statementName(st.sql) }
                : { text: st.sql, values: [...st.params] },
            ),
            client.query('COMMIT'),
          ]);
          socket.uncork();
          await done;
        } catch {
          failures++;
        } finally {
          client.release();
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const secondsTaken = (performance.now() - started) / 1000;
  await pool.end();
  return { requests: latencies.length, seconds: secondsTaken, latencies, failures };
}

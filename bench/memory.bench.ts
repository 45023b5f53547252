/**
 * Bounded memory (issue 11 item 3): a gateway over a throwaway PostgreSQL
 * database ingests N artifacts of 10 MiB in one `/ingest/artifacts` request,
 * then lists N ids of them over GraphQL. Prints the gateway's peak RSS and
 * the longest event-loop stall (perf_hooks monitorEventLoopDelay) during each
 * phase, beside the figures the issue measured before this work (305 MB ->
 * 6.5 GB and a 20 s /healthz stall for 100 x 10 MiB; 9.4 s then TIMEOUT for
 * 100 ids).
 *
 *   npm run bench:memory                          # 20 artifacts (short)
 *   HUB_BENCH_ARTIFACTS=100 npm run bench:memory  # the size
 *
 * The client runs in the same process but holds one line at a time (each
 * line sent as slices of one shared base64 buffer: no per-line string, no
 * per-line encoding), so the RSS is the gateway's plus a constant and the
 * event loop's work is the gateway's.
 *
 * Stalls: the longest gap between two turns of a 5 ms timer, as wall time
 * (`max_stall`, what a waiting request feels; on a loaded machine it counts
 * time the process was not scheduled at all) and as the CPU time the main
 * thread spent inside that gap (`max_stall_cpu`, from
 * /proc/self/task/<pid>/stat in 10 ms ticks: the synchronous work itself,
 * nearly independent of load). Read both next to the load average.
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { createGateway } from '../src/http/server';
import { mintToken } from '../src/platform/auth';
import { silentLogger } from '../src/platform/log';
import { openStore } from '../src/stores';
import { createTestDatabase } from '../test/support/pg-harness';
import { type Figure, report } from './report';

const COUNT = Number(process.env.HUB_BENCH_ARTIFACTS ?? 20);
const BODY_BYTES = 10 * 1024 * 1024;
const SECRET = 'bench-secret-bench-secret-bench-secret-00';
const MB = 1024 * 1024;

/** CPU time of the main thread so far (ms; Linux, 10 ms ticks), or NaN elsewhere. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

interface Measured<T> {
  readonly result: T;
  readonly peakRssMb: number;
  /** Longest event-loop stall, wall time (monitorEventLoopDelay). */
  readonly maxStallMs: number;
  /** Main-thread CPU time spent inside the longest-CPU gap between two timer turns. */
  readonly maxStallCpuMs: number;
  readonly ms: number;
}

/** Samples RSS, event-loop delay and the main thread's CPU per loop turn while `fn` runs. */
async function measured<T>(fn: () => Promise<T>): Promise<Measured<T>> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage.rss();
  let lastCpu = mainThreadCpuMs();
  let maxCpu = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
    const cpu = mainThreadCpuMs();
    maxCpu = Math.max(maxCpu, cpu - lastCpu);
    lastCpu = cpu;
  }, 5);
  loop.enable();
  const start = performance.now();
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return {
      result,
      peakRssMb: peak / MB,
      maxStallMs: loop.max / 1e6,
      maxStallCpuMs: maxCpu,
      ms: performance.now() - start,
    };
  } finally {
    clearInterval(sampler);
    loop.disable();
  }
}

/** Slices of the base64 body per push: the size of a socket read. */
const SLICE = 64 * 1024;

/** The NDJSON body, one line at a time, the body's base64 as views of one shared buffer. */
function ndjson(count: number, body: Buffer): Readable {
  const b64 = Buffer.from(body.toString('base64'), 'latin1');
  const sha = createHash('sha256').update(body).digest('hex');
  async function* lines(): AsyncGenerator<Buffer> {
    for (let n = 0; n < count; n++) {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      yield Buffer.from(
        `{"record_id":"${id}","created_at":"2026-03-01T00:00:00.000Z","name":"a${n}.bin",` +
          `"media_type":"application/octet-stream","size_bytes":${body.length},"content_sha256":"${sha}","body":"`,
      );
      for (let at = 0; at < b64.length; at += SLICE) yield b64.subarray(at, at + SLICE);
      yield Buffer.from('"}\n');
    }
  }
  return Readable.from(lines(), { objectMode: false });
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const store = await openStore(db.appUri);
  // One tenant alone: its cost budget is not what this measures (an ingest of N x 10 MiB costs a unit per KiB).
  const gateway = await createGateway({
    store,
    auth: { jwtSecret: SECRET },
    log: silentLogger,
    tenantLimits: { costPerSecond: 1e9, burst: 1e9 },
  });
  const url = await gateway.listen(0, '127.0.0.1');
  const token = await mintToken({ secret: SECRET, tenant: 'bench', scopes: ['hub:read', 'hub:write'] });
  const body = randomBytes(BODY_BYTES);
  try {
    global.gc?.();
    const rssBeforeMb = process.memoryUsage.rss() / MB;
    const ingest = await measured(async () => {
      const res = await fetch(`${url}/ingest/artifacts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: Readable.toWeb(ndjson(COUNT, body)) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      return (await res.json()) as { created: number; rejected: number };
    });
    if (ingest.result.created !== COUNT) throw new Error(`ingest created ${JSON.stringify(ingest.result)}`);
    const list = await measured(async () => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `{ artifacts(first: ${Math.min(COUNT, 500)}) { nodes { id sizeBytes } } }`,
        }),
      });
      const json = (await res.json()) as { data?: { artifacts: { nodes: unknown[] } }; errors?: unknown };
      if (!json.data || json.data.artifacts.nodes.length !== Math.min(COUNT, 500))
        throw new Error(`list answered ${JSON.stringify(json).slice(0, 300)}`);
      return json;
    });
    // Lookups by id selecting no body (up to 100 aliases), then one body inline.
    const idOf = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const gql = async (query: string): Promise<Record<string, unknown>> => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      const json = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
      // Reported, not fatal: a slow lookup (a timeout) is itself the figure.
      if (!json.data || json.errors) console.log(`answered ${JSON.stringify(json).slice(0, 300)}`);
      return json.data ?? {};
    };
    const byIds = Math.min(COUNT, 100);
    const get = await measured(() =>
      gql(
        `{ ${Array.from({ length: byIds }, (_, n) => `a${n}: artifact(id: "${idOf(n)}") { id sizeBytes }`).join(' ')} }`,
      ),
    );
    const getBody = await measured(() =>
      gql(`{ artifact(id: "${idOf(0)}") { bodyBase64(maxBytes: ${BODY_BYTES}) } }`),
    );
    const load = loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
    console.log(
      `\n${COUNT} artifacts of ${BODY_BYTES / MB} MiB over PostgreSQL; RSS before ${rssBeforeMb.toFixed(0)} MB; ` +
        `load average ${load} (2 cores, shared)`,
    );
    // Baselines: the figures for 100 x 10 MiB before this work.
    const figures: Figure[] = [
      { name: 'memory_ingest_peak_rss', value: Math.round(ingest.peakRssMb), unit: 'MB', baseline: 6500 },
      { name: 'memory_ingest_max_stall', value: Math.round(ingest.maxStallMs), unit: 'ms', baseline: 20_000 },
      { name: 'memory_ingest_max_stall_cpu', value: Math.round(ingest.maxStallCpuMs), unit: 'ms' },
      { name: 'memory_ingest_time', value: Math.round(ingest.ms), unit: 'ms' },
      { name: 'memory_list_ids_time', value: Math.round(list.ms), unit: 'ms', baseline: 9400 },
      { name: 'memory_list_peak_rss', value: Math.round(list.peakRssMb), unit: 'MB' },
      { name: 'memory_list_max_stall', value: Math.round(list.maxStallMs), unit: 'ms' },
      { name: 'memory_list_max_stall_cpu', value: Math.round(list.maxStallCpuMs), unit: 'ms' },
      { name: 'memory_get_ids_time', value: Math.round(get.ms), unit: 'ms' },
      { name: 'memory_get_ids_peak_rss', value: Math.round(get.peakRssMb), unit: 'MB' },
      { name: 'memory_get_body_time', value: Math.round(getBody.ms), unit: 'ms' },
      { name: 'memory_get_body_max_stall', value: Math.round(getBody.maxStallMs), unit: 'ms' },
      { name: 'memory_get_body_max_stall_cpu', value: Math.round(getBody.maxStallCpuMs), unit: 'ms' },
    ];
    report(`bench:memory (${COUNT} x 10 MiB artifacts)`, figures);
  } finally {
    await gateway.close();
    await store.close();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

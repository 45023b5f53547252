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
 * The client runs in the same process but holds one line at a time (the
 * body is generated lazily from one shared 10 MiB buffer), so the RSS is the
 * gateway's plus a constant. The machine is shared and loaded: read the
 * stall figures next to the load average printed with them.
 */
import { randomBytes, createHash } from 'node:crypto';
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

/** Samples RSS and event-loop delay while `fn` runs. */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; peakRssMb: number; maxStallMs: number; ms: number }> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  loop.enable();
  const start = performance.now();
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMb: peak / MB, maxStallMs: loop.max / 1e6, ms: performance.now() - start };
  } finally {
    clearInterval(sampler);
    loop.disable();
  }
}

/** The NDJSON body, one line built at a time. */
function ndjson(count: number, body: Buffer): Readable {
  const b64 = body.toString('base64');
  const sha = createHash('sha256').update(body).digest('hex');
  let i = 0;
  return new Readable({
    read() {
      if (i >= count) return void this.push(null);
      const n = i++;
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      this.push(
        `{"record_id":"${id}","created_at":"2026-03-01T00:00:00.000Z","name":"a${n}.bin",` +
          `"media_type":"application/octet-stream","size_bytes":${body.length},"content_sha256":"${sha}","body":"${b64}"}\n`,
      );
    },
  });
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const store = await openStore(db.appUri);
  const gateway = await createGateway({ store, auth: { jwtSecret: SECRET }, log: silentLogger });
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
      { name: 'memory_ingest_time', value: Math.round(ingest.ms), unit: 'ms' },
      { name: 'memory_list_ids_time', value: Math.round(list.ms), unit: 'ms', baseline: 9400 },
      { name: 'memory_list_peak_rss', value: Math.round(list.peakRssMb), unit: 'MB' },
      { name: 'memory_list_max_stall', value: Math.round(list.maxStallMs), unit: 'ms' },
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

/**
 * Router benchmark:
 * 1. Overhead of routing per call: the same calls on a store directly and
 *    through a RoutingStore wrapping it, interleaved in the same run. Memory
 *    stores isolate the router's own cost; PostgreSQL (when reachable) shows
 *    it against a real round trip.
 * 2. End-to-end dual-write lag under a steady write load (default 5,000
 *    records/s for 10 s): from the moment a write is acknowledged by the
 *    primary (PostgreSQL, outbox in the same transaction) to the moment the
 *    relay's putBatch into the analytics store resolved. Analytics is the
 *    Snowflake store on its local wire emulator (DuckDB underneath).
 *
 *   node bin/run-ts.cjs bench/router.bench.ts [--rate 5000] [--seconds 10] [--flush-ms 0]
 */
import { Hub } from '../src/hub/hub';
import type { HubStore } from '../src/hub/store';
import { parseTenantId } from '../src/hub/tenant';
import { parseRegistryConfig } from '../src/router/registry-config';
import { RoutingStore, settleRouter } from '../src/router/routing-store';
import { generateOutputs } from '../src/seed/generator';
import { openStore } from '../src/stores/index';
import { type Figure, percentile, report } from './report';
import { type PgTestDatabase, createTestDatabase } from '../test/support/pg-harness';
import { type AnalyticsTarget, startAnalytics } from './router-analytics';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RATE = arg('rate', 5000);
const SECONDS = arg('seconds', 10);
// The relay already ships micro-batches, so the Snowflake store need not buffer again (its default is 2 s).
const FLUSH_MS = arg('flush-ms', 0);
const tenant = parseTenantId('bench');

async function seed(store: HubStore, n: number): Promise<string[]> {
  const hub = new Hub(store);
  const ids: string[] = [];
  for (const batch of generateOutputs(n, { seed: 3, batchSize: 1000 })) {
    for (const r of await hub.record(tenant, 'outputs', batch)) ids.push(r.record_id);
  }
  return ids;
}

/** Per-call latency samples (µs) of `call` on `direct` and `routed`, interleaved in rounds. */
async function overhead(
  direct: HubStore,
  routed: HubStore,
  call: (s: HubStore, i: number) => Promise<unknown>,
  perRound: number,
  rounds: number,
): Promise<{ direct: number[]; routed: number[] }> {
  const out = { direct: [] as number[], routed: [] as number[] };
  const run = async (s: HubStore, into: number[] | null, round: number): Promise<void> => {
    for (let i = 0; i < perRound; i++) {
      const t = process.hrtime.bigint();
      await call(s, round * perRound + i);
      if (into) into.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  };
  await run(direct, null, 0); // warm-up
  await run(routed, null, 0);
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first so drift (GC, other processes) hits both alike.
    if (r % 2 === 0) {
      await run(direct, out.direct, r);
      await run(routed, out.routed, r);
    } else {
      await run(routed, out.routed, r);
      await run(direct, out.direct, r);
    }
  }
  return out;
}

async function overheadFigures(
  label: string,
  primaryUri: string,
  perRound: number,
  rounds: number,
): Promise<Figure[]> {
  // The router gets its own store from the same URI; the direct store is opened beside it.
  const routed = await RoutingStore.open({
    load: async () => parseRegistryConfig({ shared: { primary: primaryUri } }, 'bench'),
  });
  const direct = await openStore(primaryUri);
  const ids = await seed(routed, 5000);
  const sameData = primaryUri.startsWith('memory') ? await seed(direct, 5000) : ids;
  const figures: Figure[] = [];
  const ops: [string, (s: HubStore, i: number) => Promise<unknown>][] = [
    ['getByIds', (s, i) => s.getByIds(tenant, 'outputs', [sameData[i % sameData.length] as string])],
    ['list50', (s) => s.list(tenant, { type: 'outputs', filter: {}, limit: 50 })],
  ];
  for (const [op, call] of ops) {
    const res = await overhead(direct, routed, call, perRound, rounds);
    const d = percentile(res.direct, 50);
    const r = percentile(res.routed, 50);
    figures.push({ name: `router_${label}_${op}_p50`, value: r, unit: 'us', baseline: d });
  }
  await routed.close();
  await direct.close();
  return figures;
}

/** Writes at `rate` records/s for `seconds`; returns per-record ack -> analytics lag (ms). */
async function dualWriteLag(
  pg: PgTestDatabase,
  analytics: AnalyticsTarget,
): Promise<{ lags: number[]; achieved: number }> {
  const arrivals = new Map<string, number>();
  const config = parseRegistryConfig(
    { shared: { primary: pg.appUri, analytics: analytics.uri, freshnessSeconds: 60, fallback: 'primary' } },
    'bench',
  );
  const store = await RoutingStore.open({
    load: async () => config,
    relay: { batchSize: 2000, idleMs: 50 },
    openStore: async (uri, options) => {
      const s = await openStore(uri, options);
      if (uri !== analytics.uri) return s;
      // Observe arrivals: the time each record's putBatch into analytics resolved.
      const putBatch = s.putBatch.bind(s);
      return Object.assign(s, {
        putBatch: async (...a: Parameters<HubStore['putBatch']>) => {
          const out = await putBatch(...a);
          const now = performance.now();
          for (const r of a[1]) if (!arrivals.has(r.record_id)) arrivals.set(r.record_id, now);
          return out;
        },
      });
    },
  });
  const hub = new Hub(store);
  // Warm-up outside the measurement: the analytics store provisions a tenant on its first write.
  const warm = generateOutputs(100, { seed: 12, batchSize: 100, start: '2025-06-02T00:00:00.000Z' }).next()
    .value;
  await hub.record(tenant, 'outputs', warm ?? []);
  await settleRouter(store, 120_000);
  arrivals.clear();
  const acks = new Map<string, number>();
  const batchSize = Math.max(1, Math.round(RATE / 50)); // 50 batches per second
  const total = RATE * SECONDS;
  const gen = generateOutputs(total, { seed: 11, batchSize, days: 30 });
  const t0 = performance.now();
  let k = 0;
  const inFlight = new Set<Promise<void>>();
  for (const batch of gen) {
    const due = t0 + (k++ * 1000 * batchSize) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const p = hub.record(tenant, 'outputs', batch).then((results) => {
      const now = performance.now();
      for (const r of results) acks.set(r.record_id, now);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    // Bounded concurrency: a primary slower than the rate shows as a lower achieved rate.
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const achieved = (acks.size * 1000) / (performance.now() - t0);
  await settleRouter(store, 120_000);
  await store.close();
  const lags = [...acks].map(([id, ack]) => Math.max(0, (arrivals.get(id) ?? Number.NaN) - ack));
  if (lags.some(Number.isNaN)) throw new Error('some records never reached analytics');
  return { lags, achieved };
}

async function main(): Promise<void> {
  const figures: Figure[] = [];
  figures.push(...(await overheadFigures('memory', 'memory:bench', 2000, 10)));
  let pg: PgTestDatabase | undefined;
  try {
    pg = await createTestDatabase();
  } catch (err) {
    console.log(`PostgreSQL not reachable, skipping its figures: ${(err as Error).message}`);
  }
  if (pg) {
    try {
      figures.push(...(await overheadFigures('postgres', pg.appUri, 200, 6)));
      const analytics = await startAnalytics(FLUSH_MS);
      try {
        const { lags, achieved } = await dualWriteLag(pg, analytics);
        console.log(
          `dual-write: ${lags.length} records, PostgreSQL -> ${analytics.name}, achieved ${Math.round(achieved)} records/s`,
        );
        figures.push({ name: 'dual_write_rate', value: achieved, unit: 'records/s', baseline: RATE });
        figures.push({ name: 'dual_write_lag_p50', value: percentile(lags, 50), unit: 'ms', baseline: 2000 });
        figures.push({ name: 'dual_write_lag_p95', value: percentile(lags, 95), unit: 'ms', baseline: 2000 });
      } finally {
        await analytics.stop();
      }
    } finally {
      await pg.drop();
    }
  }
  report(
    'Router: routing overhead per call (baseline: the same store called directly) and dual-write lag (baseline: 2 s target)',
    figures,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

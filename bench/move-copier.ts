/**
 * The move copier's own CPU per record: `copyTenant` (src/migrate/copy.ts)
 * reading a PostgreSQL source page by page, re-verifying every record's
 * provenance hash and handing batches to a target, measured as this
 * process's CPU time (user + system) over the copy divided by the records
 * copied. The PostgreSQL server's CPU is not counted.
 *
 * Three measurements per round, on the same source tenant of
 * MOVE_COPIER_RECORDS outputs (default 100,000), MOVE_COPIER_ROUNDS rounds
 * (default 3), medians reported:
 * - the baseline: the source's scan alone (the same pages, read and turned
 *   into records, nothing verified or written): what any copy pays;
 * - the copy into a target that accepts every batch at once and keeps
 *   nothing: the copier's own cost (scan, verification, batching, the
 *   pipeline), without any store's write path;
 * - the copy into a fresh PostgreSQL database: the copier plus the
 *   PostgreSQL store's write path (its checks, the COPY text), as in
 *   `bench:move`'s PostgreSQL part.
 *
 * Run: `node bin/run-ts.cjs bench/move-copier.ts`, on a machine doing nothing else.
 * MOVE_COPIER_PROFILE=<file> writes a CPU profile (.cpuprofile) of the timed
 * part (the seeding is left out). Ends with `BENCH move_copier_cpu` (the copy
 * to the sink) and `BENCH move_copier_pg_cpu` lines, both against the scan.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseTenantId } from '../src/hub/tenant';
import { createTestDatabase } from '../test/support/pg-harness';
import { benchOutputs } from './move-data';
import { buildMoveIfStale, moveModules } from './move-modules';
import { sinkTarget } from './move-sink';
import { median } from './report';

const RECORDS = Number(process.env.MOVE_COPIER_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.MOVE_COPIER_ROUNDS ?? 3);
const PROFILE = process.env.MOVE_COPIER_PROFILE;
const tenant = parseTenantId('bench');
/** The sink's plan: PostgreSQL's (2,000 x 3), as this bench always used. */
const SINK_PLAN = { batchSize: 2000, concurrency: 3 };

/** A PostgreSQL store URI with the pre-aggregation consumer off (nothing folds while copies are timed). */
function noFold(uri: string): string {
  const u = new URL(uri);
  u.searchParams.set('rollup_consumer', 'false');
  return u.toString();
}

/** CPU µs per record and records/s of `work`, which handles `records` records. */
async function measure(work: () => Promise<number>): Promise<{ cpu: number; rate: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const records = await work();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / records, rate: (records / ms) * 1000 };
}

async function main(): Promise<void> {
  console.log(`bench move-copier: ${RECORDS} outputs, ${ROUNDS} rounds (load ${loadavg()[0]?.toFixed(1)})`);
  buildMoveIfStale();
  const { copy, scanStream, stores } = moveModules();
  const { copyPlanFor, copyTenant } = copy;
  const src = await createTestDatabase();
  const source = await stores.openStore(noFold(src.appUri));
  const figures = { scan: [] as number[], sink: [] as number[], pg: [] as number[] };
  const session = new Session();
  try {
    for (let i = 0; i < RECORDS; i += 20_000) {
      const records = benchOutputs(Math.min(20_000, RECORDS - i), tenant);
      for (let j = 0; j < records.length; j += 5000)
        await source.putBatch(tenant, records.slice(j, j + 5000));
    }
    if (PROFILE) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const pageSize = copyPlanFor(sinkTarget(SINK_PLAN)).batchSize;
    for (let round = 0; round < ROUNDS; round++) {
      const dst = await createTestDatabase();
      const target = await stores.openStore(noFold(dst.appUri));
      try {
        // Connections opened before any clock starts, as bench:move does.
        await Promise.all(Array.from({ length: copyPlanFor(target).concurrency }, () => target.ping()));
        await Promise.all([source.ping(), source.ping()]);
        const scan = await measure(async () => {
          let n = 0;
          for await (const page of scanStream.scanPages(source, tenant, 'outputs', { pageSize }))
            n += page.length;
          return n;
        });
        const sink = await measure(
          async () => (await copyTenant(source, sinkTarget(SINK_PLAN), tenant)).copied,
        );
        const pg = await measure(async () => (await copyTenant(source, target, tenant)).copied);
        figures.scan.push(scan.cpu);
        figures.sink.push(sink.cpu);
        figures.pg.push(pg.cpu);
        console.log(
          `round ${round + 1} of ${ROUNDS} (load ${loadavg()[0]?.toFixed(1)}): CPU µs/record scan ${scan.cpu.toFixed(1)}, ` +
            `copy to sink ${sink.cpu.toFixed(1)} (${sink.rate.toFixed(0)}/s), copy to PostgreSQL ${pg.cpu.toFixed(1)} (${pg.rate.toFixed(0)}/s)`,
        );
      } finally {
        await target.close();
        await dst.drop();
      }
    }
    if (PROFILE) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(PROFILE, JSON.stringify(profile));
    }
  } finally {
    session.disconnect();
    await source.close();
    await src.drop();
  }
  const [scan, sink, pg] = [median(figures.scan), median(figures.sink), median(figures.pg)];
  console.log('');
  console.log('| CPU µs/record (median) | copier | scan alone |');
  console.log('| --- | ---: | ---: |');
  console.log(`| copy to a sink (the copier's own) | ${sink.toFixed(1)} | ${scan.toFixed(1)} |`);
  console.log(`| copy to PostgreSQL (copier + store's writes) | ${pg.toFixed(1)} | ${scan.toFixed(1)} |`);
  console.log(`(load average ${loadavg()[0]?.toFixed(1)} at the end; shared 2-core machine)`);
  console.log(line('move_copier_cpu', sink, scan));
  console.log(line('move_copier_pg_cpu', pg, scan));
}

function line(name: string, value: number, baseline: number): string {
  return `BENCH ${name} value=${value.toFixed(1)} unit=us/record baseline=${baseline.toFixed(1)} ratio=${(value / baseline).toFixed(3)}`;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

/**
 * bench:move — tenant moves between stores, each beside its floor:
 *
 * 1. PostgreSQL -> PostgreSQL: the copy engine (scan, re-verify every hash,
 *    write) vs the raw floor in the same run: `COPY (SELECT ...) TO STDOUT`
 *    piped into `COPY ... FROM STDIN` between the same two servers' databases,
 *    MOVE_BENCH_PG_ROUNDS rounds (default 5) into fresh databases, which of the
 *    two goes first alternating; the medians of each are compared. Both
 *    sides' connections are open before their clocks start.
 * 2. PostgreSQL -> Snowflake emulator: the copy engine (batches written at
 *    once, not waiting for the writer's 2 s micro-batch timer) vs DuckDB's own
 *    insert of the same records (DuckDB's appender straight into a fresh
 *    tenant's typed OUTPUTS table, in the emulator's child process), in
 *    MOVE_BENCH_SF_ROUNDS alternating rounds (default 7), the median
 *    round's ratio reported, with CPU per record (move-snowflake.ts).
 * 3. PostgreSQL -> SharePoint emulator limited to an allowed rate (a token
 *    bucket refilled at that rate, holding at most one second of it and empty
 *    at the start, so no free first burst; a part without a token is answered
 *    429 with Retry-After: 1): records/s as a share of the allowed rate.
 * 4. Switch write fence under ~500 writes/s (four paced writers) through two gateway replicas
 *    following the PostgreSQL control plane: p50/p99 of the time writes are
 *    refused, over several switch/reverse rounds.
 *
 * The copies (parts 1-3) run the production build in dist/, built first when
 * stale (move-modules.ts; `BENCH_MOVE_FROM=src` runs the TypeScript sources
 * under tsx instead); the fence part drives replicas from the sources.
 *
 * Sizes: MOVE_BENCH_RECORDS (default 5000 outputs), MOVE_BENCH_SP_RECORDS
 * (default 4000: ten seconds at the allowed rate, so that the last
 * Retry-After wait, about a second whatever the size, weighs a tenth),
 * MOVE_BENCH_SP_RATE (allowed parts/s, default 400),
 * MOVE_BENCH_ROUNDS (switches, default 6), MOVE_BENCH_SF_ROUNDS (Snowflake rounds, default 7); MOVE_BENCH_PARTS picks parts
 * (comma-separated pg, snowflake, sharepoint, fence; default all). Each part has a deadline that grows
 * with its size: past it the bench stops with a message naming the part (and,
 * for the switches, the outbox entries still waiting) and exits 1 instead of
 * hanging. The machine is shared and loaded: figures are indicative; ratios
 * (same run, same load) are the point.
 */
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { loadavg } from 'node:os';
import { PgControlPlane } from '../src/control/pg-control';
import type { HubRecord } from '../src/hub/model';
import { type HubStore, hasTenantOutbox } from '../src/hub/store';
import { parseTenantId } from '../src/hub/tenant';
import { Mover } from '../src/move/move';
import { openStore } from '../src/stores';
import type { SharePointStore } from '../src/stores/sharepoint/sharepoint-store';
import { createTestDatabase, type PgTestDatabase } from '../test/support/pg-harness';
import {
  emulatorStoreUri as sharePointUri,
  startSharePointEmulator,
} from '../test/support/sharepoint-emulator';
import { type Replica, startReplica } from '../test/move/support';
import { benchOutputs } from './move-data';
import { buildMoveIfStale, moveFrom, moveModules } from './move-modules';
import { snowflakePart, startEmulatorChild } from './move-snowflake';
import { median, percentile } from './report';

const RECORDS = Number(process.env.MOVE_BENCH_RECORDS ?? 5000);
const SP_RECORDS = Number(process.env.MOVE_BENCH_SP_RECORDS ?? 4000);
const SP_RATE = Number(process.env.MOVE_BENCH_SP_RATE ?? 400);
const ROUNDS = Number(process.env.MOVE_BENCH_ROUNDS ?? 6);
/** Rounds of the PostgreSQL -> PostgreSQL copy and its floor (medians reported). */
const PG_ROUNDS = Number(process.env.MOVE_BENCH_PG_ROUNDS ?? 5);
/** Parts to run (default all): pg, snowflake, sharepoint, fence. */
const PARTS = new Set((process.env.MOVE_BENCH_PARTS ?? 'pg,snowflake,sharepoint,fence').split(','));
const tenant = parseTenantId('bench');

const outputs = (n: number, t = tenant) => benchOutputs(n, t);

/**
 * A PostgreSQL store URI with the pre-aggregation consumer off: the records
 * the bench seeds or copies fill the change feed through the same triggers
 * as the raw COPY's, but no store folds them while copies are timed (a
 * folding source competed with both the floor and the copy for the CPU, and
 * the floor's database has no consumer at all).
 */
function noFold(uri: string): string {
  const u = new URL(uri);
  u.searchParams.set('rollup_consumer', 'false');
  return u.toString();
}

async function seed(store: HubStore, records: readonly HubRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 5000) await store.putBatch(tenant, records.slice(i, i + 5000));
}

/** The raw floor: COPY out of one database piped into COPY into another (superuser: no row-level security). */
async function rawCopy(from: PgTestDatabase, to: PgTestDatabase): Promise<number> {
  const a = new Client({ connectionString: from.adminUri });
  const b = new Client({ connectionString: to.adminUri });
  await a.connect();
  await b.connect();
  try {
    const t0 = performance.now();
    const out = a.query(copyTo(`COPY (SELECT * FROM hub.outputs WHERE tenant_id = '${tenant}') TO STDOUT`));
    const into = b.query(copyFrom('COPY hub.outputs FROM STDIN'));
    await pipeline(out, into);
    return performance.now() - t0;
  } finally {
    await a.end();
    await b.end();
  }
}

/**
 * Runs one part of the bench, failing with a message naming it (and what
 * `detail` reports then) when it takes longer than `seconds`.
 */
async function phase<T>(
  name: string,
  seconds: number,
  work: () => Promise<T>,
  detail?: () => Promise<string>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void (
        detail ? detail().catch((e: unknown) => `detail unavailable: ${String(e)}`) : Promise.resolve('')
      ).then((d) => {
        // Cleanup (closing what the stuck part holds) gets a minute; then exit whatever is left.
        setTimeout(() => {
          console.error(`bench:move: ${name} timed out and cleanup did not finish: exiting`);
          process.exit(1);
        }, 60_000).unref();
        reject(
          new Error(
            `bench:move: ${name} did not finish within ${seconds} s${d ? ` (${d})` : ''}; stopped instead of waiting longer`,
          ),
        );
      });
    }, seconds * 1000);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * PostgreSQL -> PostgreSQL beside its floor, measured `PG_ROUNDS` times into
 * fresh databases, the floor and the copy alternating which goes first: one
 * measurement of each (under a second apiece at the default size) swung
 * fourfold between runs on the shared machine, as load came and went. The
 * figures are the medians of each side's rates.
 */
async function pgRounds(
  src: PgTestDatabase,
  source: HubStore,
): Promise<{ copyRate: number; floorRate: number; perRound: string[] }> {
  const copyRates: number[] = [];
  const floorRates: number[] = [];
  const perRound: string[] = [];
  for (let round = 0; round < PG_ROUNDS; round++) {
    const [floorDb, dst] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      const { copyPlanFor, copyTenant } = moveModules().copy;
      const target = await moveModules().stores.openStore(noFold(dst.appUri));
      // Connections opened before the clock starts, as the floor's two are: as many as the copy
      // uses at once (its write batches on the target; a scan page and a count on the source).
      await Promise.all(Array.from({ length: copyPlanFor(target).concurrency }, () => target.ping()));
      await Promise.all([source.ping(), source.ping()]);
      const floor = async (): Promise<void> =>
        void floorRates.push((RECORDS / (await rawCopy(src, floorDb))) * 1000);
      const copy = async (): Promise<void> => {
        const t0 = performance.now();
        await phase('PostgreSQL -> PostgreSQL copy', 60 + RECORDS / 50, () =>
          copyTenant(source, target, tenant),
        );
        copyRates.push((RECORDS / (performance.now() - t0)) * 1000);
      };
      console.log(
        `round ${round + 1} of ${PG_ROUNDS}: raw COPY floor and copy engine PostgreSQL -> PostgreSQL...`,
      );
      if (round % 2 === 0) await floor().then(copy);
      else await copy().then(floor);
      await target.close();
      perRound.push(`${copyRates[round]?.toFixed(0)}/${floorRates[round]?.toFixed(0)}`);
    } finally {
      await Promise.all([floorDb.drop(), dst.drop()]);
    }
  }
  return { copyRate: median(copyRates), floorRate: median(floorRates), perRound };
}

async function main(): Promise<void> {
  buildMoveIfStale();
  const { copy: engine, stores } = moveModules();
  const load = loadavg()[0]?.toFixed(1);
  console.log(
    `bench:move: ${RECORDS} outputs (load average ${load} on a shared machine); copies run from ${moveFrom()}/`,
  );
  const [src, dst] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  const sf = await startEmulatorChild();
  const sp = await startSharePointEmulator();
  const rows: [string, number, number, string][] = [];
  const bench: string[] = [];
  const replicas: Replica[] = [];
  try {
    let t0 = 0;
    const records = outputs(RECORDS);
    const source = await stores.openStore(noFold(src.appUri));
    await seed(source, records);

    // 1. PostgreSQL -> PostgreSQL vs raw COPY, in alternating rounds (see pgRounds).
    if (PARTS.has('pg')) {
      const { copyRate, floorRate, perRound } = await pgRounds(src, source);
      console.log(`per round (copy/floor records/s): ${perRound.join(', ')}`);
      rows.push([
        `PostgreSQL -> PostgreSQL (median of ${PG_ROUNDS} rounds)`,
        copyRate,
        floorRate,
        'raw COPY TO piped into COPY FROM',
      ]);
      bench.push(line('move_pg_pg', copyRate, 'records/s', floorRate));
    }
    // 2. PostgreSQL -> Snowflake emulator vs DuckDB's own insert, in alternating rounds (move-snowflake.ts).
    if (PARTS.has('snowflake')) {
      console.log('PostgreSQL -> Snowflake emulator...');
      const part = await snowflakePart(source, tenant, RECORDS, sf, (name, seconds, work) =>
        phase(name, seconds, work),
      );
      rows.push(...part.rows);
      bench.push(...part.bench);
    }
    // 3. PostgreSQL -> SharePoint emulator at an allowed rate.
    if (PARTS.has('sharepoint')) {
      console.log('PostgreSQL -> SharePoint emulator...');
      const spTenant = parseTenantId('bench-sp');
      const spRecords = outputs(SP_RECORDS, spTenant);
      for (let i = 0; i < spRecords.length; i += 5000)
        await source.putBatch(spTenant, spRecords.slice(i, i + 5000));
      // Empty at the start: the copy gets no free burst before the rate applies.
      const burst = SP_RATE;
      let tokens = 0;
      let last = performance.now();
      sp.throttle({
        scope: 'part',
        times: Infinity,
        retryAfter: '1',
        match: () => {
          const now = performance.now();
          tokens = Math.min(burst, tokens + ((now - last) / 1000) * SP_RATE);
          last = now;
          if (tokens >= 1) {
            tokens -= 1;
            return false;
          }
          return true;
        },
      });
      const list = (await stores.openStore(
        sharePointUri(sp, { retryCapMs: 2000, retries: 20 }),
      )) as SharePointStore;
      // Lists provisioned ahead, and the bucket emptied, so that the copy starts at the allowed rate.
      await list.provision(spTenant);
      tokens = 0;
      last = performance.now();
      t0 = performance.now();
      await phase('PostgreSQL -> SharePoint copy', 60 + (5 * SP_RECORDS) / SP_RATE, () =>
        engine.copyTenant(source, list, spTenant),
      );
      const spMs = performance.now() - t0;
      const spRate = (SP_RECORDS / spMs) * 1000;
      rows.push([
        `PostgreSQL -> SharePoint (allowed ${SP_RATE}/s)`,
        spRate,
        SP_RATE,
        `${sp.stats.throttled} throttled`,
      ]);
      bench.push(line('move_pg_sharepoint', spRate, 'records/s', SP_RATE));
      await list.close();
      sp.clearThrottles();
    }
    // 4. Switch fence under ~500 writes/s through two replicas.
    if (PARTS.has('fence')) {
      console.log('switch fences under writes...');
      const controlUrl = new URL(src.ownerUri);
      controlUrl.search = '';
      const plane = await PgControlPlane.open(controlUrl.toString());
      for (let i = 0; i < 2; i++)
        replicas.push(
          await startReplica(
            { pgUrl: src.appUri, dataDir: '/nonexistent' },
            await PgControlPlane.open(controlUrl.toString()),
          ),
        );
      const fenceTenant = parseTenantId('bench-fence');
      const mover = new Mover({ plane, openStore, configuredPrimary: async () => src.appUri });
      let stop = false;
      let written = 0;
      let refused = 0;
      const latencies: number[] = [];
      // Writers paced at 50 writes/s each (about 500/s in all, each waiting for its write).
      const writers = 10;
      let writeStart = 0;
      const writer = Promise.all(
        Array.from({ length: writers }, async (_x, w) => {
          const start = performance.now();
          let n = 0;
          while (!stop) {
            const due = start + (n * writers * 1000) / 500;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            const r = replicas[(n + w) % 2] as Replica;
            n++;
            const t = performance.now();
            await r.hub.record(fenceTenant, 'telemetry_events', [{ name: `w-${w}-${n}` }]).then(
              () => {
                written++;
                latencies.push(performance.now() - t);
              },
              () => void refused++,
            );
          }
        }),
      );
      const fences: number[] = [];
      const steps = new Map<string, number[]>();
      let before = written;
      // What is stuck when the switches do not finish: the fence tenant's outbox on either side.
      const backlog = async (): Promise<string> => {
        const parts: string[] = [];
        for (const [side, uri] of [
          ['source', src.appUri],
          ['target', dst.appUri],
        ] as const) {
          const store = await openStore(uri);
          try {
            if (hasTenantOutbox(store))
              parts.push(
                `${side} outbox: ${(await store.tenantOutboxBacklog(fenceTenant)).pending} entries waiting`,
              );
          } finally {
            await store.close();
          }
        }
        return `${fences.length} of ${ROUNDS} switches done, ${written} writes, ${parts.join(', ')}`;
      };
      await phase(
        'switch fences under writes',
        90 + ROUNDS * 30,
        async () => {
          await mover.create(fenceTenant, dst.appUri, 'online');
          writeStart = performance.now();
          before = written;
          for (let i = 0; i < ROUNDS; i++) {
            const r = i % 2 === 0 ? await mover.switch(fenceTenant) : await mover.reverse(fenceTenant);
            fences.push(r.fenceMs);
            for (const [k, v] of Object.entries(r.steps)) steps.set(k, [...(steps.get(k) ?? []), v]);
          }
        },
        backlog,
      ).finally(() => (stop = true));
      const rate = ((written - before) / (performance.now() - writeStart)) * 1000;
      await writer;
      await plane.close();
      const p50 = percentile([...fences], 50);
      const p99 = percentile([...fences], 99);
      const byStep = [...steps]
        .map(([k, v]) => `${k} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(0)}`)
        .join(', ');
      rows.push([`switch write fence p50 (ms); mean by step: ${byStep}`, p50, 0, '']);
      rows.push([`switch write fence p99 (ms), ${ROUNDS} switches`, p99, 500, 'target < 500 ms']);
      rows.push([
        `writes/s during the switches (${written} acknowledged, ${refused} refused)`,
        rate,
        500,
        'paced target',
      ]);
      rows.push([`write latency p99 (ms), fence waits included`, percentile([...latencies], 99), 0, '']);
      rows.push([`write latency max (ms)`, Math.max(...latencies), 0, '']);
      bench.push(`BENCH move_switch_fence_p50 value=${p50} unit=ms`);
      bench.push(
        `BENCH move_switch_fence_p99 value=${p99} unit=ms baseline=500 ratio=${(p99 / 500).toFixed(3)}`,
      );
    }
    await source.close();
  } finally {
    for (const r of replicas) await r.close();
    await sf.close();
    await sp.close();
    await Promise.all([src.drop(), dst.drop()]);
  }
  console.log('');
  console.log('| figure | move | floor | floor is |');
  console.log('| --- | ---: | ---: | --- |');
  for (const [name, v, b, what] of rows)
    console.log(`| ${name} | ${v.toFixed(0)} | ${b.toFixed(0)} | ${what} |`);
  console.log(`(load average ${loadavg()[0]?.toFixed(1)} at the end; shared 2-core machine)`);
  for (const b of bench) console.log(b);
}

function line(name: string, value: number, unit: string, baseline: number): string {
  return `BENCH ${name} value=${value.toFixed(0)} unit=${unit} baseline=${baseline.toFixed(0)} ratio=${(value / baseline).toFixed(3)}`;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

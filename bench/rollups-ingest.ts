/**
 * The ingest half of bench:rollups (see rollups.bench.ts):
 *
 * 1. {@link benchIngest}: the store's bulk path (putBatch) with the change
 *    feed's triggers on, beside the same path with them off, on two fresh
 *    databases (each first given an untimed warm-up batch), in rounds of two
 *    batches alternating which side goes first, each side's round preceded
 *    by an untimed CHECKPOINT (see below) and a full garbage collection of
 *    this process; wall
 *    time and CPU time per record (this process plus each side's backends,
 *    from /proc: it hardly moves with the machine's load, which mostly adds
 *    waiting), WAL bytes per record, and per round the same figures and any
 *    checkpoint that started inside it; the bulk path's own ceiling on this
 *    machine (its CPU per record with the feed off, over every core: the
 *    rate if nothing else ran); then the consumer's fold rate on what was
 *    written, in the background consumer's batches.
 *
 *    Why the CHECKPOINT: the first change to a page after a checkpoint
 *    writes the whole page to the WAL, and the server's 128 MB of shared
 *    buffers fill with one side's dirty pages, which the other side's
 *    backends then write out themselves. A checkpoint landing inside one
 *    side's round (a WAL-volume one every ~500 MB, or any session's DROP
 *    DATABASE on the shared server) made that side pay for both: the same
 *    code measured 0.78-0.98 of the bulk path across runs. With a
 *    checkpoint before each side's round both start clean, with every page
 *    to log in full once (a per-round worst case, the same for both);
 *    `checkpoint: false` (`--no-checkpoint`) measures the old way.
 * 2. {@link benchLag}: the consumer following ingest. Batches are written at
 *    a paced rate (50,000 records/s by default, or as fast as the machine
 *    goes when it cannot) while the store's own background consumer runs as a
 *    gateway runs it; every 250 ms the unfolded feed rows are counted. Seconds
 *    behind: now minus the instant at which the records written had reached
 *    the count folded so far (the consumer claims the oldest feed rows first).
 */
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import type { HubRecord } from '../src/hub/model';
import type { HubStore, MaintenanceSource } from '../src/hub/store';
import { parseTenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import { generateOutputs } from '../src/seed/generator';
import { openStore } from '../src/stores';
import { DEFAULT_FOLD_BATCH } from '../src/stores/postgres/postgres-preagg-consumer';
import { createTestDatabase, type PgTestDatabase } from '../test/support/pg-harness';
import { CpuMeter } from './postgres-tickets';
import { type Figure, median, percentile } from './report';

export interface IngestOptions {
  /** Outputs written per side. */
  readonly records: number;
  /** Records per putBatch. */
  readonly batch: number;
  readonly skills: number;
  /** Paced ingest rate of the lag run, records/s. */
  readonly lagRate: number;
  /** CHECKPOINT (untimed) before each side's round of the on/off comparison. */
  readonly checkpoint: boolean;
  readonly log: (line: string) => void;
}

const TENANT = parseTenantId('bench-ingest');
const FEED_TABLES = ['outputs', 'decisions', 'governance_events'];
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
// A full collection before each side's round, so that neither side pays for
// garbage the other made (one side's rounds ran 4 us a record slower when a
// major collection fell in them).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const round = (x: number): number => Math.round(x * 100) / 100;

function sealedBatches(o: IngestOptions): HubRecord[][] {
  o.log(`generating and sealing ${o.records} outputs`);
  return [...generateOutputs(o.records, { seed: 3, batchSize: o.batch, skills: o.skills, days: 30 })].map(
    (b) => sealBatch(TENANT, 'outputs', b),
  );
}

/** A side of the comparison: its database, store, CPU meter and totals. */
interface Side {
  readonly db: PgTestDatabase;
  readonly admin: Client;
  readonly store: HubStore & MaintenanceSource;
  readonly cpu: CpuMeter;
  ms: number;
  cpuMs: number;
  /** This process's share of cpuMs (the rest is the side's backends). */
  selfMs: number;
  /** WAL written while this side ran (the server's, so other sessions' too). */
  walBytes: number;
  readonly rounds: Round[];
}

/** One side's share of one round. */
interface Round {
  readonly records: number;
  readonly ms: number;
  readonly cpuMs: number;
  /** This process's share of cpuMs. */
  readonly selfMs: number;
  readonly walBytes: number;
  /** Checkpoints that started during the round (none is the clean case). */
  readonly checkpoints: number;
  /** Buffers the round's backends (and any other session's) wrote out themselves. */
  readonly backendWrites: number;
}

/** The server-wide counters a round is measured by. */
interface ServerState {
  readonly lsn: bigint;
  readonly checkpoints: number;
  readonly backendWrites: number;
}

const lsnBytes = (lsn: string): bigint => {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
};

async function serverState(admin: Client): Promise<ServerState> {
  // PostgreSQL 17 moved the checkpoint counters to pg_stat_checkpointer and
  // backend writes to pg_stat_io.
  const { rows } = await admin.query(
    `SELECT pg_current_wal_lsn()::text AS lsn, current_setting('server_version_num')::int >= 170000 AS v17`,
  );
  const r = rows[0] as { lsn: string; v17: boolean };
  const counters = r.v17
    ? `SELECT (SELECT num_timed + num_requested FROM pg_stat_checkpointer) AS c,
         (SELECT sum(writes) FROM pg_stat_io WHERE backend_type = 'client backend') AS w`
    : 'SELECT checkpoints_timed + checkpoints_req AS c, buffers_backend AS w FROM pg_stat_bgwriter';
  const c = (await admin.query(counters)).rows[0] as { c: string; w: string };
  return { lsn: lsnBytes(r.lsn), checkpoints: Number(c.c), backendWrites: Number(c.w) };
}

async function openSide(feed: boolean, consumer: boolean): Promise<Side> {
  const db = await createTestDatabase();
  const admin = new Client({ connectionString: db.adminUri });
  await admin.connect();
  if (!feed)
    for (const t of FEED_TABLES) await admin.query(`ALTER TABLE hub.${t} DISABLE TRIGGER rollup_feed`);
  const uri = `${db.appUri}?max=${consumer ? 3 : 2}&rollup_consumer=${consumer}`;
  const store = (await openStore(uri)) as HubStore & MaintenanceSource;
  return {
    db,
    admin,
    store,
    cpu: new CpuMeter(admin, db),
    ms: 0,
    cpuMs: 0,
    selfMs: 0,
    walBytes: 0,
    rounds: [],
  };
}

async function closeSide(side: Side | undefined): Promise<void> {
  if (!side) return;
  await side.store.close();
  await side.admin.end();
  await side.db.drop();
}

/** Writes `batches` through `store`, at most two in flight (the pool's connections). */
async function writeAll(store: HubStore, batches: readonly HubRecord[][], onDone?: (n: number) => void) {
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < batches.length) {
        const batch = batches[next++] ?? [];
        const outcomes = await store.putBatch(TENANT, batch);
        if (outcomes.some((x) => x.status !== 'created')) throw new Error('unexpected outcome');
        onDone?.(batch.length);
      }
    }),
  );
}

/** Feed on vs off, alternating per pair of batches; then the fold rate. */
export async function benchIngest(o: IngestOptions): Promise<Figure[]> {
  const batches = sealedBatches(o);
  let on: Side | undefined;
  let off: Side | undefined;
  try {
    on = await openSide(true, false);
    off = await openSide(false, false);
    const sides = { on, off };
    const write = async (side: Side, round: HubRecord[][]): Promise<void> => {
      if (o.checkpoint) await side.admin.query('CHECKPOINT');
      collectGarbage();
      const s0 = await serverState(side.admin);
      const c0 = await side.cpu.read();
      const t0 = now();
      await writeAll(side.store, round);
      const ms = now() - t0;
      const c1 = await side.cpu.read();
      const s1 = await serverState(side.admin);
      const cpuMs = side.cpu.between(c0, c1);
      const walBytes = Number(s1.lsn - s0.lsn);
      side.ms += ms;
      side.cpuMs += cpuMs;
      side.selfMs += c1.self - c0.self;
      side.walBytes += walBytes;
      side.rounds.push({
        records: round.reduce((n, b) => n + b.length, 0),
        ms,
        cpuMs,
        selfMs: c1.self - c0.self,
        walBytes,
        checkpoints: s1.checkpoints - s0.checkpoints,
        backendWrites: s1.backendWrites - s0.backendWrites,
      });
    };
    // Untimed, a batch of other records to each side first: the first side
    // to write otherwise paid this process's warm-up (its code compiled on
    // first use: 8 us a record of client CPU in that round instead of 5-6).
    const warmUp = [...generateOutputs(5_000, { seed: 4, batchSize: 5_000, skills: o.skills, days: 30 })].map(
      (b) => sealBatch(TENANT, 'outputs', b),
    );
    for (const side of [on, off]) await writeAll(side.store, warmUp);
    o.log(
      `ingest, feed on / off interleaved, ${o.checkpoint ? 'a CHECKPOINT before each' : 'no CHECKPOINT between'} side's round (load ${load()})`,
    );
    for (let r = 0; r < batches.length; r += 2) {
      const round = batches.slice(r, r + 2);
      // Alternate which goes first, so neither always follows the other's dirty pages.
      const order = (r / 2) % 2 === 0 ? [sides.on, sides.off] : [sides.off, sides.on];
      for (const side of order) await write(side, round);
    }
    logRounds(o, on, off);
    const rate = (s: Side): number => Math.round(o.records / (s.ms / 1000));
    const usPerRecord = (s: Side): number => round((s.cpuMs * 1000) / o.records);
    const clientUs = (s: Side): number => round((s.selfMs * 1000) / o.records);
    const figures: Figure[] = [
      { name: 'pg_ingest_feed_on_records_per_s', value: rate(on), unit: 'records/s', baseline: rate(off) },
      // Inverted so that the ratio reads like the rate's: feed-off CPU over feed-on CPU.
      {
        name: 'pg_ingest_feed_on_records_per_cpu_s',
        value: Math.round(1e6 / usPerRecord(on)),
        unit: 'records/cpu_s',
        baseline: Math.round(1e6 / usPerRecord(off)),
      },
      {
        name: 'pg_ingest_feed_on_cpu_us_per_record',
        value: usPerRecord(on),
        unit: 'us',
        baseline: usPerRecord(off),
      },
      // The same CPU split: this process (validation, COPY text, the protocol) and the backends.
      {
        name: 'pg_ingest_feed_on_client_cpu_us_per_record',
        value: clientUs(on),
        unit: 'us',
        baseline: clientUs(off),
      },
      {
        name: 'pg_ingest_feed_on_backend_cpu_us_per_record',
        value: round(usPerRecord(on) - clientUs(on)),
        unit: 'us',
        baseline: round(usPerRecord(off) - clientUs(off)),
      },
      {
        name: 'pg_ingest_feed_on_wal_bytes_per_record',
        value: Math.round(on.walBytes / o.records),
        unit: 'B',
        baseline: Math.round(off.walBytes / o.records),
      },
      // The spread of the rounds' ratios (feed-off time over feed-on time): the median, and the lowest.
      { name: 'pg_ingest_feed_on_round_ratio_median', value: round(median(roundRatios(on, off))), unit: 'x' },
      {
        name: 'pg_ingest_feed_on_round_ratio_min',
        value: round(Math.min(...roundRatios(on, off))),
        unit: 'x',
      },
      // Rounds (either side) inside which a checkpoint started: not the clean case.
      {
        name: 'pg_ingest_rounds_with_checkpoint',
        value: [...on.rounds, ...off.rounds].filter((x) => x.checkpoints > 0).length,
        unit: 'rounds',
      },
      // The most the bulk path itself could do here with every core to itself
      // (feed off; the WAL writer and checkpointer not counted).
      {
        name: 'pg_ingest_bulk_cpu_ceiling_records_per_s',
        value: Math.round((cpus().length * 1e6) / usPerRecord(off)),
        unit: 'records/s',
      },
    ];
    o.log(`folding the feed (load ${load()})`);
    const t0 = now();
    let folded = 0;
    for (;;) {
      // The background consumer's batch (20,000 rows; before migration 13 a
      // fold of 20,000 outlasted the 30 s statement timeout at a load of 17).
      const n = await on.store.maintain(DEFAULT_FOLD_BATCH);
      folded += n;
      if (n === 0) break;
    }
    const s = (now() - t0) / 1000;
    figures.push({ name: 'pg_rollup_fold_records_per_s', value: Math.round(folded / s), unit: 'records/s' });
    return figures;
  } finally {
    await closeSide(on);
    await closeSide(off);
  }
}

/** Samples of the unfolded feed taken while ingest runs and the consumer follows. */
interface LagSample {
  readonly rows: number;
  readonly secondsBehind: number;
}

/**
 * Paced ingest with the store's background consumer running; lag sampled
 * every 250 ms until the feed is empty (or two minutes after the last batch).
 */
export async function benchLag(o: IngestOptions): Promise<Figure[]> {
  const batches = sealedBatches(o);
  let side: Side | undefined;
  try {
    side = await openSide(true, true);
    const { admin, store } = side;
    // (instant, records written by then), to find when the written count reached the folded one.
    const written: [number, number][] = [[now(), 0]];
    let total = 0;
    const samples: LagSample[] = [];
    let ingestEnd = Infinity;
    const sample = async (): Promise<number> => {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM hub.rollup_feed');
      const unfolded = Number(rows[0]?.n);
      const folded = total - unfolded;
      const reached =
        written.find(([, n]) => n >= folded) ?? (written[written.length - 1] as [number, number]);
      samples.push({ rows: unfolded, secondsBehind: unfolded === 0 ? 0 : (now() - reached[0]) / 1000 });
      return unfolded;
    };
    const sampler = (async () => {
      for (;;) {
        const unfolded = await sample();
        if (now() > ingestEnd && (unfolded === 0 || now() - ingestEnd > 120_000)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    o.log(`lag: ingest paced at ${o.lagRate} records/s, consumer running (load ${load()})`);
    const t0 = now();
    // Batch k is due at t0 + k * batch / rate; a side that falls behind writes at once.
    const due = (k: number): number => t0 + (k * o.batch * 1000) / o.lagRate;
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < batches.length) {
          const k = next++;
          const wait = due(k) - now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const batch = batches[k] ?? [];
          await writeAll(store, [batch]);
          total += batch.length;
          written.push([now(), total]);
        }
      }),
    );
    ingestEnd = now();
    const ingestS = (ingestEnd - t0) / 1000;
    await sampler;
    const drained = samples[samples.length - 1]?.rows === 0;
    const drainS = (now() - ingestEnd) / 1000;
    const rows = samples.map((s) => s.rows);
    const behind = samples.map((s) => s.secondsBehind);
    return [
      {
        name: 'pg_rollup_lag_ingest_records_per_s',
        value: Math.round(o.records / ingestS),
        unit: 'records/s',
      },
      { name: 'pg_rollup_lag_max_unfolded_rows', value: Math.max(...rows), unit: 'rows' },
      { name: 'pg_rollup_lag_p50_s', value: round(percentile(behind, 50)), unit: 's' },
      { name: 'pg_rollup_lag_max_s', value: round(Math.max(...behind)), unit: 's' },
      // Time from the last batch to an empty feed (the two-minute cap when it did not empty).
      {
        name: drained ? 'pg_rollup_lag_drain_s' : 'pg_rollup_lag_not_drained_after_s',
        value: round(drainS),
        unit: 's',
      },
    ];
  } finally {
    await closeSide(side);
  }
}

/** Feed-off over feed-on wall time, per round. */
function roundRatios(on: Side, off: Side): number[] {
  return on.rounds.map((r, i) => (off.rounds[i]?.ms ?? NaN) / r.ms);
}

/** One line per round: each side's rate, CPU (and this process's share) and WAL per record, checkpoints and backend writes. */
function logRounds(o: IngestOptions, on: Side, off: Side): void {
  const fmt = (r: Round): string =>
    `${Math.round(r.records / (r.ms / 1000))}/s ${round((r.cpuMs * 1000) / r.records)} us ` +
    `(client ${round((r.selfMs * 1000) / r.records)}) ` +
    `${Math.round(r.walBytes / r.records)} B/rec ckpt ${r.checkpoints} bw ${r.backendWrites}`;
  on.rounds.forEach((r, i) => {
    const f = off.rounds[i];
    if (!f) return;
    const first = i % 2 === 0 ? 'on' : 'off';
    o.log(`round ${i} (${first} first): on ${fmt(r)} | off ${fmt(f)} | ratio ${round(f.ms / r.ms)}`);
  });
}

function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

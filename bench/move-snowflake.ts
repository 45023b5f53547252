/**
 * bench:move's PostgreSQL -> Snowflake emulator part: the copy engine beside
 * DuckDB's own insert of the same records, in alternating rounds.
 *
 * The emulator runs in a child process (move-snowflake-child.ts): a warehouse
 * is another machine, and on the copier's event loop the emulator's own work
 * was counted against the copy. DuckDB's own insert is timed there too, on the
 * emulator's DuckDB instance: the records appended straight into a freshly
 * provisioned tenant's typed OUTPUTS table by DuckDB's appender (see the
 * child's `duckdbInsert`).
 *
 * Each round copies the source tenant into a freshly provisioned Snowflake
 * database (provisioning and the previous round's purge are not timed) and
 * inserts the same number of records into another fresh one with DuckDB's
 * appender; which goes first alternates. One measurement of each swung
 * between 0.32 and 0.68 on the shared machine (the DuckDB side alone 9k-20k
 * records/s), so the figure is the median of the per-round ratios, reported
 * with the round it came from. Beside wall time, CPU time per record: the
 * copier's process (source reads, verification, the store and its driver)
 * and the emulator's process (HTTP, JSON, DuckDB); the PostgreSQL server's is
 * not counted. And, to show where the copy's time goes, each side alone:
 * the reading side (the same copy, in the same batches, into a target that
 * keeps nothing (move-sink.ts): source reads and verification; until 4 Dec a
 * memory store, whose own indexing cost more than the reads), timed before
 * both sides; and the
 * writing side (the same records, built and sealed before its clock starts,
 * written into another fresh Snowflake database by the store's `putBatchNow`
 * in the copy's batches, as many in flight as the copy's plan), timed after.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HubRecord } from '../src/hub/model';
import type { HubStore } from '../src/hub/store';
import { type TenantId, parseTenantId } from '../src/hub/tenant';
import type { SnowflakeStore } from '../src/stores/snowflake/snowflake-store';
import { LoopTurns } from './loop-turns';
import { benchOutputs } from './move-data';
import { moveModules } from './move-modules';
import { sinkTarget } from './move-sink';
import type { BaselineRequest } from './move-snowflake-child';
import { median } from './report';

/** Rounds of the copy and DuckDB's insert (default 7; the median round is reported). */
const SF_ROUNDS = Number(process.env.MOVE_BENCH_SF_ROUNDS ?? 7);

/** The Snowflake emulator in a child process (see move-snowflake-child.ts). */
export interface EmulatorChild {
  readonly uri: string;
  /** DuckDB's own insert, timed in the child: wall and child CPU ms. */
  baseline(request: BaselineRequest): Promise<{ baselineMs: number; cpuMs: number }>;
  /** The child's CPU time so far (ms). */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

/** Starts the emulator child and waits until it listens. */
export async function startEmulatorChild(): Promise<EmulatorChild> {
  const child: ChildProcess = fork(join(__dirname, 'move-snowflake-child.ts'), [], {
    // Profiling flags given to the bench (--cpu-prof...) profile the emulator too.
    execArgv: ['--require', 'tsx/cjs', ...process.execArgv.filter((a) => a.startsWith('--cpu-prof'))],
  });
  const next = <T>(key: string, whole = false): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>): void => {
        if (m.error !== undefined) reject(new Error(`snowflake emulator child: ${String(m.error)}`));
        else if (key in m) resolve((whole ? m : m[key]) as T);
        else return;
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onExit = (code: number | null): void =>
        reject(new Error(`snowflake emulator child exited (${code}) before answering`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const uri = await next<string>('uri');
  return {
    uri,
    baseline: (request) => {
      const answer = next<{ baselineMs: number; cpuMs: number }>('baselineMs', true);
      child.send({ baseline: request });
      return answer;
    },
    cpu: () => {
      const answer = next<number>('cpuMs');
      child.send({ cpu: true });
      return answer;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ close: true });
      await exited;
    },
  };
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One round's measurements of both sides. */
interface Round {
  readonly copyRate: number;
  /** The same copy into a target that keeps nothing (move-sink.ts): reading and verifying only. */
  readonly readRate: number;
  /** The same records written by the store alone (no source, no verification). */
  readonly writeRate: number;
  readonly duckRate: number;
  /** µs of CPU per record: copier process, emulator process; DuckDB's insert (emulator process). */
  readonly copierCpu: number;
  readonly emulatorCpu: number;
  readonly duckCpu: number;
  /**
   * The copy's longest turn of this process's event loop, in CPU ms (loop-turns.ts): how long
   * a gateway running the move would have held every other request up at once.
   */
  readonly loopMaxCpu: number;
  readonly load: number;
}

/** What the part reports: the human rows and the BENCH lines. */
export interface SnowflakePartResult {
  readonly rows: [string, number, number, string][];
  readonly bench: string[];
}

/**
 * Runs the part: `rounds` copies of `tenant` (`records` outputs) from
 * `source` into a fresh Snowflake database each, beside DuckDB's insert of the
 * same records, alternating which goes first. `guard` bounds each copy.
 */
export async function snowflakePart(
  source: HubStore,
  tenant: TenantId,
  records: number,
  sf: EmulatorChild,
  guard: <T>(name: string, seconds: number, work: () => Promise<T>) => Promise<T>,
): Promise<SnowflakePartResult> {
  const { copy: engine, stores, snowflakeConfig } = moveModules();
  const warehouse = (await stores.openStore(sf.uri)) as SnowflakeStore;
  const plan = engine.copyPlanFor(warehouse);
  const rounds: Round[] = [];
  const loadStart = loadavg()[0] ?? 0;
  try {
    for (let round = 0; round < SF_ROUNDS; round++) {
      // Fresh databases for both sides, provisioned before any clock starts (as the SharePoint
      // lists are): the copy's target is the source tenant's database, DuckDB's another tenant's.
      const direct = parseTenantId(`bench-direct-${round}`);
      await warehouse.purgeTenant(tenant);
      await warehouse.provision(tenant);
      await warehouse.provision(direct);
      await warehouse.ping();
      const writeOnly = parseTenantId(`bench-write-${round}`);
      await warehouse.provision(writeOnly);
      const r0 = performance.now();
      await engine.copyTenant(source, sinkTarget(plan), tenant);
      const readMs = performance.now() - r0;
      let copy = { ms: 0, copier: 0, emulator: 0, loopMaxCpu: 0 };
      let duck = { baselineMs: 0, cpuMs: 0 };
      const copySide = async (): Promise<void> => {
        const [child0, own0, t0] = [await sf.cpu(), cpuMs(), performance.now()];
        const turns = new LoopTurns();
        turns.start();
        try {
          await guard('PostgreSQL -> Snowflake copy', 60 + records / 50, () =>
            engine.copyTenant(source, warehouse, tenant),
          );
        } finally {
          turns.stop();
        }
        const ms = performance.now() - t0;
        const own = cpuMs() - own0;
        copy = {
          ms,
          copier: own,
          emulator: (await sf.cpu()) - child0,
          loopMaxCpu: turns.report().maxCpuMs,
        };
      };
      const duckSide = async (): Promise<void> => {
        duck = await sf.baseline({
          tenant: direct,
          records,
          table: {
            database: snowflakeConfig.tenantDatabase(warehouse.config, direct),
            schema: warehouse.config.schema,
            name: 'OUTPUTS',
          },
        });
      };
      if (round % 2 === 0) await copySide().then(duckSide);
      else await duckSide().then(copySide);
      const toWrite = benchOutputs(records, writeOnly);
      const w0 = performance.now();
      await writeSide(warehouse, writeOnly, toWrite, plan.batchSize, plan.concurrency);
      const writeMs = performance.now() - w0;
      await warehouse.purgeTenant(writeOnly);
      const r: Round = {
        copyRate: (records / copy.ms) * 1000,
        readRate: (records / readMs) * 1000,
        writeRate: (records / writeMs) * 1000,
        duckRate: (records / duck.baselineMs) * 1000,
        copierCpu: (copy.copier * 1000) / records,
        emulatorCpu: (copy.emulator * 1000) / records,
        duckCpu: (duck.cpuMs * 1000) / records,
        loopMaxCpu: copy.loopMaxCpu,
        load: loadavg()[0] ?? 0,
      };
      rounds.push(r);
      console.log(
        `round ${round + 1} of ${SF_ROUNDS} (${round % 2 === 0 ? 'copy first' : 'DuckDB first'}, load ${r.load.toFixed(1)}): ` +
          `copy ${r.copyRate.toFixed(0)}/s (CPU ${r.copierCpu.toFixed(0)} + ${r.emulatorCpu.toFixed(0)} µs/record), ` +
          `DuckDB ${r.duckRate.toFixed(0)}/s (CPU ${r.duckCpu.toFixed(0)} µs/record), ratio ${(r.copyRate / r.duckRate).toFixed(2)}; ` +
          `longest loop turn ${r.loopMaxCpu.toFixed(1)} ms CPU; ` +
          `reading side alone ${r.readRate.toFixed(0)}/s, writing side alone ${r.writeRate.toFixed(0)}/s`,
      );
      await warehouse.purgeTenant(direct);
    }
    await warehouse.purgeTenant(tenant);
  } finally {
    await warehouse.close();
  }
  // The round whose ratio is the median (rounds are odd by default): its own two rates, so the
  // BENCH line's ratio is value/baseline of one real round.
  const byRatio = [...rounds].sort((a, b) => a.copyRate / a.duckRate - b.copyRate / b.duckRate);
  const mid = byRatio[Math.floor((byRatio.length - 1) / 2)] as Round;
  const ratios = byRatio.map((r) => (r.copyRate / r.duckRate).toFixed(2));
  const loadEnd = loadavg()[0] ?? 0;
  const copyCpu = median(rounds.map((r) => r.copierCpu + r.emulatorCpu));
  const duckCpu = median(rounds.map((r) => r.duckCpu));
  const loopMaxCpu = median(rounds.map((r) => r.loopMaxCpu));
  console.log(
    `Snowflake: ratios by round, sorted: ${ratios.join(', ')}; median rates copy ${median(rounds.map((r) => r.copyRate)).toFixed(0)}/s, ` +
      `DuckDB ${median(rounds.map((r) => r.duckRate)).toFixed(0)}/s, reading side alone ${median(rounds.map((r) => r.readRate)).toFixed(0)}/s, writing side alone ${median(rounds.map((r) => r.writeRate)).toFixed(0)}/s; load average ${loadStart.toFixed(1)} -> ${loadEnd.toFixed(1)}; ` +
      `copy plan ${plan.batchSize} x ${plan.concurrency}`,
  );
  return {
    rows: [
      [
        `PostgreSQL -> Snowflake emulator (median ratio of ${SF_ROUNDS} rounds: ${ratios.join(' ')})`,
        mid.copyRate,
        mid.duckRate,
        "DuckDB's appender into the typed table, same records",
      ],
      [
        "PostgreSQL -> a target keeping nothing, the copy's reading side alone (median of rounds)",
        median(rounds.map((r) => r.readRate)),
        median(rounds.map((r) => r.duckRate)),
        "DuckDB's appender (median of rounds)",
      ],
      [
        "the Snowflake store's writing side alone (records read and verified beforehand; median of rounds)",
        median(rounds.map((r) => r.writeRate)),
        median(rounds.map((r) => r.duckRate)),
        "DuckDB's appender (median of rounds)",
      ],
      [
        'PostgreSQL -> Snowflake CPU µs/record, copier + emulator (median)',
        copyCpu,
        duckCpu,
        "DuckDB's appender, CPU µs/record",
      ],
      [
        "PostgreSQL -> Snowflake: the copy's longest event-loop turn, CPU ms (median of rounds)",
        loopMaxCpu,
        0,
        '',
      ],
    ],
    bench: [
      line('move_pg_snowflake', mid.copyRate, 'records/s', mid.duckRate),
      line('move_pg_snowflake_cpu', copyCpu, 'us/record', duckCpu),
      `BENCH move_pg_snowflake_loop_turn value=${loopMaxCpu.toFixed(1)} unit=ms`,
    ],
  };
}

function line(name: string, value: number, unit: string, baseline: number): string {
  return `BENCH ${name} value=${value.toFixed(0)} unit=${unit} baseline=${baseline.toFixed(0)} ratio=${(value / baseline).toFixed(3)}`;
}

/**
 * The writing side alone: `records` put by the store's `putBatchNow` in
 * batches of `batch`, at most `concurrency` in flight, as the copy writes them.
 */
async function writeSide(
  store: SnowflakeStore,
  tenant: TenantId,
  records: readonly HubRecord[],
  batch: number,
  concurrency: number,
): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  try {
    for (let at = 0; at < records.length; at += batch) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      const p: Promise<unknown> = store.putBatchNow(tenant, records.slice(at, at + batch)).finally(() => {
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } catch (err) {
    // Never leave a batch running unobserved: the first failure is reported once all have settled.
    await Promise.allSettled(inFlight);
    throw err;
  }
}

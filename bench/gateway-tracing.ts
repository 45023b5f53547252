/**
 * bench:gateway's tracing part: by-id throughput and CPU of gateway children
 * traced in different configurations (the default three and the `--extra`
 * ones), driven at the same time in rounds, exporting to an OTLP sink here.
 */
import { Agent } from 'node:http';
import type { fork } from 'node:child_process';
import { closedLoop as loop, postGraphQL } from './closed-loop';
import type { GcCounts } from './gateway-child';
import { loadavg, log } from './gateway-log';
import {
  childCpu,
  childGc,
  mainThreadCpuUs,
  measuring,
  startChild,
  stopChild,
  threadCpuUs,
} from './gateway-processes';
import { childFileFor, startOtlpSink, tracingConfigs } from './gateway-tracing-configs';
import { type Figure, median } from './report';

/** The tracing part's command-line choices. */
export interface TracingOptions {
  /** `--skip` (bisecting only): default configurations left out, by name. */
  readonly skip: readonly string[];
  /** `--extra`: configurations added, by name (`<name>_r2`, ...: another gateway of that configuration). */
  readonly extra: readonly string[];
}

/**
 * By-id throughput at 32 connections with tracing off, on at 1.0 and on at
 * 0.01, the three driven at the same time in rounds; an OTLP sink in this
 * process acknowledges the exports (reading each body, as a collector must).
 * `options`: the configurations left out and added (see {@link TracingOptions}).
 */
export async function tracingCost(
  uri: string,
  secret: string,
  token: string,
  body: (i: number) => string,
  seconds: number,
  rounds: number,
  options: TracingOptions,
): Promise<Figure[]> {
  const sink = await startOtlpSink();
  const configs = tracingConfigs(sink.endpoint, options.skip, options.extra);
  interface Child {
    readonly name: string;
    readonly server: ReturnType<typeof fork>;
    readonly url: string;
    readonly rps: number[];
    readonly cpuUs: number[];
    readonly ratio: number[];
    readonly cpuRatio: number[];
    readonly mainUs: number[];
    readonly mainRatio: number[];
  }
  const children: Child[] = [];
  const served = new Map<string, number>();
  // The JavaScript thread's CPU per request over all rounds (the rest is V8's helper threads,
  // mostly parallel GC, whose CPU grows with the machine's oversubscription, not with the code).
  const mainUs = new Map<string, number>();
  for (const c of configs)
    children.push({
      ...c,
      ...(await startChild(uri, secret, c.tracing, childFileFor(c.tracing))),
      rps: [] as number[],
      cpuUs: [] as number[],
      ratio: [] as number[],
      cpuRatio: [] as number[],
      mainUs: [] as number[],
      mainRatio: [] as number[],
    });
  try {
    // All at once, each with its own 32 connections: every configuration
    // meets the same machine at the same moment (a loaded machine drifts within
    // seconds; runs one after the other measured that drift, not tracing).
    const drive = async (c: Child, secs: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 32 });
      const target = new URL(c.url);
      try {
        const cpu0 = await childCpu(c.server);
        const main0 = mainThreadCpuUs(c.server);
        const run = await loop(32, secs, (i) => postGraphQL(agent, target, token, body(i)));
        served.set(c.name, (served.get(c.name) ?? 0) + run.samples.length);
        const n = run.samples.length;
        return {
          perSec: run.perSec,
          cpuUs: ((await childCpu(c.server)) - cpu0) / n,
          mainUs: (mainThreadCpuUs(c.server) - main0) / n,
        };
      } finally {
        agent.destroy();
      }
    };
    log(`tracing: warming the ${children.length} gateways up together (${3 * seconds} s)...`);
    await Promise.all(children.map((c) => drive(c, 3 * seconds)));
    await Promise.all(children.map((c) => measuring(c.server)));
    log(`tracing, gateway processes: ${children.map((c) => `${c.name} ${c.server.pid}`).join(', ')}`);
    const gc0 = await Promise.all(children.map((c) => childGc(c.server)));
    const threads0 = children.map((c) => threadCpuUs(c.server));
    const served0 = new Map(served);
    for (let round = 0; round < rounds; round++) {
      const runs = await Promise.all(children.map((c) => drive(c, seconds)));
      children.forEach((c, k) => {
        const r = runs[k] as { perSec: number; cpuUs: number; mainUs: number };
        c.mainUs.push(r.mainUs);
        c.rps.push(r.perSec);
        c.cpuUs.push(r.cpuUs);
      });
      log(
        `tracing, round ${round + 1} of ${rounds} (load ${loadavg()}): ` +
          children
            .map(
              (c) =>
                `${c.name} ${Math.round(c.rps[round] ?? NaN)} req/s ${Math.round(c.cpuUs[round] ?? NaN)} µs CPU ` +
                `(${Math.round(c.mainUs[round] ?? NaN)} main thread)`,
            )
            .join(', '),
      );
      const off = children[0]?.rps[round] ?? NaN;
      const offCpu = children[0]?.cpuUs[round] ?? NaN;
      for (const c of children) {
        c.ratio.push((c.rps[round] ?? NaN) / off);
        c.cpuRatio.push((c.cpuUs[round] ?? NaN) / offCpu);
        c.mainRatio.push((c.mainUs[round] ?? NaN) / (children[0]?.mainUs[round] ?? NaN));
      }
    }
    const gc1 = await Promise.all(children.map((c) => childGc(c.server)));
    // Where each gateway's CPU went over the rounds, per request: its JavaScript thread, and
    // V8's helper threads (concurrent compilation, parallel and concurrent GC) apart.
    children.forEach((c, k) => {
      const before = threads0[k] as Map<string, number>;
      const n = (served.get(c.name) ?? 0) - (served0.get(c.name) ?? 0);
      const perThread = [...threadCpuUs(c.server)].map(
        ([name, us]) => [name, (us - (before.get(name) ?? 0)) / n] as const,
      );
      mainUs.set(c.name, perThread.find(([name]) => name === 'main')?.[1] ?? NaN);
      const parts = perThread.filter(([, us]) => us >= 0.5).map(([name, us]) => `${name} ${us.toFixed(0)}`);
      log(`tracing, CPU per request by thread in ${c.name} over the rounds (µs): ${parts.join(', ')}`);
    });
    children.forEach((c, k) => {
      const a = gc0[k] as GcCounts;
      const b = gc1[k] as GcCounts;
      log(
        `tracing, GC over the rounds in ${c.name}: ${b.minor - a.minor} minor (${(b.minorMs - a.minorMs).toFixed(0)} ms), ` +
          `${b.major - a.major} major (${(b.majorMs - a.majorMs).toFixed(0)} ms), ` +
          `${b.incremental - a.incremental} incremental marking steps (${(b.incrementalMs - a.incrementalMs).toFixed(0)} ms)`,
      );
    });
  } finally {
    for (const c of children) await stopChild(c.server);
    await sink.close();
  }
  log(`requests served: ${[...served].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  log(`the OTLP sink received ${sink.exports()} exports, ${(sink.bytes() / 1e6).toFixed(1)} MB`);
  const off = children[0];
  const figures: Figure[] = [];
  for (const c of children) {
    figures.push({
      name: `gateway_by_id_c32_rps_tracing_${c.name}`,
      value: Math.round(median(c.rps)),
      unit: 'req/s',
      baseline: Math.round(median(off?.rps ?? [])),
    });
  }
  for (const c of children.slice(1)) {
    figures.push({
      name: `gateway_by_id_c32_rps_round_ratio_tracing_${c.name}`,
      value: Number(median(c.ratio).toFixed(4)),
      unit: 'x',
      baseline: 1,
    });
  }
  for (const c of children) {
    figures.push({
      name: `gateway_by_id_cpu_per_request_tracing_${c.name}`,
      value: Math.round(median(c.cpuUs)),
      unit: 'us',
      baseline: Math.round(median(off?.cpuUs ?? [])),
    });
  }
  for (const c of children) {
    figures.push({
      name: `gateway_by_id_main_thread_cpu_per_request_tracing_${c.name}`,
      value: Math.round(mainUs.get(c.name) ?? NaN),
      unit: 'us',
      baseline: Math.round(mainUs.get(off?.name ?? 'off') ?? NaN),
    });
  }
  for (const c of children.slice(1)) {
    figures.push({
      name: `gateway_by_id_main_thread_cpu_round_ratio_tracing_${c.name}`,
      value: Number(median(c.mainRatio).toFixed(4)),
      unit: 'x',
      baseline: 1,
    });
  }
  for (const c of children.slice(1)) {
    figures.push({
      name: `gateway_by_id_cpu_round_ratio_tracing_${c.name}`,
      value: Number(median(c.cpuRatio).toFixed(4)),
      unit: 'x',
      baseline: 1,
    });
  }
  return figures;
}

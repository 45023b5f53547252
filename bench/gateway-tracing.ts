/**
 * bench:gateway's tracing part: by-id throughput and CPU of gateway children
 * traced in different configurations (the default three and the `--extra`
 * ones), driven at the same time in rounds, exporting to an OTLP sink here.
 *
 * With `--runs R`, R independent runs one after the other, each with freshly
 * started gateways (their start order rotated from run to run): rounds of one
 * process share its JIT decisions and heap state, so they are not independent
 * samples, while processes are. gateway-tracing-figures.ts turns the runs into
 * figures.
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
import { startPerf } from './gateway-perf';
import { type TracingConfig, childFileFor, startOtlpSink, tracingConfigs } from './gateway-tracing-configs';
import { type GatewayRun, tracingFigures } from './gateway-tracing-figures';
import type { Figure } from './report';

/** The tracing part's command-line choices. */
export interface TracingOptions {
  /** `--skip` (bisecting only): default configurations left out, by name. */
  readonly skip: readonly string[];
  /** `--extra`: configurations added, by name (`<name>_r2`, ...: another gateway of that configuration). */
  readonly extra: readonly string[];
  /** `--runs`: independent runs, each with fresh gateway processes (default 1). */
  readonly runs?: number;
}

/** What one run drives: the requests' shape and the rounds. */
interface RunPlan {
  readonly uri: string;
  readonly secret: string;
  readonly token: string;
  readonly body: (i: number) => string;
  readonly seconds: number;
  readonly rounds: number;
  /** This run's number (from 1), for file names. */
  readonly run: number;
}

interface Child extends GatewayRun {
  readonly server: ReturnType<typeof fork>;
  readonly url: string;
}

/**
 * By-id throughput at 32 connections with tracing off, on at 1.0 and on at
 * 0.01 (and the `--extra` configurations), driven at the same time in rounds,
 * in `options.runs` runs of fresh gateways; an OTLP sink in this process
 * acknowledges the exports (reading each body, as a collector must).
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
  const runs: GatewayRun[][] = [];
  const total = Math.max(1, options.runs ?? 1);
  try {
    const configs = tracingConfigs(sink.endpoint, options.skip, options.extra);
    for (let run = 0; run < total; run++) {
      // The start order rotates, so no configuration is always started (and driven) first.
      const order = configs.map((_, k) => configs[(k + run) % configs.length] as TracingConfig);
      if (total > 1) log(`tracing, run ${run + 1} of ${total} (load ${loadavg()})`);
      runs.push(await tracingRun(order, { uri, secret, token, body, seconds, rounds, run: run + 1 }));
    }
  } finally {
    await sink.close();
  }
  log(`the OTLP sink received ${sink.exports()} exports, ${(sink.bytes() / 1e6).toFixed(1)} MB`);
  return tracingFigures(runs);
}

/** One run: fresh gateways for `configs`, a common warm-up, then the rounds; the gateways stopped. */
async function tracingRun(configs: readonly TracingConfig[], plan: RunPlan): Promise<GatewayRun[]> {
  const children: Child[] = [];
  const t0 = Date.now();
  try {
    for (const c of configs)
      children.push({
        name: c.name,
        ...(await startChild(plan.uri, plan.secret, c.tracing, childFileFor(c.tracing))),
        rps: [],
        cpuUs: [],
        mainUs: [],
        mainOverRoundsUs: NaN,
        served: 0,
      });
    log(
      `tracing: ${children.length} gateways started in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `warming them up together (${3 * plan.seconds} s)...`,
    );
    await Promise.all(children.map((c) => drive(c, plan, 3 * plan.seconds)));
    await Promise.all(children.map((c) => measuring(c.server)));
    log(`tracing, gateway processes: ${children.map((c) => `${c.name} ${c.server.pid}`).join(', ')}`);
    const gc0 = await Promise.all(children.map((c) => childGc(c.server)));
    const threads0 = children.map((c) => threadCpuUs(c.server));
    const perf = children.map((c) => startPerf(c.server.pid, c.name, plan.run));
    for (let round = 0; round < plan.rounds; round++) {
      // All at once, each with its own 32 connections: every configuration meets the same
      // machine at the same moment (a loaded machine drifts within seconds; runs one after the
      // other measured that drift, not tracing).
      const results = await Promise.all(children.map((c) => drive(c, plan, plan.seconds)));
      children.forEach((c, k) => {
        const r = results[k] as Driven;
        c.rps.push(r.perSec);
        c.cpuUs.push(r.cpuUs);
        c.mainUs.push(r.mainUs);
        c.served += r.n;
      });
      logRound(children, round, plan.rounds);
    }
    await Promise.all(perf.map((p) => p?.stop()));
    const gc1 = await Promise.all(children.map((c) => childGc(c.server)));
    return children.map((c, k) => {
      const mainOverRoundsUs = logThreads(c, threads0[k] as Map<string, number>);
      logGc(c.name, gc0[k] as GcCounts, gc1[k] as GcCounts);
      return { ...c, mainOverRoundsUs };
    });
  } finally {
    for (const c of children) await stopChild(c.server);
    log(`requests served in the rounds: ${children.map((c) => `${c.name} ${c.served}`).join(', ')}`);
  }
}

interface Driven {
  readonly n: number;
  readonly perSec: number;
  readonly cpuUs: number;
  readonly mainUs: number;
}

/** Drives one gateway for `secs` at 32 connections: req/s, and CPU per request of it and its JS thread. */
async function drive(c: Child, plan: RunPlan, secs: number): Promise<Driven> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const target = new URL(c.url);
  try {
    const cpu0 = await childCpu(c.server);
    const main0 = mainThreadCpuUs(c.server);
    const run = await loop(32, secs, (i) => postGraphQL(agent, target, plan.token, plan.body(i)));
    const n = run.samples.length;
    return {
      n,
      perSec: run.perSec,
      cpuUs: ((await childCpu(c.server)) - cpu0) / n,
      mainUs: (mainThreadCpuUs(c.server) - main0) / n,
    };
  } finally {
    agent.destroy();
  }
}

function logRound(children: readonly Child[], round: number, rounds: number): void {
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
}

/**
 * Logs where a gateway's CPU went over the rounds, per request: its JavaScript thread, and V8's
 * helper threads (concurrent compilation, parallel and concurrent GC) apart.
 * @returns the JavaScript thread's CPU per request over the rounds (µs)
 */
function logThreads(c: Child, before: Map<string, number>): number {
  const perThread = [...threadCpuUs(c.server)].map(
    ([name, us]) => [name, (us - (before.get(name) ?? 0)) / c.served] as const,
  );
  const parts = perThread.filter(([, us]) => us >= 0.5).map(([name, us]) => `${name} ${us.toFixed(0)}`);
  log(`tracing, CPU per request by thread in ${c.name} over the rounds (µs): ${parts.join(', ')}`);
  return perThread.find(([name]) => name === 'main')?.[1] ?? NaN;
}

function logGc(name: string, a: GcCounts, b: GcCounts): void {
  log(
    `tracing, GC over the rounds in ${name}: ${b.minor - a.minor} minor (${(b.minorMs - a.minorMs).toFixed(0)} ms), ` +
      `${b.major - a.major} major (${(b.majorMs - a.majorMs).toFixed(0)} ms), ` +
      `${b.incremental - a.incremental} incremental marking steps (${(b.incrementalMs - a.incrementalMs).toFixed(0)} ms)`,
  );
}

/**
 * bench:gateway's tracing part: by-id throughput and CPU of gateway children
 * traced in different configurations (the default three and the `--extra`
 * ones), driven at the same time in rounds, exporting to an OTLP sink here.
 */
import { Agent, createServer } from 'node:http';
import type { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
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
import type { ChildTracing } from './gateway-tracing-child';
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
  let exports = 0;
  let exportBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (exportBytes += c.length));
    req.on('end', () => {
      exports++;
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const configs: { name: string; tracing: ChildTracing }[] = [
    { name: 'off', tracing: {} },
    { name: 'sampled_1', tracing: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '1' } },
    { name: 'sampled_0_01', tracing: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.01' } },
  ];
  // --extra off_control: a second gateway with tracing off, measured like the others against the
  // first (how far two identical gateways differ by this method on the machine as loaded);
  // --extra sampled_0: tracing on, every root dropped (what an unsampled request pays by itself,
  // without the sampled traces in flight beside it).
  const extras: Record<string, ChildTracing> = {
    off_control: {},
    sampled_0: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0' },
    // A second 0.01 gateway: whether a difference is the sampler's or one process's (JIT and heap
    // state persist across rounds, so rounds of one process are not independent samples).
    sampled_0_01_b: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.01' },
    // 0.01 with V8's bytecode flushing off: is the sampled path compiled again per rare trace?
    sampled_0_01_noflush: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      nodeFlags: ['--no-flush-bytecode'],
    },
    // Between 0.01 and 1.0: does the cost grow in proportion to the share sampled?
    sampled_0_1: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.1' },
    sampled_0_5: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.5' },
    // Bisecting the 0.01 excess: without export; without the SDK (recording spans that do nothing,
    // the traced views as sampled); without the SDK and without traced views (the root alone).
    sampled_0_01_noexport: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      noExport: true,
    },
    fake_0_01: { fake: { ratio: 0.01 } },
    fake_0_01_root: { fake: { ratio: 0.01, rootOnly: true } },
    fake_0_01_timer: { fake: { ratio: 0.01, timer: true } },
    // Nothing sampled in the rounds, after a warm-up at 0.01: does a gateway that has served sampled
    // requests stay slower once it serves none (a state it keeps) or not (work while they run)?
    sampled_0_after_0_01: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0',
      warmSamplerArg: '0.01',
    },
    sampled_0_01_noprocessor: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      noProcessor: true,
    },
    fake_1: { fake: { ratio: 1 } },
    // Tracing off, with an HTTP client POST to the sink every 5 s (an export's use of node:http alone).
    off_client_post: { clientPostTo: `${endpoint}/v1/traces` },
    // 0.01 as the code of BENCH_TRACING_BASE_TREE does it (before/after a change, in one run).
    base_sampled_0_01: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.01', tree: 'base' },
    base_sampled_1: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '1', tree: 'base' },
    // 0.01 after a warm-up sampling every request: the sampled path as hot as in a gateway that
    // has run for hours (at 1%, a short run executes it too rarely for V8 to optimise it).
    sampled_0_01_warm: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      warmSamplerArg: '1',
    },
  };
  // --skip (bisecting only): leave default configurations out.
  const { skip, extra } = options;
  for (let k = configs.length - 1; k > 0; k--)
    if (skip.includes(configs[k]?.name ?? '')) configs.splice(k, 1);
  for (const name of extra) {
    // `<extra>_r2`, `_r3`, ...: another gateway of that configuration (bisecting: per-process spread).
    const tracing = extras[name.replace(/_r\d+$/, '')];
    if (!tracing) throw new Error(`--extra takes ${Object.keys(extras).join(', ')}; got ${name}`);
    configs.push({ name, tracing });
  }
  const baseTree = process.env.BENCH_TRACING_BASE_TREE;
  const childFile = (tracing: ChildTracing): string | undefined => {
    if (tracing.tree !== 'base') return undefined;
    if (!baseTree) throw new Error('the base_* extras need BENCH_TRACING_BASE_TREE=<another checkout>');
    return resolvePath(baseTree, 'bench/gateway.bench.ts');
  };
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
      ...(await startChild(uri, secret, c.tracing, childFile(c.tracing))),
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
    await new Promise((r) => sink.close(r));
  }
  log(`requests served: ${[...served].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  log(`the OTLP sink received ${exports} exports, ${(exportBytes / 1e6).toFixed(1)} MB`);
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

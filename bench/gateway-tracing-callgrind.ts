/**
 * bench:gateway's tracing part counted in instructions (`--instructions N`):
 * each configuration's gateway child runs under callgrind, which counts the
 * instructions each thread executes. After a warm-up and a full garbage
 * collection, N by-id requests (8 connections by default) run inside a window
 * opened and closed by the child (gateway-tracing-child.ts, `callgrindMark`);
 * the figure is the JavaScript thread's instructions in the window over N.
 * V8's worker threads (TurboFan jobs, parallel GC) are not in it: callgrind
 * zeroes and dumps only the thread that calls the marks.
 *
 * Unlike req/s and CPU time the count does not depend on what else the machine
 * runs, but it is not exact: JIT tiering and garbage collection still differ
 * between two processes of one configuration (two tracing-off gateways,
 * `off_control`, differed by 4% over 1,500 requests after 3,000 of warm-up).
 * V8's `--random-seed` is fixed, so the sampler draws the same sequence in
 * every run.
 *
 * Under callgrind a gateway runs about 50 times slower, so the batch span
 * processor's 5-second timer would export 50 times more often per request than
 * at full speed: its delay is stretched by `dilation` (default 50,
 * OTEL_BSP_SCHEDULE_DELAY), so an export happens about as often per request.
 * `parallel` gateways run at once (each count is its own process's).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { fork } from 'node:child_process';
import { postGraphQL } from './closed-loop';
import { log } from './gateway-log';
import { measuring, startChild, stopChild } from './gateway-processes';
import {
  type OtlpSink,
  type TracingConfig,
  childFileFor,
  startOtlpSink,
  tracingConfigs,
} from './gateway-tracing-configs';
import type { Figure } from './report';

/** The instruction-count part's choices. */
export interface InstructionOptions {
  /** By-id requests in the counted window. */
  readonly requests: number;
  /** By-id requests before it (JIT warm-up). */
  readonly warmup: number;
  /** How much slower the gateway runs under callgrind than at full speed (the export timer is stretched by it). */
  readonly dilation: number;
  /**
   * Connections driving each gateway: few, since a gateway under callgrind
   * answers tens of requests a second and a request queued longer than the
   * query timeout (10 s) fails.
   */
  readonly connections: number;
  /** Gateways under callgrind at once. */
  readonly parallel: number;
  /** Default configurations left out, by name. */
  readonly skip: readonly string[];
  /** Configurations added, by name. */
  readonly extra: readonly string[];
}

/** The BatchSpanProcessor's default delay between exports (ms). */
const EXPORT_DELAY_MS = 5000;

/**
 * Instructions per by-id request of each tracing configuration's gateway
 * (see the file comment), as figures against the first (tracing off).
 */
export async function tracingInstructions(
  uri: string,
  secret: string,
  token: string,
  body: (i: number) => string,
  options: InstructionOptions,
): Promise<Figure[]> {
  // A sink per gateway, so each window's sampled requests are its own gateway's.
  const names = tracingConfigs('', options.skip, options.extra).map((c) => c.name);
  const sinks = await Promise.all(names.map(() => startOtlpSink(true)));
  // BENCH_CALLGRIND_DIR: keep the dumps there (for callgrind_annotate: where the instructions went).
  const keep = process.env.BENCH_CALLGRIND_DIR;
  const dir = keep ?? join(tmpdir(), `hub-bench-callgrind-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const perRequest = new Map<string, number>();
  const count = async (k: number): Promise<void> => {
    const sink = sinks[k] as OtlpSink;
    const c = tracingConfigs(sink.endpoint, options.skip, options.extra)[k] as TracingConfig;
    const { server, url } = await startChild(uri, secret, c.tracing, childFileFor(c.tracing), {
      launcher: [
        'valgrind',
        '-q',
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${join(dir, 'cg.%p')}`,
        '--zero-before=uv_os_getpriority',
        '--dump-before=uv_loadavg',
      ],
      env: { OTEL_BSP_SCHEDULE_DELAY: String(EXPORT_DELAY_MS * options.dilation) },
      nodeFlags: ['--random-seed=17'],
    });
    try {
      const target = new URL(url);
      const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
      const run = async (n: number): Promise<number> => {
        let i = 0;
        const t0 = Date.now();
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (i < n) await postGraphQL(agent, target, token, body(i++));
          }),
        );
        return (n / (Date.now() - t0)) * 1000;
      };
      log(`instructions, ${c.name}: warming up under callgrind (${options.warmup} requests)...`);
      await run(options.warmup);
      await measuring(server);
      await mark(server, 'cg-zero');
      const spans0 = sink.serverSpans();
      const exports0 = sink.exports();
      const perSec = await run(options.requests);
      const exports = sink.exports() - exports0;
      await mark(server, 'cg-dump');
      const sampled = sink.serverSpans() - spans0;
      agent.destroy();
      const counted = windowCount(dir, server.pid as number);
      perRequest.set(c.name, counted / options.requests);
      if (keep) log(`instructions, ${c.name}: callgrind's dump is ${join(dir, `cg.${server.pid}.1-01`)}`);
      log(
        `instructions, ${c.name}: ${(counted / options.requests / 1e6).toFixed(3)} M per request on the JavaScript thread ` +
          `(${options.requests} requests, ${sampled} sampled, ${exports} exports in the window; ${perSec.toFixed(0)} req/s under callgrind)`,
      );
    } finally {
      await stopChild(server);
    }
  };
  try {
    // A few at once: each child's count is its own, whatever runs beside it.
    for (let k = 0; k < names.length; k += options.parallel)
      await Promise.all(names.slice(k, k + options.parallel).map((_, j) => count(k + j)));
  } finally {
    await Promise.all(sinks.map((s) => s.close()));
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  const off = perRequest.get(names[0] ?? 'off') ?? NaN;
  return names.map((name) => ({
    name: `gateway_by_id_main_thread_instructions_per_request_tracing_${name}`,
    value: Math.round(perRequest.get(name) ?? NaN),
    unit: 'instructions',
    baseline: Math.round(off),
  }));
}

/** Sends `m` (`cg-zero` / `cg-dump`) to a child and waits for its answer. */
function mark(server: ReturnType<typeof fork>, m: 'cg-zero' | 'cg-dump'): Promise<void> {
  return new Promise((resolve) => {
    const on = (answer: unknown): void => {
      if ((answer as { cg?: string }).cg !== m) return;
      server.off('message', on);
      resolve();
    };
    server.on('message', on);
    server.send(m);
  });
}

/**
 * The JavaScript thread's instruction count in the window callgrind dumped
 * for process `pid` (its first dump; threads are counted apart, and only the
 * thread that calls the marks, thread 1, is zeroed and dumped by them).
 */
function windowCount(dir: string, pid: number): number {
  const file = join(dir, `cg.${pid}.1-01`);
  // `totals`, not `summary`: the dumps' totals add up to the process's count, summaries do not.
  const m = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no instruction count in callgrind's dump ${file}`);
  return Number(m[1]);
}

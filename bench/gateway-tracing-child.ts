/**
 * The gateway child of bench:gateway with its tracing configured: the
 * settings a configuration passes to its child (`ChildTracing`), the tracers
 * they ask for (the OpenTelemetry SDK, with or without export or processor,
 * or a fake without SDK), and the child's side of the warm-up/rounds switch.
 */
import { Agent, request as httpRequest } from 'node:http';
import { getPriority, loadavg } from 'node:os';
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Span, Tracer, TracingSettings } from '../src/platform/tracing';
import { serveGatewayChild } from './gateway-child';
import { gatewayModules } from './gateway-modules';

/** A child's tracing: the settings, and for a warmed child the sampler ratio of its warm-up. */
export type ChildTracing = TracingSettings & {
  readonly warmSamplerArg?: string;
  /** node/V8 flags for this gateway alone (an experiment beside the same configuration without). */
  readonly nodeFlags?: readonly string[];
  /** Spans dropped instead of exported (is the excess the exporter's?). */
  readonly noExport?: boolean;
  /** Ended spans dropped at once, no batch span processor (its buffer and timers). */
  readonly noProcessor?: boolean;
  /**
   * No SDK at all: this share of requests gets a recording span whose calls do nothing, so the
   * sampled path (traced views of the Hub, the store and the database) runs without OpenTelemetry;
   * `rootOnly`: that span's children are the no-op span (no traced views).
   */
  readonly fake?: { readonly ratio: number; readonly rootOnly?: boolean; readonly timer?: boolean };
  /**
   * `base`: this gateway runs from the checkout named by BENCH_TRACING_BASE_TREE (e.g. a `git
   * worktree` of an earlier commit, node_modules linked), its tracing as that code does it.
   */
  readonly tree?: 'base';
  /** Tracing off, but an HTTP client POST of `{}` to this URL every 5 s (what an export does to node:http). */
  readonly clientPostTo?: string;
};

/** A recording span whose calls do nothing (the `fake` configurations). */
class FakeSpan implements Span {
  readonly recording = true;
  constructor(private readonly rootOnly: boolean) {}
  child(): Span {
    return this.rootOnly ? gatewayModules().tracing.NOOP_SPAN : new FakeSpan(false);
  }
  ids(): undefined {
    return undefined;
  }
  setName(): void {}
  setAttribute(): void {}
  setAttributes(): void {}
  addEvent(): void {}
  fail(): void {}
  end(): void {}
}

/** A tracer whose roots are {@link FakeSpan}s at `ratio`, no-op spans otherwise. */
function fakeTracer(fake: NonNullable<ChildTracing['fake']>): Tracer {
  // `timer`: what a batch span processor does with timers, beside each sampled root (an unref'd
  // 5 s timer while anything is buffered; at its end, a 30 s export timeout set and cleared).
  let pending: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      clearTimeout(setTimeout(() => undefined, 30_000));
    }, 5000);
    pending.unref();
  };
  const { NOOP_SPAN } = gatewayModules().tracing;
  const root = (): Span => {
    if (Math.random() >= fake.ratio) return NOOP_SPAN;
    if (fake.timer) arm();
    return new FakeSpan(fake.rootOnly === true);
  };
  return {
    enabled: true,
    startServerSpan: root,
    startRoot: root,
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
}

/** Makes the tracer a child's settings ask for. */
function childTracer(settings: ChildTracing): Tracer {
  const {
    warmSamplerArg: _w,
    nodeFlags: _f,
    noExport,
    noProcessor,
    fake,
    clientPostTo,
    ...tracing
  } = settings;
  if (clientPostTo !== undefined) {
    const agent = new Agent({ keepAlive: true });
    setInterval(() => {
      const req = httpRequest(
        clientPostTo,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => res.resume(),
      );
      req.on('error', () => undefined);
      req.end('{}');
    }, 5000).unref();
  }
  if (fake) return fakeTracer(fake);
  if (!noExport && !noProcessor) return gatewayModules().tracing.createTracer(tracing);
  const otel = gatewayModules().tracingOtel;
  return otel.createOtelTracer(
    tracing,
    noProcessor
      ? {
          processor: {
            onStart: () => undefined,
            onEnd: () => undefined,
            forceFlush: async () => undefined,
            shutdown: async () => undefined,
          },
        }
      : { exporter: { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined } },
  );
}

/**
 * Serves a gateway over `uri` with `secret` for tokens, traced as `settings`
 * say (see {@link serveGatewayChild}); on `measure` it switches from the
 * warm-up's tracer to the rounds' and answers `{ measuring: true }`.
 */
export async function serveTracedGatewayChild(
  uri: string,
  secret: string,
  settings: ChildTracing,
): Promise<void> {
  const { warmSamplerArg } = settings;
  const { installTracer } = gatewayModules().tracing;
  const tracer = childTracer(settings);
  // Warmed: the warm-up runs under a second tracer sampling at `warmSamplerArg` (the same code, so
  // the sampled path is compiled and optimised as a long-running gateway's is), the rounds under
  // the configured one.
  const warm =
    warmSamplerArg === undefined ? undefined : childTracer({ ...settings, samplerArg: warmSamplerArg });
  installTracer(warm ?? tracer);
  // PROF_ROUNDS_DIR: a CPU profile of the rounds alone (after the warm-up), written as the child stops.
  const profiler = process.env.PROF_ROUNDS_DIR ? new Session() : undefined;
  profiler?.connect();
  let profiling = false;
  const post = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) =>
      profiler?.post(method, (err, result) => (err ? reject(err) : resolve(result))),
    );
  process.on('message', (m: unknown) => {
    // Under callgrind (gateway-tracing-callgrind.ts): the window of counted instructions, opened
    // and closed by calls of libuv functions nothing else in the gateway calls.
    if (m === 'cg-zero' || m === 'cg-dump') void callgrindMark(m, tracer);
    if (m === 'stop' && profiling) {
      void post('Profiler.stop').then((r) =>
        writeFileSync(
          join(process.env.PROF_ROUNDS_DIR as string, `rounds-${process.pid}.cpuprofile`),
          JSON.stringify((r as { profile: unknown }).profile),
        ),
      );
    }
    if (m !== 'measure') return;
    void (warm ? warm.flush() : Promise.resolve())
      .then(async () => {
        installTracer(tracer);
        if (profiler && !profiling) {
          await post('Profiler.enable');
          await post('Profiler.start');
          profiling = true;
        }
      })
      .then(() => {
        // With diagnostic flags, when the rounds begin in this process's clock (V8's log times).
        if (process.env.BENCH_CHILD_FLAGS)
          console.error(`[bench] gateway ${process.pid}: rounds begin at ${process.uptime().toFixed(3)} s`);
        process.send?.({ measuring: true });
      });
  });
  await serveGatewayChild(uri, secret, {
    maxStoreCalls: 1024,
    afterClose: async () => {
      await warm?.shutdown();
      await tracer.shutdown();
    },
  });
}

/**
 * Opens (`cg-zero`) or closes (`cg-dump`) callgrind's window, then answers
 * `{ cg: m }`. The child runs under `valgrind --tool=callgrind
 * --zero-before=uv_os_getpriority --dump-before=uv_loadavg`: `os.getPriority()`
 * zeroes the counts, `os.loadavg()` writes them to a file. Spans ended before
 * the window are exported first (their export is not the window's), and those
 * of the window once it is closed, so the sink's count of server spans between
 * the two answers is the window's sampled requests. The window opens after a
 * full garbage collection.
 */
async function callgrindMark(m: 'cg-zero' | 'cg-dump', tracer: Tracer): Promise<void> {
  if (m === 'cg-zero') {
    await tracer.flush();
    // A full collection first (the child runs with --expose-gc): every window begins with the same
    // heap state, so whether a major collection falls into it is the window's own doing.
    (globalThis as { gc?: () => void }).gc?.();
    getPriority();
  } else {
    loadavg();
    await tracer.flush();
  }
  process.send?.({ cg: m });
}

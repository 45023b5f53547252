/**
 * The tracing configurations bench:gateway compares (the default three and
 * the `--extra` ones, by name) and the OTLP/HTTP sink in the driver's
 * process that their exports go to.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { ChildTracing } from './gateway-tracing-child';

/** One gateway's configuration: its name in the figures and its tracing. */
export interface TracingConfig {
  readonly name: string;
  readonly tracing: ChildTracing;
}

/** An OTLP/HTTP sink: the endpoint to give the gateways and what it received. */
export interface OtlpSink {
  readonly endpoint: string;
  /** Exports received so far. */
  readonly exports: () => number;
  /** Bytes of the exports received so far. */
  readonly bytes: () => number;
  /** Server spans (a request's root, kind 2) in the exports received so far. */
  readonly serverSpans: () => number;
  readonly close: () => Promise<void>;
}

/**
 * Starts a sink that acknowledges every export after reading its body (as a
 * collector must); with `countSpans`, it also parses each body to count the
 * server spans (the sampled requests).
 */
export async function startOtlpSink(countSpans = false): Promise<OtlpSink> {
  let exports = 0;
  let bytes = 0;
  let serverSpans = 0;
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (countSpans) chunks.push(c);
    });
    req.on('end', () => {
      exports++;
      if (countSpans) serverSpans += countServerSpans(Buffer.concat(chunks).toString('utf8'));
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    exports: () => exports,
    bytes: () => bytes,
    serverSpans: () => serverSpans,
    close: () => new Promise((r) => sink.close(() => r())),
  };
}

/** Server spans (kind 2) in an OTLP/JSON export body. */
function countServerSpans(body: string): number {
  type Export = { resourceSpans?: { scopeSpans?: { spans?: { kind?: number }[] }[] }[] };
  let n = 0;
  for (const r of (JSON.parse(body) as Export).resourceSpans ?? [])
    for (const s of r.scopeSpans ?? []) for (const span of s.spans ?? []) if (span.kind === 2) n++;
  return n;
}

/**
 * The three default configurations (tracing off, on at 1.0, on at 0.01),
 * without those named in `skip`, then those named in `extra` (`<name>_r2`,
 * `_r3`, ...: another gateway of that configuration), exporting to `endpoint`.
 * @throws Error naming the known extras when `extra` names another.
 */
export function tracingConfigs(
  endpoint: string,
  skip: readonly string[],
  extra: readonly string[],
): TracingConfig[] {
  const configs: TracingConfig[] = [
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
    base_off: { tree: 'base' },
    base_sampled_0: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0', tree: 'base' },
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
  for (let k = configs.length - 1; k > 0; k--)
    if (skip.includes(configs[k]?.name ?? '')) configs.splice(k, 1);
  for (const name of extra) {
    const tracing = extras[name.replace(/_r\d+$/, '')];
    if (!tracing) throw new Error(`--extra takes ${Object.keys(extras).join(', ')}; got ${name}`);
    configs.push({ name, tracing });
  }
  return configs;
}

/**
 * The bench file a configuration's gateway child runs: this checkout's by
 * default (undefined), that of BENCH_TRACING_BASE_TREE for the `base_*` ones.
 * @throws Error when a `base_*` configuration is asked for without that variable.
 */
export function childFileFor(tracing: ChildTracing): string | undefined {
  if (tracing.tree !== 'base') return undefined;
  const baseTree = process.env.BENCH_TRACING_BASE_TREE;
  if (!baseTree) throw new Error('the base_* extras need BENCH_TRACING_BASE_TREE=<another checkout>');
  return resolvePath(baseTree, 'bench/gateway.bench.ts');
}

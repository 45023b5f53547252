/**
 * The figures of bench:gateway's tracing part from its runs: the per-round
 * figures against the first tracing-off gateway (`off`) over all rounds of all
 * runs, as before there were runs, and the figures over runs: per
 * configuration, each gateway's req/s and JavaScript-thread CPU per request as
 * a ratio to the mean of its run's tracing-off gateways, summarised over the
 * gateways of all runs (median, quartiles, range), beside the method's own
 * noise (`off_control` against `off`, run by run).
 */
import { log } from './gateway-log';
import {
  type Summary,
  byConfiguration,
  medianRoundRatios,
  quantile,
  ratiosToOffMean,
  summarize,
} from './gateway-tracing-stats';
import { type Figure, median } from './report';

/** One gateway's measurements in one run. */
export interface GatewayRun {
  readonly name: string;
  /** Per round: req/s, process CPU per request (µs), JavaScript-thread CPU per request (µs). */
  readonly rps: number[];
  readonly cpuUs: number[];
  readonly mainUs: number[];
  /** JavaScript-thread CPU per request over all the rounds (µs; steadier than per round at 10 ms ticks). */
  readonly mainOverRoundsUs: number;
  /** Requests served in the rounds. */
  served: number;
}

/** The figures of `runs` (each run: its gateways, the same names in every run). */
export function tracingFigures(runs: readonly (readonly GatewayRun[])[]): Figure[] {
  const figures = perRoundFigures(runs);
  const over = overRuns(runs);
  printTable(runs.length, over);
  for (const [config, s] of over.rps) {
    if (config === 'off') continue;
    figures.push(...summaryFigures(`gateway_by_id_rps_vs_off_mean_tracing_${config}`, s));
    const cpu = over.main.get(config);
    if (cpu)
      figures.push(...summaryFigures(`gateway_by_id_main_thread_cpu_vs_off_mean_tracing_${config}`, cpu));
  }
  if (over.noise.n > 0) figures.push(...summaryFigures('gateway_by_id_rps_off_control_vs_off', over.noise));
  return figures;
}

/** A summary as BENCH figures: `<name>` (the median), `<name>_min` and `<name>_max`; ratios, baseline 1. */
function summaryFigures(name: string, s: Summary): Figure[] {
  const x = (v: number): number => Number(v.toFixed(4));
  return [
    { name, value: x(s.median), unit: 'x', baseline: 1 },
    { name: `${name}_min`, value: x(s.min), unit: 'x', baseline: 1 },
    { name: `${name}_max`, value: x(s.max), unit: 'x', baseline: 1 },
  ];
}

interface OverRuns {
  /** Per configuration, over its gateways in all runs: req/s ratio (median of the rounds) to the off mean. */
  readonly rps: Map<string, Summary>;
  /** The same for the JavaScript thread's CPU per request over the rounds. */
  readonly main: Map<string, Summary>;
  /** Per run, the median of the rounds' req/s of `off_control` over `off`. */
  readonly noise: Summary;
}

function overRuns(runs: readonly (readonly GatewayRun[])[]): OverRuns {
  const rps = runs.map((gateways) => {
    const rounds = gateways[0]?.rps.map((_, r) => new Map(gateways.map((g) => [g.name, g.rps[r] as number])));
    return medianRoundRatios(rounds ?? []);
  });
  const main = runs.map((gateways) =>
    ratiosToOffMean(new Map(gateways.map((g) => [g.name, g.mainOverRoundsUs]))),
  );
  rps.forEach((r, k) =>
    log(
      `tracing, run ${k + 1} against the mean of its tracing-off gateways (req/s, JS-thread CPU a request): ` +
        [...r]
          .map(([name, x]) => `${name} ${x.toFixed(3)}, ${(main[k]?.get(name) ?? NaN).toFixed(3)}`)
          .join('; '),
    ),
  );
  const noise = runs.flatMap((gateways) => {
    const off = gateways.find((g) => g.name === 'off');
    const control = gateways.find((g) => g.name === 'off_control');
    if (!off || !control) return [];
    return [
      quantile(
        control.rps.map((v, r) => v / (off.rps[r] as number)),
        0.5,
      ),
    ];
  });
  const summaries = (m: Map<string, number[]>) => new Map([...m].map(([c, xs]) => [c, summarize(xs)]));
  return {
    rps: summaries(byConfiguration(rps)),
    main: summaries(byConfiguration(main)),
    noise: summarize(noise),
  };
}

/** The human table of the figures over runs (stdout, before the report's table). */
function printTable(runs: number, over: OverRuns): void {
  const f = (x: number): string => x.toFixed(3);
  const cell = (s: Summary | undefined): string =>
    s ? `${f(s.median)} [${f(s.q1)}-${f(s.q3)}] (${f(s.min)}-${f(s.max)})` : '-';
  const rows = [...over.rps].map(([c, s]) => [c, String(s.n), cell(s), cell(over.main.get(c))]);
  const head = ['configuration', 'gateways', 'req/s / off mean', 'JS-thread CPU a request / off mean'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(
    `\nTracing over ${runs} run(s) of fresh gateways: per gateway, the median of its rounds' req/s over ` +
      `the mean of its run's tracing-off gateways, and its JavaScript-thread CPU per request over the rounds ` +
      `against theirs; per configuration, the median [quartiles] (range) over its gateways\n`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  if (over.noise.n > 0)
    console.log(
      `\nThe method's noise: off_control / off req/s per run ${cell(over.noise)} over ${over.noise.n} runs`,
    );
  console.log('');
}

/**
 * The figures before runs existed, under their names: per gateway, the median
 * over all rounds of all runs of req/s, CPU per request and the round ratio
 * to `off` (the run's first tracing-off gateway); the JavaScript thread's CPU
 * per request over the rounds, median of the runs.
 */
function perRoundFigures(runs: readonly (readonly GatewayRun[])[]): Figure[] {
  const names = runs[0]?.map((g) => g.name) ?? [];
  const all = (name: string, pick: (g: GatewayRun, off: GatewayRun) => number[]): number[] =>
    runs.flatMap((gateways) => {
      const g = gateways.find((x) => x.name === name);
      const off = gateways.find((x) => x.name === 'off');
      return g && off ? pick(g, off) : [];
    });
  const ratio = (a: number[], b: number[]): number[] => a.map((v, r) => v / (b[r] as number));
  const figures: Figure[] = [];
  const per = (prefix: string, unit: string, pick: (g: GatewayRun) => number[], digits = 0): void => {
    const base = median(all('off', pick));
    for (const name of names)
      figures.push({
        name: `${prefix}${name}`,
        value: round(median(all(name, pick)), digits),
        unit,
        baseline: round(base, digits),
      });
  };
  const perRatio = (prefix: string, pick: (g: GatewayRun) => number[]): void => {
    for (const name of names.filter((n) => n !== 'off'))
      figures.push({
        name: `${prefix}${name}`,
        value: round(median(all(name, (g, off) => ratio(pick(g), pick(off)))), 4),
        unit: 'x',
        baseline: 1,
      });
  };
  per('gateway_by_id_c32_rps_tracing_', 'req/s', (g) => g.rps);
  perRatio('gateway_by_id_c32_rps_round_ratio_tracing_', (g) => g.rps);
  per('gateway_by_id_cpu_per_request_tracing_', 'us', (g) => g.cpuUs);
  per('gateway_by_id_main_thread_cpu_per_request_tracing_', 'us', (g) => [g.mainOverRoundsUs]);
  perRatio('gateway_by_id_main_thread_cpu_round_ratio_tracing_', (g) => g.mainUs);
  perRatio('gateway_by_id_cpu_round_ratio_tracing_', (g) => g.cpuUs);
  if (runs.length > 1) log('tracing: the per-round figures pool the rounds of all runs (as with one run)');
  return figures;
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

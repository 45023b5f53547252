/**
 * Statistics of bench:gateway's tracing part over several runs (pure
 * functions, unit-tested): which configuration a gateway belongs to, each
 * gateway's figure as a ratio to the mean of the tracing-off gateways of its
 * run, and a summary (median, quartiles, range) over the gateways of a
 * configuration.
 */

/** A summary of a sample: its size, median, quartiles and range. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  /** First and third quartile (linear interpolation between order statistics). */
  readonly q1: number;
  readonly q3: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The q-quantile (0 to 1) of `samples` by linear interpolation between the
 * order statistics (type 7, as R's and numpy's default); NaN for none.
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** The summary of `samples` (NaNs left out: a gateway that served nothing has no ratio). */
export function summarize(samples: readonly number[]): Summary {
  const xs = samples.filter((x) => !Number.isNaN(x));
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    q1: quantile(xs, 0.25),
    q3: quantile(xs, 0.75),
    min: xs.length === 0 ? NaN : Math.min(...xs),
    max: xs.length === 0 ? NaN : Math.max(...xs),
  };
}

/**
 * The configuration a gateway's name stands for: its extra gateways of the
 * same configuration (`_b`, `_r2`, `_r3`, ...) are one configuration with it,
 * and `off_control` (tracing off again) is `off`.
 */
export function configurationOf(name: string): string {
  const base = name.replace(/_r\d+$/, '').replace(/_b$/, '');
  return base === 'off_control' ? 'off' : base;
}

/** Whether a gateway runs with tracing off (the baseline): `off`, `off_control` and their `_rN`. */
export function isTracingOff(name: string): boolean {
  return configurationOf(name) === 'off';
}

/**
 * Each value of one round (or run) divided by the mean of the values of the
 * tracing-off gateways in it; all NaN when there is no tracing-off gateway.
 * `values` maps a gateway's name to its value.
 */
export function ratiosToOffMean(values: ReadonlyMap<string, number>): Map<string, number> {
  const off = [...values].filter(([name]) => isTracingOff(name)).map(([, v]) => v);
  const mean = off.length === 0 ? NaN : off.reduce((s, v) => s + v, 0) / off.length;
  return new Map([...values].map(([name, v]) => [name, v / mean]));
}

/**
 * Per gateway, the median over rounds of its round's value divided by the
 * mean of the tracing-off gateways' values in that round. `rounds` holds one
 * map (gateway name to value) per round of one run.
 */
export function medianRoundRatios(rounds: readonly ReadonlyMap<string, number>[]): Map<string, number> {
  const per = new Map<string, number[]>();
  for (const round of rounds)
    for (const [name, r] of ratiosToOffMean(round)) per.set(name, [...(per.get(name) ?? []), r]);
  return new Map([...per].map(([name, rs]) => [name, quantile(rs, 0.5)]));
}

/**
 * Gateway figures of several runs (one map of gateway name to figure per run)
 * grouped by configuration ({@link configurationOf}), in the order the
 * configurations first appear.
 */
export function byConfiguration(runs: readonly ReadonlyMap<string, number>[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const run of runs)
    for (const [name, v] of run) {
      const c = configurationOf(name);
      out.set(c, [...(out.get(c) ?? []), v]);
    }
  return out;
}

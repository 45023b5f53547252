/**
 * Shared output helpers for benchmarks: a human table, then one
 * machine-readable `BENCH` line per figure.
 */

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
}

/** Percentile (nearest-rank) of a sorted-in-place sample. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  samples.sort((a, b) => a - b);
  const rank = Math.min(samples.length - 1, Math.max(0, Math.ceil((p / 100) * samples.length) - 1));
  return samples[rank] as number;
}

/** Median (nearest-rank, the lower of two middles) of `samples`, left unsorted. */
export function median(samples: readonly number[]): number {
  return percentile([...samples], 50);
}

const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);

/** Prints the table and the BENCH lines. */
export function report(title: string, figures: readonly Figure[]): void {
  const rows = figures.map((f) => [
    f.name,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline === undefined ? '' : `${fmt(f.baseline)} ${f.unit}`,
    f.baseline === undefined ? '' : fmt(f.value / f.baseline),
  ]);
  const head = ['figure', 'value', 'baseline', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(`\n${title}\n`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const f of figures) {
    const base =
      f.baseline === undefined ? '' : ` baseline=${f.baseline} ratio=${(f.value / f.baseline).toFixed(4)}`;
    console.log(`BENCH ${f.name} value=${f.value} unit=${f.unit}${base}`);
  }
}

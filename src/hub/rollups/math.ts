/**
 * Exact statistics shared by the reference rollups. Every backend must produce
 * the same numbers, so nothing here uses floating point before the final
 * rounding: inputs are integers (milliseconds, micro-dollars) and results are
 * exact rationals rounded half away from zero.
 */
import { roundRatio } from '../decimal';

/**
 * Continuous percentile (`PERCENTILE_CONT`) of integer values, rounded to
 * `places` decimal places. `percent` is an integer 0..100 so the position
 * `percent/100 * (n-1)` stays exact. `divisor` scales the result (e.g. ms per
 * day) before rounding.
 * @returns null for an empty input.
 */
export function percentileCont(
  values: readonly bigint[],
  percent: number,
  places: number,
  divisor: bigint = 1n,
): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const scaledPos = BigInt(percent) * BigInt(sorted.length - 1); // position * 100
  const lo = Number(scaledPos / 100n);
  const frac = scaledPos % 100n; // hundredths between lo and lo+1
  const a = sorted[lo] as bigint;
  const b = frac === 0n ? a : (sorted[lo + 1] as bigint);
  // value = a + (b - a) * frac / 100, exactly = (100a + (b-a)frac) / 100
  return roundRatio(100n * a + (b - a) * frac, 100n * divisor, places);
}

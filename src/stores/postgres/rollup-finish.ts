/**
 * Finishing the PostgreSQL rollups' rows exactly (postgres-rollups.ts): the
 * continuous percentile from its two order statistics, and a bucket's total
 * and average cost from its micro-units, with the reference's rounding. Both
 * in numbers when every value is a safe integer (what rollups hold), else in
 * bigints; the same results either way (test/hub/decimal.test.ts).
 */
import {
  divRoundHalfAway,
  divRoundHalfAwayNumber,
  fromMicros,
  fromMicrosNumber,
  roundRatio,
  safeForDivision,
} from '../../hub/decimal';

/** Finishes a continuous percentile exactly, as math.ts percentileCont does. */
export function percentileFromStats(
  n: unknown,
  a: unknown,
  b: unknown,
  percent: number,
  places: number,
  divisor = 1,
): number | null {
  if (n === null || n === undefined || Number(n) === 0) return null;
  const frac = (percent * (Number(n) - 1)) % 100;
  const lo = Number(a);
  const hi = frac === 0 ? lo : Number(b);
  // Latencies and gaps are small integers: the exact rational in numbers
  // (every product a safe integer) gives roundRatio's result without bigints.
  const factor = 10 ** places;
  const num = (100 * lo + (hi - lo) * frac) * factor;
  const den = 100 * divisor;
  if (
    Number.isSafeInteger(Number(n)) &&
    Number.isSafeInteger(lo) &&
    Number.isSafeInteger(hi) &&
    safeForDivision(num, den)
  ) {
    return divRoundHalfAwayNumber(num, den) / factor;
  }
  const bigFrac = BigInt(frac);
  const bigLo = BigInt(String(a));
  const bigHi = frac === 0 ? bigLo : BigInt(String(b));
  return roundRatio(100n * bigLo + (bigHi - bigLo) * bigFrac, 100n * BigInt(divisor), places);
}

/** Micro-units from a numeric that is a whole number (`1500000` or `1500000.000000`), as its digits. */
const microsText = (v: unknown): string =>
  v === null || v === undefined ? '0' : (String(v).split('.')[0] ?? '0');

/** {@link microsText} as a bigint. */
export const micros = (v: unknown): bigint => BigInt(microsText(v));

/**
 * The exact total and average (half away from zero on micro-units) of a
 * bucket's cost as decimal strings: in numbers when every value is a safe
 * integer (any total under $9 billion), else in bigints; the same strings.
 */
export function totalAndAverage(v: unknown, invocations: number): [string, string] {
  const text = microsText(v);
  const total = Number(text);
  if (Number.isSafeInteger(total) && safeForDivision(total, invocations)) {
    return [fromMicrosNumber(total), fromMicrosNumber(divRoundHalfAwayNumber(total, invocations))];
  }
  const big = BigInt(text);
  return [fromMicros(big), fromMicros(divRoundHalfAway(big, BigInt(invocations)))];
}

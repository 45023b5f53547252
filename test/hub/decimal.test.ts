/**
 * The number forms of the exact decimal helpers (src/hub/decimal.ts) give
 * what the bigint forms give, on every input they accept; the rollups'
 * finishing (rollup-finish.ts) takes the number path when it is exact and
 * the bigint one otherwise, with the same results.
 */
import {
  divRoundHalfAway,
  divRoundHalfAwayNumber,
  fromMicros,
  fromMicrosNumber,
  roundRatio,
  safeForDivision,
} from '../../src/hub/decimal';
import { Prng } from '../../src/seed/prng';
import { percentileFromStats, totalAndAverage } from '../../src/stores/postgres/rollup-finish';

describe('exact decimals in numbers', () => {
  const rng = new Prng(7);
  /** Integers of every magnitude up to the largest safe one, both signs, and the edges. */
  const values = (): number[] => {
    const out = [
      0,
      1,
      -1,
      5,
      9,
      10,
      999_999,
      1_000_000,
      1_000_001,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ];
    for (let i = 0; i < 4_000; i++) {
      const digits = rng.int(1, 16);
      const v = Math.min(Math.floor(rng.float() * 10 ** digits), Number.MAX_SAFE_INTEGER);
      out.push(rng.float() < 0.2 ? -v : v);
    }
    return out;
  };

  test('fromMicrosNumber formats as fromMicros does', () => {
    const wrong = values().filter((v) => fromMicrosNumber(v) !== fromMicros(BigInt(v)));
    expect(wrong).toEqual([]);
  });

  test('divRoundHalfAwayNumber rounds as divRoundHalfAway does wherever safeForDivision holds', () => {
    const vs = values();
    const wrong: unknown[] = [];
    let checked = 0;
    for (let i = 0; i < vs.length; i++) {
      const n = vs[i] as number;
      // Denominators of every size, exact halves among them.
      for (const d of [
        vs[(i * 7) % vs.length] as number,
        rng.int(1, 1000),
        2,
        -3,
        Math.max(1, Math.abs(n) * 2),
      ]) {
        if (!safeForDivision(n, d)) continue;
        checked++;
        if (divRoundHalfAwayNumber(n, d) !== Number(divRoundHalfAway(BigInt(n), BigInt(d))))
          wrong.push([n, d]);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
    expect(safeForDivision(1, 0)).toBe(false);
    expect(safeForDivision(Number.MAX_SAFE_INTEGER, 1)).toBe(false);
    expect(safeForDivision(0.5, 1)).toBe(false);
  });

  test("a rollup's total, average and percentile equal the bigint computation, large values included", () => {
    for (const v of values()) {
      const total = Math.abs(v);
      const n = rng.int(1, 100_000);
      const text = rng.float() < 0.5 ? `${total}.000000` : String(total);
      expect(totalAndAverage(text, n)).toEqual([
        fromMicros(BigInt(total)),
        fromMicros(divRoundHalfAway(BigInt(total), BigInt(n))),
      ]);
    }
    // Beyond safe integers: the bigint path, same rule.
    expect(totalAndAverage('123456789012345678901', 7)).toEqual([
      fromMicros(123456789012345678901n),
      fromMicros(divRoundHalfAway(123456789012345678901n, 7n)),
    ]);
    for (let i = 0; i < 4_000; i++) {
      const count = rng.int(1, 50_000);
      const a = rng.int(0, 2 ** rng.int(1, 45));
      const b = a + rng.int(0, 1000);
      const [percent, places, divisor] = rng.float() < 0.5 ? [95, 1, 1] : [50, 2, 86_400_000];
      const frac = BigInt((percent * (count - 1)) % 100);
      const lo = BigInt(a);
      const hi = frac === 0n ? lo : BigInt(b);
      expect(percentileFromStats(String(count), String(a), String(b), percent, places, divisor)).toBe(
        roundRatio(100n * lo + (hi - lo) * frac, 100n * BigInt(divisor), places),
      );
    }
    expect(percentileFromStats(null, null, null, 95, 1)).toBeNull();
    expect(percentileFromStats('0', null, null, 95, 1)).toBeNull();
    expect(percentileFromStats('1', '9007199254740993', null, 95, 1)).toBe(
      roundRatio(100n * 9007199254740993n, 100n, 1),
    );
  });
});

/**
 * Exact decimals for money (`cost_usd`). The model keeps them as canonical
 * strings; arithmetic is done on bigint micro-units (10^-6), so no sum or
 * average ever goes through floating point.
 */

/** Digits allowed after the decimal point. */
export const DECIMAL_SCALE = 6;
/** Digits allowed before the decimal point (fits `numeric(20,6)` and Snowflake `NUMBER(20,6)`). */
export const DECIMAL_INT_DIGITS = 14;

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;
const SCALE = 10n ** BigInt(DECIMAL_SCALE);

/**
 * Parses a decimal given as a string (or a finite JS number, for convenience)
 * and returns its canonical form: no exponent, no leading zeros, no trailing
 * fractional zeros, no trailing dot, `0` never `-0`.
 * @returns the canonical string, or an error message describing what is wrong.
 */
export function parseDecimal(value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, message: 'must be a finite decimal' };
    text = String(value);
    if (/e/i.test(text))
      return { ok: false, message: `number ${text} is out of range; send decimals as strings` };
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return { ok: false, message: `must be a decimal string, got ${value === null ? 'null' : typeof value}` };
  }
  const m = DECIMAL_RE.exec(text);
  if (!m)
    return {
      ok: false,
      message: `${JSON.stringify(text.slice(0, 40))} is not a plain decimal (digits, optional '.', no exponent)`,
    };
  const sign = m[1] ?? '';
  const intPart = (m[2] ?? '0').replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > DECIMAL_SCALE)
    return { ok: false, message: `at most ${DECIMAL_SCALE} fractional digits` };
  if (intPart.length > DECIMAL_INT_DIGITS)
    return { ok: false, message: `at most ${DECIMAL_INT_DIGITS} integer digits` };
  const isZero = intPart === '0' && frac === '';
  return { ok: true, value: `${isZero ? '' : sign}${intPart}${frac ? `.${frac}` : ''}` };
}

/** Converts a canonical decimal string to micro-units. */
export function toMicros(canonical: string): bigint {
  const negative = canonical.startsWith('-');
  const body = negative ? canonical.slice(1) : canonical;
  const [intPart = '0', frac = ''] = body.split('.');
  const micros = BigInt(intPart) * SCALE + BigInt(frac.padEnd(DECIMAL_SCALE, '0'));
  return negative ? -micros : micros;
}

/** Formats micro-units as a canonical decimal string. */
export function fromMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const intPart = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(DECIMAL_SCALE, '0').replace(/0+$/, '');
  if (intPart === 0n && frac === '') return '0';
  return `${negative ? '-' : ''}${intPart}${frac ? `.${frac}` : ''}`;
}

/**
 * Divides two bigints and rounds half away from zero: the Hub's one rounding rule.
 */
export function divRoundHalfAway(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n * 2n + d) / (d * 2n);
  return negative ? -q : q;
}

/**
 * Rounds the exact rational `numerator / denominator` to `places` decimal places
 * (half away from zero) and returns it as a JS number (exact for the magnitudes
 * the rollups produce).
 */
export function roundRatio(numerator: bigint, denominator: bigint, places: number): number {
  const factor = 10n ** BigInt(places);
  const scaled = divRoundHalfAway(numerator * factor, denominator);
  return Number(scaled) / Number(factor);
}

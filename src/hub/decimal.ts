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

/**
 * {@link divRoundHalfAway} on safe integers, without bigints: the same
 * quotient for every pair of safe integers (`denominator` not 0) whose
 * products below stay safe, which the caller checks with
 * {@link safeForDivision}. A rollup finishes thousands of averages per
 * request; the bigint conversions were most of that.
 */
export function divRoundHalfAwayNumber(numerator: number, denominator: number): number {
  const negative = numerator < 0 !== denominator < 0;
  const n = Math.abs(numerator);
  const d = Math.abs(denominator);
  // The float quotient may be one off near an integer; the remainder fixes it exactly.
  let q = Math.floor(n / d);
  let r = n - q * d;
  if (r < 0) {
    q -= 1;
    r += d;
  } else if (r >= d) {
    q += 1;
    r -= d;
  }
  if (2 * r >= d) q += 1;
  return negative ? -q : q;
}

/** Whether {@link divRoundHalfAwayNumber} is exact for `numerator / denominator` (all products safe). */
export function safeForDivision(numerator: number, denominator: number): boolean {
  return (
    Number.isSafeInteger(numerator) &&
    Number.isSafeInteger(denominator) &&
    denominator !== 0 &&
    Math.abs(numerator) + 2 * Math.abs(denominator) <= Number.MAX_SAFE_INTEGER
  );
}

/** {@link fromMicros} of a safe integer number of micro-units (the same string). */
export function fromMicrosNumber(micros: number): string {
  const negative = micros < 0;
  const digits = String(Math.abs(micros));
  const cut = digits.length - DECIMAL_SCALE;
  const intPart = cut > 0 ? digits.slice(0, cut) : '0';
  let end = digits.length;
  while (end > Math.max(cut, 0) && digits.charCodeAt(end - 1) === 48 /* 0 */) end--;
  // Fewer digits than the scale: zeros before them (none when all were zeros).
  const frac =
    cut >= 0 ? digits.slice(cut, end) : end === 0 ? '' : digits.slice(0, end).padStart(end - cut, '0');
  if (intPart === '0' && frac === '') return '0';
  return `${negative ? '-' : ''}${intPart}${frac ? `.${frac}` : ''}`;
}

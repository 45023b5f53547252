/**
 * Timestamps in the Hub are UTC instants with millisecond precision, written as
 * RFC 3339 strings with a `Z` (`2026-03-01T12:00:00.000Z`).
 */
import { unreachable } from './errors';

const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Earliest and latest instants accepted (years 0001 through 9999). */
const MIN_INSTANT = new Date('0001-01-01T00:00:00.000Z').getTime();
const MAX_INSTANT = new Date('9999-12-31T23:59:59.999Z').getTime();

export const MS_PER_DAY = 86_400_000;

/**
 * Parses an RFC 3339 timestamp (any offset, at most millisecond precision) or a
 * valid Date into epoch milliseconds.
 * @returns the instant, or an error message.
 */
export function parseTimestamp(value: unknown): { ok: true; ms: number } | { ok: false; message: string } {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? { ok: false, message: 'is an invalid Date' } : checkRange(ms);
  }
  if (typeof value !== 'string') {
    return {
      ok: false,
      message: `must be an RFC 3339 timestamp string, got ${value === null ? 'null' : typeof value}`,
    };
  }
  const m = RFC3339_RE.exec(value);
  if (!m) return { ok: false, message: `${JSON.stringify(value.slice(0, 40))} is not an RFC 3339 timestamp` };
  const [, y, mo, d, h, mi, s, frac = '', z, sign, oh, om] = m;
  if (frac.length > 3 && /[1-9]/.test(frac.slice(3))) {
    return { ok: false, message: 'has more than millisecond precision' };
  }
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, message: `${JSON.stringify(value)} has a field out of range` };
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) {
    return { ok: false, message: `${JSON.stringify(value)} is not a calendar date` };
  }
  let instant = date.getTime();
  if (!z) {
    const offsetMinutes = Number(oh) * 60 + Number(om);
    if (Number(oh) > 23 || Number(om) > 59)
      return { ok: false, message: `${JSON.stringify(value)} has a bad offset` };
    instant -= (sign === '-' ? -1 : 1) * offsetMinutes * 60_000;
  }
  return checkRange(instant);
}

function checkRange(ms: number): { ok: true; ms: number } | { ok: false; message: string } {
  if (ms < MIN_INSTANT || ms > MAX_INSTANT) return { ok: false, message: 'is outside years 0001-9999' };
  return { ok: true, ms };
}

/** Days in each month of a common year (February's leap day is added by {@link isCanonicalTimestamp}). */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by the ASCII digits of `s` in [from, to), or -1 when one is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * True when `value` is a timestamp in the Hub's canonical form (as
 * {@link formatTimestamp} writes it) within years 0001-9999: exactly the
 * strings that {@link parseTimestamp} accepts and formats back unchanged.
 * Checked by its characters and field ranges (proleptic Gregorian, no leap
 * second, no 24:00), without parsing or formatting a Date: stores run it on
 * every timestamp of every batch they write, and the native round trip cost
 * more than the rest of a record's check.
 */
export function isCanonicalTimestamp(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== 24) return false;
  // YYYY-MM-DDTHH:mm:ss.sssZ (no helper closure: one would be created per call, per record)
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 84) return false;
  if (value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return false;
  if (value.charCodeAt(19) !== 46 || value.charCodeAt(23) !== 90) return false;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 7);
  const day = digits(value, 8, 10);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (MONTH_DAYS[month - 1] as number) + (month === 2 && leap ? 1 : 0)) return false;
  const hour = digits(value, 11, 13);
  const minute = digits(value, 14, 16);
  const second = digits(value, 17, 19);
  return (
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59 &&
    digits(value, 20, 23) >= 0
  );
}

/** Formats epoch milliseconds as the Hub's canonical `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Normalises a timestamp string the Hub already accepted (any offset) to canonical form. */
export function canonicalTimestamp(value: string): string {
  const parsed = parseTimestamp(value);
  if (!parsed.ok) throw new RangeError(`timestamp ${value} ${parsed.message}`);
  return formatTimestamp(parsed.ms);
}

export type Bucket = 'DAY' | 'WEEK' | 'MONTH';

/** Truncates an instant to the start of its UTC day, ISO week (Monday) or month. */
export function bucketStart(ms: number, bucket: Bucket): number {
  const d = new Date(ms);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (bucket) {
    case 'DAY':
      return dayStart;
    case 'WEEK': {
      // getUTCDay: Sunday = 0; weeks start on Monday.
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      return dayStart - sinceMonday * MS_PER_DAY;
    }
    case 'MONTH':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    default:
      return unreachable(bucket, 'bucket');
  }
}

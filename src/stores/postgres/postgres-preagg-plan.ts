/**
 * How a rollup's range `[from, to)` splits over the pre-aggregated cells
 * (preagg.sql): whole cells of the coarsest grain that fits, finer cells
 * towards the edges, and raw records for what is left at each edge (less than
 * a cell of the finest grain). Every piece is disjoint and the pieces cover the range exactly, so
 * summing them is the raw computation.
 */
import type { Bucket } from '../../hub/time';

/** Cell grains, as stored in the `grain` column. */
export type Grain = 'h' | 'd' | 'w' | 'm';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 2001-01-01T00:00Z, a Monday: the origin of day and week cells. */
const ORIGIN = Date.UTC(2001, 0, 1);

/** The start of the cell of `grain` holding the instant `ms` (UTC). */
export function floorTo(grain: Grain, ms: number): number {
  switch (grain) {
    case 'h':
      return fixed(ms, HOUR);
    case 'd':
      return fixed(ms, DAY);
    case 'w':
      return fixed(ms, WEEK);
    case 'm': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    default:
      return unreachable(grain);
  }
}

/** The first cell boundary of `grain` at or after `ms`. */
export function ceilTo(grain: Grain, ms: number): number {
  const f = floorTo(grain, ms);
  if (f === ms) return ms;
  if (grain !== 'm') return f + width(grain);
  const d = new Date(f);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function fixed(ms: number, w: number): number {
  return ORIGIN + Math.floor((ms - ORIGIN) / w) * w;
}

function width(grain: 'h' | 'd' | 'w'): number {
  return grain === 'h' ? HOUR : grain === 'd' ? DAY : WEEK;
}

function unreachable(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}

/** A half-open interval of epoch milliseconds. */
export type Span = readonly [number, number];

/** Cells of one grain whose start lies in `span`. */
export interface CellSpan {
  readonly grain: Grain;
  readonly span: Span;
}

export interface RangePlan {
  /** Spans answered from raw records (empty spans left out). */
  readonly raw: readonly Span[];
  /** Spans answered from cells, finest first. */
  readonly cells: readonly CellSpan[];
  /**
   * The span the cells cover (`[first cell start, last cell end)`), where
   * unconsumed feed rows are added; null when no cell fits.
   */
  readonly covered: Span | null;
}

/**
 * The grains of per-employee decision and governance cells (hour and day):
 * decisions are found by their output's employee, so raw edges of a day
 * would join a day of decisions to their outputs.
 */
export const EVENT_CHAIN: readonly Grain[] = ['h', 'd'];

/**
 * The grains of output cells that can serve a bucket, finest first: each
 * nests in the next, and every cell lies inside one bucket. Per-employee
 * output cells exist only at day grain (the edges of a team-scoped range are
 * read raw, from the members' index ranges).
 */
export function chainFor(bucket: Bucket | undefined, perEmployee: boolean): readonly Grain[] {
  if (perEmployee) return ['d'];
  switch (bucket) {
    case 'DAY':
      return ['h', 'd'];
    case 'WEEK':
      return ['h', 'd', 'w'];
    case 'MONTH':
    case undefined:
      return ['h', 'd', 'm'];
    default:
      return unreachable(bucket);
  }
}

/**
 * Splits `[from, to)` over `chain` (nested grains, finest first): the
 * coarsest grain takes the whole cells inside the range, each finer grain
 * the whole cells between the next grain's boundaries and the range's, raw
 * records the rest.
 */
export function planRange(from: number, to: number, chain: readonly Grain[]): RangePlan {
  const lo = chain.map((g) => ceilTo(g, from));
  const hi = chain.map((g) => floorTo(g, to));
  // Coarser grains have fewer boundaries, so once one does not fit in the
  // range no coarser one does.
  let top = -1;
  for (let i = 0; i < chain.length; i++) {
    if ((lo[i] as number) < (hi[i] as number)) top = i;
    else break;
  }
  // An empty range keeps its raw span (it selects nothing) so that the
  // statement still refers to the range's parameters.
  if (top < 0) return { raw: [[from, to]], cells: [], covered: null };
  const cells: CellSpan[] = [];
  const nonEmpty = (a: number, b: number): boolean => a < b;
  for (let i = 0; i <= top; i++) {
    const grain = chain[i] as Grain;
    const a = lo[i] as number;
    const b = hi[i] as number;
    if (i === top) {
      cells.push({ grain, span: [a, b] });
    } else {
      const na = lo[i + 1] as number;
      const nb = hi[i + 1] as number;
      if (nonEmpty(a, na)) cells.push({ grain, span: [a, na] });
      if (nonEmpty(nb, b)) cells.push({ grain, span: [nb, b] });
    }
  }
  const first = lo[0] as number;
  const last = hi[0] as number;
  const raw: Span[] = [];
  if (from < first) raw.push([from, first]);
  if (last < to) raw.push([last, to]);
  const withWeeks = chain.includes('m') && !chain.includes('w') ? cells.flatMap(weeksInMonths) : cells;
  return { raw, cells: withWeeks, covered: [first, last] };
}

/**
 * In a chain of days and months, days between a range's edge and the first
 * (or last) whole month, or all days of a range holding no whole month, are
 * up to 30 cells per skill at each edge: there every week that lies inside
 * one month takes its seven days (a month bucket's partial months read ~9
 * cells instead of ~27). Weeks do not nest in months, so the days are split
 * at month boundaries first; every piece still lies inside one month.
 */
function weeksInMonths(c: CellSpan): CellSpan[] {
  if (c.grain !== 'd') return [c];
  const out: CellSpan[] = [];
  for (let a = c.span[0]; a < c.span[1];) {
    const b = Math.min(ceilTo('m', a + 1), c.span[1]);
    const wa = ceilTo('w', a);
    const wb = floorTo('w', b);
    if (wa < wb) {
      if (a < wa) out.push({ grain: 'd', span: [a, wa] });
      out.push({ grain: 'w', span: [wa, wb] });
      if (wb < b) out.push({ grain: 'd', span: [wb, b] });
    } else {
      out.push({ grain: 'd', span: [a, b] });
    }
    a = b;
  }
  return out;
}

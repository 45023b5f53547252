/**
 * How a rollup's range `[from, to)` splits over the pre-aggregated cells
 * (preagg.sql): whole cells and raw records (less than a cell of the finest
 * grain at each edge), each added or subtracted, chosen to read the fewest.
 * The signed pieces count every instant of the range once and no other, so
 * summing them is the raw computation.
 */
import { unreachable } from '../../hub/errors';
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
      return unreachable(grain, 'grain');
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

/** A half-open interval of epoch milliseconds. */
export type Span = readonly [number, number];

/** Whether a piece's records are added to the range (1) or taken out of it (-1). */
export type Sign = 1 | -1;

/** Cells of one grain whose start lies in `span`, added or subtracted. */
export interface CellSpan {
  readonly grain: Grain;
  readonly span: Span;
  readonly sign: Sign;
}

/** Raw records in `span`, added or subtracted. */
export interface RawSpan {
  readonly span: Span;
  readonly sign: Sign;
}

export interface RangePlan {
  /** Spans answered from raw records (empty spans left out). */
  readonly raw: readonly RawSpan[];
  /** Spans answered from cells. */
  readonly cells: readonly CellSpan[];
  /**
   * The span the cells cover net of their signs (`[from, to)` rounded to
   * the finest grain), where unconsumed feed rows are added; null when no
   * cell is read.
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
 * The grains of per-employee output cells for a range without buckets (the
 * manager dashboard, a team's skills): days, and weeks since migration 15 (a
 * 30-day range is about four week cells per member and skill and a few days
 * at its edges, instead of 30 day cells).
 */
export const TEAM_CHAIN: readonly Grain[] = ['d', 'w'];

/**
 * The grains of output cells that can serve a bucket, finest first: each
 * nests in the next, and every cell lies inside one bucket. Per-employee
 * output cells exist at day and week grain (the edges of a team-scoped range
 * are read raw, from the members' index ranges); weeks serve week buckets
 * (and ranges without buckets: {@link TEAM_CHAIN}).
 */
export function chainFor(bucket: Bucket | undefined, perEmployee: boolean): readonly Grain[] {
  if (perEmployee) return bucket === 'WEEK' ? ['d', 'w'] : ['d'];
  switch (bucket) {
    case 'DAY':
      return ['h', 'd'];
    case 'WEEK':
      return ['h', 'd', 'w'];
    case 'MONTH':
    case undefined:
      return ['h', 'd', 'm'];
    default:
      return unreachable(bucket, 'bucket');
  }
}

/**
 * What a plan is estimated to cost, in cells (one unit per cell start, all
 * skills): an hour of raw records counts as this many cells (an hour cell
 * holds about a twelfth of an hour's records, and a raw record costs a heap
 * fetch where a cell costs one index entry).
 */
const RAW_PER_HOUR = 48;

/**
 * Splits `[from, to)` over `chain` (nested grains, finest first) into whole
 * cells and raw records, each added or subtracted, so that the signed pieces
 * add up to the range exactly: a partial day can be its day cell minus the
 * few hours it lacks rather than the many it holds.
 *
 * Why any such split is exact: write R(x) for everything before x, so the
 * range is R(to) - R(from). Round x to a boundary of each grain, finest
 * first (p0 an hour boundary, p1 a day boundary, ...; each to the floor or
 * the ceiling of x); then R(x) = R(pTop) + (R(p_{k-1}) - R(p_k)) summed over
 * the levels, where each difference is the signed span between two
 * boundaries of the finer grain: whole cells of it, or raw records between
 * x and p0. The top grain's span is [pTop(from), pTop(to)). Each cell lies
 * inside one bucket (hours and days nest in every bucket, weeks in weeks;
 * days of a month chain are grouped into weeks only inside one month), so
 * the sums per bucket are exact too. The rounding and the top grain are
 * chosen to read the fewest cells and raw records.
 */
export function planRange(from: number, to: number, chain: readonly Grain[]): RangePlan {
  const finest = chain[0] as Grain;
  // No whole cell of the finest grain inside: raw records (an empty range
  // keeps its span so the statement still refers to its parameters).
  if (!(ceilTo(finest, from) < floorTo(finest, to))) {
    return { raw: [{ span: [from, to], sign: 1 }], cells: [], covered: null };
  }
  const weeks = chain.includes('m') && !chain.includes('w');
  let best: { plan: RangePlan; cost: number } | undefined;
  for (let top = 0; top < chain.length; top++) {
    const levels = chain.slice(0, top + 1);
    // Each edge's pieces below the top grain depend on that edge alone.
    const lower = [0, 1].map((up) => bestEdge(from, -1, levels, up, weeks));
    const upper = [0, 1].map((up) => bestEdge(to, 1, levels, up, weeks));
    for (const f of lower) {
      for (const t of upper) {
        const span = diff(1, t.top, f.top);
        const cells = span ? pieces([{ grain: levels[top] as Grain, ...span }], weeks) : [];
        const plan: RangePlan = {
          raw: [...f.raw, ...t.raw],
          cells: [...f.cells, ...t.cells, ...cells],
          covered: [f.p0, t.p0],
        };
        const cost = f.cost + t.cost + planCost({ raw: [], cells, covered: null });
        if (!best || cost < best.cost) best = { plan, cost };
      }
    }
  }
  return (best as { plan: RangePlan }).plan;
}

/**
 * Takes the buckets that are one whole cell of `grain` and nothing else out
 * of `plan`: the span of `grain` cells added (the top of a chain whose top
 * grain is the bucket), less the buckets any other piece touches (the
 * edges). Those cells are read as they are, each one bucket with its own
 * sums and p95 statistics; the rest of the span stays in the plan, so its
 * pieces still add up to the range. `whole` is null when there is none.
 */
export function wholeBuckets(plan: RangePlan, grain: Grain): { plan: RangePlan; whole: Span | null } {
  const tops = plan.cells.filter((c) => c.grain === grain && c.sign === 1);
  const top = tops[0];
  if (!top || tops.length > 1) return { plan, whole: null };
  let [lo, hi] = top.span;
  const others = [...plan.raw, ...plan.cells.filter((c) => c !== top)];
  for (const o of others) {
    // The buckets the piece touches, trimmed off the nearer end of the span
    // (edge pieces lie between an edge and its top boundary).
    const a = floorTo(grain, o.span[0]);
    const b = ceilTo(grain, o.span[1]);
    if (b <= lo || a >= hi || o.span[0] === o.span[1]) continue;
    if (a - lo <= hi - b) lo = Math.max(lo, b);
    else hi = Math.min(hi, a);
  }
  if (!(lo < hi)) return { plan, whole: null };
  const rest: CellSpan[] = [];
  if (top.span[0] < lo) rest.push({ ...top, span: [top.span[0], lo] });
  if (hi < top.span[1]) rest.push({ ...top, span: [hi, top.span[1]] });
  return {
    plan: { ...plan, cells: plan.cells.flatMap((c) => (c === top ? rest : [c])) },
    whole: [lo, hi],
  };
}

/** An edge's pieces between the edge and its top-grain boundary. */
interface Edge {
  readonly raw: readonly RawSpan[];
  readonly cells: readonly CellSpan[];
  /** The top-grain boundary the edge was rounded to. */
  readonly top: number;
  /** The finest-grain boundary the edge was rounded to (where cells start or end). */
  readonly p0: number;
  readonly cost: number;
}

/**
 * The cheapest pieces for edge `x` (`side` -1 for `from`, 1 for `to`)
 * rounded to the top grain of `levels` down (`topUp` 0) or up (1), trying
 * every rounding of the finer levels: R(x) - R(pTop), times `side`.
 */
function bestEdge(x: number, side: Sign, levels: readonly Grain[], topUp: number, weeks: boolean): Edge {
  const top = levels.length - 1;
  let best: Edge | undefined;
  for (let up = 0; up < 1 << top; up++) {
    const p = levels.map((g, k) =>
      ((k === top ? topUp : up >> k) & 1) === 1 ? ceilTo(g, x) : floorTo(g, x),
    );
    const raw: RawSpan[] = [];
    const r = diff(side, x, p[0] as number);
    if (r) raw.push(r);
    const cells: CellSpan[] = [];
    for (let k = 1; k <= top; k++) {
      const c = diff(side, p[k - 1] as number, p[k] as number);
      if (c) cells.push({ grain: levels[k - 1] as Grain, ...c });
    }
    const edge = { raw, cells: pieces(cells, weeks), top: p[top] as number, p0: p[0] as number };
    const cost = planCost({ ...edge, covered: null });
    if (!best || cost < best.cost) best = { ...edge, cost };
  }
  return best as Edge;
}

/** R(a) - R(b) times `side` (R(x): everything before x), as a signed span; null when a = b. */
function diff(side: Sign, a: number, b: number): { span: Span; sign: Sign } | null {
  if (a === b) return null;
  return a > b ? { span: [b, a], sign: side } : { span: [a, b], sign: -side as Sign };
}

/** The cells as read: days of a month chain grouped into weeks inside one month. */
function pieces(cells: readonly CellSpan[], weeks: boolean): readonly CellSpan[] {
  return weeks ? cells.flatMap(weeksInMonths) : cells;
}

/** Cells read plus raw hours weighted by {@link RAW_PER_HOUR}. */
function planCost(plan: RangePlan): number {
  let cost = 0;
  for (const r of plan.raw) cost += ((r.span[1] - r.span[0]) / HOUR) * RAW_PER_HOUR;
  for (const c of plan.cells) {
    if (c.grain === 'm') {
      for (let m = c.span[0]; m < c.span[1]; m = ceilTo('m', m + 1)) cost += 1;
    } else cost += (c.span[1] - c.span[0]) / width(c.grain);
  }
  return cost;
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
  const sign = c.sign;
  for (let a = c.span[0]; a < c.span[1];) {
    const b = Math.min(ceilTo('m', a + 1), c.span[1]);
    const wa = ceilTo('w', a);
    const wb = floorTo('w', b);
    if (wa < wb) {
      if (a < wa) out.push({ grain: 'd', span: [a, wa], sign });
      out.push({ grain: 'w', span: [wa, wb], sign });
      if (wb < b) out.push({ grain: 'd', span: [wb, b], sign });
    } else {
      out.push({ grain: 'd', span: [a, b], sign });
    }
    a = b;
  }
  return out;
}

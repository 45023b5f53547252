/**
 * The range plan of pre-aggregated rollups (postgres-preagg-plan.ts), with
 * no database: the signed cells and raw spans of a range count every instant
 * of it once and no other, are aligned to their grain, each lies in one
 * bucket, and an edge is subtracted from a whole cell when that reads less.
 * The statements built from plans have one text whatever the range (so
 * they are prepared and planned once); their answers are tested against
 * PostgreSQL in postgres-preagg-fold.test.ts and postgres-preagg-upgrade.test.ts.
 */
import { parseTenantId } from '../../src/hub/tenant';
import { Prng } from '../../src/seed/prng';
import { managerDashboardPreaggStatements } from '../../src/stores/postgres/postgres-preagg-dashboard';
import {
  type Grain,
  ceilTo,
  chainFor,
  floorTo,
  planRange,
  wholeBuckets,
} from '../../src/stores/postgres/postgres-preagg-plan';
import {
  costPerSkillPreaggStatement,
  skillsPreaggStatement,
} from '../../src/stores/postgres/postgres-preagg-sql';
import { costPerSkillWholeStatement, wholeCellRows } from '../../src/stores/postgres/postgres-preagg-whole';

describe('range plan', () => {
  /** Net sign of `pieces` over each elementary interval between their (and the range's) boundaries. */
  const net = (
    pieces: readonly { span: readonly [number, number]; sign: number }[],
    extra: readonly number[],
  ): { at: number; n: number }[] => {
    const points = [...new Set([...extra, ...pieces.flatMap((p) => [p.span[0], p.span[1]])])].sort(
      (x, y) => x - y,
    );
    return points.slice(0, -1).map((at) => ({
      at,
      n: pieces.reduce((sum, p) => sum + (p.span[0] <= at && at < p.span[1] ? p.sign : 0), 0),
    }));
  };

  test('signed cells and raw spans are aligned, lie in one bucket each and add up to every range exactly', () => {
    const rng = new Prng(42);
    const base = Date.UTC(2026, 0, 1);
    const straddling: { i: number; c: number; g: Grain }[] = [];
    const wrong: unknown[] = [];
    let subtracted = 0;
    let whole = 0;
    for (let i = 0; i < 5_000; i++) {
      // Minutes, quarter hours, whole hours and days, up to ~14 months apart.
      const unit = [60_000, 900_000, 3_600_000, 86_400_000][rng.int(0, 3)] as number;
      const a = base + rng.int(0, 600_000) * 60_000;
      const b = a + rng.int(0, (430 * 86_400_000) / unit) * unit;
      const bucket = (['DAY', 'WEEK', 'MONTH', undefined] as const)[rng.int(0, 3)];
      const chain = chainFor(bucket, rng.float() < 0.3);
      const plan = planRange(a, b, chain);
      const finest = chain[0] === 'h' ? 3_600_000 : 86_400_000;
      const pieces = [...plan.raw, ...plan.cells].filter((p) => p.span[0] < p.span[1]);
      if (pieces.some((p) => p.sign < 0)) subtracted++;
      // Every instant of [a, b) counted once, every other instant not at all.
      for (const { at, n } of net(pieces, [a, b])) {
        if (n !== (a <= at && at < b ? 1 : 0)) wrong.push({ i, a, b, chain, at, n });
      }
      // Unfolded feed rows are added over `covered`: exactly where the cells count.
      if (plan.cells.length > 0) {
        const [x, y] = plan.covered ?? [0, 0];
        for (const { at, n } of net(plan.cells, [x, y])) {
          if (n !== (x <= at && at < y ? 1 : 0)) wrong.push({ i, covered: plan.covered, at, n });
        }
      } else expect(plan.covered).toBeNull();
      for (const c of plan.cells) {
        const [x, y] = c.span;
        expect(floorTo(c.grain, x)).toBe(x);
        expect(ceilTo(c.grain, y)).toBe(y);
        // Every cell lies inside one bucket.
        const unit = bucket === 'DAY' ? 'd' : bucket === 'WEEK' ? 'w' : 'm';
        for (let at = x; at < y; at = ceilTo(c.grain, at + 1)) {
          if (floorTo(unit, at) !== floorTo(unit, ceilTo(c.grain, at + 1) - 1)) {
            straddling.push({ i, c: at, g: c.grain });
          }
        }
      }
      // Buckets read as one whole cell each: the rest of the plan plus those
      // cells still count every instant once, and no other piece touches them.
      if (bucket) {
        const unit = bucket === 'DAY' ? 'd' : bucket === 'WEEK' ? 'w' : 'm';
        const split = wholeBuckets(plan, unit);
        if (split.whole) {
          whole++;
          const [x, y] = split.whole;
          const all = [...split.plan.raw, ...split.plan.cells, { span: [x, y] as const, sign: 1 }];
          for (const { at, n } of net(all, [a, b])) {
            if (n !== (a <= at && at < b ? 1 : 0)) wrong.push({ i, whole: split.whole, at, n });
          }
          const touching = [...split.plan.raw, ...split.plan.cells].filter(
            (p) => p.span[0] < p.span[1] && floorTo(unit, p.span[0]) < y && ceilTo(unit, p.span[1]) > x,
          );
          expect(touching).toEqual([]);
          expect([floorTo(unit, x), ceilTo(unit, y)]).toEqual([x, y]);
        }
      }
      // Raw spans are shorter than a cell of the chain's finest grain (a
      // range holding no whole cell is one raw span, under two cells long).
      for (const r of plan.raw) {
        expect(r.span[1] - r.span[0]).toBeLessThan((plan.cells.length > 0 ? 1 : 2) * finest);
      }
    }
    expect(wrong).toEqual([]);
    expect(straddling).toEqual([]);
    expect(whole).toBeGreaterThan(1_000);
    // Offsets and partial days make subtraction the cheaper plan often.
    expect(subtracted).toBeGreaterThan(1_000);
  });

  test('a partial day is its day cell minus the hours it lacks when those are fewer', () => {
    const h = (iso: string): number => Date.parse(iso);
    // 30 days by day at -03:45: each edge day lacks under four hours.
    const plan = planRange(h('2026-03-01T03:45:00Z'), h('2026-03-31T03:45:00Z'), chainFor('DAY', false));
    const show = (p: { span: readonly [number, number]; sign: number }, g = 'raw'): string =>
      `${p.sign > 0 ? '+' : '-'}${g} ${new Date(p.span[0]).toISOString()} ${new Date(p.span[1]).toISOString()}`;
    expect([...plan.raw.map((r) => show(r)), ...plan.cells.map((c) => show(c, c.grain))].sort()).toEqual(
      [
        '+d 2026-03-01T00:00:00.000Z 2026-03-31T00:00:00.000Z',
        '+h 2026-03-31T00:00:00.000Z 2026-03-31T04:00:00.000Z',
        '+raw 2026-03-01T03:45:00.000Z 2026-03-01T04:00:00.000Z',
        '-h 2026-03-01T00:00:00.000Z 2026-03-01T04:00:00.000Z',
        '-raw 2026-03-31T03:45:00.000Z 2026-03-31T04:00:00.000Z',
      ].sort(),
    );
    expect(plan.covered).toEqual([h('2026-03-01T04:00:00Z'), h('2026-03-31T04:00:00Z')]);
    // A team's range (day cells only): the day minus two raw hours rather than 22 raw hours.
    const team = planRange(
      h('2026-03-01T00:00:00+02:00'),
      h('2026-03-11T00:00:00+02:00'),
      chainFor('DAY', true),
    );
    expect(team.raw.map((r) => show(r)).sort()).toEqual(
      [
        '+raw 2026-02-28T22:00:00.000Z 2026-03-01T00:00:00.000Z',
        '-raw 2026-03-10T22:00:00.000Z 2026-03-11T00:00:00.000Z',
      ].sort(),
    );
  });
});

describe('pre-aggregated statements', () => {
  const tenant = parseTenantId('plan-text');
  const day = 86_400_000;
  /** Ranges of every shape: whole days, UTC offsets, a few minutes, a year, empty. */
  const ranges = (rng: Prng): { from: string; to: string }[] =>
    Array.from({ length: 200 }, () => {
      const from =
        Date.UTC(2026, 0, 5) + rng.int(0, 365 * 24 * 4) * 900_000 + rng.int(0, 1) * rng.int(0, 899_999);
      const to = from + [0, rng.int(1, 3_600_000), rng.int(1, 40) * day, 365 * day][rng.int(0, 3)]!;
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    });

  // Prepared and planned once per connection (generic plans): a text that
  // followed the range would be parsed and planned at every call again.
  test('have one text per bucket and filter combination, whatever the range', () => {
    const rng = new Prng(15);
    const texts = new Map<string, Set<string>>();
    const seen = (
      key: string,
      s: { sql: string; params: readonly unknown[]; prepare?: boolean; generic?: boolean },
    ): void => {
      expect(s.prepare && s.generic).toBe(true);
      // Every placeholder the text names is given, and no more.
      const refs = [...s.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
      expect(Math.max(...refs)).toBe(s.params.length);
      const set = texts.get(key) ?? new Set<string>();
      set.add(s.sql);
      texts.set(key, set);
    };
    for (const r of ranges(rng)) {
      for (const bucket of ['DAY', 'WEEK', 'MONTH'] as const) {
        seen(bucket, costPerSkillPreaggStatement(tenant, { ...r, bucket }));
        seen(`${bucket} skills`, costPerSkillPreaggStatement(tenant, { ...r, bucket, skillIds: ['a', 'b'] }));
        // The whole-bucket statement, for the ranges it serves (aligned ones below).
        for (const skillIds of [undefined, ['a']]) {
          const aligned = {
            from: r.from.slice(0, 8) + '01T00:00:00.000Z',
            to: r.to.slice(0, 8) + '01T00:00:00.000Z',
          };
          const w = costPerSkillWholeStatement(tenant, {
            ...aligned,
            bucket,
            ...(skillIds ? { skillIds } : {}),
          });
          if (w) seen(`${bucket} whole${skillIds ? ' skills' : ''}`, w);
        }
        seen(
          `${bucket} team`,
          costPerSkillPreaggStatement(tenant, { ...r, bucket, team: { managerId: 'm', asOf: r.to } }),
        );
      }
      seen('skills', skillsPreaggStatement(tenant, { ...r, limit: 10 }));
      managerDashboardPreaggStatements(tenant, { managerId: 'm', ...r }).forEach((s, i) =>
        seen(`dashboard ${i}`, s),
      );
    }
    expect([...texts.values()].map((t) => t.size)).toEqual([...texts.keys()].map(() => 1));
    // Buckets and filters do change the text.
    expect(new Set([...texts.values()].map((t) => [...t][0])).size).toBe(texts.size);
  });

  test('the whole-bucket statement serves ranges of whole buckets only, never a team', () => {
    const q = (from: string, to: string, bucket: 'DAY' | 'WEEK' | 'MONTH') =>
      costPerSkillWholeStatement(tenant, {
        from: `${from}T00:00:00.000Z`,
        to: `${to}T00:00:00.000Z`,
        bucket,
      });
    // 30 days by day; whole weeks (2026-01-05 is a Monday); whole months.
    expect(q('2026-03-02', '2026-04-01', 'DAY')).not.toBeNull();
    expect(q('2026-01-05', '2026-02-02', 'WEEK')).not.toBeNull();
    expect(q('2026-01-01', '2026-04-01', 'MONTH')).not.toBeNull();
    // A bucket cut at either edge, an offset, or a team: the general statement.
    expect(q('2026-01-06', '2026-02-02', 'WEEK')).toBeNull();
    expect(q('2026-01-01', '2026-03-15', 'MONTH')).toBeNull();
    expect(
      costPerSkillWholeStatement(tenant, {
        from: '2026-03-02T00:00:00+02:00',
        to: '2026-04-01T00:00:00+02:00',
        bucket: 'DAY',
      }),
    ).toBeNull();
    expect(
      costPerSkillWholeStatement(tenant, {
        from: '2026-03-02T00:00:00.000Z',
        to: '2026-04-01T00:00:00.000Z',
        bucket: 'DAY',
        team: { managerId: 'm', asOf: '2026-04-01T00:00:00.000Z' },
      }),
    ).toBeNull();
    // An empty range has no cell to read.
    expect(q('2026-03-02', '2026-03-02', 'DAY')).toBeNull();
  });

  test("the whole-bucket statement's packed rows read back as the general statement's rows", () => {
    const packed = (skill: string | null, v: string) => ({ skill_id: skill, v });
    expect(
      wholeCellRows([
        packed('a,b', '2026-03-02 00:00:00+00,12,1,1500000.000000,300,40,12,80,95'),
        packed('c', '2026-03-02 00:00:00+00,1,0,0.000000,0,0,1,7,'),
      ]),
    ).toEqual([
      {
        skill_id: 'a,b',
        bucket_start: '2026-03-02T00:00:00.000Z',
        invocations: '12',
        failed: '1',
        micros: '1500000.000000',
        input_tokens: '300',
        output_tokens: '40',
        lat_n: '12',
        lat_a: '80',
        lat_b: '95',
      },
      {
        skill_id: 'c',
        bucket_start: '2026-03-02T00:00:00.000Z',
        invocations: '1',
        failed: '0',
        micros: '0.000000',
        input_tokens: '0',
        output_tokens: '0',
        lat_n: '1',
        lat_a: '7',
        lat_b: null,
      },
    ]);
    // Something else counts in the range (the NULL row), or a cell has no p95 statistics.
    expect(wholeCellRows([packed(null, ',,,,,,,,')])).toBeNull();
    expect(wholeCellRows([packed('a', '2026-03-02 00:00:00+00,3,0,0.000000,0,0,,,')])).toBeNull();
    expect(wholeCellRows([])).toEqual([]);
  });
});

/**
 * `npm run bench:rollups`: dashboard rollups on PostgreSQL answered from the
 * pre-aggregated cells (plus raw edges and the unfolded feed) beside the raw
 * computation (postgres-rollups.ts's statements over the records) in the
 * same run, on one tenant of 1,000,000 and 10,000,000 outputs among others
 * (a year of activity; datasets built once, see rollups-data.ts):
 *
 * 1. Rollups: cost per skill (30 days by day, a year by week, a year by
 *    month), archetype progression over a year, the manager dashboard over 30
 *    days; p50/p95 at 1 and 32 connections over variants (ranges with UTC
 *    offsets, skill and archetype filters, managers). Every answer timed is
 *    compared with the raw answer of its variant.
 * 2. Ingest (rollups-ingest.ts): the store's bulk path (putBatch) with the
 *    change feed on, beside the same path with the feed's triggers off,
 *    interleaved on two fresh databases, wall and CPU time; the consumer's
 *    fold rate on what was written; then the consumer's lag while ingest runs
 *    at a paced rate (`--lag-rate`, 50,000 records/s, or the most the machine does).
 *
 *   npm run bench:rollups -- [--outputs 1000000,10000000] [--connections 1,32] [--samples 200]
 *     [--raw-samples 10] [--raw-connections 1,32] [--variants 8] [--ingest 200000] [--lag-rate 50000]
 *     [--only rollups|ingest] [--no-lag] [--no-checkpoint] [--build-only] [--no-backfill] [--rebuild]
 *
 * `--no-lag` skips the lag run (2.): the ingest rate and CPU per record alone.
 * `--no-checkpoint` runs the on/off comparison without the CHECKPOINT before
 * each side's round (see rollups-ingest.ts).
 *
 * Build the datasets first outside the bench lock (`nice npm run bench:rollups -- --build-only`).
 */
import { loadavg } from 'node:os';
import type { HubStore } from '../src/hub/store';
import type { TenantId } from '../src/hub/tenant';
import { skillIds } from '../src/seed/generator';
import { Prng } from '../src/seed/prng';
import { createPostgresStore } from '../src/stores/postgres/postgres-store';
import { PgDatabase } from '../src/stores/postgres/pg-database';
import {
  archetypeProgressionRows,
  archetypeProgressionStatement,
  costPerSkillRows,
  costPerSkillStatement,
  managerDashboardResult,
  managerDashboardStatements,
} from '../src/stores/postgres/postgres-rollups';
import { parsePostgresUri } from '../src/stores/postgres/postgres-uri';
import type { TenantDatabase } from '../src/stores/postgres/queryable';
import { type Figure, percentile, report } from './report';
import { BIG, DAYS, MANAGERS, SKILLS, START, benchDatabase } from './rollups-data';
import { benchIngest, benchLag } from './rollups-ingest';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? String(args[i + 1]) : dflt;
};
const list = (name: string, dflt: string): number[] => opt(name, dflt).split(',').map(Number);
const SIZES = list('outputs', '1000000');
const CONNECTIONS = list('connections', '1,32');
const SAMPLES = Number(opt('samples', '200'));
const RAW_SAMPLES = Number(opt('raw-samples', '10'));
/** Variants per rollup (each compared with its raw answer). */
const VARIANTS = Number(opt('variants', '8'));
/** Connection counts at which the raw computation is timed too (on 10 M outputs, 32 raw year rollups at once take half an hour of both cores). */
const RAW_CONNECTIONS = list('raw-connections', CONNECTIONS.join(','));
const INGEST = Number(opt('ingest', '200000'));
/** Records/s the lag run paces its ingest at. */
const LAG_RATE = Number(opt('lag-rate', '50000'));
const ONLY = opt('only', '');
const log = (line: string): void => console.error(`[rollups] ${line}`);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const DAY = 86_400_000;

/** One timed query: the store's answer and the raw computation's, for one variant. */
interface Rollup {
  readonly name: string;
  readonly variants: readonly unknown[];
  readonly store: (s: HubStore, v: unknown) => Promise<unknown>;
  readonly raw: (db: TenantDatabase, v: unknown) => Promise<unknown>;
}

/** UTC midnight of day `day` after START at a UTC offset of `offsetMin` minutes, as a canonical instant. */
function at(day: number, offsetMin: number): string {
  return new Date(Date.parse(START) + day * DAY - offsetMin * 60_000).toISOString();
}

function rollups(tenant: TenantId): Rollup[] {
  const rng = new Prng(7);
  const offsets = [0, 120, -225, 330];
  const skills = skillIds(SKILLS);
  const cost = (name: string, span: number, bucket: 'DAY' | 'WEEK' | 'MONTH'): Rollup => ({
    name,
    variants: Array.from({ length: VARIANTS }, (_, i) => {
      const end = span >= 365 ? DAYS - rng.int(0, 3) : rng.int(span + 1, DAYS);
      const off = offsets[i % offsets.length] as number;
      return {
        from: at(end - span, off),
        to: at(end, off),
        bucket,
        ...(i % 4 === 3 ? { skillIds: [skills[0], skills[3], skills[7]] as string[] } : {}),
      };
    }),
    store: (s, v) => s.costPerSkill(tenant, v as never),
    raw: async (db, v) =>
      costPerSkillRows((await db.run({ tenant }, [costPerSkillStatement(tenant, v as never)]))[0] ?? []),
  });
  return [
    cost('cost_30d_by_day', 30, 'DAY'),
    cost('cost_year_by_week', 365, 'WEEK'),
    cost('cost_year_by_month', 365, 'MONTH'),
    {
      name: 'archetype_year',
      variants: Array.from({ length: VARIANTS }, (_, i) => ({
        from: at(-rng.int(0, 3), offsets[i % 4] as number),
        to: at(DAYS - rng.int(0, 3), offsets[i % 4] as number),
        ...(i % 2 === 1 ? { archetype: ['analyst', 'engineer', 'designer', 'support'][i % 4] } : {}),
      })),
      store: (s, v) => s.archetypeProgression(tenant, v as never),
      raw: async (db, v) =>
        archetypeProgressionRows(
          (await db.run({ tenant }, [archetypeProgressionStatement(tenant, v as never)]))[0] ?? [],
        ),
    },
    {
      name: 'dashboard_30d',
      variants: Array.from({ length: VARIANTS }, (_, i) => {
        const end = rng.int(31, DAYS);
        return {
          managerId: `mgr-${String(rng.int(0, MANAGERS - 1)).padStart(3, '0')}`,
          from: at(end - 30, offsets[i % 4] as number),
          to: at(end, offsets[i % 4] as number),
        };
      }),
      store: (s, v) => s.managerDashboard(tenant, v as never),
      raw: async (db, v) =>
        managerDashboardResult(
          v as never,
          await db.run({ tenant }, managerDashboardStatements(tenant, v as never), { snapshot: true }),
        ),
    },
  ];
}

/** Runs `total` calls of `call(i)` on `c` workers; returns each call's milliseconds. */
async function timed(c: number, total: number, call: (i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        await call(i);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  return times;
}

async function benchRollups(outputs: number, figures: Figure[], lines: string[]): Promise<void> {
  const bench = await benchDatabase(outputs, {
    rebuild: args.includes('--rebuild'),
    backfill: !args.includes('--no-backfill'),
  });
  if (args.includes('--build-only')) return;
  // The expected answers are computed for all variants at once.
  const max = Math.max(...CONNECTIONS, VARIANTS);
  // One pool for both paths: the server's connection slots are shared with other work.
  const raw = new PgDatabase(parsePostgresUri(`${bench.appUri}?max=${max}&statement_timeout=0`), undefined);
  const store = createPostgresStore(raw, { rollupConsumer: false });
  try {
    for (const r of rollups(BIG)) {
      // Expected answers (and a warm-up of both paths).
      const expected = await Promise.all(r.variants.map(async (v) => JSON.stringify(await r.raw(raw, v))));
      for (const v of r.variants) await r.store(store, v);
      for (const c of CONNECTIONS) {
        log(`${r.name} outputs=${outputs} c=${c} (load ${load()})`);
        let equal = true;
        const pre = await timed(c, Math.max(SAMPLES, c), async (i) => {
          const k = i % r.variants.length;
          const got = JSON.stringify(await r.store(store, r.variants[k]));
          if (got !== expected[k]) {
            if (equal)
              log(
                `${r.name}: variant ${k} differs\n  pre: ${got.slice(0, 400)}\n  raw: ${String(expected[k]).slice(0, 400)}`,
              );
            equal = false;
          }
        });
        const rawTimed = RAW_CONNECTIONS.includes(c);
        const base = rawTimed
          ? await timed(c, Math.max(RAW_SAMPLES, c), async (i) => {
              await r.raw(raw, r.variants[i % r.variants.length]);
            })
          : [];
        const [p50, p95, b50, b95] = [
          percentile(pre, 50),
          percentile(pre, 95),
          percentile(base, 50),
          percentile(base, 95),
        ];
        const tag = `${r.name}_${outputs}_c${c}`;
        const baseline = (x: number): { baseline?: number } => (rawTimed ? { baseline: round(x) } : {});
        figures.push({ name: `rollup_${tag}_p50_ms`, value: round(p50), unit: 'ms', ...baseline(b50) });
        figures.push({ name: `rollup_${tag}_p95_ms`, value: round(p95), unit: 'ms', ...baseline(b95) });
        const rawMs = (x: number): string => (rawTimed ? String(round(x)) : 'not_timed');
        const line = `ROLLUP query=${r.name} outputs=${outputs} c=${c} p50_ms=${round(p50)} p95_ms=${round(p95)} raw_p50_ms=${rawMs(b50)} raw_p95_ms=${rawMs(b95)} equal=${equal} load=${load()}`;
        // Printed as measured too: a run stopped later keeps what it measured.
        log(line);
        lines.push(line);
      }
    }
  } finally {
    await store.close();
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const figures: Figure[] = [];
  const lines: string[] = [];
  log(`load average at start: ${load()}`);
  if (ONLY !== 'ingest') for (const n of SIZES) await benchRollups(n, figures, lines);
  if (ONLY !== 'rollups' && !args.includes('--build-only')) {
    const o = {
      records: INGEST,
      batch: 20_000,
      skills: SKILLS,
      lagRate: LAG_RATE,
      checkpoint: !args.includes('--no-checkpoint'),
      log,
    };
    figures.push(...(await benchIngest(o)));
    if (!args.includes('--no-lag')) figures.push(...(await benchLag(o)));
  }
  if (figures.length === 0) return;
  report(`bench:rollups (load average ${load()})`, figures);
  for (const l of lines) console.log(l);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

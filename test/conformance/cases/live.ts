/**
 * Live rollups: answers equal the raw computation (the reference memory
 * store) at every instant while records keep arriving in shuffled order
 * (decisions before their outputs, old created_at after new) and while the
 * store's background maintenance (pre-aggregation, where a store has it)
 * runs concurrently with the reads, over random ranges, buckets, UTC offsets
 * and skill filters drawn from a seeded PRNG.
 */
import { Hub } from '../../../src/hub/hub';
import type { RecordType } from '../../../src/hub/model';
import { hasMaintenance } from '../../../src/hub/store';
import { MS_PER_DAY } from '../../../src/hub/time';
import { generateDataset, skillIds } from '../../../src/seed/generator';
import { Prng } from '../../../src/seed/prng';
import type { RecordInput } from '../../../src/hub/validate';
import { createMemoryStore } from '../../../src/stores/memory/memory-store';
import type { SuiteContext } from '../suite';

/** Offsets a dashboard user's local midnight may have (whole, half and quarter hours). */
const OFFSETS = ['Z', '+02:00', '+05:30', '-03:45', '+09:00', '-08:00'] as const;
const BUCKETS = ['DAY', 'WEEK', 'MONTH'] as const;
const START = Date.UTC(2026, 0, 5);
const DAYS = 45;

/** `YYYY-MM-DDT00:00:00<offset>`: local midnight `day` days after START. */
function localMidnight(day: number, offset: (typeof OFFSETS)[number]): string {
  const date = new Date(START + day * MS_PER_DAY).toISOString().slice(0, 10);
  return `${date}T00:00:00${offset === 'Z' ? 'Z' : offset}`;
}

/** An instant to the minute, `day` days after START, as text with `offset`'s wall time. */
function anyInstant(rng: Prng): string {
  const ms = START - 3 * MS_PER_DAY + rng.int(0, (DAYS + 6) * 24 * 60) * 60_000;
  return new Date(ms).toISOString();
}

function shuffle<T>(rng: Prng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export function liveCases(ctx: SuiteContext): void {
  ctx.test(
    'live: rollups equal the raw computation while shuffled records arrive and maintenance runs',
    async () => {
      const rng = new Prng(20261202);
      const t = ctx.tenant();
      const data = generateDataset({ seed: 15, days: DAYS, outputsPerDay: 30, managers: 3, teamSize: 5 });
      const reference = new Hub(createMemoryStore());
      const store = ctx.store();
      // Profiles first (teams exist from the start); everything else shuffled.
      const rest: { type: RecordType; input: RecordInput }[] = [];
      for (const type of ['outputs', 'decisions', 'governance_events'] as const) {
        for (const input of data[type]) rest.push({ type, input });
      }
      shuffle(rng, rest);
      const write = async (hub: Hub, batch: readonly { type: RecordType; input: RecordInput }[]) => {
        for (const type of ['decisions', 'governance_events', 'outputs'] as const) {
          const inputs = batch.filter((r) => r.type === type).map((r) => r.input);
          if (inputs.length > 0) await hub.record(t, type, inputs);
        }
      };
      await ctx.hub().record(t, 'employee_profiles', data.employee_profiles);
      await reference.record(t, 'employee_profiles', data.employee_profiles);

      const skills = skillIds(12);
      const rounds = 6;
      const per = Math.ceil(rest.length / rounds);
      let compared = 0;
      for (let round = 0; round < rounds; round++) {
        const batch = rest.slice(round * per, (round + 1) * per);
        await write(ctx.hub(), batch);
        await write(reference, batch);
        await ctx.settle();
        // Maintenance in small random steps, concurrently with the reads.
        let done = false;
        const maintenance = (async () => {
          if (!hasMaintenance(store)) return;
          while (!done) {
            if ((await store.maintain(rng.int(1, 200))) === 0) break;
          }
        })();
        try {
          for (let k = 0; k < 8; k++) {
            const offset = rng.pick(OFFSETS);
            const startDay = rng.int(-2, DAYS - 5);
            const range =
              k % 4 === 3
                ? (() => {
                    const [a, b] = [anyInstant(rng), anyInstant(rng)].sort();
                    return { from: a as string, to: b as string };
                  })()
                : {
                    from: localMidnight(startDay, offset),
                    to: localMidnight(startDay + rng.int(1, 40), offset),
                  };
            const q: Parameters<Hub['costPerSkill']>[1] = {
              ...range,
              bucket: rng.pick(BUCKETS),
              ...(rng.float() < 0.4
                ? { skillIds: skills.filter(() => rng.float() < 0.3).concat([rng.pick(skills)]) }
                : {}),
              ...(rng.float() < 0.3 ? { team: { managerId: `mgr-00${rng.int(0, 2)}`, asOf: range.to } } : {}),
            };
            const where = JSON.stringify({ round, q });
            expect({ where, rows: await ctx.hub().costPerSkill(t, q) }).toEqual({
              where,
              rows: await reference.costPerSkill(t, q),
            });
            const managerId = `mgr-00${rng.int(0, 2)}`;
            expect({ where, d: await ctx.hub().managerDashboard(t, { managerId, ...range }) }).toEqual({
              where,
              d: await reference.managerDashboard(t, { managerId, ...range }),
            });
            const team = rng.float() < 0.5 ? { team: { managerId, asOf: range.to } } : {};
            expect({ where, s: await ctx.hub().skills(t, { ...range, ...team }) }).toEqual({
              where,
              s: await reference.skills(t, { ...range, ...team }),
            });
            compared++;
          }
        } finally {
          done = true;
          await maintenance;
        }
      }
      expect(compared).toBe(rounds * 8);
      if (hasMaintenance(store)) {
        // Everything folded: the answers come from cells alone and still agree.
        while ((await store.maintain(10_000)) > 0) {
          /* drain */
        }
        const q = { from: localMidnight(-3, '+05:30'), to: localMidnight(DAYS + 1, '+05:30') };
        for (const bucket of BUCKETS) {
          expect(await ctx.hub().costPerSkill(t, { ...q, bucket })).toEqual(
            await reference.costPerSkill(t, { ...q, bucket }),
          );
        }
      }
    },
    600_000,
  );
}

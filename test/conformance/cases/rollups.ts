/**
 * Rollups: hand-checked figures on a small dataset, edge cases, and equality
 * with the reference (memory) implementation on generated data.
 */
import { Hub } from '../../../src/hub/hub';
import type { RecordType } from '../../../src/hub/model';
import type { TenantId } from '../../../src/hub/tenant';
import { generateDataset } from '../../../src/seed/generator';
import { createMemoryStore } from '../../../src/stores/memory/memory-store';
import { EXPECT_DAY, EXPECT_MONTH, EXPECT_ROUNDING, EXPECT_WEEK } from '../rollup-expected-cost';
import { EXPECT_DASHBOARD_M1, EXPECT_TOP_SKILLS_M3 } from '../rollup-expected-dashboard';
import { EXPECT_PROGRESSION, EXPECT_PROGRESSION_ANALYST_LATE } from '../rollup-expected-progression';
import { rollupFixture } from '../rollup-fixture';
import type { SuiteContext } from '../suite';

async function load(
  hub: Hub,
  tenant: TenantId,
  data: Partial<Record<RecordType, readonly unknown[]>>,
): Promise<void> {
  for (const [type, inputs] of Object.entries(data)) {
    const results = await hub.record(tenant, type as RecordType, inputs ?? []);
    expect(results.every((r) => r.status === 'created')).toBe(true);
  }
}

export function rollupCases(ctx: SuiteContext): void {
  describe('rollups', () => {
    let tenant: TenantId;
    let loaded: Promise<void> | undefined;
    // The fixture is loaded once for the hand-checked cases; a second tenant
    // holds a copy plus noise that must never leak into the first.
    const fixture = (): Promise<void> =>
      (loaded ??= (async () => {
        tenant = ctx.tenant();
        const noisy = ctx.tenant();
        await load(ctx.hub(), tenant, rollupFixture());
        await load(ctx.hub(), noisy, rollupFixture());
        await load(ctx.hub(), noisy, {
          outputs: [
            {
              created_at: '2026-03-02T05:00:00Z',
              skill_id: 'A',
              employee_id: 'e1',
              status: 'FAILED',
              cost_usd: '100',
              latency_ms: 1,
            },
          ],
        });
        await ctx.settle();
      })());

    ctx.test('cost per skill by WEEK (weeks start on Monday; `to` is exclusive)', async () => {
      await fixture();
      const rows = await ctx
        .hub()
        .costPerSkill(tenant, { from: '2026-03-02T00:00:00Z', to: '2026-03-09T00:00:00Z', bucket: 'WEEK' });
      expect(rows).toEqual(EXPECT_WEEK);
    });

    ctx.test('cost per skill by DAY (bucket boundaries at UTC midnight, null latencies)', async () => {
      await fixture();
      const rows = await ctx
        .hub()
        .costPerSkill(tenant, { from: '2026-03-01T00:00:00Z', to: '2026-03-10T00:00:00Z', bucket: 'DAY' });
      expect(rows).toEqual(EXPECT_DAY);
    });

    ctx.test('cost per skill by MONTH, and filtered by skill', async () => {
      await fixture();
      const range = { from: '2026-01-01T00:00:00Z', to: '2026-05-01T00:00:00Z', bucket: 'MONTH' as const };
      expect(await ctx.hub().costPerSkill(tenant, range)).toEqual(EXPECT_MONTH);
      expect(await ctx.hub().costPerSkill(tenant, { ...range, skillIds: ['B'] })).toEqual(
        EXPECT_MONTH.filter((r) => r.skill_id === 'B'),
      );
    });

    ctx.test('cost per skill rounds half away from zero, exactly', async () => {
      await fixture();
      const rows = await ctx.hub().costPerSkill(tenant, {
        from: '2026-05-01T00:00:00Z',
        to: '2026-05-02T00:00:00Z',
        bucket: 'DAY',
        skillIds: ['C'],
      });
      expect(rows).toEqual(EXPECT_ROUNDING);
    });

    ctx.test('empty ranges give empty rollups', async () => {
      await fixture();
      const empty = { from: '2027-01-01T00:00:00Z', to: '2027-02-01T00:00:00Z' };
      expect(await ctx.hub().costPerSkill(tenant, { ...empty, bucket: 'DAY' })).toEqual([]);
      expect(
        await ctx
          .hub()
          .costPerSkill(tenant, { from: '2026-03-02T00:00:00Z', to: '2026-03-02T00:00:00Z', bucket: 'DAY' }),
      ).toEqual([]);
      expect(await ctx.hub().archetypeProgression(tenant, empty)).toEqual([]);
      const dash = await ctx.hub().managerDashboard(tenant, { managerId: 'nobody', ...empty });
      expect(dash).toEqual({
        manager_id: 'nobody',
        invocations: 0,
        failed: 0,
        total_cost_usd: '0',
        decisions: { accepted: 0, total: 0, acceptance_rate: null, escalations: 0 },
        governance_by_severity: { INFO: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
        top_skills: [],
        members: [],
      });
    });

    ctx.test('archetype progression: transitions, distinct employees, continuous median days', async () => {
      await fixture();
      expect(
        await ctx
          .hub()
          .archetypeProgression(tenant, { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' }),
      ).toEqual(EXPECT_PROGRESSION);
      expect(
        await ctx.hub().archetypeProgression(tenant, {
          from: '2026-03-10T00:00:00Z',
          to: '2026-04-01T00:00:00Z',
          archetype: 'analyst',
        }),
      ).toEqual(EXPECT_PROGRESSION_ANALYST_LATE);
      expect(
        await ctx.hub().archetypeProgression(tenant, {
          from: '2026-03-01T00:00:00Z',
          to: '2026-04-01T00:00:00Z',
          archetype: 'engineer',
        }),
      ).toEqual(EXPECT_PROGRESSION.filter((r) => r.archetype === 'engineer'));
    });

    ctx.test('manager dashboard: team as of `to`, decisions, governance, top skills, members', async () => {
      await fixture();
      expect(
        await ctx.hub().managerDashboard(tenant, {
          managerId: 'm1',
          from: '2026-03-01T00:00:00Z',
          to: '2026-04-01T00:00:00Z',
        }),
      ).toEqual(EXPECT_DASHBOARD_M1);
      // On 15 April e1 moved to m2: as of the 16th the team is e2, e3, e5.
      const later = await ctx.hub().managerDashboard(tenant, {
        managerId: 'm1',
        from: '2026-03-01T00:00:00Z',
        to: '2026-04-16T00:00:00Z',
      });
      expect(later.members.map((m) => m.employee_id)).toEqual(['e2', 'e3', 'e5']);
      const m3 = await ctx.hub().managerDashboard(tenant, {
        managerId: 'm3',
        from: '2026-06-01T00:00:00Z',
        to: '2026-07-01T00:00:00Z',
      });
      expect(m3.top_skills).toEqual(EXPECT_TOP_SKILLS_M3);
      expect(m3.invocations).toBe(9);
    });

    ctx.test(
      'on generated data every rollup equals the reference implementation, number for number',
      async () => {
        const t = ctx.tenant();
        const data = generateDataset({ seed: 7, days: 40, outputsPerDay: 25, managers: 3, teamSize: 5 });
        const reference = new Hub(createMemoryStore());
        await load(ctx.hub(), t, data);
        await load(reference, t, data);
        await ctx.settle();
        const ranges = [
          { from: '2026-01-05T00:00:00Z', to: '2026-02-14T00:00:00Z' },
          { from: '2026-01-19T06:00:00Z', to: '2026-01-27T18:00:00Z' },
        ];
        for (const range of ranges) {
          for (const bucket of ['DAY', 'WEEK', 'MONTH'] as const) {
            expect(await ctx.hub().costPerSkill(t, { ...range, bucket })).toEqual(
              await reference.costPerSkill(t, { ...range, bucket }),
            );
          }
          expect(
            await ctx.hub().archetypeProgression(t, { from: '2025-01-01T00:00:00Z', to: range.to }),
          ).toEqual(await reference.archetypeProgression(t, { from: '2025-01-01T00:00:00Z', to: range.to }));
          for (const managerId of ['mgr-000', 'mgr-001', 'mgr-002']) {
            expect(await ctx.hub().managerDashboard(t, { managerId, ...range })).toEqual(
              await reference.managerDashboard(t, { managerId, ...range }),
            );
            // The dashboard's team-scoped queries.
            const team = { managerId };
            expect(await ctx.hub().costPerSkill(t, { ...range, bucket: 'WEEK', team })).toEqual(
              await reference.costPerSkill(t, { ...range, bucket: 'WEEK', team }),
            );
            const wide = { from: '2025-01-01T00:00:00Z', to: range.to, team };
            expect(await ctx.hub().archetypeProgression(t, wide)).toEqual(
              await reference.archetypeProgression(t, wide),
            );
            expect(await ctx.hub().skills(t, { ...range, team })).toEqual(
              await reference.skills(t, { ...range, team }),
            );
            const page = { ...range, team };
            expect((await ctx.hub().list(t, 'decisions', page, { first: 100 })).records).toEqual(
              (await reference.list(t, 'decisions', page, { first: 100 })).records,
            );
          }
          expect(await ctx.hub().managers(t, { asOf: range.to })).toEqual(
            await reference.managers(t, { asOf: range.to }),
          );
          expect(await ctx.hub().skills(t, range)).toEqual(await reference.skills(t, range));
        }
      },
      300_000,
    );
  });
}

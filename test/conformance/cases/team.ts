/**
 * Dashboard queries: team-scoped lists (outputs, decisions, governance
 * events), decisions by employee, profiles by manager, team-scoped rollups
 * and the managers / skills pickers, on the hand-worked fixture
 * (rollup-fixture.ts; expected figures in team-fixture.ts), plus cursor
 * binding and tenant isolation of the new paths.
 */
import { isHubError } from '../../../src/hub/errors';
import type { Hub } from '../../../src/hub/hub';
import type { HubRecord, RecordType } from '../../../src/hub/model';
import type { TenantId } from '../../../src/hub/tenant';
import type { ListFilterInput } from '../../../src/hub/filters';
import { rollupFixture } from '../rollup-fixture';
import {
  EXPECT_COST_M1_MAY,
  EXPECT_COST_M2_APRIL_TEAM,
  EXPECT_COST_M2_MAY,
  EXPECT_MANAGERS_APR1,
  EXPECT_MANAGERS_APR16,
  EXPECT_MANAGERS_JAN2,
  EXPECT_PROGRESSION_M1,
  EXPECT_PROGRESSION_M2,
  EXPECT_SKILLS_MARCH,
  EXPECT_SKILLS_M2_TO_MAY2,
} from '../team-fixture';
import type { SuiteContext } from '../suite';

/** Every record of a list (pages of 3, so paging with the new filters is exercised). */
async function listAll(hub: Hub, tenant: TenantId, type: RecordType, filter: ListFilterInput) {
  const out: HubRecord[] = [];
  let after: string | null = null;
  for (let i = 0; i < 50; i++) {
    const page = await hub.list(tenant, type, filter, { first: 3, after });
    out.push(...page.records);
    if (!page.hasNextPage) return out;
    after = page.endCursor;
  }
  throw new Error('list did not end');
}

export function teamCases(ctx: SuiteContext): void {
  describe('dashboard queries (team scope, pickers)', () => {
    let tenant: TenantId;
    let noisy: TenantId;
    /** Fixture key (o1, ...) of each output id, to state expectations by name. */
    const names = new Map<string, string>();
    let loaded: Promise<void> | undefined;
    const fixture = (): Promise<void> =>
      (loaded ??= (async () => {
        tenant = ctx.tenant();
        noisy = ctx.tenant();
        for (const t of [tenant, noisy]) {
          const data = rollupFixture();
          for (const [type, inputs] of Object.entries(data)) {
            const results = await ctx.hub().record(t, type as RecordType, inputs ?? []);
            expect(results.every((r) => r.status === 'created')).toBe(true);
          }
          if (t === tenant) {
            // rollupFixture keys outputs by position: o1..o12, then the June s* outputs.
            const keys = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9', 'o10', 'o11', 'o12'];
            (data.outputs ?? []).forEach((o, i) => names.set(String(o.record_id), keys[i] ?? `s${i}`));
          }
        }
        // Noise in the other tenant only: more outputs of m1's team and a new report of m1.
        await ctx.hub().record(noisy, 'outputs', [
          {
            created_at: '2026-03-10T00:00:00Z',
            skill_id: 'Z',
            employee_id: 'e1',
            status: 'FAILED',
            cost_usd: '9',
          },
        ]);
        await ctx.hub().record(noisy, 'employee_profiles', [
          {
            employee_id: 'x1',
            display_name: 'Noise',
            archetype: 'analyst',
            level: 'L1',
            manager_id: 'm1',
            effective_at: '2026-01-01T00:00:00Z',
          },
        ]);
        await ctx.settle();
      })());
    const outputNames = (records: readonly HubRecord[]): string[] =>
      records.map((r) => names.get(r.record_id) ?? '?');
    const decisionOutputs = (records: readonly HubRecord[]): string[] =>
      records.map((r) => names.get((r as { output_id: string }).output_id) ?? '?');
    const m1April = { managerId: 'm1', asOf: '2026-04-01T00:00:00Z' };

    ctx.test('outputs of a team as of an instant, newest first, paged', async () => {
      await fixture();
      const march = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
      // Team m1 as of Apr 1: e1, e2, e3, e5 (every March output is theirs).
      expect(outputNames(await listAll(ctx.hub(), tenant, 'outputs', { ...march, team: m1April }))).toEqual([
        'o12', 'o11', 'o7', 'o6', 'o5', 'o4', 'o3', 'o2', 'o1',
      ]); // prettier-ignore
      // As of Apr 16 e1 reports to m2: m1's team is e2, e3, e5; no range: all their outputs.
      expect(
        outputNames(
          await listAll(ctx.hub(), tenant, 'outputs', {
            team: { managerId: 'm1', asOf: '2026-04-16T00:00:00Z' },
          }),
        ),
      ).toEqual(['o12', 'o11', 'o7', 'o5', 'o4', 'o3']);
      // asOf defaults to `to`: as of Mar 5 the team is e1, e2, e3, e5; outputs before Mar 5.
      expect(
        outputNames(
          await listAll(ctx.hub(), tenant, 'outputs', {
            to: '2026-03-05T00:00:00Z',
            team: { managerId: 'm1' },
          }),
        ),
      ).toEqual(['o5', 'o4', 'o3', 'o2', 'o1']);
      // m2 as of May 2 (e1, e4, e7, e8) with other filters: e1's B outputs and e4's.
      expect(
        outputNames(
          await listAll(ctx.hub(), tenant, 'outputs', {
            team: { managerId: 'm2', asOf: '2026-05-02T00:00:00Z' },
            skillIds: ['B', 'C'],
          }),
        ),
      ).toEqual(['o10', 'o9', 'o8', 'o6']);
      // A manager with no team, and a team with no outputs in range.
      expect(
        (
          await ctx
            .hub()
            .list(tenant, 'outputs', { team: { managerId: 'nobody', asOf: '2026-04-01T00:00:00Z' } })
        ).records,
      ).toEqual([]);
      expect(
        (await ctx.hub().list(tenant, 'outputs', { ...march, team: { managerId: 'm3' } })).records,
      ).toEqual([]);
    });

    ctx.test('a team without an instant is refused, naming the field', async () => {
      await fixture();
      const err = await ctx
        .hub()
        .list(tenant, 'outputs', { team: { managerId: 'm1' } })
        .catch((e: unknown) => e);
      expect(isHubError(err, 'VALIDATION')).toBe(true);
      expect((err as Error).message).toContain('filter.team.asOf');
      const bad = await ctx
        .hub()
        .list(tenant, 'artifacts', { team: m1April } as ListFilterInput)
        .catch((e: unknown) => e);
      expect(isHubError(bad, 'VALIDATION')).toBe(true);
      expect((bad as Error).message).toContain('filter.team');
    });

    ctx.test('decisions of a team and of one employee (through the output decided on)', async () => {
      await fixture();
      const march = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
      // The dashboard's 6 decisions: not the one before the range, on e4's o9, or on a missing output.
      expect(decisionOutputs(await listAll(ctx.hub(), tenant, 'decisions', { ...march, team: m1April }))).toEqual([
        'o7', 'o6', 'o5', 'o3', 'o2', 'o1',
      ]); // prettier-ignore
      // e1's outputs are o1, o2, o6: four decisions, one of them in February.
      expect(decisionOutputs(await listAll(ctx.hub(), tenant, 'decisions', { employeeId: 'e1' }))).toEqual([
        'o6',
        'o2',
        'o1',
        'o1',
      ]);
      const accepted = await listAll(ctx.hub(), tenant, 'decisions', {
        employeeId: 'e1',
        outcome: 'ACCEPTED',
      });
      expect(accepted.map((d) => d.created_at)).toEqual([
        '2026-03-02T01:00:00.000Z',
        '2026-02-28T23:59:59.999Z',
      ]);
      // Employee and team together: e4 is not in m1's team.
      expect(
        (await ctx.hub().list(tenant, 'decisions', { employeeId: 'e4', team: m1April })).records,
      ).toEqual([]);
      expect(decisionOutputs(await listAll(ctx.hub(), tenant, 'decisions', { employeeId: 'e4' }))).toEqual([
        'o9',
      ]);
    });

    ctx.test('governance events of a team', async () => {
      await fixture();
      const march = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
      const events = await listAll(ctx.hub(), tenant, 'governance_events', { ...march, team: m1April });
      expect(
        events.map((g) => `${g.created_at.slice(5, 10)} ${(g as { severity: string }).severity}`),
      ).toEqual(['03-07 INFO', '03-04 HIGH', '03-03 LOW', '03-02 HIGH']);
      const high = await listAll(ctx.hub(), tenant, 'governance_events', {
        ...march,
        team: m1April,
        severity: 'HIGH',
      });
      expect(high.map((g) => (g as { employee_id: string }).employee_id)).toEqual(['e1', 'e1']);
    });

    ctx.test('profile versions naming a manager', async () => {
      await fixture();
      const versions = await listAll(ctx.hub(), tenant, 'employee_profiles', { managerId: 'm2' });
      const label = (r: HubRecord): string =>
        `${(r as { employee_id: string }).employee_id}@${r.created_at.slice(0, 10)}`;
      // e1 since Apr 15, e4 x3, e7 x2, e8 x4: newest first; e4 and e8 tie on Jan 1 (then record_id).
      expect(versions.slice(0, 8).map(label)).toEqual([
        'e1@2026-04-15', 'e4@2026-03-25', 'e7@2026-03-12', 'e4@2026-03-05',
        'e8@2026-03-04', 'e8@2026-03-03', 'e8@2026-03-02', 'e7@2026-02-01',
      ]); // prettier-ignore
      expect(versions.slice(8).map(label).sort()).toEqual(['e4@2026-01-01', 'e8@2026-01-01']);
      expect(versions.slice(8).map((r) => r.record_id)).toEqual(
        versions
          .slice(8)
          .map((r) => r.record_id)
          .sort()
          .reverse(),
      );
      const both = await listAll(ctx.hub(), tenant, 'employee_profiles', {
        managerId: 'm2',
        employeeId: 'e1',
      });
      expect(both.map(label)).toEqual(['e1@2026-04-15']);
    });

    ctx.test(
      'a cursor is bound to the team filter: refused under another team, instant or none',
      async () => {
        await fixture();
        const filter = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z', team: m1April };
        const page = await ctx.hub().list(tenant, 'outputs', filter, { first: 2 });
        expect(page.hasNextPage).toBe(true);
        const next = await ctx.hub().list(tenant, 'outputs', filter, { first: 2, after: page.endCursor });
        expect(outputNames(next.records)).toEqual(['o7', 'o6']);
        // The same filter spelled with asOf defaulted to `to` is the same normalised filter.
        const defaulted = { ...filter, team: { managerId: 'm1' } };
        expect(
          outputNames(
            (await ctx.hub().list(tenant, 'outputs', defaulted, { first: 2, after: page.endCursor })).records,
          ),
        ).toEqual(['o7', 'o6']);
        for (const other of [
          { ...filter, team: { managerId: 'm2', asOf: m1April.asOf } },
          { ...filter, team: { managerId: 'm1', asOf: '2026-04-16T00:00:00Z' } },
          { from: filter.from, to: filter.to },
        ]) {
          const err = await ctx
            .hub()
            .list(tenant, 'outputs', other, { first: 2, after: page.endCursor })
            .catch((e: unknown) => e);
          expect(isHubError(err, 'VALIDATION')).toBe(true);
        }
        const d = await ctx.hub().list(tenant, 'decisions', { employeeId: 'e1' }, { first: 1 });
        const err = await ctx
          .hub()
          .list(tenant, 'decisions', { employeeId: 'e2' }, { first: 1, after: d.endCursor })
          .catch((e: unknown) => e);
        expect(isHubError(err, 'VALIDATION')).toBe(true);
      },
    );

    ctx.test('cost per skill of a team: team as of `to`, or as of team.asOf', async () => {
      await fixture();
      const range = { from: '2026-03-01T00:00:00Z', to: '2026-05-02T00:00:00Z', bucket: 'MONTH' as const };
      expect(await ctx.hub().costPerSkill(tenant, { ...range, team: { managerId: 'm2' } })).toEqual(
        EXPECT_COST_M2_MAY,
      );
      expect(await ctx.hub().costPerSkill(tenant, { ...range, team: { managerId: 'm1' } })).toEqual(
        EXPECT_COST_M1_MAY,
      );
      expect(
        await ctx
          .hub()
          .costPerSkill(tenant, { ...range, team: { managerId: 'm2', asOf: '2026-04-01T00:00:00Z' } }),
      ).toEqual(EXPECT_COST_M2_APRIL_TEAM);
      expect(
        await ctx.hub().costPerSkill(tenant, { ...range, skillIds: ['B'], team: { managerId: 'm2' } }),
      ).toEqual(EXPECT_COST_M2_MAY.filter((r) => r.skill_id === 'B'));
    });

    ctx.test("archetype progression of a team (its members' whole histories)", async () => {
      await fixture();
      const march = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
      expect(await ctx.hub().archetypeProgression(tenant, { ...march, team: { managerId: 'm2' } })).toEqual(
        EXPECT_PROGRESSION_M2,
      );
      expect(await ctx.hub().archetypeProgression(tenant, { ...march, team: { managerId: 'm1' } })).toEqual(
        EXPECT_PROGRESSION_M1,
      );
      expect(
        await ctx
          .hub()
          .archetypeProgression(tenant, { ...march, archetype: 'engineer', team: { managerId: 'm1' } }),
      ).toEqual(EXPECT_PROGRESSION_M1.filter((r) => r.archetype === 'engineer'));
    });

    ctx.test('managers with team sizes, as of an instant, paged by id', async () => {
      await fixture();
      expect(await ctx.hub().managers(tenant, { asOf: '2026-04-01T00:00:00Z' })).toEqual(
        EXPECT_MANAGERS_APR1,
      );
      expect(await ctx.hub().managers(tenant, { asOf: '2026-04-16T00:00:00Z' })).toEqual(
        EXPECT_MANAGERS_APR16,
      );
      expect(await ctx.hub().managers(tenant, { asOf: '2026-01-02T00:00:00Z' })).toEqual(
        EXPECT_MANAGERS_JAN2,
      );
      // effective_at < asOf: no version is in effect yet (m1's own takes effect on this very instant).
      expect(await ctx.hub().managers(tenant, { asOf: '2025-06-01T00:00:00Z' })).toEqual([]);
      expect(await ctx.hub().managers(tenant, { asOf: '2026-04-01T00:00:00Z', first: 2 })).toEqual(
        EXPECT_MANAGERS_APR1.slice(0, 2),
      );
      expect(
        await ctx.hub().managers(tenant, { asOf: '2026-04-01T00:00:00Z', first: 2, after: 'm2' }),
      ).toEqual(EXPECT_MANAGERS_APR1.slice(2));
    });

    ctx.test('skills of a range and of a team, paged by id', async () => {
      await fixture();
      const march = { from: '2026-03-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
      expect(await ctx.hub().skills(tenant, march)).toEqual(EXPECT_SKILLS_MARCH);
      expect(await ctx.hub().skills(tenant, { ...march, team: { managerId: 'm2' } })).toEqual([]);
      const toMay2 = { from: '2026-03-01T00:00:00Z', to: '2026-05-02T00:00:00Z', team: { managerId: 'm2' } };
      expect(await ctx.hub().skills(tenant, toMay2)).toEqual(EXPECT_SKILLS_M2_TO_MAY2);
      expect(await ctx.hub().skills(tenant, { ...toMay2, first: 1, after: 'A' })).toEqual(
        EXPECT_SKILLS_M2_TO_MAY2.slice(1, 2),
      );
      const june = await ctx
        .hub()
        .skills(tenant, { from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z' });
      expect(june.map((s) => `${s.skill_id}:${s.invocations}`)).toEqual([
        's1:3',
        's2:2',
        's3:1',
        's4:1',
        's5:1',
        's6:1',
      ]);
      const err = await ctx
        .hub()
        .skills(tenant, { ...march, first: 0 })
        .catch((e: unknown) => e);
      expect(isHubError(err, 'VALIDATION')).toBe(true);
    });

    ctx.test(
      'tenant isolation: team filters, team rollups and pickers never see another tenant',
      async () => {
        await fixture();
        const other = ctx.tenant();
        const range = { from: '2026-01-01T00:00:00Z', to: '2026-07-01T00:00:00Z' };
        // `other` has no data at all; `noisy` has a copy of the fixture plus noise.
        expect(
          (await ctx.hub().list(other, 'outputs', { ...range, team: { managerId: 'm1' } })).records,
        ).toEqual([]);
        expect((await ctx.hub().list(other, 'decisions', { employeeId: 'e1' })).records).toEqual([]);
        expect((await ctx.hub().list(other, 'employee_profiles', { managerId: 'm2' })).records).toEqual([]);
        expect(await ctx.hub().managers(other, { asOf: '2026-04-01T00:00:00Z' })).toEqual([]);
        expect(await ctx.hub().skills(other, range)).toEqual([]);
        expect(
          await ctx.hub().costPerSkill(other, { ...range, bucket: 'MONTH', team: { managerId: 'm1' } }),
        ).toEqual([]);
        expect(await ctx.hub().archetypeProgression(other, { ...range, team: { managerId: 'm1' } })).toEqual(
          [],
        );
        // The noisy tenant's extra report and output of m1's team do not reach `tenant`, and the reverse.
        const mine = await ctx.hub().managers(tenant, { asOf: '2026-04-01T00:00:00Z' });
        const theirs = await ctx.hub().managers(noisy, { asOf: '2026-04-01T00:00:00Z' });
        expect(mine.find((m) => m.manager_id === 'm1')?.team_size).toBe(4);
        expect(theirs.find((m) => m.manager_id === 'm1')?.team_size).toBe(5);
        expect((await ctx.hub().skills(tenant, range)).map((s) => s.skill_id)).not.toContain('Z');
        expect((await ctx.hub().skills(noisy, range)).map((s) => s.skill_id)).toContain('Z');
        // A cursor of one tenant's team list is refused by another tenant, with the same filter.
        const filter = { ...range, team: { managerId: 'm1' } };
        const page = await ctx.hub().list(tenant, 'outputs', filter, { first: 2 });
        const err = await ctx
          .hub()
          .list(noisy, 'outputs', filter, { first: 2, after: page.endCursor })
          .catch((e: unknown) => e);
        expect(isHubError(err, 'VALIDATION')).toBe(true);
        expect((err as Error).message).not.toContain(tenant);
      },
    );
  });
}

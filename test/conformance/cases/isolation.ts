/**
 * Tenant isolation through the store: ids, lists, cursors, rollups, scans and
 * conflicts never cross tenants, and answers never hint at another tenant's data.
 */
import { randomUUID } from 'node:crypto';
import { isHubError } from '../../../src/hub/errors';
import type { SuiteContext } from '../suite';

export function isolationCases(ctx: SuiteContext): void {
  describe('tenant isolation', () => {
    ctx.test('ids, lists, cursors, scans and rollups of one tenant are useless to another', async () => {
      const a = ctx.tenant();
      const b = ctx.tenant();
      const inputs = Array.from({ length: 5 }, (_, i) => ({
        record_id: randomUUID(),
        created_at: `2026-03-0${i + 1}T00:00:00.000Z`,
        skill_id: 'shared-skill',
        employee_id: 'shared-emp',
        status: 'SUCCEEDED',
        cost_usd: '1',
        latency_ms: 10,
      }));
      await ctx.hub().record(a, 'outputs', inputs);
      await ctx.hub().record(a, 'employee_profiles', [
        {
          employee_id: 'shared-emp',
          display_name: 'A',
          archetype: 'x',
          level: 'L1',
          manager_id: 'boss',
          effective_at: '2026-01-01T00:00:00Z',
        },
      ]);
      await ctx.settle();
      const ids = inputs.map((r) => r.record_id);
      expect(await ctx.hub().get(b, 'outputs', ids)).toEqual(ids.map(() => null));
      expect((await ctx.hub().list(b, 'outputs', { skillIds: ['shared-skill'] })).records).toEqual([]);
      expect(await ctx.store().scan(b, { type: 'outputs', limit: 100 })).toEqual([]);
      const pageA = await ctx.hub().list(a, 'outputs', {}, { first: 2 });
      const err = await ctx
        .hub()
        .list(b, 'outputs', {}, { first: 2, after: pageA.endCursor })
        .catch((e: unknown) => e);
      expect(isHubError(err, 'VALIDATION')).toBe(true);
      // The message is the same as for any bad cursor: nothing about tenant a.
      expect((err as Error).message).not.toContain(a);
      const range = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
      expect(await ctx.hub().costPerSkill(b, { ...range, bucket: 'MONTH' })).toEqual([]);
      expect((await ctx.hub().costPerSkill(a, { ...range, bucket: 'MONTH' }))[0]?.invocations).toBe(5);
      expect(await ctx.hub().archetypeProgression(b, range)).toEqual([]);
      const dash = await ctx.hub().managerDashboard(b, { managerId: 'boss', ...range });
      expect(dash.members).toEqual([]);
      expect(dash.invocations).toBe(0);
    });

    ctx.test(
      'the same record_id in two tenants is two independent records (no cross-tenant CONFLICT)',
      async () => {
        const a = ctx.tenant();
        const b = ctx.tenant();
        const id = randomUUID();
        const ra = await ctx
          .hub()
          .record(a, 'outputs', [
            { record_id: id, skill_id: 's', employee_id: 'e', status: 'SUCCEEDED', cost_usd: '1' },
          ]);
        const rb = await ctx
          .hub()
          .record(b, 'outputs', [
            { record_id: id, skill_id: 's', employee_id: 'e', status: 'FAILED', cost_usd: '2' },
          ]);
        expect(ra[0]?.status).toBe('created');
        expect(rb[0]?.status).toBe('created');
        const [ga] = await ctx.hub().get(a, 'outputs', [id]);
        const [gb] = await ctx.hub().get(b, 'outputs', [id]);
        expect((ga as { status: string }).status).toBe('SUCCEEDED');
        expect((gb as { status: string }).status).toBe('FAILED');
        expect(ga?.tenant_id).toBe(a);
        expect(gb?.tenant_id).toBe(b);
      },
    );
  });
}

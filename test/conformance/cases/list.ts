/**
 * Lists: every filter of every type, the order, page sizes and keyset paging
 * that neither skips nor repeats while new records arrive.
 */
import { randomUUID } from 'node:crypto';
import { isHubError } from '../../../src/hub/errors';
import type { ListFilterInput } from '../../../src/hub/filters';
import type { HubRecord, RecordType } from '../../../src/hub/model';
import type { TenantId } from '../../../src/hub/tenant';
import type { RecordInput } from '../../../src/hub/validate';
import type { SuiteContext } from '../suite';

const T = (day: number, hour = 0): string =>
  `2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;

/** Every record of a list, following cursors. */
async function listAll(
  ctx: SuiteContext,
  tenant: TenantId,
  type: RecordType,
  filter: ListFilterInput,
  first = 3,
): Promise<HubRecord[]> {
  const out: HubRecord[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await ctx.hub().list(tenant, type, filter, { first, after });
    out.push(...page.records);
    if (!page.hasNextPage) return out;
    after = page.endCursor;
  }
  throw new Error('paging did not terminate');
}

/** The expected list: inputs matching `pred`, newest first, ties by record_id descending. */
function expectedOrder(records: readonly RecordInput[], pred: (r: RecordInput) => boolean): string[] {
  return records
    .filter(pred)
    .sort((a, b) => {
      const ca = a.created_at as string;
      const cb = b.created_at as string;
      if (ca !== cb) return ca < cb ? 1 : -1;
      return (a.record_id as string) < (b.record_id as string) ? 1 : -1;
    })
    .map((r) => r.record_id as string);
}

export function listCases(ctx: SuiteContext): void {
  describe('lists', () => {
    ctx.test(
      'outputs: newest first, ties by record_id descending, every filter, paged with cursors',
      async () => {
        const tenant = ctx.tenant();
        const outputs: RecordInput[] = [];
        for (let i = 0; i < 24; i++) {
          outputs.push({
            record_id: randomUUID(),
            // Groups of three share a timestamp, so the record_id tie-break matters.
            created_at: T(1 + Math.floor(i / 3)),
            skill_id: ['sa', 'sb', 'sc'][i % 3],
            employee_id: ['e1', 'e2'][i % 2],
            status: ['SUCCEEDED', 'FAILED', 'BLOCKED', 'SUCCEEDED'][i % 4],
          });
        }
        await ctx.hub().record(tenant, 'outputs', outputs);
        const cases: [ListFilterInput, (r: RecordInput) => boolean][] = [
          [{}, () => true],
          [{ skillIds: ['sb'] }, (r) => r.skill_id === 'sb'],
          [{ skillIds: ['sa', 'sc'] }, (r) => r.skill_id === 'sa' || r.skill_id === 'sc'],
          [{ employeeId: 'e2' }, (r) => r.employee_id === 'e2'],
          [{ status: 'FAILED' }, (r) => r.status === 'FAILED'],
          [
            { from: T(3), to: T(6) },
            (r) => (r.created_at as string) >= T(3) && (r.created_at as string) < T(6),
          ],
          [
            { skillIds: ['sa', 'sb'], employeeId: 'e1', status: 'SUCCEEDED', from: T(2) },
            (r) =>
              ['sa', 'sb'].includes(r.skill_id as string) &&
              r.employee_id === 'e1' &&
              r.status === 'SUCCEEDED' &&
              (r.created_at as string) >= T(2),
          ],
          [{ employeeId: 'nobody' }, () => false],
          [{ from: '2026-03-04T02:00:00+02:00', to: T(5) }, (r) => r.created_at === T(4)],
        ];
        for (const [filter, pred] of cases) {
          const got = (await listAll(ctx, tenant, 'outputs', filter)).map((r) => r.record_id);
          expect({ filter, got }).toEqual({ filter, got: expectedOrder(outputs, pred) });
        }
        const firstPage = await ctx.hub().list(tenant, 'outputs', {}, {});
        expect(firstPage.records).toHaveLength(24); // default page size 50
        expect(firstPage.hasNextPage).toBe(false);
      },
    );

    ctx.test(
      'filters of the other types: outcome, outputId, severity, action, employeeId, skillIds',
      async () => {
        const tenant = ctx.tenant();
        const o1 = randomUUID();
        const o2 = randomUUID();
        const decisions = ['ACCEPTED', 'REJECTED', 'EDITED', 'ESCALATED', 'ACCEPTED'].map((outcome, i) => ({
          record_id: randomUUID(),
          created_at: T(1, i),
          output_id: i % 2 ? o1 : o2,
          skill_id: i < 2 ? 'sa' : 'sb',
          decided_by: 'm',
          outcome,
        }));
        const events = ['INFO', 'HIGH', 'HIGH', 'CRITICAL'].map((severity, i) => ({
          record_id: randomUUID(),
          created_at: T(2, i),
          policy_id: 'p',
          severity,
          action: i % 2 ? 'BLOCKED' : 'ALLOWED',
          skill_id: 'sa',
          employee_id: i < 2 ? 'e1' : 'e2',
        }));
        const profiles = ['e1', 'e2', 'e1'].map((employee_id, i) => ({
          record_id: randomUUID(),
          created_at: T(3, i),
          employee_id,
          display_name: employee_id,
          archetype: 'analyst',
          level: 'L1',
        }));
        const telemetry = ['sa', 'sb', 'sa'].map((skill_id, i) => ({
          record_id: randomUUID(),
          created_at: T(4, i),
          name: 'n',
          skill_id,
          employee_id: `e${i}`,
        }));
        const body = Buffer.from('x');
        const sha = (await import('node:crypto')).createHash('sha256').update(body).digest('hex');
        const artifacts = [o1, o2, o1].map((output_id, i) => ({
          record_id: randomUUID(),
          created_at: T(5, i),
          name: 'a',
          media_type: 'text/plain',
          size_bytes: 1,
          content_sha256: sha,
          body,
          output_id,
          skill_id: i ? 'sb' : 'sa',
          employee_id: 'e1',
        }));
        await ctx.hub().record(tenant, 'decisions', decisions);
        await ctx.hub().record(tenant, 'governance_events', events);
        await ctx.hub().record(tenant, 'employee_profiles', profiles);
        await ctx.hub().record(tenant, 'telemetry_events', telemetry);
        await ctx.hub().record(tenant, 'artifacts', artifacts);
        const checks: [RecordType, RecordInput[], ListFilterInput, (r: RecordInput) => boolean][] = [
          ['decisions', decisions, { outcome: 'ACCEPTED' }, (r) => r.outcome === 'ACCEPTED'],
          ['decisions', decisions, { outputId: o1 }, (r) => r.output_id === o1],
          [
            'decisions',
            decisions,
            { outputId: o2.toUpperCase(), skillIds: ['sb'] },
            (r) => r.output_id === o2 && r.skill_id === 'sb',
          ],
          ['governance_events', events, { severity: 'HIGH' }, (r) => r.severity === 'HIGH'],
          [
            'governance_events',
            events,
            { action: 'BLOCKED', employeeId: 'e2' },
            (r) => r.action === 'BLOCKED' && r.employee_id === 'e2',
          ],
          ['employee_profiles', profiles, { employeeId: 'e1' }, (r) => r.employee_id === 'e1'],
          ['telemetry_events', telemetry, { skillIds: ['sa'] }, (r) => r.skill_id === 'sa'],
          ['telemetry_events', telemetry, { employeeId: 'e1' }, (r) => r.employee_id === 'e1'],
          ['artifacts', artifacts, { outputId: o1 }, (r) => r.output_id === o1],
          ['artifacts', artifacts, { skillIds: ['sb'], employeeId: 'e1' }, (r) => r.skill_id === 'sb'],
        ];
        for (const [type, inputs, filter, pred] of checks) {
          const got = (await listAll(ctx, tenant, type, filter, 2)).map((r) => r.record_id);
          expect({ type, filter, got }).toEqual({ type, filter, got: expectedOrder(inputs, pred) });
        }
      },
    );

    ctx.test('paging neither skips nor repeats while new records arrive', async () => {
      const tenant = ctx.tenant();
      const initial = Array.from({ length: 40 }, (_, i) => ({
        record_id: randomUUID(),
        created_at: T(1 + (i % 10), i % 3),
        skill_id: 'sa',
        employee_id: 'e',
        status: 'SUCCEEDED',
      }));
      await ctx.hub().record(tenant, 'outputs', initial);
      const seen: string[] = [];
      let after: string | null = null;
      let pageNo = 0;
      for (;;) {
        const page = await ctx.hub().list(tenant, 'outputs', { skillIds: ['sa'] }, { first: 7, after });
        seen.push(...page.records.map((r) => r.record_id));
        // New records arrive between pages: newer ones, and ones with the same timestamp as the page end.
        const last = page.records[page.records.length - 1];
        await ctx.hub().record(tenant, 'outputs', [
          { created_at: T(20, pageNo % 24), skill_id: 'sa', employee_id: 'e', status: 'SUCCEEDED' },
          ...(last
            ? [
                {
                  created_at: last.created_at,
                  record_id: 'ffffffff-ffff-7fff-bfff-' + String(pageNo).padStart(12, '0'),
                  skill_id: 'sa',
                  employee_id: 'e',
                  status: 'SUCCEEDED',
                },
              ]
            : []),
        ]);
        pageNo++;
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(initial.map((r) => r.record_id)));
    });

    ctx.test('page size, filters and cursors are validated', async () => {
      const tenant = ctx.tenant();
      await ctx.hub().record(tenant, 'outputs', [
        { skill_id: 'sa', employee_id: 'e', status: 'SUCCEEDED', created_at: T(1) },
        { skill_id: 'sa', employee_id: 'e', status: 'SUCCEEDED', created_at: T(2) },
      ]);
      const code = (p: Promise<unknown>) =>
        p.then(
          () => 'ok',
          (e: unknown) => (isHubError(e) ? e.code : String(e)),
        );
      expect(await code(ctx.hub().list(tenant, 'outputs', {}, { first: 501 }))).toBe('VALIDATION');
      expect(await code(ctx.hub().list(tenant, 'outputs', {}, { first: 0 }))).toBe('VALIDATION');
      expect(await code(ctx.hub().list(tenant, 'outputs', {}, { first: 500 }))).toBe('ok');
      expect(await code(ctx.hub().list(tenant, 'outputs', { outcome: 'ACCEPTED' }))).toBe('VALIDATION');
      expect(await code(ctx.hub().list(tenant, 'outputs', { status: 'DONE' as never }))).toBe('VALIDATION');
      expect(await code(ctx.hub().list(tenant, 'outputs', { from: 'yesterday' }))).toBe('VALIDATION');
      expect(await code(ctx.hub().list(tenant, 'outputs', {}, { after: 'garbage' }))).toBe('VALIDATION');
      const page = await ctx.hub().list(tenant, 'outputs', {}, { first: 1 });
      // A cursor is bound to its filter and type.
      expect(
        await code(
          ctx.hub().list(tenant, 'outputs', { employeeId: 'e' }, { first: 1, after: page.endCursor }),
        ),
      ).toBe('VALIDATION');
      expect(await code(ctx.hub().list(tenant, 'decisions', {}, { first: 1, after: page.endCursor }))).toBe(
        'VALIDATION',
      );
      const next = await ctx.hub().list(tenant, 'outputs', {}, { first: 1, after: page.endCursor });
      expect(next.records[0]?.created_at).toBe(T(1));
    });
  });
}

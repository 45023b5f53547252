/**
 * Nested lists: a page with each record's children (an output's decisions)
 * is exactly the page plus one list per parent, cursors included, through
 * the store's own path or the generic one; children never cross tenants.
 */
import { randomUUID } from 'node:crypto';
import { isHubError } from '../../../src/hub/errors';
import type { ListFilterInput } from '../../../src/hub/filters';
import type { RecordType } from '../../../src/hub/model';
import type { TenantId } from '../../../src/hub/tenant';
import type { RecordInput } from '../../../src/hub/validate';
import type { SuiteContext } from '../suite';

const T = (day: number, minute = 0): string =>
  `2026-04-${String(day).padStart(2, '0')}T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** `n` outputs (pairs share a timestamp) and 0..3 decisions per output, some sharing timestamps. */
function dataset(n: number): { outputs: RecordInput[]; decisions: RecordInput[] } {
  const outputs: RecordInput[] = [];
  const decisions: RecordInput[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    outputs.push({
      record_id: id,
      created_at: T(1 + Math.floor(i / 2)),
      skill_id: ['sa', 'sb'][i % 2],
      employee_id: ['e1', 'e2', 'e3'][i % 3],
      status: 'SUCCEEDED',
    });
    for (let j = 0; j < i % 4; j++) {
      decisions.push({
        record_id: randomUUID(),
        created_at: T(1 + Math.floor(i / 2), 1 + Math.floor(j / 2)),
        output_id: id,
        skill_id: ['sa', 'sb'][i % 2],
        decided_by: 'reviewer',
        outcome: ['ACCEPTED', 'EDITED', 'REJECTED'][j % 3],
      });
    }
  }
  return { outputs, decisions };
}

/** Asserts listWithChildren equals list + one list per parent for one request. */
async function expectSameAsSeparateLists(
  ctx: SuiteContext,
  tenant: TenantId,
  filter: ListFilterInput,
  page: { first: number; after?: string | null },
  childFirst: number,
): Promise<{ parents: number; children: number; endCursor: string | null }> {
  const hub = ctx.hub();
  const nested = await hub.listWithChildren(tenant, 'outputs', filter, page, {
    type: 'decisions',
    key: 'outputId',
    first: childFirst,
  });
  const plain = await hub.list(tenant, 'outputs', filter, page);
  expect(nested.page.records).toEqual(plain.records);
  expect(nested.page.hasNextPage).toBe(plain.hasNextPage);
  expect(nested.page.endCursor).toBe(plain.endCursor);
  expect(nested.children).toHaveLength(plain.records.length);
  let children = 0;
  for (const [i, parent] of plain.records.entries()) {
    const own = await hub.list(tenant, 'decisions', { outputId: parent.record_id }, { first: childFirst });
    const got = nested.children[i];
    expect(got?.records).toEqual(own.records);
    expect(got?.hasNextPage).toBe(own.hasNextPage);
    // The child's cursor is bound like its own list's: it pages that list.
    expect(got?.endCursor).toBe(own.endCursor);
    children += own.records.length;
  }
  return { parents: plain.records.length, children, endCursor: plain.endCursor };
}

export function nestedCases(ctx: SuiteContext): void {
  describe('nested lists', () => {
    ctx.test('a page with its children equals the page and one list per parent', async () => {
      const tenant = ctx.tenant();
      const { outputs, decisions } = dataset(14);
      await ctx.hub().record(tenant, 'outputs', outputs);
      await ctx.hub().record(tenant, 'decisions', decisions);
      await ctx.settle();
      // Every parent in one page, children cut at 2 (some parents have 3: hasNextPage).
      const all = await expectSameAsSeparateLists(ctx, tenant, {}, { first: 50 }, 2);
      expect(all.parents).toBe(14);
      expect(all.children).toBeGreaterThan(10);
      await expectSameAsSeparateLists(ctx, tenant, { skillIds: ['sb'] }, { first: 3 }, 50);
      await expectSameAsSeparateLists(ctx, tenant, { skillIds: ['sa', 'sb'] }, { first: 4 }, 1);
      await expectSameAsSeparateLists(ctx, tenant, { employeeId: 'e2', from: T(2) }, { first: 50 }, 3);
      // Following the parents' cursor: every page of the list, each with its children.
      let after: string | null = null;
      let seen = 0;
      for (let guard = 0; guard < 10; guard++) {
        const r = await expectSameAsSeparateLists(ctx, tenant, {}, { first: 5, after }, 2);
        seen += r.parents;
        after = r.endCursor;
        if (r.parents < 5) break;
      }
      expect(seen).toBe(14);
    });

    ctx.test('children never come from another tenant, even under the same output id', async () => {
      const a = ctx.tenant();
      const b = ctx.tenant();
      const { outputs, decisions } = dataset(4);
      await ctx.hub().record(a, 'outputs', outputs);
      // Tenant b: the same output ids, and decisions pointing at them.
      await ctx.hub().record(b, 'outputs', outputs);
      const foreign = outputs.map((o) => ({
        record_id: randomUUID(),
        created_at: T(20),
        output_id: o.record_id,
        skill_id: 'sa',
        decided_by: 'intruder',
        outcome: 'REJECTED',
      }));
      await ctx.hub().record(b, 'decisions', foreign);
      await ctx.hub().record(a, 'decisions', decisions);
      await ctx.settle();
      const child = { type: 'decisions' as RecordType, key: 'outputId' as const, first: 50 };
      const inA = await ctx.hub().listWithChildren(a, 'outputs', {}, { first: 50 }, child);
      const childrenOfA = inA.children.flatMap((p) => p.records);
      expect(childrenOfA.map((r) => r.record_id).sort()).toEqual(
        decisions.map((d) => d.record_id as string).sort(),
      );
      expect(childrenOfA.every((r) => r.tenant_id === a)).toBe(true);
      const inB = await ctx.hub().listWithChildren(b, 'outputs', {}, { first: 50 }, child);
      expect(inB.children.flatMap((p) => p.records.map((r) => r.record_id)).sort()).toEqual(
        foreign.map((d) => d.record_id).sort(),
      );
    });

    ctx.test('bad child arguments are rejected before reading', async () => {
      const tenant = ctx.tenant();
      const hub = ctx.hub();
      for (const child of [
        { type: 'decisions' as RecordType, key: 'outputId' as const, first: 0 },
        { type: 'decisions' as RecordType, key: 'outputId' as const, first: 501 },
        { type: 'telemetry_events' as RecordType, key: 'outputId' as const, first: 5 },
      ]) {
        const err = await hub.listWithChildren(tenant, 'outputs', {}, { first: 5 }, child).catch((e) => e);
        expect(isHubError(err, 'VALIDATION')).toBe(true);
      }
    });
  });
}

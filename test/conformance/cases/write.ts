/**
 * Writes and reads: round trips of every field, idempotency, conflicts,
 * validation, concurrency, large batches, scans and purge.
 */
import { randomUUID } from 'node:crypto';
import { type HubError, isHubError } from '../../../src/hub/errors';
import { type HubRecord, RECORD_TYPES } from '../../../src/hub/model';
import { verifyRecord } from '../../../src/hub/provenance';
import { hasImmediateWrites } from '../../../src/hub/store';
import { type RecordInput, sealBatch } from '../../../src/hub/validate';
import { fullRecords, minimalRecords } from '../fixtures';
import type { SuiteContext } from '../suite';

/** Compares a stored record with what was sealed, field by field (bodies as bytes). */
export function expectSameRecord(actual: HubRecord | null | undefined, expected: HubRecord): void {
  expect(actual).toBeTruthy();
  const a = { ...(actual as HubRecord) } as Record<string, unknown>;
  const e = { ...expected } as Record<string, unknown>;
  if (expected.record_type === 'artifacts') {
    expect(Buffer.from(a.body as Uint8Array).equals(Buffer.from(e.body as Uint8Array))).toBe(true);
    delete a.body;
    delete e.body;
  }
  expect(a).toEqual(e);
  // No extra keys holding undefined/null: absent optional fields must be absent.
  expect(Object.keys(a).sort()).toEqual(Object.keys(e).sort());
}

async function sealedOf(
  ctx: SuiteContext,
  tenant: ReturnType<SuiteContext['tenant']>,
  input: RecordInput,
  type: HubRecord['record_type'],
) {
  const [result] = await ctx.hub().record(tenant, type, [input]);
  expect(result?.status).toBe('created');
  const [stored] = await ctx.hub().get(tenant, type, [result?.record_id as string]);
  return stored;
}

export function writeCases(ctx: SuiteContext): void {
  describe('writes and reads', () => {
    ctx.test('round-trips every field of every type and the hash still verifies', async () => {
      const tenant = ctx.tenant();
      const full = fullRecords();
      const minimal = minimalRecords();
      for (const type of RECORD_TYPES) {
        for (const input of [full[type], minimal[type]]) {
          const stored = await sealedOf(ctx, tenant, input, type);
          const [expected] = sealBatch(tenant, type, [
            { ...input, record_id: stored?.record_id, created_at: stored?.created_at },
          ]);
          expectSameRecord(stored, expected as HubRecord);
          expect(verifyRecord(stored as HubRecord).verified).toBe(true);
        }
      }
    });

    ctx.test('getByIds answers in key order with null for missing ids and repeats', async () => {
      const tenant = ctx.tenant();
      const results = await ctx.hub().record(tenant, 'outputs', [
        { skill_id: 's', employee_id: 'a', status: 'SUCCEEDED' },
        { skill_id: 's', employee_id: 'b', status: 'SUCCEEDED' },
      ]);
      const [a, b] = results.map((r) => r.record_id);
      const missing = randomUUID();
      const got = await ctx
        .store()
        .getByIds(tenant, 'outputs', [b as string, missing, a as string, b as string]);
      expect(got.map((r) => (r as { employee_id?: string } | null)?.employee_id ?? null)).toEqual([
        'b',
        null,
        'a',
        'b',
      ]);
      // The same id under another type is not found.
      expect(await ctx.store().getByIds(tenant, 'decisions', [a as string])).toEqual([null]);
    });

    ctx.test(
      'writing the same record twice is a duplicate; different content under the same id is a CONFLICT',
      async () => {
        const tenant = ctx.tenant();
        const id = randomUUID();
        const base = {
          record_id: id,
          created_at: '2026-03-01T00:00:00.000Z',
          skill_id: 's',
          employee_id: 'e',
          status: 'SUCCEEDED',
        };
        expect((await ctx.hub().record(tenant, 'outputs', [base]))[0]?.status).toBe('created');
        expect((await ctx.hub().record(tenant, 'outputs', [base]))[0]?.status).toBe('duplicate');
        const other = { record_id: randomUUID(), skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' };
        const results = await ctx.hub().record(tenant, 'outputs', [{ ...base, cost_usd: '1' }, other]);
        const [conflict, created] = results;
        expect(conflict?.status).toBe('error');
        expect(conflict?.status === 'error' && conflict.error.code).toBe('CONFLICT');
        expect(created?.status).toBe('created');
        // The original is untouched.
        const [stored] = await ctx.hub().get(tenant, 'outputs', [id]);
        expect((stored as { cost_usd: string }).cost_usd).toBe('0');
      },
    );

    ctx.test(
      'a batch with invalid records is rejected whole, naming index and field, and writes nothing',
      async () => {
        const tenant = ctx.tenant();
        const good = { record_id: randomUUID(), skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' };
        const err = await ctx
          .hub()
          .record(tenant, 'outputs', [
            good,
            { skill_id: 's', status: 'DONE', cost_usd: '-1' },
            { ...good, record_id: 'nope', latency_ms: 1.5 },
          ])
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isHubError(err, 'VALIDATION')).toBe(true);
        const issues = (err as { issues: { index?: number; path: string }[] }).issues.map(
          (i) => `${i.index}:${i.path}`,
        );
        expect(issues).toEqual(
          expect.arrayContaining(['1:employee_id', '1:status', '1:cost_usd', '2:record_id', '2:latency_ms']),
        );
        expect(await ctx.hub().get(tenant, 'outputs', [good.record_id])).toEqual([null]);
        expect((await ctx.hub().list(tenant, 'outputs')).records).toEqual([]);
      },
    );

    ctx.test(
      'putBatch with one invalid sealed record in the middle writes nothing and names the record and field',
      async () => {
        const tenant = ctx.tenant();
        const other = ctx.tenant();
        const outputs = sealBatch(
          tenant,
          'outputs',
          Array.from({ length: 5 }, (_, i) => ({ skill_id: 's', employee_id: `e${i}`, status: 'SUCCEEDED' })),
        );
        const decisions = sealBatch(tenant, 'decisions', [
          { output_id: outputs[0]?.record_id, skill_id: 's', decided_by: 'boss', outcome: 'ACCEPTED' },
        ]);
        const foreign = sealBatch(other, 'outputs', [{ skill_id: 's', employee_id: 'x', status: 'FAILED' }]);
        const bad: [string, HubRecord, string][] = [
          ['status', { ...outputs[2], status: 'DONE' } as unknown as HubRecord, 'status'],
          ['missing field', { ...outputs[2], employee_id: undefined } as unknown as HubRecord, 'employee_id'],
          ['tenant', { ...(foreign[0] as HubRecord) }, 'tenant_id'],
        ];
        for (const [what, record, field] of bad) {
          const batch = [outputs[0], decisions[0], record, outputs[3], outputs[4]] as HubRecord[];
          const err = await ctx
            .store()
            .putBatch(tenant, batch)
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect({ what, code: isHubError(err) ? err.code : err }).toEqual({ what, code: 'VALIDATION' });
          const issues = (err as HubError).issues.map((i) => `${i.index}:${i.path}`);
          expect({ what, issues }).toEqual({ what, issues: [`2:${field}`] });
          expect((err as Error).message).toContain(record.record_id);
          await ctx.settle();
          expect(
            await ctx.store().getByIds(
              tenant,
              'outputs',
              outputs.map((o) => o.record_id),
            ),
          ).toEqual([null, null, null, null, null]);
          expect(
            await ctx.store().getByIds(tenant, 'decisions', [decisions[0]?.record_id as string]),
          ).toEqual([null]);
          expect(await ctx.store().getByIds(other, 'outputs', [foreign[0]?.record_id as string])).toEqual([
            null,
          ]);
        }
        // The same batch without the bad record is written whole.
        const good = await ctx.store().putBatch(tenant, [...outputs, ...decisions]);
        expect(good.map((o) => o.status)).toEqual(Array(6).fill('created'));
      },
    );

    ctx.test('concurrent writers of the same records: each is created exactly once', async () => {
      const tenant = ctx.tenant();
      const inputs = Array.from({ length: 20 }, (_, i) => ({
        record_id: randomUUID(),
        created_at: `2026-03-01T00:00:${String(i).padStart(2, '0')}.000Z`,
        skill_id: 's',
        employee_id: 'e',
        status: 'SUCCEEDED',
      }));
      const runs = await Promise.all([0, 1, 2, 3].map(() => ctx.hub().record(tenant, 'outputs', inputs)));
      for (let i = 0; i < inputs.length; i++) {
        const statuses = runs.map((r) => r[i]?.status).sort();
        expect(statuses).toEqual(['created', 'duplicate', 'duplicate', 'duplicate']);
      }
      const page = await ctx.hub().list(tenant, 'outputs', {}, { first: 100 });
      expect(page.records).toHaveLength(20);
    });

    ctx.test('bulkWrite: as many batches side by side as declared, each record created once', async () => {
      const plan = ctx.store().capabilities.bulkWrite;
      if (!plan) return;
      const tenant = ctx.tenant();
      const size = Math.min(plan.batchSize, 50);
      const batches = Array.from({ length: plan.concurrency }, (_, b) =>
        sealBatch(
          tenant,
          'telemetry_events',
          Array.from({ length: size }, (_v, i) => ({ name: `bulk-${b}-${i}` })),
        ),
      );
      const store = ctx.store();
      const put = (records: readonly HubRecord[]) =>
        hasImmediateWrites(store) ? store.putBatchNow(tenant, records) : store.putBatch(tenant, records);
      const first = await Promise.all(batches.map(put));
      expect(first.flat().every((o) => o.status === 'created')).toBe(true);
      // Again side by side: every record is already there.
      const again = await Promise.all(batches.map(put));
      expect(again.flat().every((o) => o.status === 'duplicate')).toBe(true);
      await ctx.settle();
      const ids = batches.flat().map((r) => r.record_id);
      const found = await store.getByIds(tenant, 'telemetry_events', ids);
      expect(found.filter(Boolean)).toHaveLength(ids.length);
    });

    ctx.test(
      'putBatchNow refuses a batch with an invalid record as putBatch does, writing nothing',
      async () => {
        const store = ctx.store();
        if (!hasImmediateWrites(store)) return;
        const tenant = ctx.tenant();
        const records = sealBatch(
          tenant,
          'telemetry_events',
          Array.from({ length: 3 }, (_v, i) => ({ name: `now-${i}` })),
        );
        const bad = { ...records[1], name: '' } as unknown as HubRecord;
        const err = await store
          .putBatchNow(tenant, [records[0] as HubRecord, bad, records[2] as HubRecord])
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isHubError(err, 'VALIDATION')).toBe(true);
        expect((err as HubError).issues.map((i) => `${i.index}:${i.path}`)).toEqual(['1:name']);
        await ctx.settle();
        const found = await store.getByIds(
          tenant,
          'telemetry_events',
          records.map((r) => r.record_id),
        );
        expect(found).toEqual([null, null, null]);
      },
    );

    ctx.test(
      'large batches (10,000 records) are written and read back whole',
      async () => {
        const tenant = ctx.tenant();
        const n = ctx.options.largeBatch ?? 10_000;
        const start = Date.parse('2026-02-01T00:00:00.000Z');
        const inputs = Array.from({ length: n }, (_, i) => ({
          created_at: new Date(start + i * 1000).toISOString(),
          skill_id: `skill-${i % 7}`,
          employee_id: `e-${i % 13}`,
          status: i % 10 === 0 ? 'FAILED' : 'SUCCEEDED',
          cost_usd: `0.${String(i % 1000).padStart(3, '0')}001`,
          latency_ms: i % 500,
        }));
        const results = await ctx.hub().record(tenant, 'outputs', inputs);
        expect(results.filter((r) => r.status === 'created')).toHaveLength(n);
        await ctx.settle();
        let seen = 0;
        let last = '';
        for await (const page of ctx.hub().scan(tenant, { types: ['outputs'], pageSize: 2500 })) {
          for (const r of page) {
            expect(r.created_at >= last).toBe(true);
            last = r.created_at;
            seen++;
          }
        }
        expect(seen).toBe(n);
        const sample = await ctx.hub().get(tenant, 'outputs', [results[n - 1]?.record_id as string]);
        expect(verifyRecord(sample[0] as HubRecord).verified).toBe(true);
        const rows = await ctx.hub().costPerSkill(tenant, {
          from: '2026-01-01T00:00:00Z',
          to: '2027-01-01T00:00:00Z',
          bucket: 'MONTH',
        });
        expect(rows.reduce((s, r) => s + r.invocations, 0)).toBe(n);
      },
      300_000,
    );

    ctx.test(
      'scan returns every record of a type oldest first, ties by record_id, resumable from any position',
      async () => {
        const tenant = ctx.tenant();
        const ids = Array.from({ length: 9 }, () => randomUUID()).sort();
        const inputs = ids.map((record_id, i) => ({
          record_id,
          created_at: i < 5 ? '2026-03-01T00:00:00.000Z' : `2026-02-0${i}T00:00:00.000Z`,
          name: 'ev',
        }));
        await ctx.hub().record(tenant, 'telemetry_events', inputs);
        const all = await ctx.store().scan(tenant, { type: 'telemetry_events', limit: 100 });
        const expected = [...inputs]
          .sort((a, b) =>
            a.created_at === b.created_at
              ? a.record_id < b.record_id
                ? -1
                : 1
              : a.created_at < b.created_at
                ? -1
                : 1,
          )
          .map((r) => r.record_id);
        expect(all.map((r) => r.record_id)).toEqual(expected);
        const resumed = await ctx
          .store()
          .scan(tenant, { type: 'telemetry_events', limit: 3, after: all[4] as HubRecord });
        expect(resumed.map((r) => r.record_id)).toEqual(expected.slice(5, 8));
        expect(await ctx.store().scan(tenant, { type: 'outputs', limit: 10 })).toEqual([]);
      },
    );

    ctx.test('purgeTenant deletes every record of that tenant and nothing else', async () => {
      const a = ctx.tenant();
      const b = ctx.tenant();
      for (const t of [a, b]) {
        await ctx.hub().record(t, 'outputs', [{ skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' }]);
        await ctx.hub().record(t, 'telemetry_events', [{ name: 'x' }, { name: 'y' }]);
      }
      expect(await ctx.store().purgeTenant(a)).toBe(3);
      await ctx.settle();
      expect((await ctx.hub().list(a, 'telemetry_events')).records).toEqual([]);
      expect((await ctx.hub().list(b, 'telemetry_events')).records).toHaveLength(2);
      expect((await ctx.hub().list(b, 'outputs')).records).toHaveLength(1);
    });

    ctx.test('ping resolves on a healthy store', async () => {
      await expect(ctx.store().ping()).resolves.toBeUndefined();
    });
  });
}

import { Hub } from '../../src/hub/hub';
import type { HubRecord, RecordType } from '../../src/hub/model';
import { parseTenantId } from '../../src/hub/tenant';
import { migrateTenant, verifyTenant } from '../../src/migrate/migrate';
import { generateDataset } from '../../src/seed/generator';
import { createMemoryStore } from '../../src/stores/memory/memory-store';

const acme = parseTenantId('acme');
const other = parseTenantId('other');

async function seeded() {
  const source = createMemoryStore();
  const hub = new Hub(source);
  const data = generateDataset({ seed: 3, days: 10, outputsPerDay: 20, managers: 2, teamSize: 3 });
  for (const [type, inputs] of Object.entries(data)) await hub.record(acme, type as RecordType, inputs);
  await hub.record(other, 'outputs', [{ skill_id: 'secret', employee_id: 'x', status: 'SUCCEEDED' }]);
  const total = Object.values(data).reduce((s, v) => s + v.length, 0);
  return { source, total };
}

describe('migrateTenant', () => {
  it('copies every record of the tenant with hashes preserved and verifies both sides', async () => {
    const { source, total } = await seeded();
    const target = createMemoryStore();
    const progress: string[] = [];
    const report = await migrateTenant(source, target, acme, {
      pageSize: 97,
      onProgress: (p) => progress.push(p.type),
    });
    expect(report.total).toBe(total);
    expect(report.verification).toEqual({ checked: total, invalid: [], mismatched: [] });
    expect(progress.length).toBeGreaterThan(6);
    // Same rollups on both sides.
    const args = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', bucket: 'DAY' as const };
    expect(await new Hub(target).costPerSkill(acme, args)).toEqual(
      await new Hub(source).costPerSkill(acme, args),
    );
  });

  it('never copies another tenant', async () => {
    const { source } = await seeded();
    const target = createMemoryStore();
    await migrateTenant(source, target, acme);
    expect(await target.scan(other, { type: 'outputs', limit: 10 })).toEqual([]);
    expect((await verifyTenant(target, other)).checked).toBe(0);
  });

  it('is resumable: a second run reports duplicates and copies nothing twice', async () => {
    const { source, total } = await seeded();
    const target = createMemoryStore();
    await migrateTenant(source, target, acme);
    const again = await migrateTenant(source, target, acme);
    const copied = Object.values(again.perType).reduce((s, t) => s + t.copied, 0);
    expect(copied).toBe(0);
    expect(again.total).toBe(total);
  });

  it('refuses a source record whose provenance does not verify, and reports tampering in verify', async () => {
    const source = createMemoryStore();
    const [sealed] = await new Hub(source).record(acme, 'telemetry_events', [{ name: 'ok' }]);
    const [record] = await source.getByIds(acme, 'telemetry_events', [sealed?.record_id as string]);
    // A store holding tampered data (same id, content changed after sealing).
    const tamperedStore = createMemoryStore();
    await tamperedStore.putBatch(acme, [{ ...(record as HubRecord), name: 'changed' } as HubRecord]);
    await expect(migrateTenant(tamperedStore, createMemoryStore(), acme)).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    const report = await verifyTenant(tamperedStore, acme, { compareWith: source });
    expect(report.invalid).toEqual([`telemetry_events/${sealed?.record_id}`]);
    expect(report.mismatched).toEqual([`telemetry_events/${sealed?.record_id}`]);
  });
});

/**
 * The copy and compare engines on memory stores: differences named one by
 * one, a copy stopped mid-way resuming from its committed position (batches
 * in flight at the stop looked up, not written again), positions committed in
 * scan order with several batches in flight, progress with totals and ETA on
 * an injected clock, types the source holds none of skipped, and tenant
 * isolation.
 */
import { Hub } from '../../src/hub/hub';
import { type HubRecord, RECORD_TYPES, type RecordType } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { compareTenant, describeDifference, type Difference } from '../../src/migrate/compare';
import { type CopyCheckpoints, InOrderWindow, checkSealedInTurns, copyTenant } from '../../src/migrate/copy';
import type { ProgressEvent } from '../../src/migrate/progress';
import { generateDataset } from '../../src/seed/generator';
import { createMemoryStore } from '../../src/stores/memory/memory-store';

const acme = parseTenantId('acme');
const other = parseTenantId('other');

async function seeded(): Promise<{ source: HubStore; total: number }> {
  const source = createMemoryStore();
  const hub = new Hub(source);
  const data = generateDataset({ seed: 5, days: 8, outputsPerDay: 25, managers: 2, teamSize: 3 });
  for (const [type, inputs] of Object.entries(data)) await hub.record(acme, type as RecordType, inputs);
  await hub.record(other, 'outputs', [{ skill_id: 'secret', employee_id: 'x', status: 'SUCCEEDED' }]);
  return { source, total: Object.values(data).reduce((s, v) => s + v.length, 0) };
}

describe('compareTenant', () => {
  it('names each missing, extra and different record', async () => {
    const { source } = await seeded();
    const target = createMemoryStore();
    await copyTenant(source, target, acme, { batchSize: 50 });
    expect(await compareTenant(source, target, acme, { pageSize: 37 })).toMatchObject({
      missing: 0,
      extra: 0,
      differs: 0,
      invalid: 0,
    });
    // One record only in the source, one only in the target, one tampered in the target.
    const [onlySource] = await new Hub(source).record(acme, 'telemetry_events', [{ name: 'late' }]);
    const [onlyTarget] = await new Hub(target).record(acme, 'telemetry_events', [{ name: 'stray' }]);
    const [victim] = (await source.scan(acme, { type: 'outputs', limit: 1 })) as HubRecord[];
    const tampered = createMemoryStore();
    await copyTenant(target, tampered, acme, { batchSize: 500 });
    await tampered.purgeTenant(acme);
    const rest = [];
    for (const type of ['outputs', 'telemetry_events'] as const)
      rest.push(...(await target.scan(acme, { type, limit: 10_000 })));
    await tampered.putBatch(
      acme,
      rest.map((r) => (r.record_id === victim?.record_id ? ({ ...r, status: 'FAILED' } as HubRecord) : r)),
    );
    const found: Difference[] = [];
    const report = await compareTenant(source, tampered, acme, {
      types: ['outputs', 'telemetry_events'],
      onDifference: (d) => void found.push(d),
    });
    expect(found.map(describeDifference).sort()).toEqual(
      [
        `missing in target: telemetry_events/${onlySource?.record_id}`,
        `extra in target: telemetry_events/${onlyTarget?.record_id}`,
        `differs: outputs/${victim?.record_id}`,
        `does not verify in target: outputs/${victim?.record_id}`,
      ].sort(),
    );
    expect(report).toMatchObject({ missing: 1, extra: 1, differs: 1, invalid: 1 });
  });

  it('never reads another tenant', async () => {
    const { source } = await seeded();
    const report = await compareTenant(source, createMemoryStore(), other);
    expect(report).toMatchObject({ source: 1, target: 0, missing: 1 });
  });
});

describe('copyTenant', () => {
  it('resumes from the last committed position after a stop, copying nothing twice', async () => {
    const { source, total } = await seeded();
    const target = createMemoryStore();
    let saved: CopyCheckpoints = {};
    let batches = 0;
    const crash = new Error('killed');
    await expect(
      copyTenant(source, target, acme, {
        batchSize: 40,
        commit: async (type, cp) => {
          saved = { ...saved, [type]: cp };
          if (++batches === 7) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    const before = Object.values(saved).reduce((s, c) => s + (c?.copied ?? 0), 0);
    expect(before).toBeGreaterThan(0);
    const report = await copyTenant(source, target, acme, { batchSize: 40, checkpoints: saved });
    // Everything committed before the stop is skipped, not re-written as duplicates.
    expect(report.duplicates).toBe(0);
    expect(report.copied).toBe(total);
    const clean = await compareTenant(source, target, acme);
    expect(clean.missing + clean.extra + clean.differs + clean.invalid).toBe(0);
    expect(await target.scan(other, { type: 'outputs', limit: 5 })).toEqual([]);
  });

  it('marks the types the source holds none of as done without scanning them', async () => {
    const source = createMemoryStore();
    await new Hub(source).record(acme, 'outputs', [{ skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' }]);
    const scanned: RecordType[] = [];
    const counting: HubStore = Object.assign(Object.create(source) as HubStore, {
      scan: (tenant: typeof acme, query: Parameters<HubStore['scan']>[1]) => {
        scanned.push(query.type);
        return source.scan(tenant, query);
      },
    });
    const done: RecordType[] = [];
    const report = await copyTenant(counting, createMemoryStore(), acme, {
      commit: async (type, cp) => void (cp.done && done.push(type)),
    });
    expect(report.copied).toBe(1);
    expect(scanned).toEqual(['outputs']);
    expect(done).toEqual([...RECORD_TYPES]);
  });

  it('reports totals, rate and ETA on the given clock', async () => {
    const { source, total } = await seeded();
    let now = 0;
    const events: ProgressEvent[] = [];
    await copyTenant(source, createMemoryStore(), acme, {
      batchSize: 100,
      now: () => (now += 250),
      onProgress: (e) => void events.push(e),
    });
    const last = events[events.length - 1] as ProgressEvent;
    expect(last).toMatchObject({ step: 'copy', done: total, total, final: true });
    expect(events.some((e) => e.etaSeconds !== undefined && e.etaSeconds > 0)).toBe(true);
    expect(events.every((e) => e.rate >= 0)).toBe(true);
  });

  it('refuses a source record that does not verify, naming it, and writes nothing of its page', async () => {
    const source = createMemoryStore();
    const [sealed] = await new Hub(source).record(acme, 'telemetry_events', [{ name: 'ok' }]);
    const [record] = await source.getByIds(acme, 'telemetry_events', [sealed?.record_id as string]);
    const bad = createMemoryStore();
    await bad.putBatch(acme, [{ ...(record as HubRecord), name: 'changed' } as HubRecord]);
    const target = createMemoryStore();
    await expect(copyTenant(bad, target, acme)).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining(`telemetry_events/${sealed?.record_id}`),
    });
    expect(await target.scan(acme, { type: 'telemetry_events', limit: 5 })).toEqual([]);
  });

  it('re-verifies a large page in turns of the event loop, and still refuses a record of any chunk', async () => {
    const page = sealBatch(
      acme,
      'telemetry_events',
      Array.from({ length: 2500 }, (_, i) => ({ name: `e${i}` })),
    );
    // An immediate queued now runs before the check resolves only if the check gave the loop back.
    let turned = false;
    setImmediate(() => (turned = true));
    await checkSealedInTurns(page, acme, 'telemetry_events');
    expect(turned).toBe(true);
    // A record in the last chunk that does not verify, or of another tenant, fails the whole page.
    const tampered = page.map((r, i) => (i === 2200 ? ({ ...r, name: 'changed' } as HubRecord) : r));
    await expect(checkSealedInTurns(tampered, acme, 'telemetry_events')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining(`telemetry_events/${page[2200]?.record_id}`),
    });
    await expect(checkSealedInTurns(page, parseTenantId('globex'), 'telemetry_events')).rejects.toMatchObject(
      {
        code: 'INTERNAL',
      },
    );
  });
});

/** A memory store whose putBatch calls are counted and finish in the order `release` says. */
function gatedStore(): {
  store: HubStore;
  written: () => number;
  inFlight: () => number;
  maxInFlight: () => number;
} {
  const store = createMemoryStore();
  let written = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const put = store.putBatch.bind(store);
  let turn = 0;
  store.putBatch = async (tenant, records) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Every other call finishes a few ticks later: later batches overtake earlier ones.
    const delay = turn++ % 2 === 0 ? 5 : 0;
    for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
    written += records.length;
    inFlight--;
    return put(tenant, records);
  };
  return { store, written: () => written, inFlight: () => inFlight, maxInFlight: () => maxInFlight };
}

describe('copy pipeline', () => {
  it('keeps several batches in flight and commits positions in scan order only', async () => {
    const { source, total } = await seeded();
    const target = gatedStore();
    const commits: { type: RecordType; after?: string; copied: number }[] = [];
    const report = await copyTenant(source, target.store, acme, {
      batchSize: 30,
      concurrency: 4,
      commit: async (type, cp) =>
        void commits.push({ type, copied: cp.copied, ...(cp.after ? { after: cp.after.created_at } : {}) }),
    });
    expect(report.copied).toBe(total);
    expect(target.maxInFlight()).toBeGreaterThan(1);
    expect(target.maxInFlight()).toBeLessThanOrEqual(4);
    for (let i = 1; i < commits.length; i++) {
      const [a, b] = [commits[i - 1], commits[i]] as [(typeof commits)[0], (typeof commits)[0]];
      if (a.type !== b.type) continue;
      expect(b.copied).toBeGreaterThanOrEqual(a.copied);
      if (a.after && b.after) expect(b.after >= a.after).toBe(true);
    }
    const clean = await compareTenant(source, target.store, acme);
    expect(clean.missing + clean.extra + clean.differs + clean.invalid).toBe(0);
  });

  it('after a stop with batches in flight, looks those up instead of writing them again', async () => {
    const { source, total } = await seeded();
    const target = gatedStore();
    let saved: CopyCheckpoints = {};
    let commits = 0;
    const crash = new Error('killed');
    await expect(
      copyTenant(source, target.store, acme, {
        batchSize: 20,
        concurrency: 3,
        commit: async (type, cp) => {
          if (++commits === 5) throw crash;
          saved = { ...saved, [type]: cp };
        },
      }),
    ).rejects.toBe(crash);
    // Nothing left running after the failure.
    expect(target.inFlight()).toBe(0);
    const committed = Object.values(saved).reduce((s, c) => s + (c?.copied ?? 0), 0);
    const landed = target.written();
    expect(landed).toBeGreaterThan(committed);
    const report = await copyTenant(source, target.store, acme, {
      batchSize: 20,
      concurrency: 3,
      checkpoints: saved,
    });
    // The landed-but-uncommitted records are found by a read, not re-sent as writes.
    expect(report.duplicates).toBe(landed - committed);
    expect(target.written()).toBe(total);
    expect(report.copied + report.duplicates).toBe(total);
  });

  it('reports a failed batch once the others in flight have finished, and no unhandled rejection', async () => {
    const { source } = await seeded();
    const target = createMemoryStore();
    const put = target.putBatch.bind(target);
    let calls = 0;
    target.putBatch = async (tenant, records) => {
      if (++calls === 2) throw new Error('second batch failed');
      return put(tenant, records);
    };
    await expect(copyTenant(source, target, acme, { batchSize: 10, concurrency: 4 })).rejects.toThrow(
      'second batch failed',
    );
  });

  it('InOrderWindow settles in submission order whatever the finishing order', async () => {
    const settled: number[] = [];
    const window = new InOrderWindow<number>(3, async (n) => void settled.push(n));
    const gates = [0, 1, 2, 3, 4].map(() => {
      let open!: () => void;
      const p = new Promise<void>((r) => (open = r));
      return { p, open };
    });
    const run = window.run(async (submit) => {
      for (let i = 0; i < 5; i++) await submit(async () => (await gates[i]?.p, i));
      // Opened last to first: later tasks finish first.
    });
    for (let i = 4; i >= 0; i--) {
      gates[i]?.open();
      await new Promise((r) => setImmediate(r));
    }
    await run;
    expect(settled).toEqual([0, 1, 2, 3, 4]);
  });
});

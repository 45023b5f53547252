/**
 * When and how much the PostgreSQL store's pre-aggregation folds: maintain
 * refuses a limit out of bounds, and the background consumer folds on its
 * (injected) schedule, at most its per-tick limit, and stops cleanly. The
 * consumer's claim and batch sizes: postgres-preagg-consumer.test.ts.
 */
import { Hub } from '../../src/hub/hub';
import { isHubError } from '../../src/hub/errors';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { RollupConsumer } from '../../src/stores/postgres/postgres-preagg-consumer';
import { usePreaggServer } from './postgres-preagg-support';

describe('postgres pre-aggregation (server)', () => {
  const server = usePreaggServer();
  const { open, openWithDatabase, count } = server;

  test('maintain refuses a limit out of bounds, naming it', async () => {
    const store = await open();
    for (const bad of [0, -1, 1.5, 100_001]) {
      const err = await store.maintain(bad).catch((e: unknown) => e);
      expect(isHubError(err) && err.code).toBe('VALIDATION');
      expect(String((err as Error).message)).toContain('limit');
    }
  });

  test('the background consumer folds on its (injected) schedule and stops cleanly', async () => {
    const t = parseTenantId('preagg-bg');
    const { db, store } = await openWithDatabase();
    // Only this test's rows in the feed.
    while ((await store.maintain(100_000)) > 0) {
      /* drain */
    }
    // Outputs in statements of 10: each statement is one feed row of 10
    // records, and a claim takes whole feed rows (preagg-feed-batches.sql).
    const data = generateDataset({ seed: 2, days: 3, outputsPerDay: 30, managers: 1, teamSize: 3 });
    const hub = new Hub(store);
    await hub.record(t, 'employee_profiles', data.employee_profiles);
    const outputs = data.outputs.slice(0, 70);
    expect(outputs).toHaveLength(70);
    for (let i = 0; i < 70; i += 10) await hub.record(t, 'outputs', outputs.slice(i, i + 10));
    const pending: (() => void)[] = [];
    let scheduled: () => void = () => undefined;
    const nextSchedule = (): Promise<void> => new Promise((resolve) => (scheduled = resolve));
    const consumer = new RollupConsumer(db, {
      batchSize: 10,
      batchesPerTick: 3,
      schedule: (run) => {
        pending.push(run);
        scheduled();
        return () => undefined;
      },
    });
    consumer.start();
    expect(pending).toHaveLength(1);
    const before = await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`);
    // One tick folds at most batchSize x batchesPerTick rows (here whole feed rows of 10 records).
    expect(await consumer.tick()).toBe(30);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`)).toBe(
      before - 30,
    );
    // The scheduled tick runs, folds as much again, and schedules the next one.
    const rescheduled = nextSchedule();
    pending.shift()?.();
    await rescheduled;
    expect(pending).toHaveLength(1);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`)).toBe(
      before - 60,
    );
    await consumer.stop();
    // Without a per-tick limit a tick keeps folding until a batch comes back short.
    const unlimited = new RollupConsumer(db, { batchSize: 10, schedule: () => () => undefined });
    expect(await unlimited.tick()).toBe(before - 60);
    expect(await count(`SELECT count(*) AS n FROM hub.rollup_feed WHERE tenant_id = '${t}'`)).toBe(0);
    await unlimited.stop();
  }, 300_000);
});

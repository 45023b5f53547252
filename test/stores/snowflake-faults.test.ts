/**
 * Faults between the Snowflake store and its backend: the wire emulator is
 * made slow, stopped and restarted (same port) while the store works. The
 * store must report TIMEOUT / UNAVAILABLE through the port's codes, recover
 * when the backend is back, and never lose a write it acknowledged.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isHubError } from '../../src/hub/errors';
import type { HubRecord } from '../../src/hub/model';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { snowflakeDriver } from '../../src/stores/snowflake/snowflake-driver';
import type { SnowflakeStore } from '../../src/stores/snowflake/snowflake-store';
import {
  type SnowflakeEmulator,
  emulatorStoreUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';
import { failure, numberedOutputs } from '../support/fault-helpers';

const run = randomBytes(3).toString('hex');
let counter = 0;
const freshTenant = (): TenantId => parseTenantId(`sff-${run}-${++counter}`);

const outputs = numberedOutputs;

/** Waits until the store answers again (the driver may still be backing off old requests). */
async function healthy(store: SnowflakeStore): Promise<void> {
  for (let i = 0; i < 60; i++) {
    try {
      await store.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error('store did not recover');
}

async function storedIds(store: SnowflakeStore, tenant: TenantId, records: HubRecord[]): Promise<number> {
  const found = await store.getByIds(
    tenant,
    'outputs',
    records.map((r) => r.record_id),
  );
  return found.filter((r) => r !== null).length;
}

describe('snowflake store under faults', () => {
  let emulator: SnowflakeEmulator;
  let store: SnowflakeStore;
  /** Runs once, when the next write's first INSERT reaches the emulator (then disarmed). */
  let onNextInsert: (() => void) | undefined;

  beforeAll(async () => {
    emulator = await startSnowflakeEmulator({
      queryInProgressMs: 200,
      onQuery: (sql) => {
        if (!/^\s*INSERT\b/i.test(sql) || !onNextInsert) return;
        const fault = onNextInsert;
        onNextInsert = undefined;
        fault();
      },
    });
    store = (await snowflakeDriver.open(emulatorStoreUri(emulator, { timeoutMs: 4000 }))) as SnowflakeStore;
  });

  afterAll(async () => {
    emulator.delayMs = 0;
    await emulator.restart();
    await store.close();
    await emulator.close();
  });

  test('a slow warehouse gives TIMEOUT, and the retried write lands exactly once', async () => {
    const tenant = freshTenant();
    const batch = outputs(tenant, 20, 0);
    await store.putBatch(tenant, outputs(tenant, 1, 1000)); // provisioned while healthy
    // Well past the store's 4 s timeout: a login on a busy machine can take over 1 s by itself.
    emulator.delayMs = 10_000;
    try {
      expect((await failure(store.putBatch(tenant, batch))).code).toBe('TIMEOUT');
      expect((await failure(store.ping())).code).toBe('TIMEOUT');
    } finally {
      emulator.delayMs = 0;
    }
    await healthy(store);
    const retried = await store.putBatch(tenant, batch);
    expect(retried.every((o) => o.status === 'created' || o.status === 'duplicate')).toBe(true);
    expect(await storedIds(store, tenant, batch)).toBe(20);
  }, 60_000);

  test('a stopped backend gives UNAVAILABLE; after a restart on the same port writes succeed', async () => {
    const tenant = freshTenant();
    const acked = outputs(tenant, 10, 0);
    expect((await store.putBatch(tenant, acked)).map((o) => o.status)).toEqual(Array(10).fill('created'));
    await emulator.stop();
    const pending = outputs(tenant, 10, 100);
    try {
      expect((await failure(store.putBatch(tenant, pending))).code).toBe('UNAVAILABLE');
      expect((await failure(store.ping())).code).toBe('UNAVAILABLE');
      expect((await failure(store.list(tenant, { type: 'outputs', filter: {}, limit: 5 }))).code).toBe(
        'UNAVAILABLE',
      );
    } finally {
      await emulator.restart();
    }
    await healthy(store);
    const retried = await store.putBatch(tenant, pending);
    expect(retried.every((o) => o.status === 'created' || o.status === 'duplicate')).toBe(true);
    expect(await storedIds(store, tenant, [...acked, ...pending])).toBe(20);
  }, 60_000);

  test('a session the backend forgot (expiry, backend restart) is replaced by a new login', async () => {
    const tenant = freshTenant();
    const first = outputs(tenant, 5, 0);
    await store.putBatch(tenant, first);
    const loginsBefore = emulator.stats.logins;
    emulator.forgetSessions();
    const second = outputs(tenant, 5, 50);
    expect((await store.putBatch(tenant, second)).map((o) => o.status)).toEqual(Array(5).fill('created'));
    expect(emulator.stats.logins).toBe(loginsBefore + 1);
    expect(await storedIds(store, tenant, [...first, ...second])).toBe(10);
  }, 60_000);

  test('stopped, restarted and slowed mid-run: every acknowledged write survives, each record once', async () => {
    // Each fault starts on an event (a write's INSERT reaching the backend, a
    // write's failure), never after a time: the same rounds meet the same
    // faults however loaded the machine is.
    const tenant = freshTenant();
    await store.putBatch(tenant, outputs(tenant, 1, 99_999));
    const acknowledged: HubRecord[] = [];
    const unacknowledged: HubRecord[][] = [];
    const failed = new Map<number, string>();
    const write = async (round: number): Promise<void> => {
      const batch = outputs(tenant, 25, round * 25);
      try {
        const outcomes = await store.putBatch(tenant, batch);
        expect(outcomes.every((o) => o.status === 'created')).toBe(true);
        acknowledged.push(...batch);
      } catch (err) {
        if (!isHubError(err)) throw err;
        failed.set(round, err.code);
        unacknowledged.push(batch);
      }
    };
    for (let round = 0; round < 14; round++) {
      if (round === 2) {
        // The backend stops while round 2's write is on the wire (it may land
        // unacknowledged); round 3 finds it stopped.
        onNextInsert = () => void emulator.stop();
      }
      if (round === 4) {
        await emulator.restart();
        await healthy(store);
      }
      if (round === 6) {
        // Round 6's statements outlast the store's 4 s timeout from its first INSERT on.
        onNextInsert = () => (emulator.delayMs = 6000);
      }
      await write(round);
      if (round === 6) {
        emulator.delayMs = 0;
        await healthy(store);
      }
    }
    // Exactly the rounds that met a fault failed, each with a transient code.
    expect([...failed.keys()]).toEqual([2, 3, 6]);
    expect([...failed.values()].every((c) => c === 'UNAVAILABLE' || c === 'TIMEOUT')).toBe(true);
    expect(acknowledged).toHaveLength((14 - 3) * 25);
    await healthy(store);
    // Nothing acknowledged was lost...
    expect(await storedIds(store, tenant, acknowledged)).toBe(acknowledged.length);
    // ...and the caller's retries of what was not acknowledged land exactly once.
    for (const batch of unacknowledged) {
      const outcomes = await store.putBatch(tenant, batch);
      expect(outcomes.every((o) => o.status === 'created' || o.status === 'duplicate')).toBe(true);
    }
    const all = await store.scan(tenant, { type: 'outputs', limit: 10_000 });
    expect(all).toHaveLength(14 * 25 + 1);
    expect(new Set(all.map((r) => r.record_id)).size).toBe(all.length);
  }, 120_000);
});

describe('snowflake store shutdown under faults', () => {
  // In a child process, because the defect is the process not exiting: the
  // driver keeps retrying a statement the store abandoned while the backend was
  // down, sleeping up to 16 s between attempts (~80 s in all before the fix).
  test('closing the store while the driver still retries an abandoned write lets the process exit', async () => {
    const root = path.resolve(__dirname, '../..');
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [path.join(root, 'bin/run-ts.cjs'), 'test/support/snowflake-emulator/abandon-and-exit.ts'],
        // Killed (and the test failed) if it lingers; it needs ~3 s.
        { cwd: root, timeout: 25_000 },
        (err, out) =>
          err && typeof err.code !== 'number' ? reject(err) : resolve({ code: child.exitCode, stdout: out }),
      );
    });
    expect(stdout.trim()).toBe('UNAVAILABLE');
    expect(code).toBe(0);
  }, 30_000);
});

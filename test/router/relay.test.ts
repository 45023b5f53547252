/**
 * The outbox relay on an in-process outbox: several relays racing ship every
 * entry exactly once; failures are retried with backoff and lose nothing.
 */
import { HubError } from '../../src/hub/errors';
import { Hub } from '../../src/hub/hub';
import type { HubRecord } from '../../src/hub/model';
import { LocalOutbox } from '../../src/router/local-outbox';
import { OutboxRelay } from '../../src/router/outbox-relay';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { eventually, outputs, tenant } from './support';

const ACME = tenant('acme');

async function sealed(n: number, seed: number): Promise<HubRecord[]> {
  const scratch = createMemoryStore();
  const hub = new Hub(scratch);
  await hub.record(ACME, 'outputs', outputs(n, seed));
  const out: HubRecord[] = [];
  for await (const page of hub.scan(ACME)) out.push(...page);
  return out;
}

describe('outbox relay', () => {
  test('three relays racing over one outbox ship every entry exactly once', async () => {
    const outbox = new LocalOutbox();
    const shipped = new Map<string, number>();
    const ship = async (_t: unknown, records: readonly HubRecord[]): Promise<'shipped'> => {
      // Yield so the relays genuinely interleave.
      await new Promise((r) => setImmediate(r));
      for (const r of records) shipped.set(r.record_id, (shipped.get(r.record_id) ?? 0) + 1);
      return 'shipped';
    };
    const relays = [1, 2, 3].map(
      (i) => new OutboxRelay(outbox, ship, { label: `r${i}`, batchSize: 7, idleMs: 5 }),
    );
    relays.forEach((r) => r.start());
    const records = await sealed(500, 9);
    // Keep enqueueing while the relays drain.
    for (let i = 0; i < records.length; i += 50) {
      outbox.enqueue(ACME, records.slice(i, i + 50));
      relays.forEach((r) => r.kick());
      await new Promise((r) => setTimeout(r, 2));
    }
    await eventually(async () => (await outbox.outboxBacklog()).pending === 0);
    await Promise.all(relays.map((r) => r.stop()));
    expect(shipped.size).toBe(500);
    expect([...shipped.values()].every((n) => n === 1)).toBe(true);
    expect(relays.reduce((n, r) => n + r.status().shipped, 0)).toBe(500);
    // Each relay did part of the work.
    expect(relays.filter((r) => r.status().shipped > 0).length).toBeGreaterThan(1);
  });

  test('a failing ship keeps the entries and is retried with backoff until it succeeds', async () => {
    const outbox = new LocalOutbox();
    const target = createMemoryStore();
    let failuresLeft = 3;
    const attempts: number[] = [];
    const relay = new OutboxRelay(
      outbox,
      async (t, records) => {
        attempts.push(Date.now());
        if (failuresLeft-- > 0) throw new HubError('UNAVAILABLE', 'analytics down');
        await target.putBatch(t, records);
        return 'shipped';
      },
      { label: 'r', initialBackoffMs: 20, maxBackoffMs: 200, idleMs: 5 },
    );
    outbox.enqueue(ACME, await sealed(30, 4));
    relay.start();
    await eventually(async () => (await outbox.outboxBacklog()).pending === 0);
    await relay.stop();
    expect(attempts).toHaveLength(4);
    expect(relay.status()).toMatchObject({ shipped: 30, failures: 3, consecutiveFailures: 0 });
    expect(relay.status().lastError).toBe('UNAVAILABLE: analytics down');
    // Backoff grows: the gap before the third retry exceeds the first (jitter keeps it >= half).
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps[2]).toBeGreaterThanOrEqual(40);
    expect((await target.scan(ACME, { type: 'outputs', limit: 100 })).length).toBe(30);
  });

  test('lag: pending entries and the age of the oldest', async () => {
    const outbox = new LocalOutbox();
    const relay = new OutboxRelay(outbox, async () => 'shipped', { label: 'r' });
    expect(await relay.lag()).toMatchObject({ pending: 0, oldest: null, lagMs: 0 });
    outbox.enqueue(ACME, await sealed(4, 1));
    relay.kick();
    await new Promise((r) => setTimeout(r, 30));
    const lag = await relay.lag();
    expect(lag.pending).toBe(4);
    expect(lag.lagMs).toBeGreaterThanOrEqual(20);
    expect(await relay.drainOnce()).toBe(4);
    expect((await relay.lag()).pending).toBe(0);
  });
});

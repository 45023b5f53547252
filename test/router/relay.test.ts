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
    // Every ship waits until two different relays hold a claimed batch: so
    // more than one relay does part of the work by construction (an event),
    // not because the scheduler happened to interleave them.
    const shippers = new Set<string>();
    let twoShipping!: () => void;
    const twoRelaysShipping = new Promise<void>((resolve) => (twoShipping = resolve));
    const ship =
      (label: string) =>
      async (_t: unknown, records: readonly HubRecord[]): Promise<'shipped'> => {
        shippers.add(label);
        if (shippers.size >= 2) twoShipping();
        await twoRelaysShipping;
        // Yield so the relays genuinely interleave.
        await new Promise((r) => setImmediate(r));
        for (const r of records) shipped.set(r.record_id, (shipped.get(r.record_id) ?? 0) + 1);
        return 'shipped';
      };
    const relays = [1, 2, 3].map(
      (i) => new OutboxRelay(outbox, ship(`r${i}`), { label: `r${i}`, batchSize: 7, idleMs: 5 }),
    );
    relays.forEach((r) => r.start());
    const records = await sealed(500, 9);
    // Keep enqueueing while the relays drain (a turn of the event loop between chunks).
    for (let i = 0; i < records.length; i += 50) {
      outbox.enqueue(ACME, records.slice(i, i + 50));
      relays.forEach((r) => r.kick());
      await new Promise((r) => setImmediate(r));
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
    let attempts = 0;
    const waits: unknown[] = [];
    const relay = new OutboxRelay(
      outbox,
      async (t, records) => {
        attempts++;
        if (failuresLeft-- > 0) throw new HubError('UNAVAILABLE', 'analytics down');
        await target.putBatch(t, records);
        return 'shipped';
      },
      {
        label: 'r',
        initialBackoffMs: 20,
        maxBackoffMs: 200,
        idleMs: 5,
        // The jitter's floor (half the backoff), so the waits are known exactly.
        random: () => 0,
        log: (event, fields) => {
          if (event === 'relay.ship_failed') waits.push(fields?.retryInMs);
        },
      },
    );
    outbox.enqueue(ACME, await sealed(30, 4));
    relay.start();
    await eventually(async () => (await outbox.outboxBacklog()).pending === 0);
    await relay.stop();
    expect(attempts).toBe(4);
    expect(relay.status()).toMatchObject({ shipped: 30, failures: 3, consecutiveFailures: 0 });
    expect(relay.status().lastError).toBe('UNAVAILABLE: analytics down');
    // Backoff doubles per consecutive failure (20, 40, 80 ms; half of each with the jitter's floor).
    expect(waits).toEqual([10, 20, 40]);
    expect((await target.scan(ACME, { type: 'outputs', limit: 100 })).length).toBe(30);
  });

  test('lag: pending entries and the age of the oldest', async () => {
    const outbox = new LocalOutbox();
    // An injected clock: the age of the oldest entry is exact, no time has to pass.
    let clock = Date.now();
    const relay = new OutboxRelay(outbox, async () => 'shipped', { label: 'r', now: () => clock });
    expect(await relay.lag()).toMatchObject({ pending: 0, oldest: null, lagMs: 0 });
    outbox.enqueue(ACME, await sealed(4, 1));
    relay.kick();
    const oldest = (await outbox.outboxBacklog()).oldest as string;
    clock = Date.parse(oldest) + 30_000;
    const lag = await relay.lag();
    expect(lag.pending).toBe(4);
    expect(lag.lagMs).toBe(30_000);
    expect(await relay.drainOnce()).toBe(4);
    expect((await relay.lag()).pending).toBe(0);
  });
});

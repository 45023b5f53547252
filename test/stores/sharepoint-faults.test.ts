/**
 * Faults between the SharePoint store and its backend, on the REST emulator:
 * throttling (429/503 with Retry-After in seconds or as an HTTP-date, per-part
 * 429 inside a $batch), responses lost after the write landed, a persistently
 * throttled list, a wrong token, the backend down or slow, and the list view
 * threshold. Throttling is retried with small caps (retryCapMs) so the file
 * stays fast; the waits the store computed are checked through its log, never
 * by measuring time.
 */
import { randomBytes } from 'node:crypto';
import { isHubError } from '../../src/hub/errors';
import { Hub } from '../../src/hub/hub';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { sharepointDriver } from '../../src/stores/sharepoint/sharepoint-driver';
import { LIST_TITLES } from '../../src/stores/sharepoint/sharepoint-schema';
import type { SharePointStore } from '../../src/stores/sharepoint/sharepoint-store';
import {
  type SharePointEmulator,
  emulatorStoreUri,
  startSharePointEmulator,
} from '../support/sharepoint-emulator';
import { failure, numberedOutputs } from '../support/fault-helpers';

const run = randomBytes(3).toString('hex');
let counter = 0;
const freshTenant = (): TenantId => parseTenantId(`spf-${run}-${++counter}`);

const outputs = numberedOutputs;

type Event = { event: string; fields?: Record<string, unknown> };

describe('sharepoint store under faults', () => {
  let emulator: SharePointEmulator;
  let store: SharePointStore;
  const events: Event[] = [];

  /** Items stored in a tenant's list, straight from the emulator. */
  const stored = (tenant: TenantId, type: keyof typeof LIST_TITLES = 'outputs'): number =>
    emulator.sites.get(`/sites/claresia-${tenant}`)?.lists.get(LIST_TITLES[type].toLowerCase())?.items.size ??
    0;

  beforeAll(async () => {
    emulator = await startSharePointEmulator({ listViewThreshold: 50 });
    store = (await sharepointDriver.open(emulatorStoreUri(emulator, { retries: 3, retryCapMs: 100 }), {
      log: (event, fields) => events.push({ event, fields }),
    })) as SharePointStore;
  });
  afterEach(() => {
    emulator.clearThrottles();
    emulator.delayMs = 0;
    events.length = 0;
  });
  afterAll(async () => {
    await store.close();
    await emulator.close();
  });

  test('429 with Retry-After in seconds, then as an HTTP-date: retried, nothing lost or doubled', async () => {
    const tenant = freshTenant();
    await store.provision(tenant);
    emulator.throttle({ scope: 'request', times: 2, retryAfter: '1' });
    const records = outputs(tenant, 30);
    expect((await store.putBatch(tenant, records)).every((o) => o.status === 'created')).toBe(true);
    const date = new Date(Date.now() + 60_000).toUTCString();
    emulator.throttle({ scope: 'request', times: 2, status: 503, retryAfter: date });
    const more = outputs(tenant, 30, 30);
    expect((await store.putBatch(tenant, more)).every((o) => o.status === 'created')).toBe(true);
    expect(stored(tenant)).toBe(60);
    const retries = events.filter((e) => e.event === 'sharepoint.retry').map((e) => e.fields);
    expect(retries.map((f) => [f?.status, f?.retryAfter])).toEqual([
      [429, '1'],
      [429, '1'],
      [503, date],
      [503, date],
    ]);
    // Both forms were read (1 s, ~60 s) and capped at retryCapMs.
    expect(retries.every((f) => f?.delayMs === 100)).toBe(true);
    const back = await store.getByIds(
      tenant,
      'outputs',
      [...records, ...more].map((r) => r.record_id),
    );
    expect(back.every((r) => r !== null)).toBe(true);
  });

  test('per-part 429s inside a $batch are re-queued: every record lands exactly once', async () => {
    const tenant = freshTenant();
    await store.provision(tenant);
    let n = 0;
    // Every third item add is refused once (seconds), plus a few refused with an HTTP-date (which pnp drops).
    emulator.throttle({
      scope: 'part',
      times: 40,
      retryAfter: () => (n++ % 2 ? '1' : new Date(Date.now() + 1000).toUTCString()),
      match: (r) => r.method === 'POST' && r.path.endsWith('/items'),
    });
    const records = outputs(tenant, 100);
    const outcomes = await store.putBatch(tenant, records);
    expect(outcomes.every((o) => o.status === 'created')).toBe(true);
    expect(stored(tenant)).toBe(100);
    expect(events.some((e) => e.event === 'sharepoint.batch_requeue')).toBe(true);
    const ids = new Set((await store.scan(tenant, { type: 'outputs', limit: 500 })).map((r) => r.record_id));
    expect(ids).toEqual(new Set(records.map((r) => r.record_id)));
  });

  test('a $batch whose answer is lost after it was applied: retried, reported created, not doubled', async () => {
    const tenant = freshTenant();
    await store.provision(tenant);
    emulator.loseResponses({ times: 1, match: (r) => r.path.endsWith('/$batch') });
    const records = outputs(tenant, 20);
    const outcomes = await store.putBatch(tenant, records);
    // SharePoint refused the repeated adds (unique record_id); the write id says they were ours.
    expect(outcomes.map((o) => o.status)).toEqual(records.map(() => 'created'));
    expect(events.some((e) => e.event === 'sharepoint.retry' && e.fields?.reason === 'network')).toBe(true);
    expect(stored(tenant)).toBe(20);
    // Another writer's copy of the same records is a duplicate.
    expect((await store.putBatch(tenant, records)).every((o) => o.status === 'duplicate')).toBe(true);
  });

  test('a persistently throttled list ends in THROTTLED; nothing is reported created and a retry completes', async () => {
    const tenant = freshTenant();
    await store.provision(tenant);
    const outs = outputs(tenant, 5);
    const events2 = sealBatch(tenant, 'telemetry_events', [{ name: 'a' }, { name: 'b' }]);
    emulator.throttle({
      scope: 'part',
      times: Infinity,
      match: (r) => r.path.includes(`getByTitle('${LIST_TITLES.outputs}')/items`),
    });
    const err = await failure(store.putBatch(tenant, [...outs, ...events2]));
    expect(err.code).toBe('THROTTLED');
    expect(err.message).toMatch(/5 of 7 records still refused/);
    // The other list's records did land; they were not acknowledged.
    expect(stored(tenant, 'telemetry_events')).toBe(2);
    expect(stored(tenant)).toBe(0);
    emulator.clearThrottles();
    // Another process (no memory of the failed call) sees the landed records as duplicates.
    const other = await sharepointDriver.open(emulatorStoreUri(emulator));
    expect((await other.putBatch(tenant, events2)).map((o) => o.status)).toEqual(['duplicate', 'duplicate']);
    await other.close();
    // This process acknowledges them on the retry, once: they were never acknowledged before
    // (what a transactional store would report, and what the router's in-process outbox ships).
    const retry = await store.putBatch(tenant, [...outs, ...events2]);
    expect(retry.map((o) => o.status)).toEqual([...outs.map(() => 'created'), 'created', 'created']);
    expect((await store.putBatch(tenant, events2)).map((o) => o.status)).toEqual(['duplicate', 'duplicate']);
    expect(stored(tenant)).toBe(5);
    expect(stored(tenant, 'telemetry_events')).toBe(2);

    // Whole requests throttled for good: THROTTLED too, with the 429 as cause.
    emulator.throttle({ scope: 'request', times: Infinity, retryAfter: '0' });
    const again = await failure(store.putBatch(tenant, outputs(tenant, 2, 100)));
    expect(again.code).toBe('THROTTLED');
    expect((again.cause as { status?: number }).status).toBe(429);
  });

  test('a wrong token is UNAUTHENTICATED and the token appears nowhere in the error', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const bad = await sharepointDriver.open(emulatorStoreUri(emulator, { token: secret }));
    try {
      const tenant = freshTenant();
      for (const call of [
        () => bad.putBatch(tenant, outputs(tenant, 1)),
        () => bad.getByIds(tenant, 'outputs', [outputs(tenant, 1)[0]?.record_id as string]),
        () => bad.ping(),
      ]) {
        const err = await failure(call());
        expect(err.code).toBe('UNAUTHENTICATED');
        const everything = `${err.message} ${String(err.cause)} ${JSON.stringify(err.cause)} ${err.stack}`;
        expect(everything).not.toContain(secret);
      }
    } finally {
      await bad.close();
    }
  });

  test('backend down: UNAVAILABLE; slow: TIMEOUT; and it recovers', async () => {
    const tenant = freshTenant();
    const quick = await sharepointDriver.open(
      emulatorStoreUri(emulator, { retries: 1, retryCapMs: 10, timeoutMs: 300 }),
    );
    try {
      const records = outputs(tenant, 3);
      expect((await quick.putBatch(tenant, records)).every((o) => o.status === 'created')).toBe(true);
      await emulator.stop();
      for (const call of [
        () => quick.getByIds(tenant, 'outputs', [records[0]?.record_id as string]),
        () => quick.list(tenant, { type: 'outputs', filter: {}, limit: 10 }),
        () => quick.putBatch(tenant, outputs(tenant, 1, 50)),
        () => quick.ping(),
      ])
        expect((await failure(call())).code).toBe('UNAVAILABLE');
      await emulator.restart();
      emulator.delayMs = 1000;
      expect((await failure(quick.list(tenant, { type: 'outputs', filter: {}, limit: 10 }))).code).toBe(
        'TIMEOUT',
      );
      emulator.delayMs = 0;
      expect((await quick.list(tenant, { type: 'outputs', filter: {}, limit: 10 })).length).toBe(3);
    } finally {
      await quick.close();
    }
  });

  test('list view threshold: over 50 items, every list filter and rollup still runs (indexed columns only)', async () => {
    const tenant = freshTenant();
    const hub = new Hub(store);
    const records = outputs(tenant, 120);
    for (let at = 0; at < records.length; at += 100)
      await store.putBatch(tenant, records.slice(at, at + 100));
    await hub.record(
      tenant,
      'decisions',
      Array.from({ length: 60 }, (_, i) => ({
        output_id: records[i % 5]?.record_id,
        skill_id: 'skill.1',
        decided_by: 'm',
        outcome: i % 2 ? 'ACCEPTED' : 'REJECTED',
      })),
    );
    const pages = [
      { skillIds: ['skill.1', 'skill.2'] },
      { employeeId: 'emp-3' },
      { status: 'SUCCEEDED' as const },
      { from: '2026-03-01T00:00:30.000Z', to: '2026-03-01T00:01:00.000Z' },
    ];
    for (const filter of pages) {
      const page = await hub.list(tenant, 'outputs', filter, { first: 500 });
      expect(page.records.length).toBeGreaterThan(0);
    }
    expect(
      (await hub.list(tenant, 'decisions', { outcome: 'ACCEPTED' }, { first: 500 })).records,
    ).toHaveLength(30);
    expect((await hub.list(tenant, 'decisions', { outputId: records[0]?.record_id })).records).toHaveLength(
      12,
    );
    const range = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
    const rows = await hub.costPerSkill(tenant, { ...range, bucket: 'DAY' });
    expect(rows.reduce((s, r) => s + r.invocations, 0)).toBe(120);
    // The provisioned columns a query filters or orders on are all indexed.
    const site = emulator.sites.get(`/sites/claresia-${tenant}`);
    for (const list of site?.lists.values() ?? []) {
      if (list.baseTemplate !== 100) continue;
      const unindexed = [...list.fields.values()].filter((f) => !f.indexed).map((f) => f.internalName);
      expect(unindexed.sort()).toEqual(['Created', 'HubHash', 'HubJson', 'HubWriteId', 'Modified', 'Title']);
    }
  });

  test('tenant isolation: each tenant is its own site; a store instance never reads another site', async () => {
    const a = freshTenant();
    const b = freshTenant();
    const ra = outputs(a, 3);
    await store.putBatch(a, ra);
    const seen: string[] = [];
    const spy = await startSharePointEmulator({ token: emulator.token, log: (line) => seen.push(line) });
    const spyStore = await sharepointDriver.open(emulatorStoreUri(spy));
    try {
      await spyStore.putBatch(a, outputs(a, 2));
      await spyStore.getByIds(
        b,
        'outputs',
        ra.map((r) => r.record_id),
      );
      await spyStore.list(b, { type: 'outputs', filter: {}, limit: 10 });
      expect(seen.filter((l) => l.includes(`/sites/claresia-${b}/`)).length).toBeGreaterThan(0);
      const sitesTouched = new Set(seen.map((l) => /\/sites\/[^/]+/.exec(l)?.[0]).filter(Boolean));
      expect(sitesTouched).toEqual(new Set([`/sites/claresia-${a}`, `/sites/claresia-${b}`]));
      // b's calls went to b's site only (a's records exist only on a's site).
      expect(
        await spyStore.getByIds(
          b,
          'outputs',
          ra.map((r) => r.record_id),
        ),
      ).toEqual([null, null, null]);
    } finally {
      await spyStore.close();
      await spy.close();
    }
    // A record sealed for another tenant is refused before anything is written (checkSealedBatch).
    expect(isHubError(await failure(store.putBatch(a, outputs(b, 1))), 'VALIDATION')).toBe(true);
  });
});

/**
 * The dual-write outbox of the PostgreSQL store, on a server and on PGlite:
 * one entry per created record written with it, drained across tenants under
 * RLS (relay scope), exactly once between concurrent relays, kept when
 * shipping fails, and given back at once when their records cannot be loaded.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubRecord } from '../../src/hub/model';
import { type HubStore, type OutboxEntry, type OutboxSource, hasOutbox } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const A = parseTenantId('outbox-a');
const B = parseTenantId('outbox-b');

function records(tenant: typeof A, n: number): HubRecord[] {
  return sealBatch(
    tenant,
    'outputs',
    Array.from({ length: n }, (_, i) => ({
      record_id: randomUUID(),
      created_at: new Date(Date.UTC(2026, 1, 1) + i).toISOString(),
      skill_id: 's',
      employee_id: 'e',
      status: 'SUCCEEDED',
      content: { i },
    })),
  );
}

type Dialect = { name: string; open: (outbox: boolean) => Promise<HubStore>; done: () => Promise<void> };

let pg: PgTestDatabase | undefined;
let dir: string | undefined;
const dialects: Dialect[] = [
  {
    name: 'postgres',
    open: async (outbox) => {
      pg ??= await createTestDatabase();
      return openStore(pg.appUri, { outbox });
    },
    done: async () => pg?.drop(),
  },
  {
    // A directory, so a second store on it shares the same database (one PGlite per directory).
    name: 'pglite',
    open: async (outbox) => {
      dir ??= await mkdtemp(join(tmpdir(), 'hub-outbox-'));
      return openStore(`pglite:${dir}`, { outbox });
    },
    done: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  },
];

describe.each(dialects)('outbox on $name', ({ open, done }) => {
  let store: HubStore & OutboxSource;
  const written = new Map<string, HubRecord>();

  beforeAll(async () => {
    const s = await open(true);
    if (!hasOutbox(s)) throw new Error('store should offer an outbox');
    store = s;
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await done();
  });

  test('putBatch writes one entry per created record, none for duplicates', async () => {
    const a = records(A, 6);
    const b = records(B, 4);
    await store.putBatch(A, a);
    await store.putBatch(B, b);
    await store.putBatch(A, a); // duplicates: no new entries
    // New and existing together: the all-new attempt fails and writes nothing;
    // the per-record one writes the three new records and their entries only.
    const c = records(A, 3);
    const mixed = await store.putBatch(A, [a[0] as HubRecord, ...c, a[1] as HubRecord]);
    expect(mixed.map((o) => o.status)).toEqual(['duplicate', 'created', 'created', 'created', 'duplicate']);
    for (const r of [...a, ...b, ...c]) written.set(r.record_id, r);
    const backlog = await store.outboxBacklog();
    expect(backlog.pending).toBe(13);
    expect(backlog.oldest).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('a failed shipment leaves the entries for the next attempt', async () => {
    await expect(
      store.drainOutbox(3, async () => {
        throw new Error('warehouse down');
      }),
    ).rejects.toThrow('warehouse down');
    expect((await store.outboxBacklog()).pending).toBe(13);
  });

  test('concurrent relays ship every entry exactly once, with the full record of each tenant', async () => {
    const shipped: OutboxEntry[] = [];
    const ship = async (entries: readonly OutboxEntry[]): Promise<void> => {
      shipped.push(...entries);
    };
    const counts = await Promise.all([store.drainOutbox(3, ship), store.drainOutbox(3, ship)]);
    expect(counts[0] + counts[1]).toBe(6);
    while ((await store.drainOutbox(3, ship)) > 0);
    expect(shipped).toHaveLength(13);
    expect(new Set(shipped.map((e) => e.id)).size).toBe(13);
    for (const e of shipped) {
      expect(e.record).toEqual(written.get(e.record.record_id));
      expect(e.tenant).toBe(e.record.tenant_id);
    }
    expect(await store.outboxBacklog()).toEqual({ pending: 0, oldest: null });
  });

  test('purgeTenant removes that tenant’s pending entries only', async () => {
    await store.putBatch(A, records(A, 2));
    await store.putBatch(B, records(B, 3));
    await store.purgeTenant(A);
    const seen: OutboxEntry[] = [];
    await store.drainOutbox(100, async (entries) => {
      seen.push(...entries);
    });
    expect(seen.map((e) => e.tenant)).toEqual([B, B, B]);
  });

  test('a store opened without its outbox writes no entries', async () => {
    const plain = await open(false);
    try {
      await plain.putBatch(A, records(A, 3));
      expect((await store.outboxBacklog()).pending).toBe(0);
    } finally {
      await plain.close();
    }
  });
});

describe('outbox on postgres: entries claimed whose records cannot be loaded', () => {
  let db: PgTestDatabase;
  let admin: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.adminUri });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  test('are given back at once: the next drain ships them instead of waiting out the lease', async () => {
    // The default lease (300 s): a claim left in place would hide the entries for five minutes.
    const store = await openStore(db.appUri, { outbox: true });
    try {
      if (!hasOutbox(store)) throw new Error('store should offer an outbox');
      const written = records(A, 3);
      await store.putBatch(A, written);
      // Claiming (relay role) still works; loading the records (application role) fails.
      await admin.query(`REVOKE SELECT ON hub.outputs FROM ${db.appRole}`);
      const shipped: OutboxEntry[] = [];
      const ship = async (entries: readonly OutboxEntry[]): Promise<void> => {
        shipped.push(...entries);
      };
      await expect(store.drainOutbox(10, ship)).rejects.toThrow();
      expect(shipped).toEqual([]);
      await admin.query(`GRANT SELECT ON hub.outputs TO ${db.appRole}`);
      expect(await store.drainOutbox(10, ship)).toBe(3);
      expect(shipped.map((e) => e.record.record_id).sort()).toEqual(written.map((r) => r.record_id).sort());
      expect(await store.outboxBacklog()).toEqual({ pending: 0, oldest: null });
    } finally {
      await store.close();
    }
  });
});

/**
 * An online PostgreSQL -> PostgreSQL move of a tenant taking writes through
 * two gateway replicas (routing stores following the PostgreSQL control
 * plane): no acknowledged write lost or duplicated through create, switch,
 * reverse, a second switch and complete; both replicas read from the new
 * primary; `verify` clean; another tenant on the same source untouched and
 * never fenced.
 */
import { PgControlPlane } from '../../src/control/pg-control';
import { Hub } from '../../src/hub/hub';
import type { TenantId } from '../../src/hub/tenant';
import { isClean } from '../../src/migrate/compare';
import { Mover } from '../../src/move/move';
import { openStore } from '../../src/stores';
import { createTestDatabase, type PgTestDatabase } from '../support/pg-harness';
import { type Replica, settle, startReplica, startWriter } from './support';
import { tenant as t } from '../router/support';

jest.setTimeout(240_000);

const acme = t('acme');
const beta = t('beta');

let src: PgTestDatabase;
let dst: PgTestDatabase;
let controlUrl: string;
const replicas: Replica[] = [];
let plane: PgControlPlane;

function ownerUrl(db: PgTestDatabase): string {
  const u = new URL(db.ownerUri);
  u.search = '';
  return u.toString();
}

beforeAll(async () => {
  [src, dst] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  controlUrl = ownerUrl(src);
  plane = await PgControlPlane.open(controlUrl);
  const config = { pgUrl: src.appUri, dataDir: '/nonexistent' };
  for (let i = 0; i < 2; i++)
    replicas.push(await startReplica(config, await PgControlPlane.open(controlUrl)));
});

afterAll(async () => {
  for (const r of replicas) await r.close();
  await plane?.close();
  await Promise.all([src?.drop(), dst?.drop()]);
});

async function idsIn(uri: string, tenant: TenantId, ids: readonly string[]): Promise<number> {
  const store = await openStore(uri);
  try {
    let found = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const got = await store.getByIds(tenant, 'telemetry_events', ids.slice(i, i + 500));
      found += got.filter((r) => r !== null).length;
    }
    return found;
  } finally {
    await store.close();
  }
}

async function count(uri: string, tenant: TenantId): Promise<number> {
  const store = await openStore(uri);
  try {
    let n = 0;
    let after;
    for (;;) {
      const page = await store.scan(tenant, {
        type: 'telemetry_events',
        limit: 1000,
        ...(after ? { after } : {}),
      });
      n += page.length;
      const last = page[page.length - 1];
      if (!last || page.length < 1000) return n;
      after = { created_at: last.created_at, record_id: last.record_id };
    }
  } finally {
    await store.close();
  }
}

test('online move under writes on two replicas: nothing lost or duplicated, reverse and complete', async () => {
  // Seed both tenants on the source through the replicas.
  const seedHub = replicas[0]?.hub as Hub;
  const seeded: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await seedHub.record(
      acme,
      'telemetry_events',
      Array.from({ length: 500 }, (_, j) => ({ name: `seed-${i}-${j}` })),
    );
    seeded.push(...res.map((r) => r.record_id));
  }
  await seedHub.record(beta, 'telemetry_events', [{ name: 'beta-before' }]);

  const mover = new Mover({
    plane,
    openStore,
    configuredPrimary: async () => src.appUri,
  });
  const writer = startWriter(replicas, acme, 'during');
  const betaWriter = startWriter(replicas, beta, 'beta');

  await writer.more(5);
  const created = await mover.create(acme, dst.appUri, 'online');
  expect(created.phase).toBe('replicating');
  const first = await mover.switch(acme);
  expect(first.move).toMatchObject({ phase: 'switched', primaryIs: 'target' });
  // Writes keep flowing to the new primary; reverse moves back with nothing lost.
  await writer.more(20);
  const back = await mover.reverse(acme);
  expect(back.move).toMatchObject({ phase: 'replicating', primaryIs: 'source' });
  await writer.more(20);
  const second = await mover.switch(acme);
  await writer.more(20);
  await writer.stop();
  process.stdout.write(
    `fences: ${first.fenceMs}, ${back.fenceMs}, ${second.fenceMs} ms; writes ${writer.acked.length} acknowledged, ${writer.refused} refused during fences\n`,
  );
  await betaWriter.stop();
  await settle(replicas);

  const acked = [...seeded, ...writer.acked];
  expect(writer.acked.length).toBeGreaterThan(0);
  // Every acknowledged write is in the new primary, and in the old one (reverse replication), exactly once.
  expect(await idsIn(dst.appUri, acme, acked)).toBe(acked.length);
  expect(await count(dst.appUri, acme)).toBe(acked.length);
  expect(await idsIn(src.appUri, acme, acked)).toBe(acked.length);
  const report = await mover.verify(acme);
  expect(isClean(report)).toBe(true);

  await mover.complete(acme);
  // Both replicas now read acme from the destination: a record written only there is visible through each.
  const direct = await openStore(dst.appUri);
  const [marker] = await new Hub(direct).record(acme, 'telemetry_events', [{ name: 'only-in-dst' }]);
  await direct.close();
  for (const r of replicas) {
    await r.watcher.check();
    const [got] = await r.hub.get(acme, 'telemetry_events', [marker?.record_id as string]);
    expect(got?.record_id).toBe(marker?.record_id);
  }

  // Tenant beta: never fenced, never copied, all its writes on the source.
  expect(betaWriter.refused).toBe(0);
  expect(await count(dst.appUri, beta)).toBe(0);
  expect(await idsIn(src.appUri, beta, betaWriter.acked)).toBe(betaWriter.acked.length);
});

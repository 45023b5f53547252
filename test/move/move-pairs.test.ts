/**
 * Moves between each pair of stores the seed names, through the same code a
 * gateway runs (a routing store following a file control plane): memory ->
 * PGlite and SharePoint emulator (throttling on) -> PostgreSQL in read-only
 * mode, PostgreSQL -> SharePoint emulator in read-only mode, PGlite ->
 * PostgreSQL and PostgreSQL -> Snowflake emulator online. Each case writes
 * during the copy, checks writes are refused with READ_ONLY (read-only mode)
 * or held until the switch lands them on the new primary (online mode), reads
 * served meanwhile, verifies both stores clean, and finds
 * another tenant of the source untouched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileControlPlane } from '../../src/control/file-control';
import type { Hub } from '../../src/hub/hub';
import type { RecordType } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { isClean } from '../../src/migrate/compare';
import type { MoveMode } from '../../src/control/control-plane';
import { Mover } from '../../src/move/move';
import { generateDataset } from '../../src/seed/generator';
import { openStore } from '../../src/stores';
import { createTestDatabase, type PgTestDatabase } from '../support/pg-harness';
import {
  type SharePointEmulator,
  emulatorStoreUri as sharePointUri,
  startSharePointEmulator,
} from '../support/sharepoint-emulator';
import {
  type SnowflakeEmulator,
  emulatorStoreUri as snowflakeUri,
  startSnowflakeEmulator,
} from '../support/snowflake-emulator';
import { sharingOpener, tenant as t } from '../router/support';
import { startReplica } from './support';

jest.setTimeout(300_000);

const acme = t('acme');
const beta = t('beta');

let dir: string;
let pg: PgTestDatabase;
let pg2: PgTestDatabase;
let sp: SharePointEmulator;
let sf: SnowflakeEmulator;
const shared: Record<string, HubStore> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-move-'));
  [pg, pg2, sp, sf] = await Promise.all([
    createTestDatabase(),
    createTestDatabase(),
    startSharePointEmulator(),
    startSnowflakeEmulator(),
  ]);
  // One instance per in-process store, shared by the replica and the mover (as one process would).
  shared['memory:a'] = await openStore('memory:a');
  shared[`pglite:${join(dir, 'pglite')}`] = await openStore(`pglite:${join(dir, 'pglite')}`, {
    outbox: true,
  });
});

afterAll(async () => {
  for (const s of Object.values(shared)) await s.close();
  await Promise.all([pg?.drop(), pg2?.drop(), sp?.close(), sf?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function seed(hub: Hub): Promise<number> {
  const data = generateDataset({ seed: 7, days: 6, outputsPerDay: 10, managers: 1, teamSize: 3 });
  let n = 0;
  for (const [type, inputs] of Object.entries(data)) {
    n += (await hub.record(acme, type as RecordType, inputs)).length;
  }
  await hub.record(beta, 'telemetry_events', [{ name: 'beta' }]);
  return n;
}

const cases: [string, () => string, () => string, MoveMode][] = [
  ['memory -> PGlite', () => 'memory:a', () => `pglite:${join(dir, 'pglite')}`, 'read-only'],
  [
    'PostgreSQL -> SharePoint (throttled)',
    () => pg.appUri,
    () => sharePointUri(sp, { retryCapMs: 2000 }),
    'read-only',
  ],
  [
    'SharePoint (throttled) -> PostgreSQL',
    () => sharePointUri(sp, { retryCapMs: 2000 }),
    () => pg2.appUri,
    'read-only',
  ],
  ['PGlite -> PostgreSQL', () => `pglite:${join(dir, 'pglite')}`, () => pg.appUri, 'online'],
  ['PostgreSQL -> Snowflake', () => pg2.appUri, () => snowflakeUri(sf), 'online'],
];

// Cases run in order: each moves acme off a store the previous case filled... so each starts from an empty acme.
test.each(cases)('%s', async (name, sourceOf, targetOf, mode) => {
  const source = sourceOf();
  const target = targetOf();
  const opener = sharingOpener(shared);
  const sourceStore = await opener(source);
  // Each case starts from a clean tenant on the source.
  await sourceStore.purgeTenant(acme);
  await sourceStore.purgeTenant(beta);
  const controlFile = join(dir, `control-${Math.random().toString(36).slice(2)}.json`);
  const plane = new FileControlPlane(controlFile, 20);
  const config = { configFile: undefined, pgUrl: undefined, dataDir: dir };
  // The replica's base config: both tenants on the source (the control plane overrides acme).
  await plane.commit({ tenant: { id: beta, primary: source, state: 'active' } });
  await plane.commit({ tenant: { id: acme, primary: source, state: 'active' } });
  const replica = await startReplica(config, new FileControlPlane(controlFile, 20), opener);
  try {
    const total = await seed(replica.hub);
    let held: Promise<{ record_id: string; status: string }[]> | undefined;
    const mover = new Mover({
      plane,
      openStore: opener,
      configuredPrimary: async () => source,
      checkpoint: async (point) => {
        if (point !== 'fenced') return;
        if (mode === 'online') {
          // Fenced: a write is held (not refused) until the switch lifts the fence, then goes to the new primary.
          held = replica.hub.record(acme, 'telemetry_events', [{ name: 'held' }]);
        } else {
          // The replica applied the refusal before the mover went on: writes refused.
          await expect(
            replica.hub.record(acme, 'telemetry_events', [{ name: 'refused' }]),
          ).rejects.toMatchObject({
            code: 'READ_ONLY',
          });
        }
        // Reads served, other tenants untouched.
        expect((await replica.hub.list(acme, 'outputs', {}, { first: 1 })).records.length).toBe(1);
        expect((await replica.hub.record(beta, 'telemetry_events', [{ name: 'beta-ok' }]))[0]?.status).toBe(
          'created',
        );
      },
    });
    // SharePoint throttles (429 with Retry-After) some of the move's requests; the store waits as asked.
    if (name.includes('SharePoint')) sp.throttle({ scope: 'part', times: 3, retryAfter: '1' });
    const throttledBefore = sp.stats.throttled;
    await mover.create(acme, target, mode);
    // A write after the copy: replicated (online) or picked up by the final sync (read-only).
    const [late] = await replica.hub.record(acme, 'telemetry_events', [{ name: 'late' }]);
    const { move } = await mover.switch(acme);
    expect(move.phase).toBe('switched');
    const heldWrite = mode === 'online' ? (await held)?.[0] : undefined;
    if (mode === 'online') {
      // The held write was acknowledged once the switch lifted the fence (found on the target below).
      expect(heldWrite?.status).toBe('created');
      // Replicated by the relay: wait for it to reach the target before comparing.
      await replica.watcher.check();
    }
    const report = await mover.verify(acme);
    if (name.includes('Snowflake')) {
      // No reverse replication from a store without a durable outbox: the write held
      // through the fence went to the new primary only, and verify names it.
      expect(report).toMatchObject({ missing: 1, extra: 0, differs: 0, invalid: 0 });
      expect(report.first[0]?.record_id).toBe(heldWrite?.record_id);
    } else expect(isClean(report)).toBe(true);
    await mover.complete(acme);
    await replica.watcher.check();
    // The replica now serves acme from the target, with every record.
    const targetStore = await opener(target);
    const [found] = await targetStore.getByIds(acme, 'telemetry_events', [late?.record_id as string]);
    expect(found?.record_id).toBe(late?.record_id);
    if (heldWrite) {
      const [landed] = await targetStore.getByIds(acme, 'telemetry_events', [heldWrite.record_id]);
      expect(landed?.record_id).toBe(heldWrite.record_id);
    }
    const after = await replica.hub.record(acme, 'telemetry_events', [{ name: 'after' }]);
    expect(
      (await targetStore.getByIds(acme, 'telemetry_events', [after[0]?.record_id as string]))[0],
    ).not.toBeNull();
    expect(total).toBeGreaterThan(50);
    // Beta never left the source.
    expect(await targetStore.scan(beta, { type: 'telemetry_events', limit: 5 })).toEqual([]);
    expect((await sourceStore.scan(beta, { type: 'telemetry_events', limit: 5 })).length).toBe(2);
    if (name.includes('SharePoint')) expect(sp.stats.throttled).toBeGreaterThan(throttledBefore);
    await targetStore.purgeTenant(acme);
    await targetStore.close();
    await sourceStore.purgeTenant(acme);
    await sourceStore.purgeTenant(beta);
  } finally {
    await replica.close();
    await sourceStore.close();
  }
});

test('a source without an outbox refuses online mode, saying to use read-only', async () => {
  const plane = new FileControlPlane(join(dir, 'control-refuse.json'), 20);
  const source = sharePointUri(sp);
  const mover = new Mover({ plane, openStore, configuredPrimary: async () => source });
  await expect(mover.create(acme, pg.appUri, 'online')).rejects.toMatchObject({
    code: 'VALIDATION',
    message: expect.stringContaining('--mode read-only'),
  });
  expect(await plane.getMove(acme)).toBeNull();
});

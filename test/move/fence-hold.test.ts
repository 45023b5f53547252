/**
 * The write fence of a switch as a gateway replica enforces it: a write of a
 * fenced tenant is held (not refused) until the routes change, then sent to
 * the primary they name; held longer than the bound it is refused with
 * READ_ONLY and Retry-After; another tenant's writes are never held. A
 * replica whose view of the control plane has not been confirmed within its
 * lease holds the writes of moving tenants the same way (a move counts it as
 * gone and stops waiting for it), until a check confirms it again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileControlPlane } from '../../src/control/file-control';
import type { HubStore } from '../../src/hub/store';
import { openStore } from '../../src/stores';
import { sharingOpener, tenant as t } from '../router/support';
import { type Replica, startReplica } from './support';

const acme = t('acme');
const beta = t('beta');

let dir: string;
const shared: Record<string, HubStore> = {};
let plane: FileControlPlane;
const replicas: Replica[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-fence-'));
  // The catch-all (the embedded store's URI) and the two primaries are memory stores.
  shared[`pglite:${dir}`] = await openStore('memory:catch-all');
  shared['memory:a'] = await openStore('memory:a');
  shared['memory:b'] = await openStore('memory:b');
  plane = new FileControlPlane(join(dir, 'control.json'), 20);
  await plane.commit({ tenant: { id: acme, primary: 'memory:a', state: 'moving', fenced: true } });
});

afterEach(async () => {
  for (const r of replicas.splice(0)) await r.close();
  for (const s of Object.values(shared)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function replica(
  options: { fenceHoldMs?: number; clock?: () => number; intervalMs?: number; pollMs?: number } = {},
): Promise<Replica> {
  const { pollMs, ...rest } = options;
  const r = await startReplica(
    { dataDir: dir },
    new FileControlPlane(join(dir, 'control.json'), pollMs ?? 20),
    sharingOpener(shared),
    rest,
  );
  replicas.push(r);
  return r;
}

/** Resolves once `r` holds `n` writes (each turn of the event loop checks). */
async function holding(r: Replica, n: number): Promise<void> {
  while (r.store.heldWrites < n) await new Promise((resolve) => setImmediate(resolve));
}

test('a fenced write is held, then written to the primary the flip names', async () => {
  const r = await replica();
  const write = r.hub.record(acme, 'telemetry_events', [{ name: 'held' }]);
  await holding(r, 1);
  // Another tenant writes while acme is fenced.
  expect((await r.hub.record(beta, 'telemetry_events', [{ name: 'beta' }]))[0]?.status).toBe('created');
  // The switch's flip: acme's primary is memory:b, the fence lifted.
  await plane.commit({ tenant: { id: acme, primary: 'memory:b', state: 'moving' } });
  await r.watcher.check();
  const [sealed] = await write;
  expect(sealed?.status).toBe('created');
  const id = [sealed?.record_id as string];
  expect((await shared['memory:b']?.getByIds(acme, 'telemetry_events', id))?.[0]).not.toBeNull();
  expect((await shared['memory:a']?.getByIds(acme, 'telemetry_events', id))?.[0]).toBeNull();
  expect(r.store.heldWrites).toBe(0);
});

test('a change that keeps the fence keeps holding the write', async () => {
  const r = await replica();
  const write = r.hub.record(acme, 'telemetry_events', [{ name: 'held' }]);
  await holding(r, 1);
  // Another tenant's change swaps the routes; acme is still fenced.
  await plane.commit({ tenant: { id: beta, primary: 'memory:a', state: 'active' } });
  await r.watcher.check();
  await holding(r, 1);
  await plane.commit({ tenant: { id: acme, primary: 'memory:a', state: 'moving' } });
  await r.watcher.check();
  expect((await write)[0]?.status).toBe('created');
});

test('held longer than the bound, the write is refused with READ_ONLY and Retry-After', async () => {
  const r = await replica({ fenceHoldMs: 30 });
  await expect(r.hub.record(acme, 'telemetry_events', [{ name: 'late' }])).rejects.toMatchObject({
    code: 'READ_ONLY',
    retryAfterSeconds: 1,
  });
  expect((await shared['memory:a']?.scan(acme, { type: 'telemetry_events', limit: 5 }))?.length).toBe(0);
});

test('a lapsed control plane lease holds writes of moving tenants only, until a check renews it', async () => {
  let now = 1_000_000;
  // Checks only when the test asks (no polling), so the clock alone decides the lease.
  const r = await replica({ fenceHoldMs: 60_000, clock: () => now, intervalMs: 600_000, pollMs: 600_000 });
  // Unfenced, moving, confirmed: writes go.
  await plane.commit({ tenant: { id: acme, primary: 'memory:a', state: 'moving' } });
  await r.watcher.check();
  expect((await r.hub.record(acme, 'telemetry_events', [{ name: 'in-lease' }]))[0]?.status).toBe('created');
  // No check for longer than the lease (2 s by default): a move may count this replica as gone.
  now += 2500;
  const write = r.hub.record(acme, 'telemetry_events', [{ name: 'lapsed' }]);
  await holding(r, 1);
  // A tenant that is not moving is not held.
  expect((await r.hub.record(beta, 'telemetry_events', [{ name: 'beta' }]))[0]?.status).toBe('created');
  expect((await shared['memory:a']?.scan(acme, { type: 'telemetry_events', limit: 5 }))?.length).toBe(1);
  // The next check confirms the routes again: the held write goes.
  await r.watcher.check();
  expect((await write)[0]?.status).toBe('created');
  expect((await shared['memory:a']?.scan(acme, { type: 'telemetry_events', limit: 5 }))?.length).toBe(2);
});

test('a fence is acknowledged once writes on the old routes end, without waiting for reads', async () => {
  // acme's primary answers scans only when the test opens the gate.
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const base = shared['memory:a'] as HubStore;
  shared['memory:gated'] = new Proxy(base, {
    get(target, prop) {
      if (prop === 'scan')
        return async (...args: Parameters<HubStore['scan']>) => {
          await gate;
          return target.scan(...args);
        };
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  await plane.commit({ tenant: { id: acme, primary: 'memory:gated', state: 'moving' } });
  const r = await replica();
  let scanned = false;
  const scan = r.store.scan(acme, { type: 'telemetry_events', limit: 5 }).then(() => (scanned = true));
  await plane.commit({ tenant: { id: acme, primary: 'memory:gated', state: 'moving', fenced: true } });
  // The check reloads and acknowledges while the scan still runs on the old routes.
  await r.watcher.check();
  expect(r.watcher.version).toBe((await plane.snapshot()).version);
  expect(scanned).toBe(false);
  open();
  await scan;
  delete shared['memory:gated'];
});

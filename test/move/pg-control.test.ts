/**
 * The PostgreSQL control plane's protocol: a change is one statement that
 * checks the move's phase under a lock (a mismatch writes nothing), takes
 * the next version and announces it (NOTIFY carrying the version); a
 * replica's acknowledgement of a new version is announced on its own
 * channel with the replica and version, a heartbeat of the same version is
 * not.
 */
import { PgControlPlane } from '../../src/control/pg-control';
import type { MoveRecord } from '../../src/control/control-plane';
import { tenant as t } from '../router/support';
import { createTestDatabase, type PgTestDatabase } from '../support/pg-harness';

jest.setTimeout(180_000);

const acme = t('acme');
let pg: PgTestDatabase;
let plane: PgControlPlane;

beforeAll(async () => {
  pg = await createTestDatabase({ migrate: false });
  plane = await PgControlPlane.open(pg.adminUri);
});
afterAll(async () => {
  await plane?.close();
  await pg?.drop();
});

/** Resolves with the first `n` values `listen` reports. */
function collect<T>(n: number, listen: (fn: (v: T) => void) => Promise<() => Promise<void>>) {
  const got: T[] = [];
  let stop: (() => Promise<void>) | undefined;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const ready = listen((v) => {
    got.push(v);
    if (got.length === n) done();
  }).then((s) => (stop = s));
  return {
    ready,
    values: all.then(async () => {
      await stop?.();
      return got;
    }),
  };
}

const move: MoveRecord = {
  tenant: acme,
  source: 'memory:a',
  target: 'memory:b',
  mode: 'online',
  phase: 'copying',
  primaryIs: 'source',
  checkpoints: {},
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
};

test('changes: versions announced, the expected phase checked, a mismatch writes nothing', async () => {
  const heard = collect<number | undefined>(2, (fn) => plane.listen(fn));
  await heard.ready;
  const v1 = await plane.commit({
    tenant: { id: acme, primary: 'memory:a', state: 'moving', replica: 'memory:b' },
    move,
    expectMovePhase: null,
  });
  const v2 = await plane.commit({
    tenant: { id: acme, primary: 'memory:a', state: 'moving', fenced: true },
    move: { ...move, phase: 'replicating' },
    expectMovePhase: 'copying',
  });
  expect(v2).toBeGreaterThan(v1);
  expect(await heard.values).toEqual([v1, v2]);
  await expect(
    plane.commit({
      tenant: { id: acme, primary: 'memory:b', state: 'active' },
      move: { ...move, phase: 'switched' },
      expectMovePhase: 'copying',
    }),
  ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is replicating') });
  expect(await plane.getTenant(acme)).toMatchObject({ primary: 'memory:a', fenced: true, version: v2 });
  expect((await plane.getMove(acme))?.phase).toBe('replicating');
  // A move alone (checkpoints, error) takes no version.
  expect(await plane.commit({ move: { ...(await plane.getMove(acme))!, error: 'x' } })).toBe(0);
});

test('acknowledgements: a new version is announced with the replica, a heartbeat is not', async () => {
  const heard = collect<{ id: string; version: number } | undefined>(2, (fn) => plane.listenAcks(fn));
  await heard.ready;
  await plane.ack('r1', 5);
  await plane.ack('r1', 5); // heartbeat
  await plane.ack('r2', 5);
  expect(await heard.values).toEqual([
    { id: 'r1', version: 5 },
    { id: 'r2', version: 5 },
  ]);
  expect((await plane.replicas(60)).map((r) => [r.id, r.version])).toEqual([
    ['r1', 5],
    ['r2', 5],
  ]);
});

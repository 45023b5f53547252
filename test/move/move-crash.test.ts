/**
 * Crash safety: the move process is killed with SIGKILL mid-copy, right after
 * the copy (replicating), and inside the switch (fence in force; lag drained
 * but primary not flipped) while two gateway replicas take writes; re-running
 * the same command converges: the copy resumes from its committed position,
 * an interrupted switch finishes, every acknowledged write ends in the new
 * primary and `verify` is clean.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PgControlPlane } from '../../src/control/pg-control';
import type { Hub } from '../../src/hub/hub';
import type { TenantId } from '../../src/hub/tenant';
import { isClean } from '../../src/migrate/compare';
import { countTenant } from '../../src/migrate/copy';
import { Mover } from '../../src/move/move';
import { openStore } from '../../src/stores';
import { createTestDatabase, type PgTestDatabase } from '../support/pg-harness';
import { tenant as t } from '../router/support';
import { type Replica, settle, startReplica, startWriter } from './support';

jest.setTimeout(300_000);

const root = resolve(__dirname, '..', '..');
const acme = t('acme');

let src: PgTestDatabase;
let dst: PgTestDatabase;
let controlUrl: string;
let plane: PgControlPlane;
const replicas: Replica[] = [];

beforeAll(async () => {
  [src, dst] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  const u = new URL(src.ownerUri);
  u.search = '';
  controlUrl = u.toString();
  plane = await PgControlPlane.open(controlUrl);
  for (let i = 0; i < 2; i++)
    replicas.push(
      await startReplica(
        { pgUrl: src.appUri, dataDir: '/nonexistent' },
        await PgControlPlane.open(controlUrl),
      ),
    );
});

afterAll(async () => {
  for (const r of replicas) await r.close();
  await plane?.close();
  await Promise.all([src?.drop(), dst?.drop()]);
});

/** Runs the child move and resolves its output once it exits; expects it to die by SIGKILL. */
function runKilled(action: 'create' | 'switch', point: string, nth = 1): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/run-ts.cjs'),
        'test/move/move-child.ts',
        controlUrl,
        src.appUri,
        dst.appUri,
        acme,
        action,
        point,
        String(nth),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolvePromise(out);
      else reject(new Error(`child exited with ${code}: ${out}`));
    });
  });
}

/** Records of the tenant in the source now. */
async function countSource(): Promise<number> {
  const store = await openStore(src.appUri);
  try {
    return (await countTenant(store, acme)) ?? 0;
  } finally {
    await store.close();
  }
}

async function countIn(uri: string, tenant: TenantId, ids: readonly string[]): Promise<number> {
  const store = await openStore(uri);
  try {
    let found = 0;
    for (let i = 0; i < ids.length; i += 500)
      found += (await store.getByIds(tenant, 'telemetry_events', ids.slice(i, i + 500))).filter(
        Boolean,
      ).length;
    return found;
  } finally {
    await store.close();
  }
}

test('SIGKILL mid-copy, after the copy and inside the switch; re-runs converge with nothing lost', async () => {
  const hub = replicas[0]?.hub as Hub;
  const seeded: string[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await hub.record(
      acme,
      'telemetry_events',
      Array.from({ length: 1000 }, (_, j) => ({ name: `seed-${i}-${j}` })),
    );
    seeded.push(...res.map((r) => r.record_id));
  }
  const mover = new Mover({ plane, openStore, configuredPrimary: async () => src.appUri });
  const writer = startWriter(replicas, acme, 'crash');

  // 1. Killed after its first committed batch of the copy.
  expect(await runKilled('create', 'copy-batch', 1)).toContain('killed at copy-batch');
  const afterKill = await plane.getMove(acme);
  expect(afterKill?.phase).toBe('copying');
  const committed = Object.values(afterKill?.checkpoints ?? {}).reduce((s, c) => s + (c?.copied ?? 0), 0);
  expect(committed).toBeGreaterThan(0);
  // 2. Re-run: resumes at the committed position; killed again right after the copy ended.
  expect(await runKilled('create', 'copied')).toContain('killed at copied');
  const copied = await plane.getMove(acme);
  expect(copied?.phase).toBe('replicating');
  // Resumed, not restarted: every source record is counted once, copied by the first run (up to its
  // committed position) or by the second (copied, or found there: replicated writes, and the batches
  // that were in flight when the first run died), so the counts add up to at most the source's records.
  const counted = Object.values(copied?.checkpoints ?? {}).reduce(
    (s, c) => s + (c?.copied ?? 0) + (c?.duplicates ?? 0),
    0,
  );
  expect(counted).toBeLessThanOrEqual(await countSource());
  await writer.more(10);

  // 3. Killed inside the switch with the fence in force: writes are refused until a re-run finishes it.
  expect(await runKilled('switch', 'fenced')).toContain('killed at fenced');
  expect((await plane.getTenant(acme))?.fenced).toBe(true);
  expect((await plane.getMove(acme))?.step).toBe('fencing');
  const refusedBefore = writer.refused;
  const { move } = await mover.switch(acme);
  expect(move).toMatchObject({ phase: 'switched', primaryIs: 'target' });
  expect(writer.refused).toBeGreaterThanOrEqual(refusedBefore);
  await writer.more(10);

  // 4. Reverse, then killed inside the next switch after the drain, before the flip; the re-run flips.
  await mover.reverse(acme);
  await writer.more(10);
  expect(await runKilled('switch', 'drained')).toContain('killed at drained');
  const { move: final } = await mover.switch(acme);
  expect(final.phase).toBe('switched');
  await writer.more(10);
  await writer.stop();
  await settle(replicas);

  const acked = [...seeded, ...writer.acked];
  expect(await countIn(dst.appUri, acme, acked)).toBe(acked.length);
  expect(isClean(await mover.verify(acme))).toBe(true);
  await mover.complete(acme);
  expect((await plane.getTenant(acme))?.state).toBe('active');
});

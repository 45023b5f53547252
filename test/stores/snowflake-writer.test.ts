/**
 * The micro-batch writer's pipelining, driven step by step through
 * controllable promises (no emulator, no clock): a submitNow batch uploads
 * while the previous one commits, commits run one at a time in start order,
 * callers settle in start order with exactly their own outcome or error, at
 * most one flush runs ahead, and size-triggered submit flushes still wait and
 * gather as before.
 */
import type { HubRecord } from '../../src/hub/model';
import type { PutOutcome } from '../../src/hub/store';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { type CommitFn, MicroBatchWriter } from '../../src/stores/snowflake/snowflake-writer';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (no timer involved). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const record = (id: string): HubRecord => ({ record_id: id }) as unknown as HubRecord;

/** One flush as the fake store sees it: its records, and the two phases it is waiting in. */
interface FakeFlush {
  readonly ids: string[];
  readonly upload: Deferred<void>;
  readonly commit: Deferred<PutOutcome[]>;
  committing: boolean;
}

/** A writer over a fake flush whose phases the test ends by hand; `log` says what started when. */
function harness(options = { maxRows: 10_000, maxDelayMs: 0 }): {
  writer: MicroBatchWriter;
  flushes: FakeFlush[];
  log: string[];
} {
  const flushes: FakeFlush[] = [];
  const log: string[] = [];
  const writer = new MicroBatchWriter(async (_tenant, records): Promise<CommitFn> => {
    const f: FakeFlush = {
      ids: records.map((r) => r.record_id),
      upload: deferred(),
      commit: deferred(),
      committing: false,
    };
    flushes.push(f);
    log.push(`upload ${f.ids.join(',')}`);
    await f.upload.promise;
    return () => {
      f.committing = true;
      log.push(`commit ${f.ids.join(',')}`);
      return f.commit.promise;
    };
  }, options);
  return { writer, flushes, log };
}

/** Records in `log` how `p` settles, under `name`. */
function track(log: string[], name: string, p: Promise<PutOutcome[]>): Promise<PutOutcome[]> {
  p.then(
    () => log.push(`${name} resolved`),
    () => log.push(`${name} rejected`),
  );
  return p;
}

const T: TenantId = parseTenantId('writer-test');
const created: PutOutcome = { status: 'created' };
const duplicate: PutOutcome = { status: 'duplicate' };

const flushAt = (flushes: FakeFlush[], i: number): FakeFlush => {
  const f = flushes[i];
  if (!f) throw new Error(`flush ${i} has not started`);
  return f;
};

describe('micro-batch writer: uploads ahead, commits one at a time', () => {
  test("a submitNow batch uploads while the previous one commits; its commit waits for the previous commit's end", async () => {
    const { writer, flushes, log } = harness();
    const p1 = track(log, 'p1', writer.submitNow(T, [record('a')]));
    const p2 = track(log, 'p2', writer.submitNow(T, [record('b'), record('c')]));
    await settle();
    expect(log).toEqual(['upload a', 'upload b,c']);
    // The second upload ends first: its commit still waits for the first flush's.
    flushAt(flushes, 1).upload.resolve();
    await settle();
    expect(flushAt(flushes, 1).committing).toBe(false);
    flushAt(flushes, 0).upload.resolve();
    await settle();
    expect(log).toEqual(['upload a', 'upload b,c', 'commit a']);
    flushAt(flushes, 0).commit.resolve([created]);
    await expect(p1).resolves.toEqual([created]);
    await settle();
    expect(log.slice(3).sort()).toEqual(['commit b,c', 'p1 resolved']);
    expect(log).not.toContain('p2 resolved');
    flushAt(flushes, 1).commit.resolve([duplicate, created]);
    await expect(p2).resolves.toEqual([duplicate, created]);
    expect(writer.flushes).toBe(2);
  });

  test('a failed commit rejects exactly its callers; the batch uploaded ahead still commits and gets its own outcomes', async () => {
    const { writer, flushes, log } = harness();
    const p1 = track(log, 'p1', writer.submitNow(T, [record('a')]));
    const p2 = track(log, 'p2', writer.submitNow(T, [record('b')]));
    await settle();
    flushAt(flushes, 0).upload.resolve();
    flushAt(flushes, 1).upload.resolve();
    await settle();
    const failure = new Error('insert failed');
    flushAt(flushes, 0).commit.reject(failure);
    await expect(p1).rejects.toBe(failure);
    await settle();
    // Batch 2 is not acknowledged by batch 1's end: only once its own commit has ended.
    expect(log.slice(3).sort()).toEqual(['commit b', 'p1 rejected']);
    expect(log).not.toContain('p2 resolved');
    flushAt(flushes, 1).commit.resolve([created]);
    await expect(p2).resolves.toEqual([created]);
  });

  test('a failed upload ahead is reported after the running flush settles, and leaves no unobserved promise', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { writer, flushes, log } = harness();
      const p1 = track(log, 'p1', writer.submitNow(T, [record('a')]));
      const p2 = track(log, 'p2', writer.submitNow(T, [record('b')]));
      await settle();
      const failure = new Error('PUT failed');
      flushAt(flushes, 1).upload.reject(failure);
      await settle();
      await settle();
      expect(log).toEqual(['upload a', 'upload b']);
      // A third batch waits: the failed flush counts as running until its callers are told.
      const p3 = track(log, 'p3', writer.submitNow(T, [record('c')]));
      await settle();
      expect(flushes).toHaveLength(2);
      flushAt(flushes, 0).upload.resolve();
      await settle();
      flushAt(flushes, 0).commit.resolve([created]);
      await expect(p1).resolves.toEqual([created]);
      await expect(p2).rejects.toBe(failure);
      await settle();
      expect(log.slice(0, 4)).toEqual(['upload a', 'upload b', 'commit a', 'p1 resolved']);
      expect(log.slice(4).sort()).toEqual(['p2 rejected', 'upload c']);
      flushAt(flushes, 2).upload.resolve();
      await settle();
      flushAt(flushes, 2).commit.resolve([created]);
      await expect(p3).resolves.toEqual([created]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('at most one flush runs ahead: batches put meanwhile wait and share the next flush', async () => {
    const { writer, flushes, log } = harness();
    const p1 = writer.submitNow(T, [record('a')]);
    const p2 = writer.submitNow(T, [record('b')]);
    const p3 = writer.submitNow(T, [record('c')]);
    const p4 = writer.submitNow(T, [record('d'), record('e')]);
    await settle();
    expect(log).toEqual(['upload a', 'upload b']);
    flushAt(flushes, 0).upload.resolve();
    await settle();
    flushAt(flushes, 0).commit.resolve([created]);
    await p1;
    await settle();
    // The first flush is over: c, d and e go together, ahead of b's commit.
    expect(log).toEqual(['upload a', 'upload b', 'commit a', 'upload c,d,e']);
    flushAt(flushes, 2).upload.resolve();
    flushAt(flushes, 1).upload.resolve();
    await settle();
    expect(log.slice(4)).toEqual(['commit b']);
    flushAt(flushes, 1).commit.resolve([created]);
    await settle();
    flushAt(flushes, 2).commit.resolve([created, duplicate, created]);
    await expect(p2).resolves.toEqual([created]);
    await expect(p3).resolves.toEqual([created]);
    await expect(p4).resolves.toEqual([duplicate, created]);
    expect(writer.flushes).toBe(3);
  });

  test('submit flushes started by size never upload ahead: a full buffer waits for the running flush and gathers what comes meanwhile', async () => {
    const { writer, flushes, log } = harness({ maxRows: 2, maxDelayMs: 60_000 });
    const p1 = writer.submit(T, [record('a'), record('b')]);
    const p2 = writer.submit(T, [record('c'), record('d')]);
    const p3 = writer.submit(T, [record('e'), record('f')]);
    await settle();
    expect(log).toEqual(['upload a,b']);
    flushAt(flushes, 0).upload.resolve();
    await settle();
    flushAt(flushes, 0).commit.resolve([created, created]);
    await p1;
    await settle();
    expect(log).toEqual(['upload a,b', 'commit a,b', 'upload c,d,e,f']);
    flushAt(flushes, 1).upload.resolve();
    await settle();
    flushAt(flushes, 1).commit.resolve([created, created, duplicate, duplicate]);
    await expect(p2).resolves.toEqual([created, created]);
    await expect(p3).resolves.toEqual([duplicate, duplicate]);
    expect(writer.flushes).toBe(2);
  });

  test('drain waits for the running flush and the one ahead, then flushes what is buffered', async () => {
    const { writer, flushes } = harness({ maxRows: 10_000, maxDelayMs: 60_000 });
    void writer.submitNow(T, [record('a')]);
    void writer.submitNow(T, [record('b')]);
    const buffered = writer.submit(T, [record('c')]);
    let drained = false;
    const drain = writer.drain(T).then(() => {
      drained = true;
    });
    await settle();
    expect(flushes).toHaveLength(2);
    for (const i of [0, 1]) {
      flushAt(flushes, i).upload.resolve();
      await settle();
      flushAt(flushes, i).commit.resolve([created]);
      await settle();
    }
    expect(flushes).toHaveLength(3);
    expect(drained).toBe(false);
    flushAt(flushes, 2).upload.resolve();
    await settle();
    flushAt(flushes, 2).commit.resolve([duplicate]);
    await drain;
    await expect(buffered).resolves.toEqual([duplicate]);
  });
});

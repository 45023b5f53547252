/**
 * A PGlite folder is opened by one process at a time (real child processes):
 * a second process gets an error naming the folder and the holder; a lock
 * left by a process killed with SIGKILL is detected and taken over, with the
 * killed process's acknowledged write still there; closing releases the lock.
 * A CLI command pointed at a folder that does not exist fails without
 * creating it, unless --create.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli';
import { isHubError } from '../../src/hub/errors';
import { parseTenantId } from '../../src/hub/tenant';
import { openStore } from '../../src/stores';
import { LOCK_FILE } from '../../src/stores/postgres/pglite-lock';

const root = resolve(__dirname, '../..');
const holderScript = 'test/stores/pglite-holder.ts';

interface Holder {
  readonly child: ChildProcess;
  /** Resolves with the first line the child prints (`ready <pid>` or `error <message>`). */
  readonly firstLine: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the holder script on `dir` in a child process. */
function startHolder(dir: string): Holder {
  const child = spawn(process.execPath, [join(root, 'bin/run-ts.cjs'), holderScript, dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const firstLine = new Promise<string>((resolveLine, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolveLine(out.slice(0, nl));
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`holder exited (${code}) before a line: ${out}${err}`)));
  });
  firstLine.catch(() => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  return { child, firstLine, exited };
}

const run = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

describe('pglite: one process per folder', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hub-pglite-lock-'));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('a second process is refused, naming the folder and the holder; SIGKILL then take-over', async () => {
    const holder = startHolder(dir);
    children.push(holder.child);
    expect(await holder.firstLine).toBe(`ready ${holder.child.pid}`);
    const lock = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number; command: string };
    expect(lock.pid).toBe(holder.child.pid);
    expect(lock.command).toContain('pglite-holder');

    // This process is the second one.
    const err = await openStore(`pglite:${dir}`).then(
      async (s) => {
        await s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isHubError(err, 'UNAVAILABLE')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(dir);
    expect(message).toContain(`process ${holder.child.pid}`);
    expect(message).toContain('pglite-holder');

    // And so is a second child process.
    const second = startHolder(dir);
    children.push(second.child);
    expect(await second.firstLine).toMatch(
      new RegExp(`^error .*${dir}.*in use by process ${holder.child.pid}`),
    );
    expect((await second.exited).code).toBe(1);

    // The holder dies without a chance to clean up: its lock stays behind, stale.
    holder.child.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);

    const store = await openStore(`pglite:${dir}`);
    try {
      const taken = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number };
      expect(taken.pid).toBe(process.pid);
      // The killed process's acknowledged write is there.
      const rows = await store.list(parseTenantId('holder'), { type: 'outputs', filter: {}, limit: 10 });
      expect(rows).toHaveLength(1);
    } finally {
      await store.close();
    }
    // Closing released the lock: another process opens the folder.
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const third = startHolder(dir);
    children.push(third.child);
    expect(await third.firstLine).toBe(`ready ${third.child.pid}`);
    third.child.kill('SIGKILL');
    await third.exited;
  }, 240_000);

  test('a lock naming a process that no longer runs, or unreadable, is taken over', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = gone.pid as number;
    await new Promise((r) => gone.on('exit', r));
    for (const content of [
      JSON.stringify({ pid, command: 'node gone', since: '2026-01-01T00:00:00.000Z' }),
      'not json',
    ]) {
      await writeFile(join(dir, LOCK_FILE), content);
      const store = await openStore(`pglite:${dir}`);
      const taken = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number };
      expect(taken.pid).toBe(process.pid);
      await store.close();
    }
  }, 120_000);

  test('a CLI command on a folder that does not exist fails and creates nothing, unless --create', async () => {
    const missing = join(dir, 'no-such-folder');
    const seed = ['seed', '--tenant', 't2', '--store', `pglite:${missing}`, '--days', '1', '--per-day', '1'];
    const refused = await run(seed);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(missing);
    expect(refused.err).toMatch(/does not exist.*--create/);
    expect(existsSync(missing)).toBe(false);

    const migrate = await run(['db', 'migrate', '--store', `pglite:${missing}`]);
    expect(migrate.code).toBe(1);
    expect(existsSync(missing)).toBe(false);

    const created = await run([...seed, '--create']);
    expect(created).toMatchObject({ code: 0 });
    expect(created.out).toMatch(/seeded tenant t2/);
    expect(existsSync(missing)).toBe(true);
    // Now it exists, no --create is needed, and the lock was released by the command.
    expect(await run(seed)).toMatchObject({ code: 0 });
    expect(existsSync(join(missing, LOCK_FILE))).toBe(false);
  }, 240_000);
});

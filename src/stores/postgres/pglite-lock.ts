/**
 * One process at a time per PGlite directory. Two processes writing one
 * PGlite directory lose writes silently (each holds its own copy of the
 * database in memory and writes it back), so opening a directory takes a
 * lock file inside it, `hub.lock`, holding the owner's pid, command line and
 * start time. A second process gets an error naming the folder and the
 * holder. A lock left by a process that no longer runs (killed, crashed) is
 * detected and taken over: its pid is not alive, or (Linux) a process with
 * that pid started at another time than the one recorded (pid reused).
 *
 * Creation is atomic: the lock is written to a private file and hard-linked
 * into place (link fails when the name exists). A stale lock is first renamed
 * aside (only one taker can rename it), then the new one linked.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../../hub/errors';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'hub.lock';

/** What a lock file records about its holder. */
export interface LockHolder {
  readonly pid: number;
  readonly command: string;
  /** ISO time the holder took the lock. */
  readonly since: string;
  /** The holder's start time in clock ticks since boot (Linux /proc), to tell a reused pid. */
  readonly procStart?: string;
}

/** A held lock: `release()` removes the file if it is still ours. Idempotent. */
export interface DirectoryLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Field 22 of /proc/<pid>/stat (start time), or undefined off Linux or for a gone process. */
function procStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `holder` still runs. */
export function holderAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.procStart === undefined) return true;
  const now = procStartOf(holder.pid);
  return now === undefined || now === holder.procStart;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    return typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0
      ? {
          pid: v.pid,
          command: String(v.command ?? ''),
          since: String(v.since ?? ''),
          ...(typeof v.procStart === 'string' ? { procStart: v.procStart } : {}),
        }
      : undefined;
  } catch {
    return undefined;
  }
}

/** This process, as a lock file records it. */
function me(): LockHolder {
  const procStart = procStartOf(process.pid);
  return {
    pid: process.pid,
    command: process.argv.slice(1).join(' ').slice(0, 500),
    since: new Date().toISOString(),
    ...(procStart !== undefined ? { procStart } : {}),
  };
}

/** Locks held by this process, removed at exit if their stores were not closed. */
const held = new Set<string>();
let exitHook = false;

/**
 * Takes the lock of `dir` (which must exist) for this process.
 * @throws HubError UNAVAILABLE naming the folder and the holder when another live process holds it.
 */
export async function lockDirectory(dir: string): Promise<DirectoryLock> {
  const path = join(dir, LOCK_FILE);
  const self = me();
  const text = `${JSON.stringify(self)}\n`;
  const mine = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(mine, text, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(mine, path);
        return hold(path, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const existing = await readFile(path, 'utf8').catch(() => undefined);
      if (existing === undefined) continue; // released meanwhile
      const holder = parseHolder(existing);
      if (holder && holder.pid === process.pid && holder.procStart === self.procStart) {
        throw new HubError(
          'UNAVAILABLE',
          `pglite store: folder ${dir} is already open in this process (lock ${path})`,
        );
      }
      if (holder && holderAlive(holder)) {
        throw new HubError(
          'UNAVAILABLE',
          `pglite store: folder ${dir} is in use by process ${holder.pid} (${holder.command || 'unknown command'}, ` +
            `since ${holder.since}); stop that process or use another folder. One process at a time may open ` +
            `a PGlite folder (lock file ${path})`,
        );
      }
      // Stale (its process is gone) or unreadable: move it aside, then check
      // it was the one we judged (another taker may have replaced it).
      const aside = `${path}.stale.${process.pid}`;
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readFile(aside, 'utf8').catch(() => undefined);
      if (moved !== existing) {
        // We moved a fresh lock another process had just taken: put it back.
        await link(aside, path).catch(() => undefined);
      }
      await unlink(aside).catch(() => undefined);
    }
    throw new HubError('UNAVAILABLE', `pglite store: could not take the lock of folder ${dir} (${path})`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

function hold(path: string, text: string): DirectoryLock {
  held.add(path);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const p of held) releaseSync(p);
    });
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      held.delete(path);
      const now = await readFile(path, 'utf8').catch(() => undefined);
      if (now === text) await unlink(path).catch(() => undefined);
    },
  };
}

function releaseSync(path: string): void {
  try {
    const holder = parseHolder(readFileSync(path, 'utf8'));
    if (holder?.pid === process.pid) unlinkSync(path);
  } catch {
    // Already gone, or unreadable: the next opener judges it stale.
  }
}

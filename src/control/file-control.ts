/**
 * The control plane in a JSON file, for the embedded default (one gateway
 * process on `pglite:<dir>`, and `hub` commands on the same machine). Writes
 * take a lock file, re-read, change and atomically rename; readers never see
 * a half-written file. Changes are noticed by polling the file's modification
 * (the watcher's own interval), there being no notification channel.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HubError } from '../hub/errors';
import type { TenantId } from '../hub/tenant';
import type { CopyCheckpoints } from '../migrate/copy';
import type {
  ControlPlane,
  ControlSnapshot,
  MovePhase,
  MoveRecord,
  ReplicaAck,
  TenantEntry,
} from './control-plane';

interface FileState {
  version: number;
  tenants: Record<string, TenantEntry>;
  moves: Record<string, MoveRecord>;
  replicas: Record<string, { version: number; seenAt: string }>;
}

const EMPTY: FileState = { version: 0, tenants: {}, moves: {}, replicas: {} };

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** See the module comment. */
export class FileControlPlane implements ControlPlane {
  readonly label: string;

  constructor(
    private readonly path: string,
    private readonly pollMs = 200,
  ) {
    this.path = resolve(path);
    this.label = `file:${this.path}`;
  }

  private async read(): Promise<FileState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY);
      throw new HubError('UNAVAILABLE', `control plane ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      return { ...structuredClone(EMPTY), ...(JSON.parse(text) as FileState) };
    } catch (err) {
      throw new HubError('INTERNAL', `control plane ${this.path} is not valid JSON`, { cause: err });
    }
  }

  /** Runs `fn` on the current state under the lock file and writes what it returns. */
  private async update<T>(fn: (state: FileState) => T): Promise<T> {
    const release = await this.lock(`${this.path}.lock`, 10_000);
    try {
      const state = await this.read();
      const out = fn(state);
      const tmp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(state, null, 2));
      await rename(tmp, this.path);
      // Our own writes (heartbeats above all) must not wake our own watchers, or they would check forever.
      this.ownMtime = await stat(this.path).then(
        (st) => st.mtimeMs,
        () => undefined,
      );
      return out;
    } finally {
      await release();
    }
  }

  /** An exclusive lock file holding our pid; a stale one (its process gone) is taken over. */
  private async lock(file: string, waitMs: number): Promise<() => Promise<void>> {
    await mkdir(dirname(file), { recursive: true });
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const h = await open(file, 'wx');
        await h.writeFile(String(process.pid));
        await h.close();
        return async () => {
          await unlink(file).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number(await readFile(file, 'utf8').catch(() => ''));
        if (pid > 0 && !processAlive(pid)) {
          await unlink(file).catch(() => undefined);
          continue;
        }
        if (Date.now() > deadline)
          throw new HubError('CONFLICT', `lock ${file} is held by process ${pid || 'unknown'}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  async snapshot(): Promise<ControlSnapshot> {
    const s = await this.read();
    return { version: s.version, tenants: Object.values(s.tenants).sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }

  async getTenant(id: TenantId): Promise<TenantEntry | null> {
    return (await this.read()).tenants[id] ?? null;
  }

  async getMove(tenant: TenantId): Promise<MoveRecord | null> {
    return (await this.read()).moves[tenant] ?? null;
  }

  async commit(change: {
    readonly tenant?: Omit<TenantEntry, 'version'>;
    readonly move?: MoveRecord;
    readonly expectMovePhase?: MovePhase | null;
  }): Promise<number> {
    return this.update((s) => {
      const id = change.tenant?.id ?? change.move?.tenant;
      if (change.expectMovePhase !== undefined && id) {
        const phase = s.moves[id]?.phase ?? null;
        if (phase !== change.expectMovePhase)
          throw new HubError(
            'CONFLICT',
            `the move of tenant ${id} is ${phase ?? 'absent'}, expected ${change.expectMovePhase ?? 'none'}`,
          );
      }
      let version = 0;
      if (change.tenant) {
        version = ++s.version;
        s.tenants[change.tenant.id] = { ...change.tenant, version };
      }
      if (change.move) {
        const now = new Date().toISOString();
        s.moves[change.move.tenant] = { ...change.move, updatedAt: now };
      }
      return version;
    }).then((version) => {
      if (version > 0) this.announce(this.changeListeners);
      return version;
    });
  }

  async saveCheckpoints(tenant: TenantId, checkpoints: CopyCheckpoints): Promise<void> {
    await this.update((s) => {
      const m = s.moves[tenant];
      if (m) s.moves[tenant] = { ...m, checkpoints, updatedAt: new Date().toISOString() };
    });
  }

  async ack(id: string, version: number): Promise<void> {
    const changed = await this.update((s) => {
      const before = s.replicas[id]?.version;
      s.replicas[id] = { version, seenAt: new Date().toISOString() };
      return before !== version;
    });
    if (changed) this.announce(this.ackListeners);
  }

  async replicas(liveSeconds: number): Promise<ReplicaAck[]> {
    const s = await this.read();
    const now = Date.now();
    return Object.entries(s.replicas)
      .map(([id, r]) => ({ id, ...r, ageSeconds: (now - Date.parse(r.seenAt)) / 1000 }))
      .filter((r) => r.ageSeconds <= liveSeconds);
  }

  /** Modification time of this instance's last write (see pollChanges). */
  private ownMtime: number | undefined;

  /** In-process listeners: a gateway running a move itself (its admin endpoint) hears its own changes at once. */
  private readonly changeListeners = new Set<() => void>();
  private readonly ackListeners = new Set<() => void>();

  private announce(listeners: ReadonlySet<() => void>): void {
    for (const l of [...listeners]) l();
  }

  listen(onChange: (version?: number) => void): Promise<() => Promise<void>> {
    return this.watch(this.changeListeners, () => onChange());
  }

  listenAcks(onAck: (ack?: { id: string; version: number }) => void): Promise<() => Promise<void>> {
    return this.watch(this.ackListeners, () => onAck());
  }

  /** Registers `fn` in-process and polls the file's modification for other processes' changes. */
  private async watch(listeners: Set<() => void>, fn: () => void): Promise<() => Promise<void>> {
    listeners.add(fn);
    const stop = await this.pollChanges(fn);
    return async () => {
      listeners.delete(fn);
      await stop();
    };
  }

  private async pollChanges(onChange: () => void): Promise<() => Promise<void>> {
    let last = await stat(this.path).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    const timer = setInterval(() => {
      void stat(this.path).then(
        (s) => {
          if (s.mtimeMs !== last) {
            last = s.mtimeMs;
            // A change of another process's (or instance's); the watcher's own poll backstops a masked one.
            if (s.mtimeMs !== this.ownMtime) onChange();
          }
        },
        () => undefined,
      );
    }, this.pollMs);
    timer.unref();
    return async () => clearInterval(timer);
  }

  async lockMove(tenant: TenantId): Promise<() => Promise<void>> {
    try {
      return await this.lock(`${this.path}.move-${tenant}.lock`, 0);
    } catch (err) {
      if (err instanceof HubError && err.code === 'CONFLICT')
        throw new HubError('CONFLICT', `another 'hub move' command is running for tenant ${tenant}`);
      throw err;
    }
  }

  async close(): Promise<void> {}
}

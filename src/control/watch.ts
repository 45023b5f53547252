/**
 * Keeps a gateway replica on the control plane's latest version: a change
 * notification (LISTEN/NOTIFY, or the file's modification) or the polling
 * backstop triggers a registry reload, which swaps the new routes in
 * atomically. Once every call started on the previous routes has finished,
 * the replica acknowledges the version (`replicas` table): a move waiting for
 * a write fence to hold everywhere waits for those acknowledgements. Each poll
 * also refreshes the acknowledgement, a heartbeat telling live replicas from
 * gone ones.
 */
import type { TenantRegistry } from '../router/tenant-registry';
import type { ControlPlane } from './control-plane';

export interface WatchOptions {
  /** This replica's id in the control plane (default: random). */
  readonly replicaId: string;
  /** Polling backstop and heartbeat interval (default 500 ms). */
  readonly intervalMs?: number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

/** See the module comment. */
export class ControlWatcher {
  private applied = -1;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly log: (event: string, fields?: Record<string, unknown>) => void;

  constructor(
    private readonly plane: ControlPlane,
    private readonly registry: TenantRegistry,
    /** The version the registry's last load read (set by the load function). */
    private readonly loadedVersion: () => number,
    private readonly options: WatchOptions,
  ) {
    this.log = options.log ?? (() => {});
  }

  /** Acknowledges the version loaded at open, then listens and polls. */
  async start(): Promise<void> {
    this.applied = this.loadedVersion();
    await this.plane.ack(this.options.replicaId, this.applied);
    try {
      this.stopListening = await this.plane.listen(() => this.check());
    } catch (err) {
      // Polling alone still converges, a little later.
      this.log('control.listen_failed', { error: (err as Error).message });
    }
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 500);
    this.timer.unref();
  }

  /** Checks for a new version now (coalesced with a check already running). Resolves when done. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.check();
      }
    });
    return this.running;
  }

  private async run(): Promise<void> {
    try {
      const { version } = await this.plane.snapshot();
      if (version !== this.applied) {
        await this.registry.reload();
        await this.registry.settled();
        this.applied = this.loadedVersion();
        this.log('control.applied', { version: this.applied });
        // A fence just applied leaves the tenant's last writes in the outbox: ship them now, not at the next idle poll.
        for (const relay of this.registry.relays()) relay.kick();
      }
      await this.plane.ack(this.options.replicaId, this.applied);
    } catch (err) {
      this.log('control.apply_failed', { error: (err as Error).message });
    }
  }

  /** The version this replica runs. */
  get version(): number {
    return this.applied;
  }

  /** Stops listening and polling. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.stopListening?.();
    await this.running;
  }
}

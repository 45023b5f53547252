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
  /**
   * How long a confirmed view of the control plane lets this replica take
   * writes of moving tenants (default 2000 ms): shorter than the window in
   * which a move counts a silent replica as live (3 s), so a replica a move
   * stopped waiting for no longer writes to the old primary.
   */
  readonly leaseMs?: number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
  /** Milliseconds since an epoch (default Date.now; the registry's clock, for the lease). */
  readonly clock?: () => number;
}

/** See the module comment. */
export class ControlWatcher {
  private applied = -1;
  /** The newest version a notification announced (its check needs no read to know it changed). */
  private announced = -1;
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
    const started = this.now();
    this.applied = this.loadedVersion();
    await this.plane.ack(this.options.replicaId, this.applied);
    this.registry.confirm(started, this.options.leaseMs ?? 2000);
    try {
      this.stopListening = await this.plane.listen((version) => {
        if (version !== undefined) this.announced = Math.max(this.announced, version);
        void this.check();
      });
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

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  private async run(): Promise<void> {
    // The lease runs from before the read: what it confirms was current then at the latest.
    const started = this.now();
    try {
      const version = this.announced > this.applied ? this.announced : (await this.plane.snapshot()).version;
      if (version !== this.applied) {
        await this.registry.reload();
        await this.registry.settled();
        this.applied = this.loadedVersion();
        this.log('control.applied', { version: this.applied });
        // A fence just applied leaves the tenant's last writes in the outbox: ship them now, not at the next idle poll.
        for (const relay of this.registry.relays()) relay.kick();
      }
      await this.plane.ack(this.options.replicaId, this.applied);
      this.registry.confirm(started, this.options.leaseMs ?? 2000);
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

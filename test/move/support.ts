/**
 * Test helpers for moves: gateway replicas (a routing store following a
 * control plane, as `hub serve` runs it) and a writer that records every
 * acknowledged write through them.
 */
import { randomBytes } from 'node:crypto';
import type { ControlPlane } from '../../src/control/control-plane';
import { controlledLoad } from '../../src/control/registry';
import { ControlWatcher } from '../../src/control/watch';
import { isHubError } from '../../src/hub/errors';
import { Hub } from '../../src/hub/hub';
import type { TenantId } from '../../src/hub/tenant';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import type { StoreOpener } from '../../src/router/store-pool';

/** One gateway replica: routing store + control watcher. */
export interface Replica {
  readonly store: RoutingStore;
  readonly hub: Hub;
  readonly watcher: ControlWatcher;
  close(): Promise<void>;
}

/** Starts a replica over `config` following `plane` (its own connection). */
export async function startReplica(
  config: { configFile?: string; pgUrl?: string; dataDir: string },
  plane: ControlPlane,
  openStore?: StoreOpener,
  options: { fenceHoldMs?: number; clock?: () => number; intervalMs?: number } = {},
): Promise<Replica> {
  const loader = controlledLoad(config, plane);
  const store = await RoutingStore.open({
    load: loader.load,
    ...(openStore ? { openStore } : {}),
    ...(options.fenceHoldMs !== undefined ? { fenceHoldMs: options.fenceHoldMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    relay: { idleMs: 20 },
  });
  const watcher = new ControlWatcher(plane, store.registry, loader.version, {
    replicaId: `test-${randomBytes(3).toString('hex')}`,
    intervalMs: options.intervalMs ?? 200,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await watcher.start();
  return {
    store,
    hub: new Hub(store),
    watcher,
    close: async () => {
      await watcher.stop();
      await store.close();
      await plane.close();
    },
  };
}

/**
 * Writes telemetry events of `tenant` one small batch at a time, alternating
 * between replicas, until stopped; keeps the ids of acknowledged writes.
 * READ_ONLY refusals (a fence) are counted and retried; nothing refused is
 * counted as written.
 */
export function startWriter(replicas: readonly Replica[], tenant: TenantId, label: string) {
  const acked: string[] = [];
  let refused = 0;
  let stop = false;
  let n = 0;
  let failure: unknown;
  const done = (async () => {
    while (!stop) {
      const replica = replicas[n % replicas.length] as Replica;
      n++;
      try {
        const sealed = await replica.hub.record(tenant, 'telemetry_events', [{ name: `${label}-${n}` }]);
        for (const r of sealed) if (r.status === 'created') acked.push(r.record_id);
      } catch (err) {
        if (isHubError(err, 'READ_ONLY')) {
          refused++;
          await new Promise((r) => setTimeout(r, 5));
        } else {
          failure = err;
          return;
        }
      }
    }
  })();
  return {
    acked,
    /** Resolves once `more` further writes have been acknowledged (writes keep flowing meanwhile). */
    async more(more: number): Promise<void> {
      const target = acked.length + more;
      while (acked.length < target) {
        if (failure) throw failure;
        await new Promise((r) => setImmediate(r));
      }
    },
    get refused() {
      return refused;
    },
    /** Stops and resolves once the last write settled; rejects with a write's unexpected error. */
    async stop(): Promise<void> {
      stop = true;
      await done;
      if (failure) throw failure;
    },
  };
}

/** Waits until every replica's relays have shipped everything pending. */
export async function settle(replicas: readonly Replica[]): Promise<void> {
  for (const r of replicas) await settleRouter(r.store, 60_000);
}

/**
 * Waiting for the gateway replicas: a control plane change is relied on
 * (a fence, a read-only state, write capture, a flip) only once every live
 * replica acknowledges running it.
 */
import { HubError } from '../hub/errors';
import type { ReplicaAck } from '../control/control-plane';
import type { MoveDeps } from './move-deps';

/**
 * Waits until every live replica runs `version` (none live: nothing to
 * wait for): woken by the replicas' acknowledgements, polling as a backstop.
 * @throws HubError TIMEOUT naming the replicas still behind after
 *   `deps.applyTimeoutMs` (default 10 s).
 */
export async function waitApplied(deps: MoveDeps, version: number): Promise<void> {
  const plane = deps.plane;
  const deadline = Date.now() + (deps.applyTimeoutMs ?? 10_000);
  const wake = new Wakeup();
  // Acknowledgements that name replica and version are counted as they come, without a read.
  const heard = new Map<string, number>();
  let reread = true;
  const stop = await plane
    .listenAcks((ack) => {
      if (ack) heard.set(ack.id, Math.max(ack.version, heard.get(ack.id) ?? -1));
      else reread = true;
      wake.fire();
    })
    .catch(() => undefined);
  try {
    let live: ReplicaAck[] = [];
    for (;;) {
      const armed = wake.arm();
      if (reread) {
        reread = false;
        live = await plane.replicas(deps.liveSeconds ?? 3);
      }
      const behind = live.filter((r) => Math.max(r.version, heard.get(r.id) ?? -1) < version);
      if (behind.length === 0) return;
      if (Date.now() > deadline)
        throw new HubError(
          'TIMEOUT',
          `gateway replicas ${behind.map((r) => r.id).join(', ')} did not apply control plane version ${version}`,
        );
      // The backstop re-reads the replicas (one may have gone silent, or a notification been lost).
      const woken = await Promise.race([armed.then(() => true), sleep(stop ? 100 : 10).then(() => false)]);
      if (!woken) reread = true;
    }
  } finally {
    await stop?.();
  }
}

/** A one-shot signal re-armed per wait (acknowledgements arriving between waits are not lost). */
class Wakeup {
  private resolve: (() => void) | null = null;
  private fired = false;

  arm(): Promise<void> {
    this.fired = false;
    return new Promise<void>((r) => {
      this.resolve = r;
      if (this.fired) r();
    });
  }

  fire(): void {
    this.fired = true;
    this.resolve?.();
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

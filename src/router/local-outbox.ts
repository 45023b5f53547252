/**
 * An in-process outbox for primaries that cannot keep one themselves
 * (`capabilities.outbox` false, e.g. the memory store). The routing store
 * enqueues each created record right after the primary acknowledged it, and the
 * relay drains it exactly like a database outbox.
 *
 * It is NOT durable: entries live in this process only. That loses nothing for
 * a non-durable primary (its records die with the process too); for a durable
 * primary without an outbox, a crash between the primary write and the enqueue
 * can leave a record missing from analytics (documented in the router README).
 */
import type { HubRecord } from '../hub/model';
import type { OutboxEntry, OutboxSource } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { formatTimestamp } from '../hub/time';

interface Slot {
  readonly entry: OutboxEntry;
  claimed: boolean;
}

/** An {@link OutboxSource} held in memory; safe with several relays in one process (claims are exclusive). */
export class LocalOutbox implements OutboxSource {
  /** Insertion order is enqueue order, so the first slot holds the oldest entry. */
  private readonly slots = new Map<string, Slot>();
  private nextId = 1;

  /** Records entries for records the primary has just created. */
  enqueue(tenant: TenantId, records: readonly HubRecord[]): void {
    const enqueued_at = formatTimestamp(Date.now());
    for (const record of records) {
      const id = String(this.nextId++);
      this.slots.set(id, { entry: { id, tenant, record, enqueued_at }, claimed: false });
    }
  }

  /** Drops a tenant's pending entries (offboarding: they must not reach analytics after its purge). */
  dropTenant(tenant: TenantId): number {
    let n = 0;
    for (const [id, slot] of this.slots) {
      if (slot.entry.tenant === tenant && !slot.claimed) {
        this.slots.delete(id);
        n++;
      }
    }
    return n;
  }

  async drainOutbox(
    limit: number,
    ship: (entries: readonly OutboxEntry[]) => Promise<void>,
  ): Promise<number> {
    const batch: Slot[] = [];
    for (const slot of this.slots.values()) {
      if (batch.length >= limit) break;
      if (!slot.claimed) batch.push(slot);
    }
    if (batch.length === 0) return 0;
    for (const slot of batch) slot.claimed = true;
    try {
      await ship(batch.map((s) => s.entry));
    } catch (err) {
      for (const slot of batch) slot.claimed = false;
      throw err;
    }
    for (const slot of batch) this.slots.delete(slot.entry.id);
    return batch.length;
  }

  async outboxBacklog(): Promise<{ readonly pending: number; readonly oldest: string | null }> {
    // Claimed entries still count: they are not in analytics until their ship resolves.
    const first = this.slots.values().next();
    return { pending: this.slots.size, oldest: first.done ? null : first.value.entry.enqueued_at };
  }
}

/**
 * Opens each distinct store once and shares it: many Mode A tenants use one
 * connection pool. Entries are reference-counted by registry snapshots; the
 * last release stops the entry's relay and closes the store.
 *
 * A primary that feeds an analytics store is opened with its outbox enabled.
 * The pool key includes that flag, so a store URI is opened at most twice
 * (with and without outbox), and the outbox is only written when some relay
 * drains it.
 */
import { HubError } from '../hub/errors';
import { type HubStore, type OutboxSource, hasOutbox } from '../hub/store';
import type { OpenStoreOptions } from '../stores/driver';
import { traceStore } from '../platform/tracing-ports';
import { LocalOutbox } from './local-outbox';
import type { OutboxRelay } from './outbox-relay';

/** Opens a store by URI (the driver registry's `openStore`, or a test's wrapper of it). */
export type StoreOpener = (uri: string, options?: OpenStoreOptions) => Promise<HubStore>;

/** The dual-write side of a primary store. */
export interface Feed {
  /** The store's own outbox, or an in-process {@link LocalOutbox} when the store has none. */
  readonly source: OutboxSource;
  /** Set when the feed is in-process: the routing store enqueues created records into it. */
  readonly local?: LocalOutbox;
  readonly relay: OutboxRelay;
}

/** One opened store shared by every route that names it. */
export interface PooledStore {
  readonly key: string;
  readonly uri: string;
  /** Public name (route traces, metrics, logs). */
  readonly label: string;
  readonly store: HubStore;
  /** Present for primaries opened to feed analytics. */
  readonly feed?: Feed;
  /** Until when (epoch ms) rollups skip this store as an analytics store after it failed. */
  downUntil: number;
}

interface Slot {
  refs: number;
  ready: Promise<PooledStore>;
}

/** Reference-counted stores by (URI, outbox). */
export class StorePool {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly open: StoreOpener,
    private readonly makeRelay: (label: string, source: OutboxSource) => OutboxRelay,
    private readonly log: (event: string, fields?: Record<string, unknown>) => void,
  ) {}

  /** Opens (or shares) the store; every acquire needs one {@link release}. */
  async acquire(uri: string, label: string, options: { outbox: boolean }): Promise<PooledStore> {
    const key = `${options.outbox ? 'feed' : 'plain'} ${uri}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { refs: 0, ready: this.openEntry(key, uri, label, options.outbox) };
      this.slots.set(key, slot);
      const opened = slot;
      // A failed open must not poison the pool: the next acquire tries again.
      opened.ready.catch(() => {
        if (this.slots.get(key) === opened) this.slots.delete(key);
      });
    }
    slot.refs++;
    try {
      return await slot.ready;
    } catch (err) {
      slot.refs--;
      throw err;
    }
  }

  private async openEntry(key: string, uri: string, label: string, outbox: boolean): Promise<PooledStore> {
    let store: HubStore;
    try {
      // Each store's calls get spans named by its label (the gateway's own span covers the router's call).
      store = traceStore(
        await this.open(uri, {
          outbox,
          log: (event, fields) => this.log(event, { store: label, ...fields }),
        }),
        label,
      );
    } catch (err) {
      if (err instanceof HubError) throw err;
      throw new HubError('UNAVAILABLE', `cannot open store ${label}`, { cause: err });
    }
    if (!outbox) return { key, uri, label, store, downUntil: 0 };
    const local = hasOutbox(store) ? undefined : new LocalOutbox();
    const source: OutboxSource = local ?? (store as HubStore & OutboxSource);
    const relay = this.makeRelay(label, source);
    return { key, uri, label, store, feed: { source, ...(local ? { local } : {}), relay }, downUntil: 0 };
  }

  /** Drops one reference; the last one stops the relay and closes the store. */
  async release(entry: PooledStore): Promise<void> {
    const slot = this.slots.get(entry.key);
    if (!slot || --slot.refs > 0) return;
    this.slots.delete(entry.key);
    await entry.feed?.relay.stop();
    await entry.store.close();
    this.log('router.store_closed', { store: entry.label });
  }

  /** Labels of the stores currently open (diagnostics and tests). */
  openKeys(): string[] {
    return [...this.slots.keys()];
  }
}

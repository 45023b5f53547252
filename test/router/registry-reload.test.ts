/**
 * Hot reload of the tenant registry: atomic swap, in-flight calls finish on
 * the stores they started with, retired stores close afterwards, a bad reload
 * changes nothing, and SIGHUP triggers a reload.
 */
import { isHubError } from '../../src/hub/errors';
import { type RegistryConfig, parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore } from '../../src/router/routing-store';
import { TenantRegistry, installSighupReload } from '../../src/router/tenant-registry';
import { eventually, outputs, recordingOpener, scanAll, tenant } from './support';
import { Hub } from '../../src/hub/hub';

const ACME = tenant('acme');
const BETA = tenant('beta');

/** A registry whose configuration the test changes between reloads. */
async function reloadable(first: Record<string, unknown>): Promise<{
  registry: TenantRegistry;
  store: RoutingStore;
  set(doc: Record<string, unknown>): void;
  opener: ReturnType<typeof recordingOpener>;
}> {
  let doc = first;
  const opener = recordingOpener();
  const load = async (): Promise<RegistryConfig> => parseRegistryConfig(doc, 'hub.yaml');
  const registry = await TenantRegistry.open({ load, openStore: opener.open });
  return { registry, store: new RoutingStore(registry), set: (d) => (doc = d), opener };
}

describe('tenant registry reload', () => {
  test('adds a tenant atomically; shared stores are not reopened', async () => {
    const { registry, store, set, opener } = await reloadable({
      tenants: [{ id: 'acme', primary: 'memory:a' }],
    });
    try {
      await expect(store.scan(BETA, { type: 'outputs', limit: 1 })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      set({
        tenants: [
          { id: 'acme', primary: 'memory:a' },
          { id: 'beta', primary: 'memory:b' },
        ],
      });
      expect(await registry.reload()).toEqual({ tenants: 2, shared: false, opened: ['memory:b'] });
      expect(await store.scan(BETA, { type: 'outputs', limit: 1 })).toEqual([]);
      expect(opener.calls.map((c) => c.uri)).toEqual(['memory:a', 'memory:b']);
    } finally {
      await store.close();
    }
  });

  test('in-flight calls finish on the old stores; retired stores close only afterwards', async () => {
    const { registry, store, set, opener } = await reloadable({
      tenants: [{ id: 'acme', primary: 'memory:old' }],
    });
    try {
      await new Hub(store).record(ACME, 'outputs', outputs(3));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // A call that holds the old snapshot across the reload.
      const inFlight = registry.use(ACME, async (route) => {
        await gate;
        return scanAll(route.primary.store, ACME);
      });
      set({ tenants: [{ id: 'acme', primary: 'memory:new' }] });
      await registry.reload();
      const oldStore = opener.real('memory:old');
      await expect(oldStore.ping()).resolves.toBeUndefined();
      // New calls already use the new topology.
      expect(await scanAll(store, ACME)).toHaveLength(0);
      release();
      expect(await inFlight).toHaveLength(3);
      await eventually(async () =>
        oldStore.ping().then(
          () => false,
          (e: unknown) => isHubError(e, 'UNAVAILABLE'),
        ),
      );
      await expect(opener.real('memory:new').ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  test('an invalid configuration changes nothing (the error names the path)', async () => {
    const { registry, store, set } = await reloadable({ tenants: [{ id: 'acme', primary: 'memory:a' }] });
    try {
      await new Hub(store).record(ACME, 'outputs', outputs(2));
      set({
        tenants: [
          { id: 'acme', primary: 'memory:a' },
          { id: 'beta', primary: 'oracle://x' },
        ],
      });
      await expect(registry.reload()).rejects.toThrow(
        /tenants\[1\]\.primary: unknown store URI "oracle:\/\/x"/,
      );
      expect(await scanAll(store, ACME)).toHaveLength(2);
      await expect(store.scan(BETA, { type: 'outputs', limit: 1 })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    } finally {
      await store.close();
    }
  });

  test('a store that cannot open fails the reload, changes nothing, and closes what it had opened', async () => {
    const opener = recordingOpener();
    const open: typeof opener.open = async (uri, options) => {
      if (uri === 'memory:broken') throw new Error('connection refused');
      return opener.open(uri, options);
    };
    let doc: Record<string, unknown> = { tenants: [{ id: 'acme', primary: 'memory:a' }] };
    const registry = await TenantRegistry.open({
      load: async () => parseRegistryConfig(doc, 'hub.yaml'),
      openStore: open,
    });
    const store = new RoutingStore(registry);
    try {
      doc = {
        tenants: [
          { id: 'acme', primary: 'memory:a' },
          { id: 'beta', primary: 'memory:fresh' },
          { id: 'gamma', primary: 'memory:broken' },
        ],
      };
      const err = await registry.reload().catch((e: unknown) => e);
      expect(isHubError(err, 'UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toBe('cannot open store memory:broken');
      await expect(store.scan(BETA, { type: 'outputs', limit: 1 })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(await store.scan(ACME, { type: 'outputs', limit: 1 })).toEqual([]);
      // The store opened for the failed reload was given back.
      await expect(opener.real('memory:fresh').ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(opener.real('memory:a').ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  test('removing a tenant refuses it from then on (no default tenant)', async () => {
    const { registry, store, set } = await reloadable({
      tenants: [
        { id: 'acme', primary: 'memory:a' },
        { id: 'beta', primary: 'memory:b' },
      ],
    });
    try {
      set({ tenants: [{ id: 'acme', primary: 'memory:a' }] });
      await registry.reload();
      await expect(store.list(BETA, { type: 'outputs', filter: {}, limit: 1 })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    } finally {
      await store.close();
    }
  });

  test('SIGHUP reloads; a failing reload is logged and keeps the old configuration', async () => {
    const logged: [string, Record<string, unknown> | undefined][] = [];
    const { registry, store, set } = await reloadable({ tenants: [{ id: 'acme', primary: 'memory:a' }] });
    const uninstall = installSighupReload(registry, (event, fields) => logged.push([event, fields]));
    try {
      set({
        tenants: [
          { id: 'acme', primary: 'memory:a' },
          { id: 'beta', primary: 'memory:b' },
        ],
      });
      process.emit('SIGHUP', 'SIGHUP');
      await eventually(async () => logged.length === 1);
      expect(logged[0]).toEqual([
        'router.sighup_reloaded',
        { tenants: 2, shared: false, opened: ['memory:b'] },
      ]);
      set({ tenants: 'oops' });
      process.emit('SIGHUP', 'SIGHUP');
      await eventually(async () => logged.length === 2);
      expect(logged[1]?.[0]).toBe('router.sighup_reload_failed');
      expect(String(logged[1]?.[1]?.error)).toMatch(/tenants: must be a list/);
      expect(registry.config().tenants.size).toBe(2);
    } finally {
      uninstall();
      await store.close();
    }
  });

  test('the SIGHUP handler goes away when the registry closes', async () => {
    const before = process.listenerCount('SIGHUP');
    const { registry, store } = await reloadable({ tenants: [{ id: 'acme', primary: 'memory:a' }] });
    installSighupReload(registry);
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    await store.close();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});

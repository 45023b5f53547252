/**
 * Which store `hub serve` opens, and opening it: `--store`, else the router
 * (over a tenants file, HUB_PG_URL or a control plane, reloaded on SIGHUP and
 * following the control plane), else the embedded PGlite. Part of the
 * composition root (src/app/serve.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { HubConfig } from '../config';
import type { ControlPlane } from '../control/control-plane';
import { controlUri, openControlPlane } from '../control/open';
import { controlledLoad } from '../control/registry';
import { ControlWatcher } from '../control/watch';
import { RollupCache, withRollupCache } from '../hub/rollup-cache';
import type { HubStore } from '../hub/store';
import type { HealthSource } from '../platform/health';
import type { Logger } from '../platform/log';
import type { TenantPolicy } from '../platform/tenant-limits';
import { loadRegistryConfig } from '../router/registry-config';
import { routerHealth } from '../router/router-metrics';
import { RoutingStore } from '../router/routing-store';
import { registryPolicy } from '../router/tenant-policy';
import { installSighupReload } from '../router/tenant-registry';
import { driverFor, openStore } from '../stores';
import { type OpenStoreOptions, redactUri, schemeOf } from '../stores/driver';
import type { StoreOpener } from '../router/store-pool';

/** What choosing the store depends on (a subset of the serve options). */
export interface StoreChoice {
  readonly config: HubConfig;
  /** Explicit store URI (`--store`). */
  readonly storeUri?: string;
  /** Create the explicit store's folder when missing (`--create`). */
  readonly createStore?: boolean;
  /** Development mode: a fresh HUB_PG_URL database is migrated first. */
  readonly dev?: boolean;
  readonly log: Logger;
  readonly print: (line: string) => void;
}

/** An opened store with what the gateway shows of it. */
export interface ChosenStore {
  readonly store: HubStore;
  /** Label in metrics. */
  readonly label: string;
  /** For the banner (no credentials). */
  readonly description: string;
  /** Metrics and readiness beyond the store's ping (the router's). */
  readonly health?: HealthSource;
  /** Per-tenant limits and registered operations (the router's tenants file). */
  readonly policy?: TenantPolicy;
  /** The control plane the router follows (tenant moves run through it at `/admin/move/...`). */
  readonly control?: ControlPlane;
  /** The rollup result cache around the stores (its figures go to `/metrics`). */
  readonly rollupCache?: RollupCache;
}

/**
 * Chooses and opens the store; returns it with a label for metrics and a
 * human description: `--store`, else the router (a tenants file, HUB_PG_URL
 * or a control plane), else the embedded PGlite.
 */
export async function chooseStore(options: StoreChoice): Promise<ChosenStore> {
  const { config } = options;
  // One budget for every store the gateway opens; each store's entries are its own.
  const cache = new RollupCache(config.rollupCache);
  const open = (uri: string, o?: OpenStoreOptions): Promise<HubStore> =>
    openStore(uri, o).then((s) => withRollupCache(s, cache));
  if (options.dev && !options.storeUri && config.configFile === undefined && config.pgUrl !== undefined)
    await migrateForDevelopment(config.pgUrl, options.print);
  if (options.storeUri) {
    const uri = options.storeUri;
    const store = await open(uri, { create: options.createStore === true });
    return { store, label: schemeOf(uri), description: redactUri(uri), rollupCache: cache };
  }
  const control = await openGatewayControl(config, options);
  if (config.configFile !== undefined || config.pgUrl !== undefined || control)
    return { ...(await openRouter(config, control, options, open)), rollupCache: cache };
  // The embedded default: PGlite creates or upgrades its schema when it opens.
  const pglite = `pglite:${config.dataDir}`;
  return { store: await open(pglite), label: 'pglite', description: pglite, rollupCache: cache };
}

/**
 * `npm start` against a fresh database: creates the schema first (idempotent);
 * a failure is a note, not fatal. Production deployments run `hub db migrate`
 * as the schema owner instead.
 */
async function migrateForDevelopment(pgUrl: string, print: (line: string) => void): Promise<void> {
  try {
    await driverFor(pgUrl).migrate?.(pgUrl);
  } catch (err) {
    print(
      `note: could not migrate ${redactUri(pgUrl)} (${err instanceof Error ? err.message : String(err)}); run 'hub db migrate' as the schema owner`,
    );
  }
}

/**
 * The router over the tenants file, HUB_PG_URL or the control plane's
 * registry, reloaded on SIGHUP and following the control plane when there is
 * one. Closes `control` if the router cannot open.
 */
async function openRouter(
  config: HubConfig,
  control: ControlPlane | undefined,
  options: Pick<StoreChoice, 'log'>,
  open: StoreOpener,
): Promise<ChosenStore> {
  const log = (event: string, fields?: Record<string, unknown>): void => options.log.info(event, fields);
  const loader = control ? controlledLoad(config, control) : undefined;
  let store: RoutingStore;
  try {
    store = await RoutingStore.open({
      load: loader?.load ?? (() => loadRegistryConfig(config)),
      log,
      openStore: open,
    });
  } catch (err) {
    await control?.close();
    throw err;
  }
  // SIGHUP re-reads HUB_CONFIG without dropping requests; the handler goes when the store closes.
  installSighupReload(store.registry, log);
  if (control && loader) {
    // Control plane changes (tenant states, moves) reach this replica within a second.
    const watcher = new ControlWatcher(control, store.registry, loader.version, {
      replicaId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      log,
    });
    await watcher.start();
    store.registry.onClose(() => void watcher.stop().finally(() => control.close()));
  }
  const what = config.configFile
    ? `tenants file ${config.configFile}`
    : config.pgUrl !== undefined
      ? `PostgreSQL ${redactUri(config.pgUrl)}`
      : `pglite:${config.dataDir}`;
  const plane = control ? ` with control plane ${control.label}` : '';
  return {
    store,
    label: 'router',
    description: `router over ${what}${plane}`,
    health: routerHealth(store),
    policy: registryPolicy(store.registry),
    ...(control ? { control } : {}),
  };
}

/**
 * The control plane the gateway follows (see src/control/open.ts): required
 * when HUB_CONTROL_URL is set; taken from HUB_PG_URL when it can be opened
 * there; for the embedded default, the data directory's control file (so a
 * tenant can move off the embedded store through `/admin/move/...` while this
 * process holds its folder).
 */
async function openGatewayControl(
  config: HubConfig,
  options: Pick<StoreChoice, 'print'>,
): Promise<ControlPlane | undefined> {
  const { uri, explicit } = controlUri(config);
  if (!explicit && config.configFile !== undefined && config.pgUrl === undefined) return undefined;
  let plane: ControlPlane;
  try {
    plane = await openControlPlane(uri);
  } catch (err) {
    if (explicit) throw err;
    options.print(
      `note: no control plane (${err instanceof Error ? err.message : String(err)}); tenant states and moves are not followed`,
    );
    return undefined;
  }
  return plane;
}

/**
 * The composition root: what `hub serve` runs. It picks and opens the store
 * (one store, or the router over a tenants file or HUB_PG_URL), builds auth,
 * seeds the demo tenant once in development, and starts the gateway with the
 * store's health source. The only module that wires stores, router, seed and
 * HTTP together; kept apart from the CLI file so tests can start it in-process.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { HubConfig } from '../config';
import type { ControlPlane } from '../control/control-plane';
import { controlUri, openControlPlane } from '../control/open';
import { controlledLoad } from '../control/registry';
import { ControlWatcher } from '../control/watch';
import type { Hub } from '../hub/hub';
import type { HubStore } from '../hub/store';
import { parseTenantId } from '../hub/tenant';
import { loadRegistryConfig } from '../router/registry-config';
import { routerHealth } from '../router/router-metrics';
import { RoutingStore } from '../router/routing-store';
import { registryPolicy } from '../router/tenant-policy';
import { type TenantPolicy, uniformPolicy } from '../platform/tenant-limits';
import { type SharedRedis, connectSharedRedis } from '../platform/redis';
import { RedisBudget } from '../platform/redis-budget';
import { RedisPersistedQueries } from '../http/apq-redis';
import { installSighupReload } from '../router/tenant-registry';
import { generateDataset } from '../seed/generator';
import { windowStart, writeDataset } from '../seed/write-dataset';
import { driverFor, openStore } from '../stores';
import { redactUri, schemeOf } from '../stores/driver';
import { type AuthOptions, mintToken } from '../platform/auth';
import { moveActions } from './admin-moves';
import { ensureDevSecret } from './dev-secret';
import type { HealthSource } from '../platform/health';
import type { Logger } from '../platform/log';
import { GatewayMetrics } from '../platform/metrics';
import { createTracer, installTracer } from '../platform/tracing';
import { MemoryUsageSink, UsageMeter, type UsageSink } from '../platform/usage';
import { type Gateway, createGateway } from '../http/server';

export interface ServeOptions {
  readonly config: HubConfig;
  /** Explicit store URI (`--store`); otherwise HUB_CONFIG / HUB_PG_URL, else PGlite, else memory. */
  readonly storeUri?: string;
  /**
   * Create the explicit store's folder when missing (`--create`; embedded
   * stores). The default data directory (HUB_DATA_DIR) is always created.
   */
  readonly createStore?: boolean;
  readonly port: number;
  readonly host: string;
  /** Development mode: dev secret, demo seed, GraphiQL with a token. */
  readonly dev: boolean;
  /** Tenant seeded in development mode (default `demo`). */
  readonly demoTenant?: string;
  readonly seed: boolean;
  readonly log: Logger;
  /** Prints the human banner (URL, GraphiQL, token). */
  readonly print: (line: string) => void;
}

export interface Served {
  readonly gateway: Gateway;
  readonly store: HubStore;
  readonly url: string;
  readonly devToken?: string;
  /** Graceful stop: in-flight requests finish, then the store closes. */
  stop(): Promise<void>;
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
}

/** Chooses and opens the store; returns it with a label for metrics and a human description. */
export async function chooseStore(
  options: Pick<ServeOptions, 'config' | 'storeUri' | 'createStore' | 'log' | 'print'> & {
    readonly dev?: boolean;
  },
): Promise<ChosenStore> {
  const { config } = options;
  if (options.dev && !options.storeUri && config.configFile === undefined && config.pgUrl !== undefined) {
    // `npm start` against a fresh database: create the schema first (idempotent).
    // Production deployments run `hub db migrate` as the schema owner instead.
    try {
      await driverFor(config.pgUrl).migrate?.(config.pgUrl);
    } catch (err) {
      options.print(
        `note: could not migrate ${redactUri(config.pgUrl)} (${err instanceof Error ? err.message : String(err)}); run 'hub db migrate' as the schema owner`,
      );
    }
  }
  if (options.storeUri) {
    const uri = options.storeUri;
    const store = await openStore(uri, { create: options.createStore === true });
    return { store, label: schemeOf(uri), description: redactUri(uri) };
  }
  const control = await openGatewayControl(config, options);
  if (config.configFile !== undefined || config.pgUrl !== undefined || control) {
    const log = (event: string, fields?: Record<string, unknown>): void => options.log.info(event, fields);
    const loader = control ? controlledLoad(config, control) : undefined;
    let store: RoutingStore;
    try {
      store = await RoutingStore.open({ load: loader?.load ?? (() => loadRegistryConfig(config)), log });
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
  // The embedded default: PGlite creates or upgrades its schema when it opens.
  const pglite = `pglite:${config.dataDir}`;
  return { store: await openStore(pglite), label: 'pglite', description: pglite };
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
  options: Pick<ServeOptions, 'print'>,
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

/** Seeds the demo tenant unless it already has outputs. @returns records created. */
export async function seedDemoOnce(hub: Hub, tenantName: string): Promise<number> {
  const tenant = parseTenantId(tenantName);
  const existing = await hub.list(tenant, 'outputs', {}, { first: 1 });
  if (existing.records.length > 0) return 0;
  const days = 90;
  const data = generateDataset({ days, start: windowStart(days) });
  return (await writeDataset(hub, tenant, data)).created;
}

/**
 * Token verification as configured: HUB_AUTH_JWT_SECRET or HUB_AUTH_JWKS_URL,
 * else (development mode only) the data directory's development secret.
 * `signingSecret` is the secret development tokens can be minted with, if any.
 * @throws Error when nothing is configured outside development mode.
 */
export function chooseAuth(
  config: HubConfig,
  dev: boolean,
): { readonly auth: AuthOptions; readonly signingSecret?: string } {
  const claims = {
    tenantClaim: config.tenantClaim,
    ...(config.authIssuer !== undefined ? { issuer: config.authIssuer } : {}),
    ...(config.authAudience !== undefined ? { audience: config.authAudience } : {}),
    ...(config.authMaxTtlSeconds !== undefined ? { maxTtlSeconds: config.authMaxTtlSeconds } : {}),
  };
  if (config.jwtSecret || config.jwksUrl) {
    const auth = { jwtSecret: config.jwtSecret, jwksUrl: config.jwksUrl, ...claims };
    return config.jwtSecret ? { auth, signingSecret: config.jwtSecret } : { auth };
  }
  if (dev) {
    const secret = ensureDevSecret(config.dataDir);
    return { auth: { jwtSecret: secret, ...claims }, signingSecret: secret };
  }
  throw new Error(
    'no token verification configured: set HUB_AUTH_JWT_SECRET or HUB_AUTH_JWKS_URL (or use --dev)',
  );
}

/**
 * Where per-tenant usage is kept: HUB_USAGE_URL, else HUB_PG_URL, else the
 * store's own database (`--store`, or the embedded PGlite) when its driver
 * keeps usage; otherwise (memory, a tenants file without HUB_USAGE_URL, or a
 * database that cannot be opened, with a note) in memory only.
 */
export async function openUsageSink(
  options: Pick<ServeOptions, 'config' | 'storeUri' | 'print'>,
): Promise<{ readonly sink: UsageSink; readonly description: string }> {
  const { config } = options;
  const uri =
    config.usage.url ??
    config.pgUrl ??
    options.storeUri ??
    (config.configFile === undefined ? `pglite:${config.dataDir}` : undefined);
  if (uri !== undefined) {
    try {
      const open = driverFor(uri).openUsage;
      if (open) return { sink: await open(uri), description: redactUri(uri) };
    } catch (err) {
      options.print(
        `note: per-tenant usage kept in memory only: ${redactUri(uri)} could not be opened (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
  return { sink: new MemoryUsageSink(), description: 'memory (not kept across restarts)' };
}

/** Starts the gateway as configured. */
export async function serve(options: ServeOptions): Promise<Served> {
  const { config, log } = options;
  const { auth, signingSecret: devSecret } = chooseAuth(config, options.dev);
  // Before any store opens, so every layer's spans go to it (the no-op tracer when off).
  const tracing = createTracer(config.tracing);
  installTracer(tracing);
  const { store, label, description, health, policy, control } = await chooseStore(options);
  const usageSink = await openUsageSink(options);
  const usage = new UsageMeter({
    sink: usageSink.sink,
    flushMs: config.usage.flushSeconds * 1000,
    retentionDays: config.usage.retentionDays,
    log: (event, fields) => log.warn(event, fields),
  });
  // With HUB_REDIS_URL, cost buckets and persisted queries are shared by the replicas.
  let redis: SharedRedis | undefined;
  try {
    if (config.redisUrl !== undefined) redis = connectSharedRedis(config.redisUrl, { log });
    const effective = policy ?? uniformPolicy();
    const shared = redis
      ? {
          budget: new RedisBudget(redis),
          persistedQueries: new RedisPersistedQueries(redis, (t) => effective.limits(t).persistedQueryChars),
        }
      : {};
    const demoTenant = options.demoTenant ?? 'demo';
    let devToken: string | undefined;
    if (options.dev && devSecret) {
      devToken = await mintToken({
        secret: devSecret,
        tenant: demoTenant,
        scopes: ['hub:read', 'hub:write'],
        // 12 hours, or the configured maximum lifetime when that is shorter.
        ttlSeconds: Math.min(12 * 3600, config.authMaxTtlSeconds ?? 12 * 3600),
        tenantClaim: config.tenantClaim,
        ...(config.authIssuer !== undefined ? { issuer: config.authIssuer } : {}),
        ...(config.authAudience !== undefined ? { audience: config.authAudience } : {}),
      });
    }
    const gateway = await createGateway({
      store,
      storeLabel: label,
      auth,
      cursorSecret: config.cursorSecret,
      limits: config.queryLimits,
      log,
      ingest: withoutUnset(config.ingest),
      httpTimeouts: withoutUnset(config.httpTimeouts),
      metrics: new GatewayMetrics({ processMetrics: true }),
      graphiql: { ...(devToken ? { devToken } : {}) },
      ...(health ? { health } : {}),
      ...(policy ? { tenantPolicy: policy } : {}),
      ...shared,
      metricsAccess: {
        separateListener: config.metricsPort !== undefined,
        ...(config.metricsToken !== undefined ? { token: config.metricsToken } : {}),
      },
      dashboard: { ...(devToken ? { devToken, tenant: demoTenant } : {}) },
      usage,
      ...(control ? { admin: moveActions(control, config, (event, fields) => log.info(event, fields)) } : {}),
    });
    if (options.dev && options.seed) {
      options.print(`seeding tenant ${demoTenant} (first start only)...`);
      const created = await seedDemoOnce(gateway.hub, demoTenant);
      options.print(created > 0 ? `seeded ${created} records` : `tenant ${demoTenant} already has data`);
    }
    const url = await gateway.listen(options.port, options.host);
    options.print(`Hub gateway on ${url}/graphql (store: ${description})`);
    options.print(`Usage:        per tenant per minute in ${usageSink.description}`);
    if (tracing.enabled)
      options.print(
        `Traces:       OTLP/HTTP to ${redactUri(config.tracing.tracesEndpoint ?? config.tracing.endpoint ?? '')}`,
      );
    if (config.metricsPort !== undefined) {
      const metricsUrl = await gateway.listenMetrics(config.metricsPort, options.host);
      options.print(`Metrics:      ${metricsUrl}/metrics (own listener, HUB_METRICS_PORT)`);
    }
    options.print(`GraphiQL:     ${url}/graphiql`);
    options.print(
      `Dashboard:    ${url}/dashboard/${devToken ? ` (tenant ${demoTenant}, with the dev token)` : ''}`,
    );
    if (devToken) {
      const hours = Math.min(12 * 3600, config.authMaxTtlSeconds ?? 12 * 3600) / 3600;
      options.print(`dev token (tenant ${demoTenant}, hub:read hub:write, ${hours}h):`);
      options.print(devToken);
    }
    let stopping: Promise<void> | undefined;
    return {
      gateway,
      store,
      url,
      ...(devToken ? { devToken } : {}),
      stop: () =>
        (stopping ??= (async () => {
          await gateway.close();
          await redis?.close();
          await usage.close().catch(() => undefined);
          await store.close();
          await tracing.shutdown().catch(() => undefined);
        })()),
    };
  } catch (err) {
    await redis?.close();
    await usage.close().catch(() => undefined);
    await store.close();
    await tracing.shutdown().catch(() => undefined);
    throw err;
  }
}

/** The settings that are set (exact optional properties take no `undefined`). */
function withoutUnset<T extends object>(settings: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

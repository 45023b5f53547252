/**
 * The composition root: what `hub serve` runs. It picks and opens the store
 * (choose-store.ts: one store, or the router over a tenants file or HUB_PG_URL), builds auth,
 * seeds the demo tenant once in development, and starts the gateway with the
 * store's health source. The only module that wires stores, router, seed and
 * HTTP together; kept apart from the CLI file so tests can start it in-process.
 */
import type { HubConfig } from '../config';
import type { Hub } from '../hub/hub';
import type { HubStore } from '../hub/store';
import { parseTenantId } from '../hub/tenant';
import { type TenantPolicy, uniformPolicy } from '../platform/tenant-limits';
import { type SharedRedis, connectSharedRedis } from '../platform/redis';
import { RedisBudget } from '../platform/redis-budget';
import { RedisPersistedQueries } from '../http/apq-redis';
import { generateDataset } from '../seed/generator';
import { windowStart, writeDataset } from '../seed/write-dataset';
import { driverFor } from '../stores';
import { redactUri } from '../stores/driver';
import { type AuthOptions, mintToken } from '../platform/auth';
import { moveActions } from './admin-moves';
import { type ChosenStore, chooseStore } from './choose-store';
import { registerRollupCacheMetrics } from '../platform/rollup-cache-metrics';
import { ensureDevSecret } from './dev-secret';
import type { Logger } from '../platform/log';
import { GatewayMetrics } from '../platform/metrics';
import { type Tracer, createTracer, installTracer, tracer } from '../platform/tracing';
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

/**
 * Starts the gateway as configured, in named steps: auth, the tracer (before
 * any store opens, so every layer's spans go to it), the store, the usage
 * meter, Redis when shared, the development token, the gateway, the demo
 * seed, the listeners and the banner. On failure, what was opened is closed.
 */
export async function serve(options: ServeOptions): Promise<Served> {
  const { config, log } = options;
  const { auth, signingSecret: devSecret } = chooseAuth(config, options.dev);
  const { tracing, endTracing } = startTracing(config);
  const chosen = await chooseStore(options).catch(async (err: unknown) => {
    await endTracing();
    throw err;
  });
  const usageSink = await openUsageSink(options);
  const usage = usageMeter(config, usageSink.sink, log);
  let redis: SharedRedis | undefined;
  const release = async (): Promise<void> => {
    await redis?.close();
    await usage.close().catch(() => undefined);
    await chosen.store.close();
    await endTracing();
  };
  try {
    // With HUB_REDIS_URL, cost buckets and persisted queries are shared by the replicas.
    if (config.redisUrl !== undefined) redis = connectSharedRedis(config.redisUrl, { log });
    const demoTenant = options.demoTenant ?? 'demo';
    const devToken = options.dev && devSecret ? await mintDevToken(config, devSecret, demoTenant) : undefined;
    const gateway = await createGateway({
      ...gatewayOptions(config, log, chosen, usage),
      ...sharedState(redis, chosen.policy ?? uniformPolicy()),
      auth,
      graphiql: { ...(devToken ? { devToken } : {}) },
      dashboard: { ...(devToken ? { devToken, tenant: demoTenant } : {}) },
    });
    if (options.dev && options.seed) await seedDemo(options, gateway, demoTenant);
    const url = await gateway.listen(options.port, options.host);
    const metricsUrl =
      config.metricsPort !== undefined
        ? await gateway.listenMetrics(config.metricsPort, options.host)
        : undefined;
    printBanner(options, {
      url,
      store: chosen.description,
      usage: usageSink.description,
      tracing: tracing.enabled,
      ...(metricsUrl !== undefined ? { metricsUrl } : {}),
      ...(devToken ? { devToken, demoTenant } : {}),
    });
    let stopping: Promise<void> | undefined;
    return {
      gateway,
      store: chosen.store,
      url,
      ...(devToken ? { devToken } : {}),
      stop: () =>
        (stopping ??= (async () => {
          await gateway.close();
          await release();
        })()),
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * Installs the configured tracer (the no-op one when tracing is off).
 * `endTracing` shuts it down (spans flushed, export worker gone) and puts back
 * the tracer before it, so a process that serves again, or goes on after a
 * failed start, never traces into a tracer that was shut down.
 */
function startTracing(config: HubConfig): { tracing: Tracer; endTracing: () => Promise<void> } {
  const tracing = createTracer(config.tracing);
  const previous = installTracer(tracing);
  const endTracing = async (): Promise<void> => {
    if (tracer() === tracing) installTracer(previous);
    await tracing.shutdown().catch(() => undefined);
  };
  return { tracing, endTracing };
}

/** Counts per-tenant usage in memory, flushing to `sink` as configured. */
function usageMeter(config: HubConfig, sink: UsageSink, log: Logger): UsageMeter {
  return new UsageMeter({
    sink,
    flushMs: config.usage.flushSeconds * 1000,
    retentionDays: config.usage.retentionDays,
    log: (event, fields) => log.warn(event, fields),
  });
}

/** The gateway's options that follow from the configuration and the chosen store. */
function gatewayOptions(config: HubConfig, log: Logger, chosen: ChosenStore, usage: UsageMeter) {
  const metrics = new GatewayMetrics({ processMetrics: true });
  if (chosen.rollupCache) registerRollupCacheMetrics(metrics.registry, chosen.rollupCache);
  return {
    store: chosen.store,
    storeLabel: chosen.label,
    cursorSecret: config.cursorSecret,
    limits: config.queryLimits,
    log,
    ingest: withoutUnset(config.ingest),
    metrics,
    ...(chosen.health ? { health: chosen.health } : {}),
    ...(chosen.policy ? { tenantPolicy: chosen.policy } : {}),
    ...(chosen.control
      ? { admin: moveActions(chosen.control, config, (event, fields) => log.info(event, fields)) }
      : {}),
    metricsAccess: {
      separateListener: config.metricsPort !== undefined,
      ...(config.metricsToken !== undefined ? { token: config.metricsToken } : {}),
    },
    usage,
  };
}

/** Cost buckets and persisted queries in Redis, shared by the replicas (none without Redis). */
function sharedState(redis: SharedRedis | undefined, policy: TenantPolicy) {
  if (!redis) return {};
  return {
    budget: new RedisBudget(redis),
    persistedQueries: new RedisPersistedQueries(redis, (t) => policy.limits(t).persistedQueryChars),
  };
}

/** The development token's lifetime: 12 hours, or the configured maximum lifetime when that is shorter. */
function devTokenSeconds(config: HubConfig): number {
  return Math.min(12 * 3600, config.authMaxTtlSeconds ?? 12 * 3600);
}

/** A token for the demo tenant (hub:read, hub:write), signed with the development secret. */
function mintDevToken(config: HubConfig, secret: string, tenant: string): Promise<string> {
  return mintToken({
    secret,
    tenant,
    scopes: ['hub:read', 'hub:write'],
    ttlSeconds: devTokenSeconds(config),
    tenantClaim: config.tenantClaim,
    ...(config.authIssuer !== undefined ? { issuer: config.authIssuer } : {}),
    ...(config.authAudience !== undefined ? { audience: config.authAudience } : {}),
  });
}

/** Seeds the demo tenant on its first start, saying so. */
async function seedDemo(options: ServeOptions, gateway: Gateway, tenant: string): Promise<void> {
  options.print(`seeding tenant ${tenant} (first start only)...`);
  const created = await seedDemoOnce(gateway.hub, tenant);
  options.print(created > 0 ? `seeded ${created} records` : `tenant ${tenant} already has data`);
}

/** What the banner shows. */
interface Banner {
  readonly url: string;
  readonly store: string;
  readonly usage: string;
  readonly tracing: boolean;
  readonly metricsUrl?: string;
  readonly devToken?: string;
  readonly demoTenant?: string;
}

/** Prints where the gateway listens and what it serves (no credential but the development token). */
function printBanner(options: Pick<ServeOptions, 'config' | 'print'>, b: Banner): void {
  const { config, print } = options;
  print(`Hub gateway on ${b.url}/graphql (store: ${b.store})`);
  print(`Usage:        per tenant per minute in ${b.usage}`);
  if (b.tracing)
    print(
      `Traces:       OTLP/HTTP to ${redactUri(config.tracing.tracesEndpoint ?? config.tracing.endpoint ?? '')}`,
    );
  if (b.metricsUrl !== undefined)
    print(`Metrics:      ${b.metricsUrl}/metrics (own listener, HUB_METRICS_PORT)`);
  print(`GraphiQL:     ${b.url}/graphiql`);
  print(
    `Dashboard:    ${b.url}/dashboard/${b.devToken ? ` (tenant ${b.demoTenant}, with the dev token)` : ''}`,
  );
  if (b.devToken) {
    print(`dev token (tenant ${b.demoTenant}, hub:read hub:write, ${devTokenSeconds(config) / 3600}h):`);
    print(b.devToken);
  }
}

/** The settings that are set (exact optional properties take no `undefined`). */
function withoutUnset<T extends object>(settings: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

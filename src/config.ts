/**
 * Process configuration: the only module that reads `process.env`. Everything
 * else receives a {@link HubConfig}.
 */
export interface HubConfig {
  /** HTTP port (`PORT`, default 4000). */
  readonly port: number;
  /** Tenants and topologies file (`HUB_CONFIG`, YAML or JSON). */
  readonly configFile?: string;
  /** One PostgreSQL for every tenant, Mode A (`HUB_PG_URL`). */
  readonly pgUrl?: string;
  /** HS256 secret for bearer tokens (`HUB_AUTH_JWT_SECRET`). */
  readonly jwtSecret?: string;
  /** JWKS URL for RS256/ES256 tokens (`HUB_AUTH_JWKS_URL`). */
  readonly jwksUrl?: string;
  /** Claim holding the tenant id (`HUB_AUTH_TENANT_CLAIM`, default `tenant_id`). */
  readonly tenantClaim: string;
  /** Required token issuer (`HUB_AUTH_ISSUER`); unset: `iss` is not checked. */
  readonly authIssuer?: string;
  /** Required token audience (`HUB_AUTH_AUDIENCE`); unset: `aud` is not checked. */
  readonly authAudience?: string;
  /** Longest accepted token lifetime in seconds (`HUB_AUTH_MAX_TTL`, e.g. `24h`; default 24h). */
  readonly authMaxTtlSeconds?: number;
  /** Port of a separate listener serving only `/metrics` (`HUB_METRICS_PORT`). */
  readonly metricsPort?: number;
  /** Static bearer credential for `/metrics` on the main port (`HUB_METRICS_TOKEN`). */
  readonly metricsToken?: string;
  /** Redis shared by replicas for rate limits and persisted queries (`HUB_REDIS_URL`). */
  readonly redisUrl?: string;
  /** Embedded data directory (`HUB_DATA_DIR`, default `./.hub-data`). */
  readonly dataDir: string;
  /** Key for list cursors shared by replicas (`HUB_CURSOR_SECRET`). */
  readonly cursorSecret?: string;
  /** PostgreSQL server used by the tests (`HUB_TEST_PG_URL`). */
  readonly testPgUrl: string;
  /**
   * Control plane database (`HUB_CONTROL_URL`): tenant states, primaries set
   * by `hub tenants set` and moves, shared by every replica. Unset: the
   * gateway uses HUB_PG_URL's database when it can, else none.
   */
  readonly controlUrl?: string;
  /** Log level (`HUB_LOG_LEVEL`: debug, info, warn, error; default info). */
  readonly logLevel: string;
  /**
   * Per-tenant usage (docs/observability.md): the database keeping it
   * (`HUB_USAGE_URL`, default HUB_PG_URL, else the store's own PostgreSQL or
   * PGlite), the days kept (`HUB_USAGE_RETENTION_DAYS`, default 30) and how
   * often counts are written (`HUB_USAGE_FLUSH_SECONDS`, default 60).
   */
  readonly usage: { readonly url?: string; readonly retentionDays: number; readonly flushSeconds: number };
  /**
   * The exact result cache of versioned rollups (src/hub/rollup-cache.ts):
   * `HUB_ROLLUP_CACHE_MB` in all (default 64; 0 turns it off) and
   * `HUB_ROLLUP_CACHE_TENANT_MB` per tenant (default 8), estimated bytes.
   */
  readonly rollupCache: { readonly maxBytes: number; readonly maxTenantBytes: number };
  /**
   * OpenTelemetry traces: the standard `OTEL_*` variables (see
   * docs/observability.md). Off unless an OTLP endpoint is set.
   */
  readonly tracing: {
    readonly endpoint?: string;
    readonly tracesEndpoint?: string;
    readonly headers?: string;
    readonly serviceName?: string;
    readonly resourceAttributes?: string;
    readonly sampler?: string;
    readonly samplerArg?: string;
    readonly disabled: boolean;
    readonly protocol?: string;
  };
  /**
   * Bounds of `/ingest` in bytes, each unset for the default (see
   * src/http/ingest.ts): `HUB_INGEST_MAX_LINE_BYTES`, `HUB_INGEST_MAX_REQUEST_BYTES`
   * (in flight per request), `HUB_INGEST_MAX_INFLIGHT_BYTES` (per process).
   */
  readonly ingest: {
    readonly maxLineBytes?: number;
    readonly maxRequestBytes?: number;
    readonly maxInflightBytes?: number;
    /** `HUB_INGEST_TIMEOUT_MS`: longest ingest stream (default 1 h). */
    readonly maxStreamMs?: number;
    /** `HUB_INGEST_IDLE_TIMEOUT_MS`: longest wait for an ingest sender's next bytes (default 60 s). */
    readonly idleMs?: number;
  };
  /**
   * HTTP timeouts, each unset for the default (src/http/request-timeouts.ts):
   * `HUB_HEADERS_TIMEOUT_MS` (20 s), `HUB_REQUEST_TIMEOUT_MS` (60 s, every
   * route but `/ingest`).
   */
  readonly httpTimeouts: {
    readonly headersMs?: number;
    readonly requestMs?: number;
  };
  /**
   * Query limits set by the environment (docs/limits.md: `HUB_MAX_COST`,
   * `HUB_MAX_DEPTH`, `HUB_MAX_ALIASES`, `HUB_MAX_ROOT_FIELDS`,
   * `HUB_MAX_DIRECTIVES`, `HUB_MAX_TOKENS`, `HUB_MAX_QUERY_CHARS`,
   * `HUB_MAX_BODY_VALUES`, `HUB_MAX_REPRESENTATIONS`,
   * `HUB_JIT_MAX_FIELDS`, `HUB_QUERY_TIMEOUT_MS`); only the set ones appear.
   */
  readonly queryLimits: Readonly<Partial<Record<QueryLimitName, number>>>;
}

/** The query limits the environment can set, by variable (names as in src/graphql/limits.ts). */
const QUERY_LIMIT_VARS = {
  HUB_MAX_COST: 'maxCost',
  HUB_MAX_DEPTH: 'maxDepth',
  HUB_MAX_ALIASES: 'maxAliases',
  HUB_MAX_ROOT_FIELDS: 'maxRootFields',
  HUB_MAX_DIRECTIVES: 'maxDirectives',
  HUB_MAX_TOKENS: 'maxTokens',
  HUB_MAX_QUERY_CHARS: 'maxQueryChars',
  HUB_MAX_BODY_VALUES: 'maxBodyValues',
  HUB_MAX_REPRESENTATIONS: 'maxRepresentations',
  HUB_JIT_MAX_FIELDS: 'jitMaxFields',
  HUB_QUERY_TIMEOUT_MS: 'timeoutMs',
} as const;

type QueryLimitName = (typeof QUERY_LIMIT_VARS)[keyof typeof QUERY_LIMIT_VARS];

function queryLimitSettings(env: NodeJS.ProcessEnv): Partial<Record<QueryLimitName, number>> {
  const limits: Partial<Record<QueryLimitName, number>> = {};
  for (const [name, key] of Object.entries(QUERY_LIMIT_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    // 0 means something for HUB_JIT_MAX_FIELDS only (never compile); the others need at least 1.
    const min = key === 'jitMaxFields' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min)
      throw new Error(`${name} must be a whole number >= ${min}, got ${raw}`);
    limits[key] = value;
  }
  return limits;
}

/** A positive byte count from the environment, or undefined when unset. */
function bytesSetting(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number of bytes, got ${raw}`);
  return value;
}

/** A positive number of milliseconds from the environment, or undefined when unset. */
function msSetting(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number of milliseconds, got ${raw}`);
  return value;
}

/** A whole number in `min..max` from the environment, `fallback` when unset. */
function wholeSetting(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  return value;
}

/** HUB_ROLLUP_CACHE_MB (0: off) and HUB_ROLLUP_CACHE_TENANT_MB, in bytes. */
function rollupCacheSettings(env: NodeJS.ProcessEnv): HubConfig['rollupCache'] {
  const mb = 1024 * 1024;
  return {
    maxBytes: wholeSetting(env, 'HUB_ROLLUP_CACHE_MB', 64, 0, 1_048_576) * mb,
    maxTenantBytes: wholeSetting(env, 'HUB_ROLLUP_CACHE_TENANT_MB', 8, 1, 1_048_576) * mb,
  };
}

/** Reads the configuration from an environment (default: `process.env`). */
export function readConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be 0-65535, got ${env.PORT}`);
  const opt = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  const metricsPort = opt(env.HUB_METRICS_PORT);
  if (metricsPort !== undefined && !/^\d{1,5}$/.test(metricsPort))
    throw new Error(`HUB_METRICS_PORT must be 0-65535, got ${metricsPort}`);
  const maxTtl = opt(env.HUB_AUTH_MAX_TTL);
  return {
    port,
    configFile: opt(env.HUB_CONFIG),
    pgUrl: opt(env.HUB_PG_URL),
    jwtSecret: opt(env.HUB_AUTH_JWT_SECRET),
    jwksUrl: opt(env.HUB_AUTH_JWKS_URL),
    tenantClaim: opt(env.HUB_AUTH_TENANT_CLAIM) ?? 'tenant_id',
    authIssuer: opt(env.HUB_AUTH_ISSUER),
    authAudience: opt(env.HUB_AUTH_AUDIENCE),
    authMaxTtlSeconds: maxTtl === undefined ? undefined : durationSeconds(maxTtl, 'HUB_AUTH_MAX_TTL'),
    metricsPort: metricsPort === undefined ? undefined : Number(metricsPort),
    metricsToken: opt(env.HUB_METRICS_TOKEN),
    redisUrl: opt(env.HUB_REDIS_URL),
    dataDir: opt(env.HUB_DATA_DIR) ?? './.hub-data',
    cursorSecret: opt(env.HUB_CURSOR_SECRET),
    testPgUrl: opt(env.HUB_TEST_PG_URL) ?? 'postgres://postgres@127.0.0.1:5432/test',
    logLevel: opt(env.HUB_LOG_LEVEL) ?? 'info',
    ingest: {
      maxLineBytes: bytesSetting(env, 'HUB_INGEST_MAX_LINE_BYTES'),
      maxRequestBytes: bytesSetting(env, 'HUB_INGEST_MAX_REQUEST_BYTES'),
      maxInflightBytes: bytesSetting(env, 'HUB_INGEST_MAX_INFLIGHT_BYTES'),
      maxStreamMs: msSetting(env, 'HUB_INGEST_TIMEOUT_MS'),
      idleMs: msSetting(env, 'HUB_INGEST_IDLE_TIMEOUT_MS'),
    },
    httpTimeouts: {
      headersMs: msSetting(env, 'HUB_HEADERS_TIMEOUT_MS'),
      requestMs: msSetting(env, 'HUB_REQUEST_TIMEOUT_MS'),
    },
    controlUrl: opt(env.HUB_CONTROL_URL),
    usage: {
      url: opt(env.HUB_USAGE_URL),
      retentionDays: wholeSetting(env, 'HUB_USAGE_RETENTION_DAYS', 30, 1, 3650),
      flushSeconds: wholeSetting(env, 'HUB_USAGE_FLUSH_SECONDS', 60, 1, 3600),
    },
    rollupCache: rollupCacheSettings(env),
    tracing: {
      endpoint: opt(env.OTEL_EXPORTER_OTLP_ENDPOINT),
      tracesEndpoint: opt(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
      headers: opt(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) ?? opt(env.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: opt(env.OTEL_SERVICE_NAME),
      resourceAttributes: opt(env.OTEL_RESOURCE_ATTRIBUTES),
      sampler: opt(env.OTEL_TRACES_SAMPLER),
      samplerArg: opt(env.OTEL_TRACES_SAMPLER_ARG),
      disabled: (opt(env.OTEL_SDK_DISABLED) ?? '').toLowerCase() === 'true',
      protocol: opt(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? opt(env.OTEL_EXPORTER_OTLP_PROTOCOL),
    },
    queryLimits: queryLimitSettings(env),
  };
}

/** Parses `90s`, `15m`, `24h`, `7d` or plain seconds. @throws Error naming the variable. */
function durationSeconds(text: string, name: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  const n = m
    ? Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
    : 0;
  if (!m || n <= 0) throw new Error(`${name} must be a positive duration like 3600, 90m, 24h, got ${text}`);
  return n;
}

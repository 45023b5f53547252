/**
 * What a gateway is built from ({@link GatewayOptions}) and what building one
 * gives ({@link Gateway}); server.ts builds it, gateway-routes.ts routes its
 * requests.
 */
import type { Server } from 'node:http';
import type { Hub, HubOptions } from '../hub/hub';
import type { HubStore } from '../hub/store';
import type { QueryLimits } from '../graphql';
import type { AuthOptions, Authenticator } from '../platform/auth';
import type { HealthSource } from '../platform/health';
import type { Logger } from '../platform/log';
import type { GatewayMetrics } from '../platform/metrics';
import type { TenantLimits, TenantPolicy } from '../platform/tenant-limits';
import type { CostBudget } from '../platform/token-bucket';
import type { UsageMeter } from '../platform/usage';
import type { DashboardOptions } from './dashboard';
import type { GraphiQLOptions } from './graphiql';
import type { PersistedQueryCache } from './apq';
import type { AdminActions } from './admin';
import type { IngestLimitOptions } from './ingest';
import type { HttpTimeouts } from './request-timeouts';

/** Everything {@link createGateway} (server.ts) builds a gateway from. */
export interface GatewayOptions {
  /** The store behind the Hub (a single store or a routing store: both are HubStores). */
  readonly store: HubStore;
  /** Label of the store in metrics (e.g. the URI scheme). Default `primary`. */
  readonly storeLabel?: string;
  /** An authenticator, or what to build one from. */
  readonly auth: Authenticator | AuthOptions;
  /** Cursor MAC key shared by replicas; default: random per process (cursors then die with it). */
  readonly cursorSecret?: string;
  readonly hubOptions?: Omit<HubOptions, 'cursorSecret'>;
  readonly limits?: Partial<QueryLimits>;
  /** Largest `/graphql` body in bytes (default 16 MiB: a 10 MiB artifact in base64 fits). */
  readonly maxBodyBytes?: number;
  readonly log?: Logger;
  readonly metrics?: GatewayMetrics;
  /**
   * Each tenant's fair-share limits and registered operations (the router's,
   * from the tenants file; src/router/tenant-policy.ts). Default: the same
   * limits for everyone ({@link tenantLimits} over the defaults).
   */
  readonly tenantPolicy?: TenantPolicy;
  /** Limits of every tenant when no {@link tenantPolicy} is given. */
  readonly tenantLimits?: Partial<TenantLimits>;
  /**
   * Requests divided among the tenants active at once (default 8): each runs
   * at most its share, the rest wait their turn (src/http/fair-queue.ts).
   */
  readonly sharedConcurrency?: number;
  /** Where cost buckets live (default: this process; Redis with HUB_REDIS_URL). Closed with the gateway. */
  readonly budget?: CostBudget;
  /** Where persisted queries are kept (default: this process, per tenant; Redis with HUB_REDIS_URL). */
  readonly persistedQueries?: PersistedQueryCache;
  /** Lines per Hub call on /ingest (default 500). */
  readonly ingestChunkLines?: number;
  /** Bounds of /ingest (lines, bytes in flight per request and per gateway, time); see ingest.ts. */
  readonly ingest?: IngestLimitOptions;
  /** Headers and ordinary request timeouts (default 20 s and 60 s); see request-timeouts.ts. */
  readonly httpTimeouts?: Partial<HttpTimeouts>;
  /** GraphiQL at /graphiql (default enabled). */
  readonly graphiql?: GraphiQLOptions | false;
  /** The manager dashboard at /dashboard/ (default enabled). */
  readonly dashboard?: DashboardOptions | false;
  /**
   * Who may read `/metrics` and the detail of `/readyz` (figures of every
   * tenant: an operator's view). `separateListener`: only on the listener
   * started by {@link Gateway.listenMetrics} (`HUB_METRICS_PORT`), never on
   * the main port. Otherwise on the main port with `Authorization: Bearer`
   * and either `token` (`HUB_METRICS_TOKEN`) or a verified token holding the
   * `hub:metrics` scope. Default: the credential rule, with no static token.
   */
  readonly metricsAccess?: { readonly separateListener?: boolean; readonly token?: string };
  /**
   * Metrics and readiness of the stores beyond the store's ping (a routing
   * store's: src/router/router-metrics.ts); the composition root picks it.
   */
  readonly health?: HealthSource;
  /**
   * Per-tenant usage per minute (requests, errors, cost units, rows read,
   * rollups, bytes ingested); the composition root owns it (flushes, closes).
   */
  readonly usage?: UsageMeter;
  /**
   * Operator actions at `/admin/...` (hub:admin; tenant moves run in this
   * process): see src/http/admin.ts. Absent: `/admin/` answers 404.
   */
  readonly admin?: AdminActions;
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  readonly server: Server;
  readonly hub: Hub;
  readonly metrics: GatewayMetrics;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:4000`. */
  listen(port: number, host?: string): Promise<string>;
  /**
   * Starts the metrics listener: `/metrics`, `/readyz` (with detail) and
   * `/healthz` only, without a credential (bind it where only the operator's
   * scraper reaches). Resolves to its base URL.
   */
  listenMetrics(port: number, host?: string): Promise<string>;
  /** Stops accepting requests, waits for in-flight ones (at most `graceMs`), then stops the GraphQL server. */
  close(graceMs?: number): Promise<void>;
}

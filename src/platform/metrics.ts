/**
 * Prometheus metrics of one gateway instance (its own registry, so several
 * gateways in one process, as in tests, never share counters).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isHubError } from '../hub/errors';
import type { HubStore } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { CLIENT_OPERATIONS, type RegisteredOperations } from './operations';
import { forwardTraced } from '../hub/tracing-ports';

/** The `tenant` label of a tenant without one: shared, so spreading it per request allocates nothing. */
const NO_TENANT_LABEL: { readonly tenant?: string } = Object.freeze({});

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gateway's metrics. */
export class GatewayMetrics {
  readonly registry = new Registry();
  /**
   * GraphQL request latency by operation name and outcome (and `tenant`, for
   * the tenants the tenants file labels: {@link tenantLabel}).
   */
  readonly requestDuration = new Histogram({
    name: 'hub_graphql_request_duration_seconds',
    help: 'GraphQL request latency by operation',
    labelNames: ['operation', 'type', 'outcome', 'tenant'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** Errors returned to clients by extensions.code (and `tenant`, as {@link requestDuration}). */
  readonly errors = new Counter({
    name: 'hub_graphql_errors_total',
    help: 'Errors returned to clients by extensions.code',
    labelNames: ['code', 'tenant'] as const,
    registers: [this.registry],
  });
  /** HTTP requests by route and status. */
  readonly httpRequests = new Counter({
    name: 'hub_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  /** Store-call latency by store and method. */
  readonly storeCalls = new Histogram({
    name: 'hub_store_call_duration_seconds',
    help: 'HubStore call latency by store, method and outcome (ok or the error code)',
    labelNames: ['store', 'method', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** DataLoader batch sizes by loader. */
  readonly loaderBatch = new Histogram({
    name: 'hub_dataloader_batch_size',
    help: 'Keys per DataLoader batch by loader',
    labelNames: ['loader'] as const,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [this.registry],
  });
  /** Records received by /ingest by outcome. */
  readonly ingested = new Counter({
    name: 'hub_ingest_records_total',
    help: 'Records received by /ingest by record type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly clientOperations = new Set(CLIENT_OPERATIONS);
  private registered: RegisteredOperations = () => undefined;
  private labelled: (tenant: TenantId) => boolean = () => false;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Sets where tenants' registered operation names come from (the tenants file, through the composition root). */
  useRegisteredOperations(registered: RegisteredOperations): void {
    this.registered = registered;
  }

  /** Sets which tenants get a `tenant` label (the tenants file's `metricsLabel: true`, through the composition root). */
  useTenantLabels(labelled: (tenant: TenantId) => boolean): void {
    this.labelled = labelled;
  }

  /**
   * The `tenant` label of a request's series: `{ tenant }` only for a tenant
   * the tenants file lists with `metricsLabel: true` (a bounded set, see
   * src/router/registry-config.ts); `{}` for every other tenant, so their
   * requests add no label value and Prometheus's cardinality stays bounded
   * by configuration.
   */
  tenantLabel(tenant: TenantId): { readonly tenant?: string } {
    return this.labelled(tenant) ? { tenant } : NO_TENANT_LABEL;
  }

  /**
   * The `operation` label for a client-chosen operation name: the name itself
   * only when it is a registered operation of that tenant (src/platform/operations.ts);
   * `anonymous` without a name, `other` for every other name. Label values are
   * therefore bounded by configuration, whatever clients send, and carry no
   * tenant id.
   */
  operationLabel(name: string | null | undefined, tenant: TenantId): string {
    if (name == null || name === '') return 'anonymous';
    if (this.clientOperations.has(name)) return name;
    return this.registered(tenant)?.has(name) === true ? name : 'other';
  }
}

/**
 * Wraps a store so that every method returning a promise is timed into
 * `hub_store_call_duration_seconds{store,method,outcome}`. Generic over the
 * port (a Proxy): methods added to the port later are timed too, and optional
 * parts (e.g. the outbox) stay visible exactly as on the wrapped store.
 */
export function instrumentStore<S extends HubStore>(store: S, label: string, metrics: GatewayMetrics): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      // A traced view is timed into the same metrics.
      if (prop === 'traced') return forwardTraced(target, (view) => instrumentStore(view, label, metrics));
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = String(prop);
        // One label object per outcome of this method, made once: a call then
        // allocates no labels (startTimer merged two objects per call).
        const outcomes = new Map<string, { store: string; method: string; outcome: string }>();
        const labels = (outcome: string) => {
          let l = outcomes.get(outcome);
          if (!l) outcomes.set(outcome, (l = { store: label, method, outcome }));
          return l;
        };
        const observe = (started: bigint, outcome: string): void => {
          metrics.storeCalls.observe(labels(outcome), Number(process.hrtime.bigint() - started) / 1e9);
        };
        fn = function (this: unknown, ...args: unknown[]) {
          const started = process.hrtime.bigint();
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (err) {
            observe(started, isHubError(err) ? err.code : 'INTERNAL');
            throw err;
          }
          if (result instanceof Promise) {
            return result.then(
              (v: unknown) => {
                observe(started, 'ok');
                return v;
              },
              (err: unknown) => {
                observe(started, isHubError(err) ? err.code : 'INTERNAL');
                throw err;
              },
            );
          }
          observe(started, 'ok');
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/**
 * What the gateway shows in `/metrics` and `/readyz` beyond its own figures
 * and the store's ping. The composition root (src/app) knows what it opened
 * and hands the HTTP server the matching {@link HealthSource} (the router's,
 * src/router/router-metrics.ts, for a routing store; none for one store), so
 * the server never asks what kind of store it was given.
 */
import type { Registry } from 'prom-client';

/** Readiness of what serves the data, with detail for `/readyz` (JSON, no URIs or credentials). */
export interface Readiness {
  /** False when a store the gateway cannot serve without does not answer. */
  readonly ready: boolean;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** Metrics and readiness of the stores behind the gateway. */
export interface HealthSource {
  /** Adds this source's gauges and counters to the gateway's registry (a second call adds nothing). */
  registerMetrics(registry: Registry): void;
  /** Checks the stores; never throws (a failing store is `ready: false`). */
  readiness(): Promise<Readiness>;
}

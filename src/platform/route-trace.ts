/**
 * Route traces: which store served each routed call, recorded through an
 * AsyncLocalStorage so the layers above (GraphQL `extensions`, logs) can read
 * it without threading a parameter through the Hub. The routing store appends
 * one {@link RouteEntry} per call to the trace active in the calling async
 * context; with no active trace, nothing is recorded (and nothing costs more
 * than one lookup).
 *
 * Entries name stores by label (the `stores:` key of the config, or the URI
 * without credentials and query), never by full URI.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TenantId } from '../hub/tenant';
import { NOOP_SPAN, type Span } from './tracing';

/** Why a call went where it went. */
export type RouteReason =
  /** Writes, reads, lists, scans, purge: always the primary. */
  | 'primary'
  /** A rollup of a tenant without analytics store. */
  | 'no-analytics'
  /** A rollup answered by the analytics store within the freshness bound. */
  | 'analytics'
  /** A rollup answered by the primary because analytics lagged more than the bound. */
  | 'fallback-lag'
  /** A rollup answered by the primary because analytics failed or was marked down. */
  | 'fallback-unavailable';

/** One routed store call. */
export interface RouteEntry {
  /** HubStore method name, e.g. `costPerSkill`, `getByIds`. */
  readonly op: string;
  readonly tenant: TenantId;
  readonly role: 'primary' | 'analytics';
  /** Store label. */
  readonly store: string;
  readonly reason: RouteReason;
  /**
   * For rollups: every record acknowledged before this instant is included in
   * the answer (canonical timestamp). For the primary: when the query started.
   * For analytics: the enqueue time of the oldest record still waiting in the
   * outbox, or the backlog reading time when none was waiting.
   */
  readonly watermark?: string;
  /** For rollups: the analytics lag in ms observed when routing (when analytics was considered). */
  readonly lagMs?: number;
}

/** The entries recorded in one async scope (a request, or one GraphQL root field). */
export class RouteTrace {
  readonly entries: RouteEntry[] = [];

  add(entry: RouteEntry): void {
    this.entries.push(entry);
  }
}

const storage = new AsyncLocalStorage<RouteTrace>();
/**
 * Whether a routing store exists in this process. Until one does, no call is
 * routed, so {@link enterRouteTrace} makes nothing active: once entered, an
 * AsyncLocalStorage hooks every promise the process makes (on Node 20, an
 * init hook of about 100 ns each, and garbage), which a gateway over a
 * single store would pay on every request for traces that stay empty.
 */
let routing = false;

/** Called by a routing store when it is created: from then on, route traces are made active. */
export function expectRoutes(): void {
  routing = true;
}

/** Whether a routing store exists in this process (else no route is ever recorded). */
export function routesExpected(): boolean {
  return routing;
}

/** Runs `fn` with a fresh trace active; returns its result and the trace. */
export async function withRouteTrace<T>(fn: () => Promise<T> | T): Promise<{ result: T; trace: RouteTrace }> {
  const trace = new RouteTrace();
  const result = await storage.run(trace, fn);
  return { result, trace };
}

/** Runs `fn` with `trace` active (entries recorded below it go to `trace`). */
export function runWithRouteTrace<T>(trace: RouteTrace, fn: () => T): T {
  return storage.run(trace, fn);
}

/**
 * Makes `trace` the active trace for the rest of the current synchronous
 * execution and the async work it starts (AsyncLocalStorage.enterWith). For
 * hooks that cannot wrap the code they observe (GraphQL field hooks). Does
 * nothing while no routing store exists ({@link expectRoutes}).
 */
export function enterRouteTrace(trace: RouteTrace): void {
  if (routing) storage.enterWith(trace);
}

/** The active trace, if any. */
export function currentRouteTrace(): RouteTrace | undefined {
  return storage.getStore();
}

/**
 * Records an entry into the active route trace (no-op without one), and as an
 * event on `span` (the routed store call's, when its trace is sampled).
 */
export function recordRoute(entry: RouteEntry, span: Span = NOOP_SPAN): void {
  storage.getStore()?.add(entry);
  if (span.recording) {
    span.addEvent('hub.route', {
      'hub.op': entry.op,
      'hub.role': entry.role,
      'hub.store': entry.store,
      'hub.reason': entry.reason,
      'hub.watermark': entry.watermark,
      'hub.lag_ms': entry.lagMs,
    });
  }
}

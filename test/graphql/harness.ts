/**
 * Test harness: a real gateway over HTTP on port 0, backed by a real memory
 * store (optionally wrapped in a call-counting decorator: it forwards every
 * call unchanged, it is not a mock).
 */
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import type { HubStore } from '../../src/hub/store';
import { mintToken } from '../../src/platform/auth';
import { type Gateway, type GatewayOptions, createGateway } from '../../src/http/server';
import { type Logger, createLogger, silentLogger } from '../../src/platform/log';

export const SECRET = 'test-secret-test-secret-test-secret-0123';

/** Wraps a store, counting calls per method. */
export function countingStore<S extends HubStore>(
  store: S,
): { store: S; calls: Map<string, number>; reset(): void } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls, reset: () => calls.clear() };
}

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  readonly store: HubStore;
  token(tenant: string, scopes?: string[], ttlSeconds?: number): Promise<string>;
  /** POSTs a GraphQL request; returns status, headers and parsed body. */
  gql(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: GqlBody }>;
  /** `/metrics` read with an operator token (scope hub:metrics). */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/** Starts a gateway on 127.0.0.1:0. */
export async function startGateway(
  options: Partial<GatewayOptions> & { store?: HubStore } = {},
): Promise<TestGateway> {
  const store = options.store ?? createMemoryStore();
  const gateway = await createGateway({
    auth: { jwtSecret: SECRET },
    log: silentLogger,
    ...options,
    store,
  });
  const url = await gateway.listen(0);
  // A test that fails before close() must not keep Jest waiting on a listening socket.
  gateway.server.unref();
  return {
    url,
    gateway,
    store,
    token: (tenant, scopes = ['hub:read', 'hub:write'], ttlSeconds) =>
      mintToken({ secret: SECRET, tenant, scopes, ...(ttlSeconds ? { ttlSeconds } : {}) }),
    async gql(token, query, variables, headers = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GqlBody };
    },
    async metrics() {
      const operator = await mintToken({ secret: SECRET, tenant: 'ops', scopes: ['hub:metrics'] });
      const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${operator}` } });
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      return res.text();
    },
    async close() {
      await gateway.close(1000);
      await store.close();
    },
  };
}

/** Deterministic UUIDs for tests: `uuid(7)` -> `00000000-0000-4000-8000-000000000007`. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** A logger for a test gateway that keeps its lines and lets a test wait for one. */
export interface LogCapture {
  readonly logger: Logger;
  /** Every line so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /**
   * The first line (already written or still to come) that `match` accepts:
   * waits on the line being written, never on time (access lines are written
   * when the response closes, which may be after the client has read it).
   */
  line(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** Creates a {@link LogCapture} at `level` (default info). */
export function captureLog(level = 'info'): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const waiting: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  const logger = createLogger(level, (text) => {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    lines.push(parsed);
    for (const w of waiting.filter((x) => x.match(parsed))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(parsed);
    }
  });
  return {
    logger,
    lines,
    line: (match) => {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

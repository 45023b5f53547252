/**
 * The store's handle on one SharePoint site through the real @pnp/sp v4.
 *
 * pnp is ESM-only and this project compiles to CommonJS (nodenext), so it is
 * loaded once with a dynamic `import()` (works under tsx, Jest's SWC
 * transform and plain Node). Under NodeNext pnp's fluent API loses its type
 * augmentations (`sp.web` does not typecheck: pnp/pnpjs#2986), so the store
 * uses pnp's un-augmented core, which keeps its own types: `SPQueryable` on
 * `_api` paths, `spGet`/`spPost`, the parsers and `createBatch`. Requests
 * still go through pnp's timeline (headers, auth, parse, batching).
 */
import type { RetryPolicy } from './sharepoint-retry';
import { sendWithRetry } from './sharepoint-retry';
import { NOOP_SPAN, type Span } from '../../platform/tracing';

import type * as QueryableModule from '@pnp/queryable';
import type * as SpModule from '@pnp/sp';
import type { ISPQueryable as Queryable } from '@pnp/sp';
import type * as BatchModule from '@pnp/sp/batching.js';

interface Pnp {
  readonly sp: typeof SpModule;
  readonly batching: typeof BatchModule;
  readonly q: typeof QueryableModule;
}

let loading: Promise<Pnp> | undefined;

/** Loads pnp once per process. */
export function loadPnp(): Promise<Pnp> {
  if (!loading) {
    loading = Promise.all([import('@pnp/sp'), import('@pnp/sp/batching.js'), import('@pnp/queryable')]).then(
      ([sp, batching, q]) => ({ sp, batching, q }),
    );
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/** One `items` page as SharePoint returns it (minimal metadata). */
export interface ItemsPage<Row> {
  readonly value: Row[];
  readonly 'odata.nextLink'?: string;
}

/** Outcome of one sub-request of a `$batch`. */
export type PartResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** See the file comment. */
export class SpClient {
  private constructor(
    private readonly pnp: Pnp,
    /** Absolute URL of the site. */
    readonly siteUrl: string,
    private readonly base: Queryable,
    private readonly policy: RetryPolicy & { readonly batchSize: number },
    private readonly log?: (event: string, fields?: Record<string, unknown>) => void,
  ) {}

  private get batchSize(): number {
    return this.policy.batchSize;
  }

  /**
   * This client with every request a span under `parent` (a store's traced
   * view): a queryable on top of the base (same site, headers and token)
   * whose sending behaviour hands the span to {@link sendWithRetry}.
   */
  traced(parent: Span): SpClient {
    const base = this.pnp.sp.SPQueryable(this.base).using(sending(this.policy, this.log, parent));
    return new SpClient(this.pnp, this.siteUrl, base, this.policy, this.log);
  }

  /** A client for one site; every request retries per `policy` and carries the bearer token. */
  static async open(
    siteUrl: string,
    token: string,
    policy: RetryPolicy & { readonly batchSize: number },
    log?: (event: string, fields?: Record<string, unknown>) => void,
  ): Promise<SpClient> {
    const pnp = await loadPnp();
    const base = pnp.sp
      .SPQueryable(siteUrl)
      .using(
        pnp.sp.DefaultHeaders(),
        pnp.sp.DefaultInit(),
        sending(policy, log, NOOP_SPAN),
        pnp.q.DefaultParse(),
        pnp.q.BearerToken(token),
      );
    return new SpClient(pnp, siteUrl, base, policy, log);
  }

  private at(
    path: string,
    query: Readonly<Record<string, string>> = {},
    parent: Queryable = this.base,
  ): Queryable {
    const q = this.pnp.sp.SPQueryable(parent, path);
    for (const [k, v] of Object.entries(query)) q.query.set(k, v);
    return q;
  }

  /** GET with pnp's default parse (`value` unwrapped). */
  get<T>(path: string, query?: Readonly<Record<string, string>>): Promise<T> {
    return this.pnp.sp.spGet<T>(this.at(path, query));
  }

  /** GET of an items collection, keeping `odata.nextLink` (pnp's default parse drops it). */
  getPage<Row>(path: string, query?: Readonly<Record<string, string>>): Promise<ItemsPage<Row>> {
    return this.pnp.sp.spGet<ItemsPage<Row>>(this.at(path, query).using(this.pnp.q.JSONParse()));
  }

  /** GET of an absolute `odata.nextLink` URL (same behaviors, same token). */
  getNext<Row>(nextLink: string): Promise<ItemsPage<Row>> {
    if (!nextLink.startsWith(`${this.siteUrl}/`)) throw new Error('odata.nextLink points outside the site'); // never send the token elsewhere
    const q = this.pnp.sp.SPQueryable([this.base, nextLink]).using(this.pnp.q.JSONParse());
    return this.pnp.sp.spGet<ItemsPage<Row>>(q);
  }

  /** GET of raw bytes (`.../$value`). */
  async getBytes(path: string): Promise<Buffer> {
    const data = await this.pnp.sp.spGet<ArrayBuffer>(this.at(path).using(this.pnp.q.BufferParse()));
    return Buffer.from(data);
  }

  /** POST (`X-HTTP-Method` etc. in `headers`). */
  post<T>(path: string, body?: string | Uint8Array, headers?: Record<string, string>): Promise<T> {
    return this.pnp.sp.spPost<T>(this.at(path), { body, headers });
  }

  /**
   * Sends POSTs as `$batch` requests of up to `batchSize` parts (each run of
   * writes one changeset) and returns every part's outcome in order.
   * @throws when a `$batch` request itself fails (after retries): then no
   *   part's outcome is known (pnp never settles them; they are not awaited).
   */
  async batchPost(parts: readonly { path: string; body: string }[]): Promise<PartResult[]> {
    const { sp, batching } = this.pnp;
    const [behavior, execute] = batching.createBatch(this.base, { maxRequests: this.batchSize });
    const batched = sp.SPQueryable(this.base).using(behavior);
    const results: PartResult[] = new Array<PartResult>(parts.length);
    // Handlers are attached now (no unhandled rejections) but nothing is awaited before execute().
    const settled = parts.map((p, i) =>
      sp.spPost(this.at(p.path, {}, batched), { body: p.body }).then(
        (value: unknown) => (results[i] = { ok: true, value }),
        (error: unknown) => (results[i] = { ok: false, error }),
      ),
    );
    await execute();
    await Promise.all(settled);
    return results;
  }
}

/** The behaviour sending every request of a queryable through {@link sendWithRetry}, its spans under `parent`. */
function sending(
  policy: RetryPolicy,
  log: ((event: string, fields?: Record<string, unknown>) => void) | undefined,
  parent: Span,
): (instance: Queryable) => Queryable {
  return (instance) => {
    instance.on.send.replace(async (url: URL, init: RequestInit) =>
      sendWithRetry(url.toString(), init, policy, log, parent),
    );
    return instance;
  };
}

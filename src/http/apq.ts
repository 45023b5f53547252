/**
 * Automatic persisted queries (Apollo's protocol), kept per tenant. Apollo's
 * built-in APQ cache is one cache for every caller: a tenant could then learn
 * whether another tenant ever sent a given query (and so a manager id or a
 * record id written into it) by sending only its hash. Here the cache key
 * includes the tenant from the verified token, so a hash registered by one
 * tenant is unknown to every other, and each tenant has its own bounded
 * partition, so no tenant can evict another's queries.
 *
 * Protocol: `extensions.persistedQuery = { version: 1, sha256Hash }` in the
 * POST body or the GET `extensions` parameter. With the query, the hash must
 * match and the query is remembered; without it, the remembered query is used,
 * or the answer is `PersistedQueryNotFound` and the client resends with the query.
 */
import { createHash } from 'node:crypto';
import type { TenantId } from '../hub/tenant';

/** Where persisted queries are kept: this process ({@link PersistedQueries}) or shared through Redis. */
export interface PersistedQueryCache {
  get(tenant: TenantId, hash: string): Promise<string | undefined>;
  set(tenant: TenantId, hash: string, query: string): Promise<void>;
}

/** One tenant's least-recently-used entries. */
interface Partition {
  readonly entries: Map<string, string>;
  size: number;
}

/**
 * Persisted queries in this process, partitioned per tenant: each tenant has
 * its own least-recently-used partition bounded by its quota
 * (`persistedQueryChars`), so registering queries only ever evicts the same
 * tenant's. A process-wide bound (`maxChars`) caps the total; when it is
 * reached the largest partition gives up its oldest entries, so a tenant
 * within its fair share of the total is never evicted by another.
 */
export class PersistedQueries implements PersistedQueryCache {
  private readonly partitions = new Map<TenantId, Partition>();
  /** Total characters of stored queries. */
  private size = 0;

  /**
   * @param quota characters a tenant may keep (default 4 M).
   * @param maxChars upper bound of all stored query text (default 64 M characters).
   */
  constructor(
    private readonly quota: (tenant: TenantId) => number = () => 4 * 1024 * 1024,
    private readonly maxChars = 64 * 1024 * 1024,
  ) {}

  get(tenant: TenantId, hash: string): Promise<string | undefined> {
    return Promise.resolve(this.getNow(tenant, hash));
  }

  /** Synchronous {@link get}. */
  getNow(tenant: TenantId, hash: string): string | undefined {
    const p = this.partitions.get(tenant);
    const q = p?.entries.get(hash);
    if (p && q !== undefined) {
      // Refresh recency.
      p.entries.delete(hash);
      p.entries.set(hash, q);
    }
    return q;
  }

  set(tenant: TenantId, hash: string, query: string): Promise<void> {
    this.setNow(tenant, hash, query);
    return Promise.resolve();
  }

  /** Synchronous {@link set}. */
  setNow(tenant: TenantId, hash: string, query: string): void {
    const quota = Math.min(this.quota(tenant), this.maxChars);
    if (query.length > quota) return;
    let p = this.partitions.get(tenant);
    if (!p) {
      p = { entries: new Map(), size: 0 };
      this.partitions.set(tenant, p);
    }
    if (p.entries.has(hash)) return;
    p.entries.set(hash, query);
    p.size += query.length;
    this.size += query.length;
    while (p.size > quota) this.evictOldest(tenant, p);
    while (this.size > this.maxChars) {
      let largest: [TenantId, Partition] | undefined;
      for (const entry of this.partitions) if (!largest || entry[1].size > largest[1].size) largest = entry;
      if (!largest) break;
      this.evictOldest(largest[0], largest[1]);
    }
  }

  /** Characters kept for a tenant (tests, diagnostics). */
  charsOf(tenant: TenantId): number {
    return this.partitions.get(tenant)?.size ?? 0;
  }

  private evictOldest(tenant: TenantId, p: Partition): void {
    const oldest = p.entries.keys().next().value as string;
    const length = (p.entries.get(oldest) as string).length;
    p.entries.delete(oldest);
    p.size -= length;
    this.size -= length;
    if (p.entries.size === 0) this.partitions.delete(tenant);
  }
}

/** Outcome of applying APQ to a request. */
export type ApqResult =
  | { readonly kind: 'pass'; readonly search: string; readonly body: unknown }
  | {
      readonly kind: 'error';
      readonly status: number;
      readonly code: 'NOT_FOUND' | 'VALIDATION';
      readonly message: string;
    };

const HASH_RE = /^[0-9a-f]{64}$/;

/**
 * Resolves a persisted query for the tenant and returns the request with the
 * `query` filled in and the `persistedQuery` extension removed (Apollo's own
 * APQ is off), or the protocol's error. Steps: find the extension, check its
 * hash, find or register the text, put it in the request.
 */
export async function applyPersistedQuery(
  cache: PersistedQueryCache,
  tenant: TenantId,
  method: string,
  search: string,
  body: unknown,
): Promise<ApqResult> {
  const pass: ApqResult = { kind: 'pass', search, body };
  const parts = requestParts(method, search, body);
  if (parts === undefined || typeof parts.extensions !== 'object' || parts.extensions === null) return pass;
  const { persistedQuery, ...otherExtensions } = parts.extensions as Record<string, unknown>;
  if (persistedQuery === undefined) return pass;
  const hash = checkedHash(persistedQuery);
  if (typeof hash !== 'string') return hash;
  const text = await queryText(cache, tenant, hash, parts.query);
  if (typeof text !== 'string') return text;
  const rest = Object.keys(otherExtensions).length > 0 ? otherExtensions : undefined;
  if (method === 'GET') {
    const params = parts.params;
    params.set('query', text);
    if (rest) params.set('extensions', JSON.stringify(rest));
    else params.delete('extensions');
    return { kind: 'pass', search: `?${params.toString()}`, body };
  }
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>), query: text };
  if (rest) copy.extensions = rest;
  else delete copy.extensions;
  return { kind: 'pass', search, body: copy };
}

/**
 * The extensions and query of a GET (query string) or POST (JSON body)
 * request; undefined when there are none to read (Apollo answers a malformed
 * `extensions` parameter itself).
 */
function requestParts(
  method: string,
  search: string,
  body: unknown,
): { readonly params: URLSearchParams; readonly extensions: unknown; readonly query: unknown } | undefined {
  const params = new URLSearchParams(search);
  if (method === 'GET') {
    const raw = params.get('extensions');
    if (raw === null) return undefined;
    try {
      return { params, extensions: JSON.parse(raw) as unknown, query: params.get('query') ?? undefined };
    } catch {
      return undefined;
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  return { params, extensions: fields.extensions, query: fields.query };
}

/** The `persistedQuery` extension's hash (lower-case hex), or the protocol's error. */
function checkedHash(persistedQuery: unknown): string | ApqResult {
  const pq = persistedQuery as { version?: unknown; sha256Hash?: unknown } | null;
  if (typeof pq !== 'object' || pq === null || pq.version !== 1) {
    return { kind: 'error', status: 400, code: 'VALIDATION', message: 'Unsupported persisted query version' };
  }
  const hash = typeof pq.sha256Hash === 'string' ? pq.sha256Hash.toLowerCase() : '';
  if (!HASH_RE.test(hash)) {
    return {
      kind: 'error',
      status: 400,
      code: 'VALIDATION',
      message: 'persistedQuery.sha256Hash must be 64 hex digits',
    };
  }
  return hash;
}

/**
 * The query text: the one sent (checked against the hash, then registered
 * for the tenant), else the tenant's registered one, else NOT_FOUND.
 */
async function queryText(
  cache: PersistedQueryCache,
  tenant: TenantId,
  hash: string,
  query: unknown,
): Promise<string | ApqResult> {
  if (typeof query === 'string') {
    if (createHash('sha256').update(query).digest('hex') !== hash) {
      return { kind: 'error', status: 400, code: 'VALIDATION', message: 'provided sha does not match query' };
    }
    await cache.set(tenant, hash, query);
    return query;
  }
  const found = await cache.get(tenant, hash);
  // Apollo clients recognise this exact message and resend with the query.
  if (found === undefined)
    return { kind: 'error', status: 200, code: 'NOT_FOUND', message: 'PersistedQueryNotFound' };
  return found;
}

/**
 * Appends a comment naming the tenant to the query text. Apollo caches parsed
 * and validated documents by the hash of the query text in one cache for all
 * callers; a hit is measurably faster, so without this a tenant could time
 * whether another tenant had sent a query. With the comment every tenant has
 * its own entries. A trailing comment changes neither the meaning nor the
 * error locations of the query. `appended`: the characters added (0 when
 * there was no query text), so limits on the text count what the client sent.
 */
export function tagQueryWithTenant(
  tenant: TenantId,
  method: string,
  search: string,
  body: unknown,
): { search: string; body: unknown; appended: number } {
  const tag = `\n# tenant ${tenant}`;
  if (method === 'GET') {
    const params = new URLSearchParams(search);
    const q = params.get('query');
    if (q === null) return { search, body, appended: 0 };
    params.set('query', q + tag);
    return { search: `?${params.toString()}`, body, appended: tag.length };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { search, body, appended: 0 };
  const q = (body as Record<string, unknown>).query;
  if (typeof q !== 'string') return { search, body, appended: 0 };
  return { search, body: { ...(body as Record<string, unknown>), query: q + tag }, appended: tag.length };
}

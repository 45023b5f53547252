/**
 * DataLoaders of one request and one tenant. Every lookup by id goes through
 * `byId[type]` (one `getByIds` store call per type per tick); lists go through
 * `list` (deduplicated by type, filter and page) and prime `byId` with what
 * they return, so a record listed once is never fetched again in the request.
 */
import DataLoader from 'dataloader';
import type { ListFilterInput } from '../hub/filters';
import type { Hub, Page } from '../hub/hub';
import {
  type EmployeeProfileRecord,
  type HubRecord,
  LIMITS,
  type RecordType,
  bodyWasRead,
} from '../hub/model';
import { type ReadProjection, skipsBody } from '../hub/store';
import type { TenantId } from '../hub/tenant';
import { readPathLayerOff } from '../platform/read-path-layers';
import type { ChildList } from './lookahead';

export interface ListKey {
  readonly type: RecordType;
  readonly filter: ListFilterInput;
  readonly first: number;
  readonly after: string | null;
  /** Heavy fields the selection does not read (a separate list from the full one). */
  readonly projection?: ReadProjection;
}

export interface Loaders {
  /** Records by id, per type; null where the tenant has none. */
  readonly byId: { readonly [T in RecordType]: DataLoader<string, HubRecord | null> };
  /**
   * Artifacts by id read without their bodies (`{ body: false }`): a separate
   * cache from {@link byId}, whose records always carry the body. Not primed
   * by lists: only root fields (`artifact`, `node`, `_entities`) look
   * artifacts up without body, and they run alongside the request's lists,
   * not after them.
   */
  readonly artifactWithoutBody: DataLoader<string, HubRecord | null>;
  /** One page of a list. */
  readonly list: DataLoader<ListKey, Page, string>;
  /**
   * One page of a list loaded together with each record's child list (one
   * Hub call); the page is primed into `list`, and the child pages are kept
   * for {@link prefetchedChildren}, so the child fields cost no further call.
   */
  listWithChildren(key: ListKey, child: ChildList): Promise<Page>;
  /**
   * The first page of `parent`'s children of `type` and size `first`, when a
   * {@link listWithChildren} of this request loaded it; else undefined.
   */
  prefetchedChildren(
    parent: HubRecord,
    type: RecordType,
    first: number,
    projection?: ReadProjection,
  ): Page | undefined;
  /** An employee's current profile (latest effective_at; ties by created_at, then record_id). */
  readonly currentProfile: DataLoader<string, EmployeeProfileRecord | null>;
}

type IdLoader = DataLoader<string, HubRecord | null>;
type IdLoaderSet = { readonly [T in RecordType]: IdLoader };

/**
 * The id loaders of one request, each made on first use: most requests
 * touch one or two record types, and every request pays for the loaders it makes.
 */
class IdLoaders implements IdLoaderSet {
  private readonly made: Partial<Record<RecordType, IdLoader>> = {};
  constructor(private readonly make: (type: RecordType) => IdLoader) {}

  of(type: RecordType): IdLoader {
    return (this.made[type] ??= this.make(type));
  }
  get outputs(): IdLoader {
    return this.of('outputs');
  }
  get decisions(): IdLoader {
    return this.of('decisions');
  }
  get governance_events(): IdLoader {
    return this.of('governance_events');
  }
  get artifacts(): IdLoader {
    return this.of('artifacts');
  }
  get employee_profiles(): IdLoader {
    return this.of('employee_profiles');
  }
  get telemetry_events(): IdLoader {
    return this.of('telemetry_events');
  }
}

const NO_BODY: ReadProjection = { body: false };

/** Largest number of ids sent to the store in one call. */
const MAX_IDS_PER_CALL = 500;
/** Most versions of one person read to find the current one (pages of 500). */
const MAX_PROFILE_VERSIONS = 5000;

/**
 * Every loader's batching and cache, off only when the read-path benchmark
 * measures what they gain (each load is then its own store call).
 */
const UNBATCHED: { batch?: false; cache?: false } = readPathLayerOff('dataloader')
  ? { batch: false, cache: false }
  : {};

/** Receives each batch's size, by loader name (metrics). */
type OnBatch = ((loader: string, size: number) => void) | undefined;
/** Puts records read by a list into the id loaders. */
type Prime = (records: readonly HubRecord[]) => void;

/**
 * Creates the loaders of one request, as named steps: the id loaders, the
 * artifacts without body, the list loader (priming the id loaders), the
 * current profiles, and the lists loaded with their children.
 * `onBatch` receives each batch's size.
 */
export function createLoaders(hub: Hub, tenant: TenantId, onBatch?: OnBatch): Loaders {
  return new RequestLoaders(hub, tenant, onBatch);
}

/**
 * The loaders of one request. A class, not an object literal: a literal with
 * getters is built through the runtime's slow path on every request, while a
 * class keeps its getters on the prototype.
 */
class RequestLoaders implements Loaders {
  readonly byId: IdLoaders;
  readonly list: DataLoader<ListKey, Page, string>;
  private readonly prime: Prime;
  private readonly withChildren: ListsWithChildren;
  private withoutBody: IdLoader | undefined;
  private profiles: DataLoader<string, EmployeeProfileRecord | null> | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly tenant: TenantId,
    private readonly onBatch: OnBatch,
  ) {
    this.byId = idLoaders(hub, tenant, onBatch);
    this.prime = primer(this.byId);
    this.list = listLoader(hub, tenant, this.prime, onBatch);
    this.withChildren = new ListsWithChildren(hub, tenant, this.list, this.prime, onBatch);
  }

  get artifactWithoutBody(): IdLoader {
    return (this.withoutBody ??= artifactsWithoutBody(this.hub, this.tenant, this.onBatch));
  }

  listWithChildren(key: ListKey, child: ChildList): Promise<Page> {
    return this.withChildren.load(key, child);
  }

  prefetchedChildren(
    parent: HubRecord,
    type: RecordType,
    first: number,
    projection?: ReadProjection,
  ): Page | undefined {
    return this.withChildren.prefetched(parent, type, first, projection);
  }

  /** Made on first use, like the id loaders: few requests read a current profile. */
  get currentProfile(): DataLoader<string, EmployeeProfileRecord | null> {
    return (this.profiles ??= currentProfileLoader(this.hub, this.tenant, this.prime, this.onBatch));
  }
}

/** One `getByIds` store call per type per tick, made on first use. */
function idLoaders(hub: Hub, tenant: TenantId, onBatch: OnBatch): IdLoaders {
  return new IdLoaders(
    (type) =>
      new DataLoader<string, HubRecord | null>(
        async (ids) => {
          onBatch?.(`byId.${type}`, ids.length);
          return hub.get(tenant, type, ids);
        },
        // Ids are case-insensitive UUIDs: one cache entry per record.
        { maxBatchSize: MAX_IDS_PER_CALL, cacheKeyFn: (id) => id.toLowerCase(), ...UNBATCHED },
      ),
  );
}

/** Artifacts by id without their bodies (made on first use: most requests read no artifact). */
function artifactsWithoutBody(hub: Hub, tenant: TenantId, onBatch: OnBatch): IdLoader {
  return new DataLoader<string, HubRecord | null>(
    async (ids) => {
      onBatch?.('byId.artifacts.no-body', ids.length);
      return hub.get(tenant, 'artifacts', ids, NO_BODY);
    },
    { maxBatchSize: MAX_IDS_PER_CALL, cacheKeyFn: (id) => id.toLowerCase() },
  );
}

/** Primes the id loaders with records a list returned (never an artifact read without its body). */
function primer(byId: IdLoaders): Prime {
  return (records) => {
    for (const r of records) {
      // A record read without its body is not what a lookup by id answers.
      if (r.record_type === 'artifacts' && !bodyWasRead(r)) continue;
      byId.of(r.record_type).prime(r.record_id, r);
    }
  };
}

/** One page of a list per distinct key (type, filter, page, projection); its records primed by id. */
function listLoader(
  hub: Hub,
  tenant: TenantId,
  prime: Prime,
  onBatch: OnBatch,
): DataLoader<ListKey, Page, string> {
  return new DataLoader<ListKey, Page, string>(
    async (keys) => {
      onBatch?.('list', keys.length);
      // The store has no multi-list call: each distinct list is one call, run concurrently.
      return Promise.all(
        keys.map(async (k) => {
          try {
            const page = await hub.list(
              tenant,
              k.type,
              k.filter,
              { first: k.first, after: k.after },
              k.projection,
            );
            prime(page.records);
            return page;
          } catch (err) {
            return err instanceof Error ? err : new Error(String(err));
          }
        }),
      );
    },
    { cacheKeyFn: listKey, ...UNBATCHED },
  );
}

/** Each employee's current profile, the versions read primed by id. */
function currentProfileLoader(
  hub: Hub,
  tenant: TenantId,
  prime: Prime,
  onBatch: OnBatch,
): DataLoader<string, EmployeeProfileRecord | null> {
  return new DataLoader<string, EmployeeProfileRecord | null>(async (employeeIds) => {
    onBatch?.('currentProfile', employeeIds.length);
    return Promise.all(
      employeeIds.map(async (employeeId) => {
        try {
          return await latestProfile(hub, tenant, employeeId, prime);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      }),
    );
  }, UNBATCHED);
}

/**
 * Lists loaded together with each record's child list (one Hub call): the
 * page is primed into the list loader and by id, and the child pages are
 * kept by parent record for the child fields.
 */
class ListsWithChildren {
  // Child pages loaded with their parents, by parent record, then by child type and page size.
  private readonly pages = new WeakMap<HubRecord, Map<string, Page>>();

  constructor(
    private readonly hub: Hub,
    private readonly tenant: TenantId,
    private readonly list: DataLoader<ListKey, Page, string>,
    private readonly prime: Prime,
    private readonly onBatch: OnBatch,
  ) {}

  async load(key: ListKey, child: ChildList): Promise<Page> {
    this.onBatch?.('listWithChildren', 1);
    const { page, children } = await this.hub.listWithChildren(
      this.tenant,
      key.type,
      key.filter,
      { first: key.first, after: key.after },
      child,
      key.projection,
    );
    this.list.prime(key, page);
    this.prime(page.records);
    // Kept by parent record rather than primed into `list` under one key per
    // parent: the child fields find their page without building a key each.
    const childKey = prefetchKey(child.type, child.first, child.projection);
    page.records.forEach((parent, i) => {
      const childPage = children[i];
      if (!childPage) return;
      let pages = this.pages.get(parent);
      if (!pages) this.pages.set(parent, (pages = new Map()));
      // Children are not primed into the id loaders: a request rarely looks up by id
      // what it just listed as a child, and priming every one was a visible cost.
      pages.set(childKey, childPage);
    });
    return page;
  }

  prefetched(
    parent: HubRecord,
    type: RecordType,
    first: number,
    projection?: ReadProjection,
  ): Page | undefined {
    return this.pages.get(parent)?.get(prefetchKey(type, first, projection));
  }
}

async function latestProfile(
  hub: Hub,
  tenant: TenantId,
  employeeId: string,
  prime: (records: readonly HubRecord[]) => void,
): Promise<EmployeeProfileRecord | null> {
  let best: EmployeeProfileRecord | null = null;
  let after: string | null = null;
  for (let read = 0; read < MAX_PROFILE_VERSIONS; read += LIMITS.maxPageSize) {
    const page = await hub.list(
      tenant,
      'employee_profiles',
      { employeeId },
      { first: LIMITS.maxPageSize, after },
    );
    prime(page.records);
    for (const r of page.records as EmployeeProfileRecord[]) if (best === null || isLater(r, best)) best = r;
    if (!page.hasNextPage) break;
    after = page.endCursor;
  }
  return best;
}

/** The "current" profile order (docs/semantics.md): effective_at, then created_at, then record_id. */
function isLater(a: EmployeeProfileRecord, b: EmployeeProfileRecord): boolean {
  if (a.effective_at !== b.effective_at) return a.effective_at > b.effective_at;
  if (a.created_at !== b.created_at) return a.created_at > b.created_at;
  return a.record_id > b.record_id;
}

/**
 * Cache key of a list: type, page, and the filter's non-null entries in key
 * order (values as JSON). Same identity as canonical JSON of the whole key,
 * at a fraction of its cost (a nested list of 50 outputs builds 51 keys).
 */
function listKey(k: ListKey): string {
  let key = `${k.type}\u0000${k.first}\u0000${JSON.stringify(k.after)}`;
  if (skipsBody(k.projection)) key += '\u0000-body';
  const entries = Object.entries(k.filter).filter(([, v]) => v !== null && v !== undefined);
  if (entries.length > 1) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of entries) key += `\u0000${name}=${JSON.stringify(value)}`;
  return key;
}

/** Key of a prefetched child page: type, page size, and whether bodies were left out. */
function prefetchKey(type: RecordType, first: number, projection: ReadProjection | undefined): string {
  return `${type}\u0000${first}${skipsBody(projection) ? '\u0000-body' : ''}`;
}

/**
 * Persisted queries shared by replicas through Redis, partitioned per tenant
 * like the per-process cache (apq.ts): each tenant's queries live under its
 * own keys with its own quota, and a Lua script evicts the tenant's least
 * recently used queries when a registration goes over it, atomically, so no
 * tenant can evict another's. A per-process {@link PersistedQueries} sits in
 * front (a hit never goes to Redis) and carries on alone while Redis is away.
 *
 * Keys: `<prefix>apq:{<tenant>}:q` (hash -> query), `:lru` (hash by last use),
 * `:size` (bytes held); they expire a week after the tenant's last registration.
 */
import type { TenantId } from '../hub/tenant';
import type { SharedRedis } from '../platform/redis';
import { type PersistedQueryCache, PersistedQueries } from './apq';

const SET_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local len = string.len(ARGV[2])
local quota = tonumber(ARGV[3])
if len > quota then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local size = redis.call('INCRBY', KEYS[3], len)
while size > quota do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local q = redis.call('HGET', KEYS[1], oldest[1])
  redis.call('HDEL', KEYS[1], oldest[1])
  if q then size = redis.call('DECRBY', KEYS[3], string.len(q)) end
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], 604800) end
return 1
`;

const GET_SCRIPT = `
local q = redis.call('HGET', KEYS[1], ARGV[1])
if q then redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1]) end
return q
`;

interface ApqCommands {
  hubApqSet(
    q: string,
    lru: string,
    size: string,
    hash: string,
    query: string,
    quota: number,
    now: number,
  ): Promise<number>;
  hubApqGet(q: string, lru: string, hash: string, now: number): Promise<string | null>;
}

/** Persisted queries in Redis with a per-process front and fallback. */
export class RedisPersistedQueries implements PersistedQueryCache {
  private readonly local: PersistedQueries;
  private readonly commands: ApqCommands;

  /** @param quota bytes of query text a tenant may keep. */
  constructor(
    private readonly redis: SharedRedis,
    private readonly quota: (tenant: TenantId) => number,
  ) {
    this.local = new PersistedQueries(quota);
    redis.client.defineCommand('hubApqSet', { numberOfKeys: 3, lua: SET_SCRIPT });
    redis.client.defineCommand('hubApqGet', { numberOfKeys: 2, lua: GET_SCRIPT });
    this.commands = redis.client as unknown as ApqCommands;
  }

  private keys(tenant: TenantId): [string, string, string] {
    // The hash tag keeps a tenant's three keys in one slot (Redis Cluster).
    const base = `${this.redis.prefix}apq:{${tenant}}`;
    return [`${base}:q`, `${base}:lru`, `${base}:size`];
  }

  async get(tenant: TenantId, hash: string): Promise<string | undefined> {
    const hit = this.local.getNow(tenant, hash);
    if (hit !== undefined || !this.redis.ready) return hit;
    const [q, lru] = this.keys(tenant);
    try {
      const found = await this.commands.hubApqGet(q, lru, hash, Date.now());
      if (found === null) return undefined;
      this.local.setNow(tenant, hash, found);
      return found;
    } catch {
      return undefined;
    }
  }

  async set(tenant: TenantId, hash: string, query: string): Promise<void> {
    this.local.setNow(tenant, hash, query);
    if (!this.redis.ready) return;
    const [q, lru, size] = this.keys(tenant);
    try {
      await this.commands.hubApqSet(q, lru, size, hash, query, this.quota(tenant), Date.now());
    } catch {
      // Kept in this process; other replicas will ask the client for the query.
    }
  }
}

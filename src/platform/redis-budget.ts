/**
 * Cost buckets shared by replicas through Redis: one Lua script refills and
 * takes atomically (so two replicas never both spend the same units), keyed
 * `<prefix>bucket:<tenant>`. The clock is the caller's (injected, like
 * {@link LocalBudget}'s); a clock that runs behind another replica's never
 * refills twice (time only moves forward in the bucket). When Redis is not
 * connected, or a command fails or times out, the same call is decided by a
 * per-process {@link LocalBudget}: the gateway keeps serving, each replica then
 * applying the tenant's limit on its own.
 */
import type { TenantId } from '../hub/tenant';
import type { SharedRedis } from './redis';
import type { TenantLimits } from './tenant-limits';
import { type Admission, type Clock, type CostBudget, LocalBudget, retryAfter } from './token-bucket';

/**
 * KEYS[1] bucket; ARGV: rate per second, burst, now (ms), units, mode
 * (`admit`: take only when above zero; `charge`: take anyway).
 * Returns {1 or 0, tokens left as a string}.
 */
const BUCKET_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local units = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local ok = 1
if ARGV[5] == 'admit' and tokens <= 0 then
  ok = 0
else
  tokens = tokens - units
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 60000)
return {ok, tostring(tokens)}
`;

type BucketCommand = (
  key: string,
  rate: number,
  burst: number,
  now: number,
  units: number,
  mode: 'admit' | 'charge',
) => Promise<[number, string]>;

/** Buckets in Redis, with a per-process fallback. */
export class RedisBudget implements CostBudget {
  private readonly local: LocalBudget;
  private readonly bucket: BucketCommand;

  constructor(
    private readonly redis: SharedRedis,
    private readonly clock: Clock = Date.now,
  ) {
    this.local = new LocalBudget(clock);
    redis.client.defineCommand('hubBucket', { numberOfKeys: 1, lua: BUCKET_SCRIPT });
    const client = redis.client as unknown as { hubBucket: BucketCommand };
    this.bucket = (...args) => client.hubBucket(...args);
  }

  private key(tenant: TenantId): string {
    return `${this.redis.prefix}bucket:${tenant}`;
  }

  async admit(tenant: TenantId, limits: TenantLimits, upfront: number): Promise<Admission> {
    if (!this.redis.ready) return this.local.admitNow(tenant, limits, upfront);
    try {
      const [ok, tokens] = await this.bucket(
        this.key(tenant),
        limits.costPerSecond,
        limits.burst,
        this.clock(),
        upfront,
        'admit',
      );
      return ok === 1 ? { ok: true } : { ok: false, retryAfterSeconds: retryAfter(Number(tokens), limits) };
    } catch {
      return this.local.admitNow(tenant, limits, upfront);
    }
  }

  charge(tenant: TenantId, limits: TenantLimits, amount: number): void {
    if (amount <= 0) return;
    if (!this.redis.ready) return this.local.charge(tenant, limits, amount);
    this.bucket(this.key(tenant), limits.costPerSecond, limits.burst, this.clock(), amount, 'charge').catch(
      () => this.local.charge(tenant, limits, amount),
    );
  }

  /** The connection is the composition root's: closing the budget leaves it open. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

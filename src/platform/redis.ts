/**
 * The Redis connection replicas share (`HUB_REDIS_URL`): cost buckets
 * (redis-budget.ts) and persisted queries (src/http/apq-redis.ts) live there,
 * under one key prefix, so a tenant's limit holds across replicas. Redis is a
 * help, never a dependency: commands fail fast when it is not connected
 * (no offline queue, a short command timeout), callers then fall back to
 * their per-process state, and the client keeps reconnecting in the background.
 */
import type Redis from 'ioredis';
import type { Logger } from './log';

/** A Redis client with the gateway's key prefix. */
export interface SharedRedis {
  readonly client: Redis;
  /** Prefix of every key (default `hub:`); tests use a unique one each. */
  readonly prefix: string;
  /** True while connected: callers use Redis only then. */
  readonly ready: boolean;
  /** Closes the connection (the composition root's, after the gateway closed). */
  close(): Promise<void>;
}

export interface SharedRedisOptions {
  readonly prefix?: string;
  readonly log?: Logger;
  /** Longest wait for one command before the caller falls back (default 500 ms: the machine may be loaded). */
  readonly commandTimeoutMs?: number;
}

/** Connects (in the background: the returned object is usable at once, not yet ready). */
export function connectSharedRedis(url: string, options: SharedRedisOptions = {}): SharedRedis {
  // Loaded here, not imported at the top: a gateway without HUB_REDIS_URL never loads the client
  // (a quarter of a second of start-up on a loaded machine).
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports
  const RedisClient = (require('ioredis') as typeof import('ioredis')).default;
  const client = new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: 2000,
    // Keep trying, at most every 2 s: limits go back to being shared once Redis is back.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  let down = false;
  client.on('error', (err: Error) => {
    // Logged once per outage, not at every reconnection attempt.
    if (!down)
      options.log?.warn('redis unavailable: per-process limits until it is back', { error: err.message });
    down = true;
  });
  client.on('ready', () => {
    if (down) options.log?.info('redis is back: limits shared again');
    down = false;
  });
  return {
    client,
    prefix: options.prefix ?? 'hub:',
    get ready() {
      return client.status === 'ready';
    },
    async close() {
      client.disconnect();
      await Promise.resolve();
    },
  };
}

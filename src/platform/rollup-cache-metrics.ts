/**
 * The rollup result cache's figures on `/metrics` (src/hub/rollup-cache.ts):
 * calls by outcome, evictions, and the bytes and entries held, read from the
 * cache's counters when the registry is scraped (nothing is done per call).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RollupCache } from '../hub/rollup-cache';

const OUTCOMES = { hit: 'hits', miss: 'misses', bypass: 'bypassed' } as const;

/** Adds the cache's metrics to `registry`. */
export function registerRollupCacheMetrics(registry: Registry, cache: RollupCache): void {
  const reported = { hits: 0, misses: 0, bypassed: 0, evictions: 0 };
  new Counter({
    name: 'hub_rollup_cache_requests_total',
    help: 'Versioned rollup calls by outcome: hit (served after its version read), miss (computed and kept), bypass (not cacheable: a team, or no version)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      for (const [outcome, key] of Object.entries(OUTCOMES)) {
        const now = cache.stats[key];
        if (now > reported[key]) this.inc({ outcome }, now - reported[key]);
        reported[key] = now;
      }
    },
  });
  new Counter({
    name: 'hub_rollup_cache_evictions_total',
    help: 'Answers dropped to stay within the rollup cache budgets',
    registers: [registry],
    collect() {
      const now = cache.stats.evictions;
      if (now > reported.evictions) this.inc(now - reported.evictions);
      reported.evictions = now;
    },
  });
  new Gauge({
    name: 'hub_rollup_cache_bytes',
    help: 'Estimated bytes of the answers the rollup cache holds (HUB_ROLLUP_CACHE_MB bounds it)',
    registers: [registry],
    collect() {
      this.set(cache.stats.bytes);
    },
  });
  new Gauge({
    name: 'hub_rollup_cache_entries',
    help: 'Answers the rollup cache holds',
    registers: [registry],
    collect() {
      this.set(cache.stats.entries);
    },
  });
}

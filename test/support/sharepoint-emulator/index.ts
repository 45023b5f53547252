/**
 * Test helpers around the SharePoint REST emulator: start one and build the
 * `sharepoint://` store URI that points the store (and @pnp/sp) at it.
 */
import { SharePointEmulator, type SharePointEmulatorOptions } from './server';

export { SharePointEmulator } from './server';
export type { EmulatorStats, SharePointEmulatorOptions, ThrottleRule } from './server';

/** Starts an emulator on a free port; `url`, `token`, `close()`, `throttle()` are on the result. */
export function startSharePointEmulator(
  options: SharePointEmulatorOptions = {},
): Promise<SharePointEmulator> {
  return SharePointEmulator.start(options);
}

/**
 * A `sharepoint://` URI for the emulator: plain HTTP (`http=1`), its token,
 * the default site pattern. `params` adds or overrides query parameters
 * (retryCapMs, retries, timeoutMs, ...); `token` overrides the token.
 */
export function emulatorStoreUri(
  emulator: SharePointEmulator,
  params: Record<string, string | number> = {},
): string {
  const q = new URLSearchParams({
    http: '1',
    token: emulator.token,
    retryCapMs: '200',
    ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
  });
  return `sharepoint://${new URL(emulator.url).host}/sites/claresia-{tenant}?${q.toString()}`;
}

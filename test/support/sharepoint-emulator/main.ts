/**
 * Runs the SharePoint REST emulator on its own (`npm run emulator:sharepoint`)
 * until interrupted, and prints its URL, token and a store URI to use with it.
 * Options: --port N (default 8086), --delay MS (per-request delay), --verbose.
 */
import { emulatorStoreUri } from './index';
import { SharePointEmulator } from './server';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const emulator = await SharePointEmulator.start({
    port: arg('port', 8086),
    log: process.argv.includes('--verbose') ? (line) => console.log(line) : undefined,
  });
  emulator.delayMs = arg('delay', 0);
  console.log(`SharePoint REST emulator listening on ${emulator.url} (sites /sites/<name>, in memory)`);
  console.log(`bearer token: ${emulator.token}`);
  console.log(`store URI: ${emulatorStoreUri(emulator, { retryCapMs: 30000 })}`);
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

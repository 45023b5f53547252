/**
 * Runs the Snowflake wire emulator on its own (`npm run emulator:snowflake`)
 * until interrupted, and prints the URL and a store URI to use with it.
 * Options: --port N (default 8085), --delay MS (artificial per-statement delay),
 * --threads N (DuckDB's worker threads; default one per core).
 */
import { emulatorStoreUri } from './index';
import { SnowflakeEmulator } from './server';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const emulator = await SnowflakeEmulator.start({
    port: arg('port', 8085),
    threads: arg('threads', 0) || undefined,
    log: process.argv.includes('--verbose') ? (line) => console.log(line) : undefined,
  });
  emulator.delayMs = arg('delay', 0);
  console.log(`Snowflake wire emulator (DuckDB) listening on ${emulator.url}`);
  console.log(`login: any user, password "test"`);
  console.log(`store URI: ${emulatorStoreUri(emulator, { flushMs: 2000 })}`);
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

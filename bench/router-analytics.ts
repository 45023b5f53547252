/**
 * The analytics store used by the router benchmark's dual-write run: the
 * Snowflake store talking to the wire emulator (DuckDB underneath) running in
 * a child process, as a real warehouse would be remote: the emulator's SQL work
 * then does not compete with the gateway's event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SnowflakeEmulator } from '../test/support/snowflake-emulator';
import { emulatorStoreUri } from '../test/support/snowflake-emulator';

/** An analytics store the benchmark can name by URI. */
export interface AnalyticsTarget {
  readonly name: string;
  readonly uri: string;
  stop(): Promise<void>;
}

/** Starts the emulator in a child process and returns the store URI pointing at it. */
export async function startAnalytics(flushMs: number): Promise<AnalyticsTarget> {
  const root = join(__dirname, '..');
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'bin/run-ts.cjs'), join(root, 'test/support/snowflake-emulator/main.ts'), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`emulator exited early (code ${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
  });
  child.stdout?.resume();
  const emulator = { url } as SnowflakeEmulator;
  return {
    name: `Snowflake store -> wire emulator in a child process (flushMs=${flushMs})`,
    uri: emulatorStoreUri(emulator, { flushMs, timeoutMs: 30_000 }),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

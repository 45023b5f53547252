/**
 * Log lines of bench:gateway: on stderr, so stdout holds the table and the
 * BENCH lines alone.
 */
import { loadavg as osLoadavg } from 'node:os';

/** Writes `line` to stderr, prefixed `[bench]`. */
export const log = (line: string): void => console.error(`[bench] ${line}`);

/** The machine's load averages (1, 5 and 15 minutes), for log lines and the report's title. */
export function loadavg(): string {
  return osLoadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

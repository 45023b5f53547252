/**
 * How the CLI shows progress events (src/migrate/progress.ts): a bar redrawn
 * in place on a terminal, else (or with `--json`) one JSON object per line on
 * stderr, so scripts can follow long copies and verifications.
 */
import type { ProgressEvent, ProgressSink } from '../migrate/progress';
import type { CliIO } from './command';

/** A progress sink for `io`: a bar when stderr is a terminal and `json` is false, else JSON lines. */
export function progressSink(io: CliIO, json: boolean): ProgressSink {
  const tty = !json && process.stderr.isTTY === true;
  if (!tty) return (e: ProgressEvent) => io.err(JSON.stringify({ progress: e }));
  // Loaded lazily so `hub --help` stays free of the migrate layer.
  const { renderBar } = require('../migrate/progress') as typeof import('../migrate/progress');
  return (e: ProgressEvent) => {
    process.stderr.write(`\r${renderBar(e)}\x1b[K${e.final ? '\n' : ''}`);
  };
}

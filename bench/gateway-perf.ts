/**
 * `PERF_DIR=<dir>` for bench:gateway's tracing part: Linux perf samples each
 * gateway's JavaScript thread (its main thread) over the rounds of a run, one
 * file per gateway and run (`<name>-run<k>.data`). With
 * `BENCH_CHILD_FLAGS=--perf-basic-prof` the gateways write V8's map of their
 * JavaScript functions, so `perf report -i <file> --no-children --sort sym`
 * names them; divide a function's samples by the requests the gateway served
 * in the rounds (logged) to compare gateways of different throughput.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { log } from './gateway-log';

/** A perf recording in progress; `stop()` ends it and resolves once the file is written. */
export interface PerfRecording {
  readonly stop: () => Promise<void>;
}

/**
 * Starts `perf record` on thread `pid` (CPU-clock samples at 3,999 Hz with call
 * chains) into `<PERF_DIR>/<name>-run<run>.data`; undefined when PERF_DIR is unset.
 */
export function startPerf(pid: number | undefined, name: string, run: number): PerfRecording | undefined {
  const dir = process.env.PERF_DIR;
  if (!dir || pid === undefined) return undefined;
  const file = join(dir, `${name}-run${run}.data`);
  const perf: ChildProcess = spawn(
    'perf',
    ['record', '-g', '-e', 'cpu-clock', '-F', '3999', '-t', String(pid), '-o', file],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => perf.once('exit', () => resolve()));
  perf.once('error', (err) => log(`perf for ${name}: ${err.message}`));
  return {
    stop: async () => {
      // perf writes its file on SIGINT, as on Ctrl-C.
      perf.kill('SIGINT');
      await exited;
    },
  };
}

/**
 * Start-up times as an operator sees them, measured on the real commands:
 *
 * - `hub --help`: `node bin/hub.cjs --help`, wall clock to exit.
 * - `npm start` to healthy, cold: a fresh data directory (PGlite creates its
 *   schema, the demo tenant is seeded), from spawning `npm start` to the first
 *   200 from `/healthz`.
 * - `npm start` to healthy, warm: the same on the data directory of a previous
 *   run (nothing left to create or seed).
 *
 * Each is run several times; the table shows min and median (the machine is
 * shared: the median says more than one run). Runs against the working tree it
 * is started from, so the same file measures before and after a change.
 *
 *   node bin/run-ts.cjs bench/startup.bench.ts [--help-runs 7] [--start-runs 3]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Figure, percentile, report } from './report';

const root = resolve(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const log = (line: string): void => console.error(`[bench] ${line}`);

function helpOnce(): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'hub.cjs'), '--help'], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || !r.stdout.includes('Usage: hub')) throw new Error(`hub --help failed: ${r.stderr}`);
  return ms;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function healthy(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Spawns `npm start` on `dataDir`; resolves to ms until /healthz answers 200, then stops it. */
async function startOnce(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HUB_DATA_DIR: dataDir, HUB_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  try {
    await healthy(port, child);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    // The whole group: npm and the node process it started.
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
}

function stats(name: string, samples: number[]): Figure[] {
  const min = Math.min(...samples);
  const median = percentile([...samples], 50);
  log(`${name}: ${samples.map((s) => s.toFixed(0)).join(', ')} ms`);
  return [
    { name: `${name}_min`, value: Math.round(min), unit: 'ms' },
    { name: `${name}_median`, value: Math.round(median), unit: 'ms' },
  ];
}

async function main(): Promise<void> {
  const helpRuns = arg('help-runs', 7);
  const startRuns = arg('start-runs', 3);
  const figures: Figure[] = [];

  helpOnce(); // first run fills any compile cache; not counted
  figures.push(...stats('hub_help', Array.from({ length: helpRuns }, helpOnce)));

  const dirs: string[] = [];
  try {
    const cold: number[] = [];
    for (let i = 0; i < startRuns; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'hub-startup-'));
      dirs.push(dir);
      log(`npm start, cold run ${i + 1}/${startRuns}...`);
      cold.push(await startOnce(dir));
    }
    figures.push(...stats('npm_start_cold', cold));
    const warm: number[] = [];
    for (let i = 0; i < startRuns; i++) {
      log(`npm start, warm run ${i + 1}/${startRuns}...`);
      warm.push(await startOnce(dirs[0] as string));
    }
    figures.push(...stats('npm_start_warm', warm));
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  report(
    `Start-up: hub --help (${helpRuns} runs) and npm start to a healthy /healthz ` +
      `(${startRuns} cold runs on fresh data directories, ${startRuns} warm runs); min and median`,
    figures,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

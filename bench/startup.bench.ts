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
 * For `npm start`, also the CPU time (user + system) its processes spent until
 * healthy: npm, the build check, the gateway with its threads (PGlite's
 * worker). On a shared machine a run's wall time moves with the other
 * processes' load by several seconds; its CPU time hardly does.
 *
 * Each is run several times; the table shows min and median (the machine is
 * shared: the median says more than one run). Runs against the working tree it
 * is started from. With `--baseline <dir>` (another checkout of the project,
 * e.g. a `git worktree` of an older commit, with its node_modules), the same
 * commands run there too, alternating run by run with this tree so a loaded
 * machine's drift hits both alike; that tree's figures are the baseline.
 *
 *   node bin/run-ts.cjs bench/startup.bench.ts [--help-runs 7] [--start-runs 3] [--baseline DIR]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { type Figure, percentile, report } from './report';

const root = resolve(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const log = (line: string): void => console.error(`[bench] ${line}`);
const baselineIndex = args.indexOf('--baseline');
const baselineRoot = baselineIndex >= 0 ? resolve(args[baselineIndex + 1] as string) : undefined;

function helpOnce(tree: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(tree, 'bin', 'hub.cjs'), '--help'], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || !r.stdout.includes('Usage: hub')) throw new Error(`hub --help failed: ${r.stderr}`);
  return ms;
}

/** Runs the tree's `scripts/build.cjs --if-stale` when it has one (trees before the build have none). */
function buildIfStale(tree: string): void {
  const script = join(tree, 'scripts', 'build.cjs');
  if (!existsSync(script)) return;
  const r = spawnSync(process.execPath, [script, '--if-stale'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} --if-stale failed`);
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

/**
 * CPU time (ms) spent so far by the processes of group `pgid`, the children
 * they have waited for included (/proc, in clock ticks of 10 ms).
 */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command: state, ppid, pgrp, ..., utime (11), stime, cutime, cstime (14).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks * 10;
}

/** One `npm start` to healthy: wall time and CPU time, in ms. */
interface Start {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Spawns `npm start` on `dataDir`; resolves to the time until /healthz answers 200, then stops it. */
async function startOnce(tree: string, dataDir: string): Promise<Start> {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: tree,
    env: { ...process.env, PORT: String(port), HUB_DATA_DIR: dataDir, HUB_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  try {
    await healthy(port, child);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, cpuMs: child.pid === undefined ? NaN : groupCpuMs(child.pid) };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    // The whole group: npm and the node process it started.
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
}

/** Samples of this tree and (when given) of the baseline tree, taken alternately. */
interface Samples {
  readonly self: number[];
  readonly base: number[];
}

function stats(name: string, s: Samples, unit = 'ms'): Figure[] {
  const min = (xs: number[]): number => Math.round(Math.min(...xs));
  const median = (xs: number[]): number => Math.round(percentile([...xs], 50));
  log(`${name}: ${s.self.map((x) => x.toFixed(0)).join(', ')} ms`);
  if (s.base.length > 0) log(`${name} (baseline): ${s.base.map((x) => x.toFixed(0)).join(', ')} ms`);
  const withBase = (f: (xs: number[]) => number) => (s.base.length > 0 ? { baseline: f(s.base) } : {});
  return [
    { name: `${name}_min`, value: min(s.self), unit, ...withBase(min) },
    { name: `${name}_median`, value: median(s.self), unit, ...withBase(median) },
  ];
}

/** Runs `once` for each tree, this one first, `runs` times. */
async function alternate(runs: number, once: (tree: string, i: number) => Promise<number> | number) {
  const s: Samples = { self: [], base: [] };
  for (let i = 0; i < runs; i++) {
    s.self.push(await once(root, i));
    if (baselineRoot !== undefined) s.base.push(await once(baselineRoot, i));
  }
  return s;
}

async function main(): Promise<void> {
  const helpRuns = arg('help-runs', 7);
  const startRuns = arg('start-runs', 3);
  const figures: Figure[] = [];
  const load0 = loadavg()[0] ?? 0;

  // A tree whose sources changed since its build would build inside the first `npm start`: built first.
  for (const tree of [root, ...(baselineRoot !== undefined ? [baselineRoot] : [])]) buildIfStale(tree);
  helpOnce(root); // first run fills any compile cache; not counted
  if (baselineRoot !== undefined) helpOnce(baselineRoot);
  figures.push(...stats('hub_help', await alternate(helpRuns, helpOnce)));

  const dirs = new Map<string, string[]>();
  try {
    const coldCpu: Samples = { self: [], base: [] };
    const cold = await alternate(startRuns, async (tree, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'hub-startup-'));
      dirs.set(tree, [...(dirs.get(tree) ?? []), dir]);
      log(`npm start in ${tree}, cold run ${i + 1}/${startRuns}...`);
      const start = await startOnce(tree, dir);
      (tree === root ? coldCpu.self : coldCpu.base).push(start.cpuMs);
      return start.ms;
    });
    figures.push(...stats('npm_start_cold', cold), ...stats('npm_start_cold_cpu', coldCpu, 'ms_cpu'));
    const warmCpu: Samples = { self: [], base: [] };
    const warm = await alternate(startRuns, async (tree, i) => {
      log(`npm start in ${tree}, warm run ${i + 1}/${startRuns}...`);
      const start = await startOnce(tree, dirs.get(tree)?.[0] as string);
      (tree === root ? warmCpu.self : warmCpu.base).push(start.cpuMs);
      return start.ms;
    });
    figures.push(...stats('npm_start_warm', warm), ...stats('npm_start_warm_cpu', warmCpu, 'ms_cpu'));
  } finally {
    for (const d of [...dirs.values()].flat()) rmSync(d, { recursive: true, force: true });
  }
  const load = `load average ${load0.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end`;
  report(
    `Start-up: hub --help (${helpRuns} runs) and npm start to a healthy /healthz ` +
      `(${startRuns} cold runs on fresh data directories, ${startRuns} warm runs); min and median` +
      (baselineRoot !== undefined ? `; baseline: ${baselineRoot}, runs alternating with it` : '') +
      `; ${load}`,
    figures,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

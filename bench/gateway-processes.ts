/**
 * The parent side of bench:gateway's gateway children: starting and stopping
 * them, and reading what they used (CPU time from /proc, per thread too; CPU
 * and GC counts asked over IPC).
 */
import { fork } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { GcCounts } from './gateway-child';
import type { ChildTracing } from './gateway-tracing-child';

/** The file a gateway child runs by default: bench:gateway's driver, in its `--child` mode. */
export const GATEWAY_BENCH_FILE = resolvePath(__dirname, 'gateway.bench.ts');

/** Gateway children still running: stopped if this process exits early (an error), not left behind. */
const running = new Set<ReturnType<typeof fork>>();
process.on('exit', () => {
  for (const server of running) server.kill();
});

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (µs, user + system) a child process has used so far, from /proc/<pid>/stat. */
export function procCpuUs(child: ReturnType<typeof fork>): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1e6) / CLOCK_TICKS;
}

/**
 * CPU time (µs) of each of a child's threads, summed by thread name (`main`
 * for the JavaScript thread; V8's compiler and GC helpers are `V8 DefaultWorke`,
 * libuv's pool `libuv-worker`), from /proc/<pid>/task/<tid>/stat.
 */
export function threadCpuUs(child: ReturnType<typeof fork>): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name =
      tid === String(child.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
    out.set(name, (out.get(name) ?? 0) + us);
    // The kernel's share apart (system calls: sockets, timers, epoll).
    const sys = (Number(fields[12]) * 1e6) / CLOCK_TICKS;
    out.set(`${name} system`, (out.get(`${name} system`) ?? 0) + sys);
  }
  return out;
}

/** CPU time (µs, user + system) of a child's JavaScript thread so far (10 ms resolution). */
export function mainThreadCpuUs(child: ReturnType<typeof fork>): number {
  const stat = readFileSync(`/proc/${child.pid}/task/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/** How a gateway child is launched, beyond its file and tracing. */
export interface ChildLaunch {
  /**
   * A command the child runs under, node and its arguments appended (e.g.
   * `valgrind --tool=callgrind ...`); the IPC channel passes through it.
   */
  readonly launcher?: readonly string[];
  /** Environment variables added to this process's for the child. */
  readonly env?: Readonly<Record<string, string>>;
  /** node/V8 flags for the child. */
  readonly nodeFlags?: readonly string[];
}

/** Starts a gateway child process over `uri` with the tracing settings; resolves once it listens. */
export async function startChild(
  uri: string,
  secret: string,
  tracing: ChildTracing,
  file = GATEWAY_BENCH_FILE,
  launch: ChildLaunch = {},
): Promise<{ server: ReturnType<typeof fork>; url: string }> {
  const profile = process.env.PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF_DIR}`] : [];
  // Diagnostics only (V8's logs, e.g. `--log-deopt --logfile=/tmp/v8-%p.log`): never for figures.
  const flags = process.env.BENCH_CHILD_FLAGS?.split(' ').filter((f) => f !== '') ?? [];
  const server = fork(
    file,
    ['--child', `${uri}${uri.includes('?') ? '&' : '?'}max=32`, secret, JSON.stringify(tracing)],
    {
      // As the README says to run it in production.
      execArgv: [
        ...(launch.launcher ? [...launch.launcher.slice(1), process.execPath] : []),
        '--max-semi-space-size=32',
        '--require',
        'tsx/cjs',
        ...profile,
        ...flags,
        ...(tracing.nodeFlags ?? []),
        ...(launch.nodeFlags ?? []),
      ],
      ...(launch.launcher ? { execPath: launch.launcher[0] } : {}),
      ...(launch.env ? { env: { ...process.env, ...launch.env } } : {}),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  running.add(server);
  server.once('exit', () => running.delete(server));
  const url = await new Promise<string>((resolve, reject) => {
    server.once('message', (m) => resolve((m as { url: string }).url));
    server.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  return { server, url };
}

/** Asks a gateway child to stop; resolves once it has exited. */
export async function stopChild(server: ReturnType<typeof fork>): Promise<void> {
  server.send('stop');
  await new Promise((r) => server.once('exit', r));
}

/** CPU time (µs, user + system) the gateway child has used so far. */
export function childCpu(server: ReturnType<typeof fork>): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      server.off('message', on);
      resolve(cpu.user + cpu.system);
    };
    server.on('message', on);
    server.send('cpu');
  });
}

/** Tells a gateway child the rounds begin (a warmed child switches tracers); resolves once it has. */
export function measuring(server: ReturnType<typeof fork>): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if (!(m as { measuring?: boolean }).measuring) return;
      server.off('message', on);
      resolve();
    };
    server.on('message', on);
    server.send('measure');
  });
}

/** The garbage collections a gateway child has counted so far. */
export function childGc(server: ReturnType<typeof fork>): Promise<GcCounts> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      const gc = (m as { gc?: GcCounts }).gc;
      if (!gc) return;
      server.off('message', on);
      resolve(gc);
    };
    server.on('message', on);
    server.send('gc');
  });
}

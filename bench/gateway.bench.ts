/**
 * Gateway benchmark on PostgreSQL, beside raw `pg` in the same run:
 *
 * 1. Loads N outputs (default 1,000,000) for one tenant into a throwaway
 *    database through the PostgreSQL store.
 * 2. Starts the gateway in a child process (so load generator and server do
 *    not share one event loop) over that database.
 * 3. For (a) an output by id and (b) a filtered list of 50 (one skill), at 1 and
 *    at 32 connections: a closed-loop HTTP client with keep-alive measures every
 *    request (p50/p95/p99 at microsecond resolution) and req/s; autocannon
 *    drives the same request for its own req/s figure (its latency histogram
 *    has whole-millisecond resolution, too coarse for these figures).
 * 4. Raw `pg` runs the same SQL the store runs, in the same tenant-scoped
 *    transaction, with the same concurrency and duration: the baseline.
 * 5. The cost of tracing: three more gateway processes over the same database,
 *    tracing off, on with a sampler of 1.0 and on with 0.01 (parent-based
 *    trace-id ratio), exporting to an OTLP/HTTP sink in this process that
 *    reads and acknowledges every export. By id, the three driven at the same
 *    time (32 connections each) in rounds after a common warm-up, so the
 *    drift of a loaded machine hits all three alike. Figures, baseline tracing
 *    off: median req/s; the median of each round's ratio to that round's off;
 *    the gateway process's CPU time per request (process.cpuUsage of the
 *    child, less sensitive to other processes than req/s). `--extra` adds
 *    gateways: `off_control` (tracing off like the baseline: its ratios are
 *    the method's own noise on the machine as loaded), `sampled_0` (tracing
 *    on, every root dropped: the unsampled path alone).
 * 6. What tracing off costs beside code without tracing: a gateway in this
 *    process with a counting no-op tracer answers by-id requests, counting the
 *    tracer and span calls each request makes (tracing off makes none: a
 *    request reads `enabled` and `recording`, with no span, wrapper or
 *    attribute work); those calls, timed on the no-op tracer, against the
 *    gateway's CPU time per request.
 * 7. The cost of tenant tickets: by id and list of 50 at 1 connection, the
 *    gateway as before tickets (its tenant policy, lookups and list pages
 *    planned as the server chooses: the baseline), the policy before tickets through this
 *    gateway, and as installed, in rounds of rotating order; latency and CPU
 *    per request (gateway process plus its PostgreSQL backends).
 *
 * 8. With `--baseline-tree <dir>` (another checkout of this project, e.g. a
 *    `git worktree` of an older commit, node_modules present): a second
 *    gateway child started from that checkout's bench file, over a second
 *    database created and loaded by that checkout's own code (its schema and
 *    policies); by id and list of 50 at 1 and 32 connections, the two
 *    gateways driven in rounds of alternating order, so both meet the same
 *    machine load. Figures: median req/s and gateway CPU per request, this
 *    tree against the baseline tree.
 *
 * The gateway children's CPU time is read from /proc/<pid>/stat (user +
 * system), so a baseline child needs no hook for it. PROF_DIR=<dir> runs
 * every gateway child under `--cpu-prof` into that folder; BENCH_CHILD_FLAGS adds
 * node/V8 flags to every gateway child (diagnostics, e.g. V8's deopt log).
 *
 *   node bin/run-ts.cjs bench/gateway.bench.ts [--outputs 1000000] [--seconds 8] [--rounds 5]
 *     [--only reads|tracing|tickets] [--baseline-tree <dir>]
 *     [--extra off_control,sampled_0]
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import { Client, Pool } from 'pg';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { loadavg as osLoadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve as resolvePath } from 'node:path';
import { mintToken } from '../src/platform/auth';
import {
  NOOP_SPAN,
  NOOP_TRACER,
  type Span,
  type Tracer,
  type TracingSettings,
  createTracer,
  installTracer,
} from '../src/platform/tracing';
import type { OutputRecord } from '../src/hub/model';
import { parseTenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import { createGateway } from '../src/http/server';
import { silentLogger } from '../src/platform/log';
import { generateOutputs, skillIds } from '../src/seed/generator';
import { openStore } from '../src/stores';
import { getByIdsStatement, listStatement } from '../src/stores/postgres/postgres-sql';
import { type PgTestDatabase, createTestDatabase, tenantScope } from '../test/support/pg-harness';
import { closedLoop as loop, postGraphQL } from './closed-loop';
import { type GcCounts, serveGatewayChild } from './gateway-child';
import { CpuMeter } from './postgres-tickets';
import { type Figure, percentile, report } from './report';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const tenant = parseTenantId('bench-gw');
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const SKILLS = 12;
const log = (line: string): void => console.error(`[bench] ${line}`);
const loadModule = createRequire(__filename);
/** Gateway children still running: stopped if this process exits early (an error), not left behind. */
const running = new Set<ReturnType<typeof fork>>();
process.on('exit', () => {
  for (const server of running) server.kill();
});

// ---- child mode: serve the gateway over the given store URI -----------------
/** A child's tracing: the settings, and for a warmed child the sampler ratio of its warm-up. */
type ChildTracing = TracingSettings & {
  readonly warmSamplerArg?: string;
  /** node/V8 flags for this gateway alone (an experiment beside the same configuration without). */
  readonly nodeFlags?: readonly string[];
  /** Spans dropped instead of exported (is the excess the exporter's?). */
  readonly noExport?: boolean;
  /** Ended spans dropped at once, no batch span processor (its buffer and timers). */
  readonly noProcessor?: boolean;
  /**
   * No SDK at all: this share of requests gets a recording span whose calls do nothing, so the
   * sampled path (traced views of the Hub, the store and the database) runs without OpenTelemetry;
   * `rootOnly`: that span's children are the no-op span (no traced views).
   */
  readonly fake?: { readonly ratio: number; readonly rootOnly?: boolean; readonly timer?: boolean };
  /**
   * `base`: this gateway runs from the checkout named by BENCH_TRACING_BASE_TREE (e.g. a `git
   * worktree` of an earlier commit, node_modules linked), its tracing as that code does it.
   */
  readonly tree?: 'base';
  /** Tracing off, but an HTTP client POST of `{}` to this URL every 5 s (what an export does to node:http). */
  readonly clientPostTo?: string;
};

/** A recording span whose calls do nothing (the `fake` configurations). */
class FakeSpan implements Span {
  readonly recording = true;
  constructor(private readonly rootOnly: boolean) {}
  child(): Span {
    return this.rootOnly ? NOOP_SPAN : new FakeSpan(false);
  }
  ids(): undefined {
    return undefined;
  }
  setName(): void {}
  setAttribute(): void {}
  setAttributes(): void {}
  addEvent(): void {}
  fail(): void {}
  end(): void {}
}

/** A tracer whose roots are {@link FakeSpan}s at `ratio`, no-op spans otherwise. */
function fakeTracer(fake: NonNullable<ChildTracing['fake']>): Tracer {
  // `timer`: what a batch span processor does with timers, beside each sampled root (an unref'd
  // 5 s timer while anything is buffered; at its end, a 30 s export timeout set and cleared).
  let pending: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      clearTimeout(setTimeout(() => undefined, 30_000));
    }, 5000);
    pending.unref();
  };
  const root = (): Span => {
    if (Math.random() >= fake.ratio) return NOOP_SPAN;
    if (fake.timer) arm();
    return new FakeSpan(fake.rootOnly === true);
  };
  return {
    enabled: true,
    startServerSpan: root,
    startRoot: root,
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
}

/** Makes the tracer a child's settings ask for. */
function childTracer(settings: ChildTracing): Tracer {
  const {
    warmSamplerArg: _w,
    nodeFlags: _f,
    noExport,
    noProcessor,
    fake,
    clientPostTo,
    ...tracing
  } = settings;
  if (clientPostTo !== undefined) {
    const agent = new Agent({ keepAlive: true });
    setInterval(() => {
      const req = httpRequest(
        clientPostTo,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => res.resume(),
      );
      req.on('error', () => undefined);
      req.end('{}');
    }, 5000).unref();
  }
  if (fake) return fakeTracer(fake);
  if (!noExport && !noProcessor) return createTracer(tracing);
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports
  const otel = require('../src/platform/tracing-otel') as typeof import('../src/platform/tracing-otel');
  return otel.createOtelTracer(
    tracing,
    noProcessor
      ? {
          processor: {
            onStart: () => undefined,
            onEnd: () => undefined,
            forceFlush: async () => undefined,
            shutdown: async () => undefined,
          },
        }
      : { exporter: { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined } },
  );
}

async function child(uri: string, secret: string, settings: ChildTracing): Promise<void> {
  const { warmSamplerArg } = settings;
  const tracer = childTracer(settings);
  // Warmed: the warm-up runs under a second tracer sampling at `warmSamplerArg` (the same code, so
  // the sampled path is compiled and optimised as a long-running gateway's is), the rounds under
  // the configured one.
  const warm =
    warmSamplerArg === undefined ? undefined : childTracer({ ...settings, samplerArg: warmSamplerArg });
  installTracer(warm ?? tracer);
  // PROF_ROUNDS_DIR: a CPU profile of the rounds alone (after the warm-up), written as the child stops.
  const profiler = process.env.PROF_ROUNDS_DIR ? new Session() : undefined;
  profiler?.connect();
  let profiling = false;
  const post = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) =>
      profiler?.post(method, (err, result) => (err ? reject(err) : resolve(result))),
    );
  process.on('message', (m: unknown) => {
    if (m === 'stop' && profiling) {
      void post('Profiler.stop').then((r) =>
        writeFileSync(
          join(process.env.PROF_ROUNDS_DIR as string, `rounds-${process.pid}.cpuprofile`),
          JSON.stringify((r as { profile: unknown }).profile),
        ),
      );
    }
    if (m !== 'measure') return;
    void (warm ? warm.flush() : Promise.resolve())
      .then(async () => {
        installTracer(tracer);
        if (profiler && !profiling) {
          await post('Profiler.enable');
          await post('Profiler.start');
          profiling = true;
        }
      })
      .then(() => {
        // With diagnostic flags, when the rounds begin in this process's clock (V8's log times).
        if (process.env.BENCH_CHILD_FLAGS)
          console.error(`[bench] gateway ${process.pid}: rounds begin at ${process.uptime().toFixed(3)} s`);
        process.send?.({ measuring: true });
      });
  });
  await serveGatewayChild(uri, secret, {
    maxStoreCalls: 1024,
    afterClose: async () => {
      await warm?.shutdown();
      await tracer.shutdown();
    },
  });
}

// ---- measurement helpers ----------------------------------------------------
async function cannon(url: string, token: string, connections: number, seconds: number, bodies: string[]) {
  let n = 0;
  const result = await autocannon({
    url: `${url}/graphql`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        setupRequest: (req) => ({ ...req, body: bodies[n++ % bodies.length] as string }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`autocannon saw ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

// ---- main -----------------------------------------------------------------
async function main(): Promise<void> {
  const OUTPUTS = arg('outputs', 1_000_000);
  const SECONDS = arg('seconds', 8);
  const ROUNDS = arg('rounds', 5);
  const only = option('only');
  const onlyTracing = only === 'tracing';
  const onlyTickets = only === 'tickets';
  const onlyReads = only === 'reads';
  const baselineTree = option('baseline-tree');
  const db = await createTestDatabase();
  let baseDb: PgTestDatabase | undefined;
  const secret = randomUUID() + randomUUID();
  const figures: Figure[] = [];
  try {
    const ids = await loadOutputs(THIS_TREE, db, OUTPUTS);
    const { server, url } = await startChild(db.appUri, secret, {});
    const token = await mintToken({ secret, tenant, scopes: ['hub:read'] });
    const skills = skillIds(SKILLS);
    const byIdBody = readBodies(ids).byId;
    const listBody = readBodies(ids).list;
    const pool = new Pool({ connectionString: db.appUri, max: 32 });
    const scoped = async (stmt: { sql: string; params: readonly unknown[] }): Promise<void> => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(tenantScope(tenant).sql, tenantScope(tenant).params);
        await c.query(stmt.sql, [...stmt.params]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    const scenarios = [
      {
        name: 'by_id',
        body: byIdBody,
        raw: (i: number) =>
          scoped(getByIdsStatement(tenant, 'outputs', [ids[(i * 7919) % ids.length] as string])),
      },
      {
        name: 'list50',
        body: listBody,
        raw: (i: number) =>
          scoped(
            listStatement(tenant, {
              type: 'outputs',
              filter: { skillIds: [skills[i % SKILLS] as string] },
              limit: 51,
            }),
          ),
      },
    ];
    const target = new URL(url);
    for (const connections of onlyTracing || onlyTickets ? [] : [1, 32]) {
      for (const s of scenarios) {
        log(`${s.name} at ${connections} connection(s)...`);
        const agent = new Agent({ keepAlive: true, maxSockets: connections });
        await loop(connections, 1, (i) => postGraphQL(agent, target, token, s.body(i))); // warm-up
        const cpu0 = procCpuUs(server);
        const run = await loop(connections, SECONDS, (i) => postGraphQL(agent, target, token, s.body(i)));
        const gw = { ...run, cpuUs: Math.round((procCpuUs(server) - cpu0) / run.samples.length) };
        agent.destroy();
        log(
          `${s.name} c${connections}: ${Math.round(gw.perSec)} req/s, ${gw.cpuUs} µs gateway CPU per request`,
        );
        await loop(connections, 1, s.raw);
        const raw = await loop(connections, SECONDS, s.raw);
        const cannonRps = await cannon(
          url,
          token,
          connections,
          SECONDS,
          Array.from({ length: 500 }, (_, i) => s.body(i)),
        );
        for (const p of [50, 95, 99]) {
          figures.push({
            name: `gateway_${s.name}_c${connections}_p${p}`,
            value: Number(percentile(gw.samples, p).toFixed(3)),
            unit: 'ms',
            baseline: Number(percentile(raw.samples, p).toFixed(3)),
          });
        }
        figures.push({
          name: `gateway_${s.name}_c${connections}_rps`,
          value: Math.round(gw.perSec),
          unit: 'req/s',
          baseline: Math.round(raw.perSec),
        });
        figures.push({
          name: `gateway_${s.name}_c${connections}_cpu_per_request`,
          value: gw.cpuUs,
          unit: 'us',
        });
        figures.push({
          name: `gateway_${s.name}_c${connections}_autocannon_rps`,
          value: Math.round(cannonRps),
          unit: 'req/s',
          baseline: Math.round(raw.perSec),
        });
      }
    }
    await pool.end();
    if (baselineTree) {
      const base = loadTree(baselineTree);
      baseDb = await base.harness.createTestDatabase();
      const baseIds = await loadOutputs(base, baseDb, OUTPUTS);
      const baseChild = await startChild(baseDb.appUri, secret, {}, join(base.dir, 'bench/gateway.bench.ts'));
      try {
        figures.push(
          ...(await compareTrees(
            { server, url, bodies: readBodies(ids) },
            { server: baseChild.server, url: baseChild.url, bodies: readBodies(baseIds) },
            token,
            SECONDS,
            ROUNDS,
          )),
        );
      } finally {
        await stopChild(baseChild.server);
      }
    }
    if (!onlyTracing && !onlyReads)
      figures.push(...(await ticketCost(db, { server, url }, secret, token, scenarios, SECONDS, ROUNDS)));
    await stopChild(server);
    if (!onlyTickets && !onlyReads) {
      figures.push(...(await tracingCost(db.appUri, secret, token, byIdBody, SECONDS, ROUNDS)));
      figures.push(...(await tracingOffCost(db.appUri, secret, token, byIdBody, figures)));
    }
    report(
      `Gateway over PostgreSQL (${OUTPUTS.toLocaleString('en')} outputs, one tenant) vs raw pg running the same SQL ` +
        `in the same tenant-scoped transaction; ${SECONDS} s per figure, gateway in its own process; ` +
        `tracing: its configurations at once, ${ROUNDS} rounds, median (machine load at the end: ${loadavg()})`,
      figures,
    );
  } finally {
    await baseDb?.drop();
    await db.drop();
  }
}

/** What loading a database needs from a checkout (this one, or the baseline tree). */
interface Tree {
  readonly dir: string;
  readonly harness: { createTestDatabase: typeof createTestDatabase };
  readonly openStore: typeof openStore;
  readonly generateOutputs: typeof generateOutputs;
  readonly sealBatch: typeof sealBatch;
}

const THIS_TREE: Tree = {
  dir: resolvePath(__dirname, '..'),
  harness: { createTestDatabase },
  openStore,
  generateOutputs,
  sealBatch,
};

/** The baseline checkout's own harness, store, generator and validation (its schema, its policies). */
function loadTree(dir: string): Tree {
  // Through tsx's CommonJS hook, as this file runs (import() would take the ESM loader, which has none).
  const at = (path: string): unknown => loadModule(resolvePath(dir, path));
  const stores = at('src/stores/index.ts') as { openStore: Tree['openStore'] };
  const seed = at('src/seed/generator.ts') as { generateOutputs: Tree['generateOutputs'] };
  const validate = at('src/hub/validate.ts') as { sealBatch: Tree['sealBatch'] };
  return {
    dir: resolvePath(dir),
    harness: at('test/support/pg-harness.ts') as Tree['harness'],
    openStore: stores.openStore,
    generateOutputs: seed.generateOutputs,
    sealBatch: validate.sealBatch,
  };
}

/** Loads `count` outputs for the bench tenant through `tree`'s PostgreSQL store; returns every 97th id. */
async function loadOutputs(tree: Tree, db: PgTestDatabase, count: number): Promise<string[]> {
  const ids: string[] = [];
  log(`loading ${count} outputs through the PostgreSQL store of ${tree.dir}...`);
  const loader = await tree.openStore(`${db.appUri}?max=4`);
  const t0 = Date.now();
  for (const inputs of tree.generateOutputs(count, {
    seed: 7,
    batchSize: 20_000,
    skills: SKILLS,
    days: 365,
  })) {
    const sealed = tree.sealBatch(tenant, 'outputs', inputs) as OutputRecord[];
    await loader.putBatch(tenant, sealed);
    for (let k = 0; k < sealed.length; k += 97) ids.push((sealed[k] as OutputRecord).record_id);
  }
  await loader.close();
  log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const admin = new Pool({ connectionString: db.adminUri, max: 1 });
  await admin.query('VACUUM ANALYZE hub.outputs');
  await admin.end();
  return ids;
}

interface ReadBodies {
  readonly byId: (i: number) => string;
  readonly list: (i: number) => string;
}

/** The two read requests: an output by id (over `ids`) and a list of 50 filtered by one skill. */
function readBodies(ids: readonly string[]): ReadBodies {
  const skills = skillIds(SKILLS);
  return {
    byId: (i) =>
      JSON.stringify({
        query: 'query($id: ID!) { output(id: $id) { id skillId employeeId status costUsd createdAt } }',
        variables: { id: ids[(i * 7919) % ids.length] },
      }),
    list: (i) =>
      JSON.stringify({
        query:
          'query($s: [String!]) { outputs(first: 50, filter: { skillIds: $s }) { nodes { id skillId employeeId status costUsd createdAt } pageInfo { endCursor } } }',
        variables: { s: [skills[i % SKILLS]] },
      }),
  };
}

interface Side {
  readonly server: ReturnType<typeof fork>;
  readonly url: string;
  readonly bodies: ReadBodies;
}

/**
 * This tree's gateway against the baseline tree's: by id and list of 50 at 1
 * and 32 connections, in rounds whose order alternates; median req/s and
 * median gateway CPU per request of each, baseline the other tree's.
 */
async function compareTrees(
  current: Side,
  baseline: Side,
  token: string,
  seconds: number,
  rounds: number,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const drive = async (side: Side, name: 'byId' | 'list', connections: number, secs: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    const target = new URL(side.url);
    try {
      const cpu0 = procCpuUs(side.server);
      const run = await loop(connections, secs, (i) =>
        postGraphQL(agent, target, token, side.bodies[name](i)),
      );
      return { perSec: run.perSec, cpuUs: (procCpuUs(side.server) - cpu0) / run.samples.length };
    } finally {
      agent.destroy();
    }
  };
  for (const connections of [1, 32]) {
    for (const [name, label] of [
      ['byId', 'by_id'],
      ['list', 'list50'],
    ] as const) {
      const got = {
        current: { rps: [] as number[], cpu: [] as number[] },
        baseline: { rps: [] as number[], cpu: [] as number[] },
      };
      for (const side of [current, baseline]) await drive(side, name, connections, 1); // warm-up
      for (let round = 0; round < rounds; round++) {
        const order =
          round % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
        for (const which of order) {
          const r = await drive(which === 'current' ? current : baseline, name, connections, seconds);
          got[which].rps.push(r.perSec);
          got[which].cpu.push(r.cpuUs);
        }
        log(
          `trees ${label} c${connections}, round ${round + 1} of ${rounds} (load ${loadavg()}): ` +
            `this ${Math.round(got.current.rps[round] ?? NaN)} req/s ${Math.round(got.current.cpu[round] ?? NaN)} µs CPU, ` +
            `baseline ${Math.round(got.baseline.rps[round] ?? NaN)} req/s ${Math.round(got.baseline.cpu[round] ?? NaN)} µs CPU`,
        );
      }
      figures.push(
        {
          name: `gateway_${label}_c${connections}_rps_vs_baseline_tree`,
          value: Math.round(median(got.current.rps)),
          unit: 'req/s',
          baseline: Math.round(median(got.baseline.rps)),
        },
        {
          name: `gateway_${label}_c${connections}_cpu_per_request_vs_baseline_tree`,
          value: Math.round(median(got.current.cpu)),
          unit: 'us',
          baseline: Math.round(median(got.baseline.cpu)),
        },
      );
    }
  }
  return figures;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (µs, user + system) a child process has used so far, from /proc/<pid>/stat. */
function procCpuUs(child: ReturnType<typeof fork>): number {
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
function threadCpuUs(child: ReturnType<typeof fork>): Map<string, number> {
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
function mainThreadCpuUs(child: ReturnType<typeof fork>): number {
  const stat = readFileSync(`/proc/${child.pid}/task/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}

/** Starts a gateway child process over `uri` with the tracing settings; resolves once it listens. */
async function startChild(
  uri: string,
  secret: string,
  tracing: ChildTracing,
  file = __filename,
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
        '--max-semi-space-size=32',
        '--require',
        'tsx/cjs',
        ...profile,
        ...flags,
        ...(tracing.nodeFlags ?? []),
      ],
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

async function stopChild(server: ReturnType<typeof fork>): Promise<void> {
  server.send('stop');
  await new Promise((r) => server.once('exit', r));
}

function loadavg(): string {
  return osLoadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

/** CPU time (µs, user + system) the gateway child has used so far. */
function childCpu(server: ReturnType<typeof fork>): Promise<number> {
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
function measuring(server: ReturnType<typeof fork>): Promise<void> {
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
function childGc(server: ReturnType<typeof fork>): Promise<GcCounts> {
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

const median = (xs: readonly number[]): number => percentile([...xs], 50);

/**
 * The cost of tenant tickets through the whole gateway: by id and list of 50
 * at 1 connection, three sides in rounds whose order rotates: `before`, the
 * gateway as before tickets (the tenant policy on hub.outputs as it was, and
 * a second gateway child whose store plans lookups and list pages as the
 * server chooses, generic_lookups=false: the baseline); `old`, that policy through this
 * gateway (what the ticket alone costs); `ticket`, the policy as installed.
 * The policy is switched with ALTER POLICY. Latency, and CPU per request:
 * the gateway process plus its PostgreSQL backends (load only adds waiting to
 * it).
 */
async function ticketCost(
  db: PgTestDatabase,
  current: { server: ReturnType<typeof fork>; url: string },
  secret: string,
  token: string,
  scenarios: readonly { name: string; body: (i: number) => string }[],
  seconds: number,
  rounds: number,
): Promise<Figure[]> {
  const admin = new Client({ connectionString: db.adminUri });
  await admin.connect();
  const scope = "(SELECT current_setting('app.tenant_id', true))";
  const installed = await admin.query(
    "SELECT qual FROM pg_policies WHERE schemaname = 'hub' AND tablename = 'outputs' AND policyname = 'tenant_isolation'",
  );
  const old = `tenant_id = ${scope}`;
  const ticket = String(installed.rows[0]?.qual);
  const setPolicy = (policy: string) =>
    admin.query(`ALTER POLICY tenant_isolation ON hub.outputs USING (${policy}) WITH CHECK (${policy})`);
  const beforeChild = await startChild(`${db.appUri}?generic_lookups=false`, secret, {});
  const sides = {
    before: { ...beforeChild, policy: old },
    old: { ...current, policy: old },
    ticket: { ...current, policy: ticket },
  };
  const names = ['before', 'old', 'ticket'] as const;
  const by = new Map<string, { samples: number[]; cpuMs: number; n: number }>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of names.map((_, i) => names[(i + round) % names.length] as (typeof names)[number])) {
        const { server, url, policy } = sides[side];
        await setPolicy(policy);
        const cpu = new CpuMeter(admin, db, async () => (await childCpu(server)) / 1000);
        const target = new URL(url);
        for (const s of scenarios) {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          await loop(1, 0.5, (i) => postGraphQL(agent, target, token, s.body(i))); // statements planned again after the ALTER
          const start = await cpu.read();
          const run = await loop(1, seconds, (i) => postGraphQL(agent, target, token, s.body(i)));
          const used = await cpu.since(start);
          agent.destroy();
          const key = `${side} ${s.name}`;
          const into = by.get(key) ?? { samples: [], cpuMs: 0, n: 0 };
          into.samples.push(...run.samples);
          into.cpuMs += used;
          into.n += run.samples.length;
          by.set(key, into);
          log(
            `tickets ${key}, round ${round + 1} of ${rounds}: p50 ${percentile(run.samples, 50).toFixed(3)} ms, ` +
              `${Math.round((used * 1000) / run.samples.length)} µs CPU per request (load ${loadavg()})`,
          );
        }
      }
    }
  } finally {
    await setPolicy(ticket);
    await stopChild(beforeChild.server);
    await admin.end();
  }
  const figures: Figure[] = [];
  for (const s of scenarios) {
    const mine = by.get(`ticket ${s.name}`);
    if (!mine) continue;
    for (const base of ['before', 'old'] as const) {
      const other = by.get(`${base} ${s.name}`);
      if (!other) continue;
      const vs = base === 'before' ? 'before_tickets' : 'old_policy';
      for (const p of [50, 95]) {
        figures.push({
          name: `gateway_${s.name}_c1_p${p}_ticket_vs_${vs}`,
          value: Number(percentile(mine.samples, p).toFixed(3)),
          unit: 'ms',
          baseline: Number(percentile(other.samples, p).toFixed(3)),
        });
      }
      figures.push({
        name: `gateway_${s.name}_c1_cpu_ticket_vs_${vs}`,
        value: Math.round((mine.cpuMs * 1000) / mine.n),
        unit: 'us',
        baseline: Math.round((other.cpuMs * 1000) / other.n),
      });
    }
  }
  return figures;
}

/**
 * By-id throughput at 32 connections with tracing off, on at 1.0 and on at
 * 0.01, the three driven at the same time in rounds; an OTLP sink in this
 * process acknowledges the exports (reading each body, as a collector must).
 */
async function tracingCost(
  uri: string,
  secret: string,
  token: string,
  body: (i: number) => string,
  seconds: number,
  rounds: number,
): Promise<Figure[]> {
  let exports = 0;
  let exportBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (exportBytes += c.length));
    req.on('end', () => {
      exports++;
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const configs: { name: string; tracing: ChildTracing }[] = [
    { name: 'off', tracing: {} },
    { name: 'sampled_1', tracing: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '1' } },
    { name: 'sampled_0_01', tracing: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.01' } },
  ];
  // --extra off_control: a second gateway with tracing off, measured like the others against the
  // first (how far two identical gateways differ by this method on the machine as loaded);
  // --extra sampled_0: tracing on, every root dropped (what an unsampled request pays by itself,
  // without the sampled traces in flight beside it).
  const extras: Record<string, ChildTracing> = {
    off_control: {},
    sampled_0: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0' },
    // A second 0.01 gateway: whether a difference is the sampler's or one process's (JIT and heap
    // state persist across rounds, so rounds of one process are not independent samples).
    sampled_0_01_b: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.01' },
    // 0.01 with V8's bytecode flushing off: is the sampled path compiled again per rare trace?
    sampled_0_01_noflush: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      nodeFlags: ['--no-flush-bytecode'],
    },
    // Between 0.01 and 1.0: does the cost grow in proportion to the share sampled?
    sampled_0_1: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.1' },
    sampled_0_5: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.5' },
    // Bisecting the 0.01 excess: without export; without the SDK (recording spans that do nothing,
    // the traced views as sampled); without the SDK and without traced views (the root alone).
    sampled_0_01_noexport: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      noExport: true,
    },
    fake_0_01: { fake: { ratio: 0.01 } },
    fake_0_01_root: { fake: { ratio: 0.01, rootOnly: true } },
    fake_0_01_timer: { fake: { ratio: 0.01, timer: true } },
    // Nothing sampled in the rounds, after a warm-up at 0.01: does a gateway that has served sampled
    // requests stay slower once it serves none (a state it keeps) or not (work while they run)?
    sampled_0_after_0_01: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0',
      warmSamplerArg: '0.01',
    },
    sampled_0_01_noprocessor: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      noProcessor: true,
    },
    fake_1: { fake: { ratio: 1 } },
    // Tracing off, with an HTTP client POST to the sink every 5 s (an export's use of node:http alone).
    off_client_post: { clientPostTo: `${endpoint}/v1/traces` },
    // 0.01 as the code of BENCH_TRACING_BASE_TREE does it (before/after a change, in one run).
    base_sampled_0_01: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '0.01', tree: 'base' },
    base_sampled_1: { endpoint, sampler: 'parentbased_traceidratio', samplerArg: '1', tree: 'base' },
    // 0.01 after a warm-up sampling every request: the sampled path as hot as in a gateway that
    // has run for hours (at 1%, a short run executes it too rarely for V8 to optimise it).
    sampled_0_01_warm: {
      endpoint,
      sampler: 'parentbased_traceidratio',
      samplerArg: '0.01',
      warmSamplerArg: '1',
    },
  };
  // --skip (bisecting only): leave default configurations out.
  const skip = (option('skip') ?? '').split(',');
  for (let k = configs.length - 1; k > 0; k--)
    if (skip.includes(configs[k]?.name ?? '')) configs.splice(k, 1);
  const extra = args.includes('--extra') ? (args[args.indexOf('--extra') + 1] ?? '').split(',') : [];
  for (const name of extra) {
    // `<extra>_r2`, `_r3`, ...: another gateway of that configuration (bisecting: per-process spread).
    const tracing = extras[name.replace(/_r\d+$/, '')];
    if (!tracing) throw new Error(`--extra takes ${Object.keys(extras).join(', ')}; got ${name}`);
    configs.push({ name, tracing });
  }
  const baseTree = process.env.BENCH_TRACING_BASE_TREE;
  const childFile = (tracing: ChildTracing): string | undefined => {
    if (tracing.tree !== 'base') return undefined;
    if (!baseTree) throw new Error('the base_* extras need BENCH_TRACING_BASE_TREE=<another checkout>');
    return resolvePath(baseTree, 'bench/gateway.bench.ts');
  };
  interface Child {
    readonly name: string;
    readonly server: ReturnType<typeof fork>;
    readonly url: string;
    readonly rps: number[];
    readonly cpuUs: number[];
    readonly ratio: number[];
    readonly cpuRatio: number[];
    readonly mainUs: number[];
    readonly mainRatio: number[];
  }
  const children: Child[] = [];
  const served = new Map<string, number>();
  // The JavaScript thread's CPU per request over all rounds (the rest is V8's helper threads,
  // mostly parallel GC, whose CPU grows with the machine's oversubscription, not with the code).
  const mainUs = new Map<string, number>();
  for (const c of configs)
    children.push({
      ...c,
      ...(await startChild(uri, secret, c.tracing, childFile(c.tracing))),
      rps: [] as number[],
      cpuUs: [] as number[],
      ratio: [] as number[],
      cpuRatio: [] as number[],
      mainUs: [] as number[],
      mainRatio: [] as number[],
    });
  try {
    // All at once, each with its own 32 connections: every configuration
    // meets the same machine at the same moment (a loaded machine drifts within
    // seconds; runs one after the other measured that drift, not tracing).
    const drive = async (c: Child, secs: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 32 });
      const target = new URL(c.url);
      try {
        const cpu0 = await childCpu(c.server);
        const main0 = mainThreadCpuUs(c.server);
        const run = await loop(32, secs, (i) => postGraphQL(agent, target, token, body(i)));
        served.set(c.name, (served.get(c.name) ?? 0) + run.samples.length);
        const n = run.samples.length;
        return {
          perSec: run.perSec,
          cpuUs: ((await childCpu(c.server)) - cpu0) / n,
          mainUs: (mainThreadCpuUs(c.server) - main0) / n,
        };
      } finally {
        agent.destroy();
      }
    };
    log(`tracing: warming the ${children.length} gateways up together (${3 * seconds} s)...`);
    await Promise.all(children.map((c) => drive(c, 3 * seconds)));
    await Promise.all(children.map((c) => measuring(c.server)));
    log(`tracing, gateway processes: ${children.map((c) => `${c.name} ${c.server.pid}`).join(', ')}`);
    const gc0 = await Promise.all(children.map((c) => childGc(c.server)));
    const threads0 = children.map((c) => threadCpuUs(c.server));
    const served0 = new Map(served);
    for (let round = 0; round < rounds; round++) {
      const runs = await Promise.all(children.map((c) => drive(c, seconds)));
      children.forEach((c, k) => {
        const r = runs[k] as { perSec: number; cpuUs: number; mainUs: number };
        c.mainUs.push(r.mainUs);
        c.rps.push(r.perSec);
        c.cpuUs.push(r.cpuUs);
      });
      log(
        `tracing, round ${round + 1} of ${rounds} (load ${loadavg()}): ` +
          children
            .map(
              (c) =>
                `${c.name} ${Math.round(c.rps[round] ?? NaN)} req/s ${Math.round(c.cpuUs[round] ?? NaN)} µs CPU ` +
                `(${Math.round(c.mainUs[round] ?? NaN)} main thread)`,
            )
            .join(', '),
      );
      const off = children[0]?.rps[round] ?? NaN;
      const offCpu = children[0]?.cpuUs[round] ?? NaN;
      for (const c of children) {
        c.ratio.push((c.rps[round] ?? NaN) / off);
        c.cpuRatio.push((c.cpuUs[round] ?? NaN) / offCpu);
        c.mainRatio.push((c.mainUs[round] ?? NaN) / (children[0]?.mainUs[round] ?? NaN));
      }
    }
    const gc1 = await Promise.all(children.map((c) => childGc(c.server)));
    // Where each gateway's CPU went over the rounds, per request: its JavaScript thread, and
    // V8's helper threads (concurrent compilation, parallel and concurrent GC) apart.
    children.forEach((c, k) => {
      const before = threads0[k] as Map<string, number>;
      const n = (served.get(c.name) ?? 0) - (served0.get(c.name) ?? 0);
      const perThread = [...threadCpuUs(c.server)].map(
        ([name, us]) => [name, (us - (before.get(name) ?? 0)) / n] as const,
      );
      mainUs.set(c.name, perThread.find(([name]) => name === 'main')?.[1] ?? NaN);
      const parts = perThread.filter(([, us]) => us >= 0.5).map(([name, us]) => `${name} ${us.toFixed(0)}`);
      log(`tracing, CPU per request by thread in ${c.name} over the rounds (µs): ${parts.join(', ')}`);
    });
    children.forEach((c, k) => {
      const a = gc0[k] as GcCounts;
      const b = gc1[k] as GcCounts;
      log(
        `tracing, GC over the rounds in ${c.name}: ${b.minor - a.minor} minor (${(b.minorMs - a.minorMs).toFixed(0)} ms), ` +
          `${b.major - a.major} major (${(b.majorMs - a.majorMs).toFixed(0)} ms), ` +
          `${b.incremental - a.incremental} incremental marking steps (${(b.incrementalMs - a.incrementalMs).toFixed(0)} ms)`,
      );
    });
  } finally {
    for (const c of children) await stopChild(c.server);
    await new Promise((r) => sink.close(r));
  }
  log(`requests served: ${[...served].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  log(`the OTLP sink received ${exports} exports, ${(exportBytes / 1e6).toFixed(1)} MB`);
  const off = children[0];
  const figures: Figure[] = [];
  for (const c of children) {
    figures.push({
      name: `gateway_by_id_c32_rps_tracing_${c.name}`,
      value: Math.round(median(c.rps)),
      unit: 'req/s',
      baseline: Math.round(median(off?.rps ?? [])),
    });
  }
  for (const c of children.slice(1)) {
    figures.push({
      name: `gateway_by_id_c32_rps_round_ratio_tracing_${c.name}`,
      value: Number(median(c.ratio).toFixed(4)),
      unit: 'x',
      baseline: 1,
    });
  }
  for (const c of children) {
    figures.push({
      name: `gateway_by_id_cpu_per_request_tracing_${c.name}`,
      value: Math.round(median(c.cpuUs)),
      unit: 'us',
      baseline: Math.round(median(off?.cpuUs ?? [])),
    });
  }
  for (const c of children) {
    figures.push({
      name: `gateway_by_id_main_thread_cpu_per_request_tracing_${c.name}`,
      value: Math.round(mainUs.get(c.name) ?? NaN),
      unit: 'us',
      baseline: Math.round(mainUs.get(off?.name ?? 'off') ?? NaN),
    });
  }
  for (const c of children.slice(1)) {
    figures.push({
      name: `gateway_by_id_main_thread_cpu_round_ratio_tracing_${c.name}`,
      value: Number(median(c.mainRatio).toFixed(4)),
      unit: 'x',
      baseline: 1,
    });
  }
  for (const c of children.slice(1)) {
    figures.push({
      name: `gateway_by_id_cpu_round_ratio_tracing_${c.name}`,
      value: Number(median(c.cpuRatio).toFixed(4)),
      unit: 'x',
      baseline: 1,
    });
  }
  return figures;
}

/**
 * What tracing off costs beside code without tracing: the tracer and span
 * calls a by-id request makes (counted by a no-op tracer that counts), each
 * timed on {@link NOOP_TRACER}; baseline: the gateway's CPU time per by-id
 * request with tracing off (from {@link tracingCost}'s figures).
 */
async function tracingOffCost(
  uri: string,
  secret: string,
  token: string,
  body: (i: number) => string,
  measured: readonly Figure[],
): Promise<Figure[]> {
  const counts = new Map<string, number>();
  const count = (what: string): void => void counts.set(what, (counts.get(what) ?? 0) + 1);
  const span: Span = {
    recording: false,
    child: () => (count('span.child'), span),
    ids: () => (count('span.ids'), undefined),
    setName: () => count('span.setName'),
    setAttribute: () => count('span.setAttribute'),
    setAttributes: () => count('span.setAttributes'),
    addEvent: () => count('span.addEvent'),
    fail: () => count('span.fail'),
    end: () => count('span.end'),
  };
  const counting: Tracer = {
    enabled: false,
    startServerSpan: () => (count('startServerSpan'), span),
    startRoot: () => (count('startRoot'), span),
    flush: async () => undefined,
    shutdown: async () => undefined,
  };
  const previous = installTracer(counting);
  const N = 2000;
  try {
    const store = await openStore(`${uri}?max=4`);
    const gateway = await createGateway({
      store,
      auth: { jwtSecret: secret },
      log: silentLogger,
      tenantLimits: { maxInFlight: 1024, maxStoreCalls: 1024, costPerSecond: 1e12, burst: 1e12 },
    });
    const target = new URL(await gateway.listen(0));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // A loaded machine can fail a request (a timeout): counted and left out, not fatal.
    let failed = 0;
    const once = (i: number) => postGraphQL(agent, target, token, body(i)).catch(() => void failed++);
    for (let i = 0; i < 100; i++) await once(i); // warm-up
    counts.clear();
    failed = 0;
    for (let i = 0; i < N; i++) await once(i);
    if (failed > 0)
      log(`tracing off: ${failed} of ${N} requests failed (counted calls are per request sent)`);
    agent.destroy();
    await gateway.close(1000);
    await store.close();
  } finally {
    installTracer(previous);
  }
  const perCall = timeNoopCalls();
  let calls = 0;
  let ns = 0;
  for (const [what, n] of counts) {
    calls += n / N;
    ns += (n / N) * (perCall.get(what) ?? perCall.get('max') ?? 0);
  }
  log(
    `tracing off, per by-id request: ${[...counts].map(([k, n]) => `${k} ${(n / N).toFixed(2)}`).join(', ')}; ` +
      `no-op call times (ns): ${[...perCall].map(([k, t]) => `${k} ${t.toFixed(1)}`).join(', ')}`,
  );
  const cpuOff = measured.find((f) => f.name === 'gateway_by_id_cpu_per_request_tracing_off')?.value;
  return [
    { name: 'tracing_off_calls_per_by_id_request', value: Number(calls.toFixed(2)), unit: 'calls' },
    {
      name: 'tracing_off_ns_per_by_id_request',
      value: Number(ns.toFixed(1)),
      unit: 'ns',
      ...(cpuOff !== undefined ? { baseline: cpuOff * 1000 } : {}),
    },
  ];
}

/** ns per call of each no-op tracer and span call (a million calls each); `max`: the slowest. */
function timeNoopCalls(): Map<string, number> {
  const t = NOOP_TRACER;
  const s = NOOP_SPAN;
  let keep = 0;
  const calls: [string, () => void][] = [
    ['startServerSpan', () => (keep += t.startServerSpan('x', {}).recording ? 1 : 0)],
    ['startRoot', () => (keep += t.startRoot('x', 'internal').recording ? 1 : 0)],
    ['span.child', () => (keep += s.child('x', 'internal').recording ? 1 : 0)],
    ['span.ids', () => (keep += s.ids() === undefined ? 1 : 0)],
    ['span.setName', () => s.setName('x')],
    ['span.setAttribute', () => s.setAttribute('k', 1)],
    ['span.setAttributes', () => s.setAttributes({ k: 1 })],
    ['span.addEvent', () => s.addEvent('x')],
    ['span.fail', () => s.fail('x')],
    ['span.end', () => s.end()],
  ];
  const out = new Map<string, number>();
  const M = 1_000_000;
  for (const [name, call] of calls) {
    for (let i = 0; i < 10_000; i++) call(); // optimised before it is timed
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < M; i++) call();
    out.set(name, Number(process.hrtime.bigint() - t0) / M);
  }
  out.set('max', Math.max(...out.values()));
  if (keep < 0) log('unreachable'); // keeps `keep` alive
  return out;
}

if (process.argv[2] === '--child') {
  child(
    process.argv[3] as string,
    process.argv[4] as string,
    JSON.parse(process.argv[5] ?? '{}') as ChildTracing,
  ).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    // A failure can leave a gateway or pool open: exit rather than hold the bench lock.
    process.exit(1);
  });
}

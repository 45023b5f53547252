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
 *    on, every root dropped: the unsampled path alone). `--runs R` repeats
 *    the whole (fresh gateways, warm-up, rounds) R times and adds, per
 *    configuration, the median and range over all its gateways of their
 *    ratio to the mean of their run's tracing-off gateways
 *    (gateway-tracing-figures.ts). With
 *    `--instructions N`, first the same configurations one after the other
 *    under callgrind: instructions per by-id request over N requests after a
 *    warm-up (`--instructions-warmup`, default 3000), independent of the
 *    machine's load (gateway-tracing-callgrind.ts); `--instructions-only`
 *    skips the req/s rounds.
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
 * The parts live beside this driver, which keeps the command line and their
 * sequence: gateway-data.ts (loading, request bodies), gateway-processes.ts
 * (gateway children and their CPU), gateway-trees.ts (8), gateway-tickets.ts
 * (7), gateway-tracing.ts (5) with gateway-tracing-child.ts (the traced
 * child) and gateway-tracing-off.ts (6); gateway-log.ts for log lines.
 *
 * The gateway children's CPU time is read from /proc/<pid>/stat (user +
 * system), so a baseline child needs no hook for it. PROF_DIR=<dir> runs
 * every gateway child under `--cpu-prof` into that folder; PERF_DIR=<dir> records
 * each tracing gateway's JavaScript thread over the rounds with Linux perf
 * (gateway-perf.ts); BENCH_CHILD_FLAGS adds
 * node/V8 flags to every gateway child (diagnostics, e.g. V8's deopt log).
 *
 *   node bin/run-ts.cjs bench/gateway.bench.ts [--outputs 1000000] [--seconds 8] [--rounds 5]
 *     [--only reads|tracing|tickets] [--baseline-tree <dir>]
 *     [--extra off_control,sampled_0] [--runs 4] [--instructions 2000 [--instructions-only]]
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { mintToken } from '../src/platform/auth';
import { skillIds } from '../src/seed/generator';
import { getByIdsStatement, listStatement } from '../src/stores/postgres/postgres-sql';
import { type PgTestDatabase, createTestDatabase, tenantScope } from '../test/support/pg-harness';
import { closedLoop as loop, postGraphQL } from './closed-loop';
import { SKILLS, THIS_TREE, loadOutputs, loadTree, readBodies, tenant } from './gateway-data';
import { loadavg, log } from './gateway-log';
import { procCpuUs, startChild, stopChild } from './gateway-processes';
import { buildGatewayIfStale } from './gateway-modules';
import { ticketCost } from './gateway-tickets';
import { tracingCost } from './gateway-tracing';
import { tracingInstructions } from './gateway-tracing-callgrind';
import { type ChildTracing, serveTracedGatewayChild } from './gateway-tracing-child';
import { tracingOffCost } from './gateway-tracing-off';
import { compareTrees } from './gateway-trees';
import { type Figure, percentile, report } from './report';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

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
  // The gateway children run the production build (gateway-modules.ts).
  buildGatewayIfStale();
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
      const tracing = {
        skip: (option('skip') ?? '').split(','),
        extra: args.includes('--extra') ? (args[args.indexOf('--extra') + 1] ?? '').split(',') : [],
        runs: arg('runs', 1),
      };
      const instructions = arg('instructions', 0);
      if (instructions > 0)
        figures.push(
          ...(await tracingInstructions(db.appUri, secret, token, byIdBody, {
            ...tracing,
            requests: instructions,
            warmup: arg('instructions-warmup', 3000),
            dilation: arg('dilation', 50),
            parallel: arg('instructions-parallel', 2),
            connections: arg('instructions-connections', 8),
          })),
        );
      if (!args.includes('--instructions-only')) {
        figures.push(...(await tracingCost(db.appUri, secret, token, byIdBody, SECONDS, ROUNDS, tracing)));
        figures.push(...(await tracingOffCost(db.appUri, secret, token, byIdBody, figures)));
      }
    }
    report(
      `Gateway over PostgreSQL (${OUTPUTS.toLocaleString('en')} outputs, one tenant) vs raw pg running the same SQL ` +
        `in the same tenant-scoped transaction; ${SECONDS} s per figure, gateway in its own process; ` +
        `tracing: its configurations at once, ${arg('runs', 1)} run(s) of ${ROUNDS} rounds, median (machine load at the end: ${loadavg()})`,
      figures,
    );
  } finally {
    await baseDb?.drop();
    await db.drop();
  }
}

if (process.argv[2] === '--child') {
  serveTracedGatewayChild(
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

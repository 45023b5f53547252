/**
 * What each batching layer of the read path gains (docs/read-path.md), by
 * turning it off:
 *
 * 1. Writes a generated tenant (outputs, decisions, profiles, ...) into a
 *    throwaway PostgreSQL database through the Hub.
 * 2. Starts one gateway process per configuration over that database: all
 *    layers on (the baseline), and each of `dataloader`, `lookahead`,
 *    `listbatcher`, `flush` and `cork` off alone (HUB_BENCH_READ_PATH_OFF,
 *    read by src/platform/read-path-layers.ts and set by nothing else).
 * 3. Checks that every configuration answers each query exactly as the
 *    baseline does (a layer changes the work, never the answer).
 * 4. For each query, in rounds, drives each configuration in turn (the order
 *    rotating each round, so a loaded machine's drift hits them alike) with a
 *    closed loop of `--connections` keep-alive clients for `--seconds`:
 *    req/s, and CPU per request of the gateway process plus its PostgreSQL
 *    backends (less sensitive than req/s to the other processes on a shared
 *    machine). Figures are medians over the rounds; each configuration's
 *    baseline is the all-on gateway of the same run. The gain of a layer is
 *    the baseline's req/s over the layer-off req/s (or the CPU the other way).
 *
 * Queries: an output by id (concurrent lookups: flush and cork); a page of 50
 * outputs with their decisions (look-ahead: one listWithChildren); a page of
 * 50 decisions, each with its output and that output's decisions (DataLoader:
 * one getByIds for the outputs; ListBatcher: the 50 child lists in one
 * statement; look-ahead does not reach a list under a single record).
 *
 *   node bin/run-ts.cjs bench/read-path.bench.ts [--days 120] [--seconds 3] [--rounds 3] [--connections 32] [--pool 10]
 *     [--only output_by_id,...] [--layers flush,cork]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { Hub } from '../src/hub/hub';
import { parseTenantId } from '../src/hub/tenant';
import { mintToken } from '../src/platform/auth';
import { READ_PATH_LAYERS, type ReadPathLayer } from '../src/platform/read-path-layers';
import { generateDataset } from '../src/seed/generator';
import { writeDataset } from '../src/seed/write-dataset';
import { openStore } from '../src/stores';
import { createTestDatabase } from '../test/support/pg-harness';
import { closedLoop, postGraphQL } from './closed-loop';
import { serveGatewayChild } from './gateway-child';
import { buildGatewayIfStale } from './gateway-modules';
import { CpuMeter } from './postgres-tickets';
import { type Figure, percentile, report } from './report';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const list = (name: string): string[] | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? '').split(',') : undefined;
};
const log = (line: string): void => console.error(`[bench] ${line}`);
const tenant = parseTenantId('bench-read-path');

// ---- child mode: a gateway over the store, the layers of its environment off ----
async function child(uri: string, secret: string): Promise<void> {
  await serveGatewayChild(uri, secret, { maxStoreCalls: 4096 });
}

// ---- the gateways ---------------------------------------------------------
interface Gateway {
  readonly name: string;
  readonly off: ReadPathLayer | undefined;
  readonly process: ChildProcess;
  readonly url: URL;
  readonly agent: Agent;
}

async function startGateway(uri: string, secret: string, off: ReadPathLayer | undefined): Promise<Gateway> {
  const proc = fork(__filename, ['--child', uri, secret], {
    execArgv: ['--max-semi-space-size=32', '--require', 'tsx/cjs'],
    env: { ...process.env, HUB_BENCH_READ_PATH_OFF: off ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    proc.once('message', (m) => resolve((m as { url: string }).url));
    proc.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return { name: off === undefined ? 'all_on' : `${off}_off`, off, process: proc, url: new URL(url), agent };
}

async function stopGateway(g: Gateway): Promise<void> {
  g.agent.destroy();
  if (g.process.exitCode !== null) return;
  const exited = new Promise((r) => g.process.once('exit', r));
  g.process.send('stop');
  await exited;
}

/** CPU time (ms, user + system) the gateway process has used so far. */
function gatewayCpuMs(g: Gateway): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
      if (!cpu) return;
      g.process.off('message', on);
      resolve((cpu.user + cpu.system) / 1000);
    };
    g.process.on('message', on);
    g.process.send('cpu');
  });
}

/** POSTs a GraphQL body to one gateway; see {@link postGraphQL}. */
const post = (g: Gateway, token: string, body: string): Promise<string> =>
  postGraphQL(g.agent, g.url, token, body, g.name);

// ---- the queries ----------------------------------------------------------
interface Query {
  readonly name: string;
  /** The request body of the i-th request. */
  readonly body: (i: number) => string;
}

function queries(outputIds: readonly string[], skills: readonly string[]): Query[] {
  const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
  return [
    {
      name: 'output_by_id',
      body: (i) =>
        body('query ($id: ID!) { output(id: $id) { id createdAt skillId employeeId status costUsd } }', {
          id: outputIds[i % outputIds.length],
        }),
    },
    {
      name: 'outputs_with_decisions',
      body: (i) =>
        body(
          `query ($skill: String!) { outputs(filter: { skillIds: [$skill] }, first: 50) {
            nodes { id createdAt status decisions(first: 10) { nodes { id outcome decidedBy } } } } }`,
          { skill: skills[i % skills.length] },
        ),
    },
    {
      name: 'decisions_with_output_and_siblings',
      body: (i) =>
        body(
          `query ($skill: String!) { decisions(filter: { skillIds: [$skill] }, first: 50) {
            nodes { id outcome output { id status costUsd decisions(first: 10) { nodes { id outcome } } } } } }`,
          { skill: skills[i % skills.length] },
        ),
    },
  ];
}

// ---- main -----------------------------------------------------------------
async function main(): Promise<void> {
  const DAYS = arg('days', 120);
  const SECONDS = arg('seconds', 3);
  const ROUNDS = arg('rounds', 3);
  const CONNECTIONS = arg('connections', 32);
  const POOL = arg('pool', 10);
  const layers = (list('layers') ?? [...READ_PATH_LAYERS]) as ReadPathLayer[];
  // The gateway children run the production build (gateway-modules.ts).
  buildGatewayIfStale();
  const db = await createTestDatabase();
  const admin = new Client({ connectionString: db.adminUri });
  await admin.connect();
  const secret = randomUUID() + randomUUID();
  const token = await mintToken({ secret, tenant, scopes: ['hub:read'], ttlSeconds: 3600 });
  const gateways: Gateway[] = [];
  const load0 = loadavg()[0] ?? 0;
  try {
    log(`writing ${DAYS} days of generated records...`);
    const data = generateDataset({ days: DAYS, start: '2026-01-05T00:00:00.000Z' });
    const store = await openStore(`${db.appUri}?max=4`);
    const hub = new Hub(store);
    const { created } = await writeDataset(hub, tenant, data);
    const page = await hub.list(tenant, 'outputs', {}, { first: 500 });
    const outputIds = page.records.map((r) => r.record_id);
    const skills = [...new Set(page.records.map((r) => String((r as { skill_id: string }).skill_id)))];
    await store.close();
    log(`${created} records (${data.outputs.length} outputs, ${data.decisions.length} decisions)`);

    // The default pool (10): six gateways of 32 would take more than the server's 100 connections.
    const uri = `${db.appUri}?max=${POOL}`;
    for (const off of [undefined, ...layers]) gateways.push(await startGateway(uri, secret, off));
    const only = list('only');
    const qs = queries(outputIds, skills).filter((q) => !only || only.includes(q.name));

    // Same answers everywhere: a layer changes the work, never the result.
    for (const q of qs)
      for (let i = 0; i < 4; i++) {
        const [base, ...rest] = await Promise.all(gateways.map((g) => post(g, token, q.body(i))));
        rest.forEach((text, k) => {
          if (text !== base)
            throw new Error(`${q.name}: ${(gateways[k + 1] as Gateway).name} answers unlike all_on`);
        });
      }
    log('every configuration answers every query as all_on does');

    const figures: Figure[] = [];
    for (const q of qs) {
      const rps = new Map<string, number[]>();
      const cpu = new Map<string, number[]>();
      for (const g of gateways) await closedLoop(CONNECTIONS, 2, (i) => post(g, token, q.body(i))); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        const order = gateways.map((_, k) => gateways[(k + round) % gateways.length] as Gateway);
        for (const g of order) {
          const cpuMeter = new CpuMeter(admin, db, () => gatewayCpuMs(g));
          const start = await cpuMeter.read();
          const run = await closedLoop(CONNECTIONS, SECONDS, (i) => post(g, token, q.body(i)));
          const cpuMs = await cpuMeter.since(start);
          const { perSec } = run;
          const requests = run.samples.length;
          rps.set(g.name, [...(rps.get(g.name) ?? []), perSec]);
          cpu.set(g.name, [...(cpu.get(g.name) ?? []), cpuMs / requests]);
          log(
            `${q.name} ${g.name} round ${round + 1}: ${perSec.toFixed(0)} req/s, ${(cpuMs / requests).toFixed(3)} ms CPU/req`,
          );
        }
      }
      const median = (xs: number[] | undefined) => percentile([...(xs ?? [])], 50);
      const baseRps = median(rps.get('all_on'));
      const baseCpu = median(cpu.get('all_on'));
      figures.push({ name: `read_path_${q.name}_all_on_rps`, value: Math.round(baseRps), unit: 'req/s' });
      figures.push({ name: `read_path_${q.name}_all_on_cpu`, value: round3(baseCpu), unit: 'ms/req' });
      for (const g of gateways.slice(1)) {
        figures.push({
          name: `read_path_${q.name}_${g.name}_rps`,
          value: Math.round(median(rps.get(g.name))),
          unit: 'req/s',
          baseline: Math.round(baseRps),
        });
        figures.push({
          name: `read_path_${q.name}_${g.name}_cpu`,
          value: round3(median(cpu.get(g.name))),
          unit: 'ms/req',
          baseline: round3(baseCpu),
        });
      }
    }
    const load = `load average ${load0.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`;
    report(
      `Read path, each batching layer off alone vs all on (baseline, same run): ${CONNECTIONS} connections, ` +
        `pool of ${POOL} per gateway, ` +
        `${SECONDS} s per run, ${ROUNDS} rounds in rotating order, medians; CPU = gateway process + its ` +
        `PostgreSQL backends per request; ${load}`,
      figures,
    );
  } finally {
    for (const g of gateways) await stopGateway(g).catch(() => undefined);
    await admin.end();
    await db.drop();
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as string, process.argv[4] as string).catch((err: unknown) => {
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

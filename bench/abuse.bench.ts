/**
 * bench:abuse: one tenant attacks, another keeps using its dashboard.
 *
 * The gateway runs in a child process over a throwaway PostgreSQL database
 * (Mode A: both tenants in one database, the default pool of 10 connections)
 * with the default fair-share limits, like a production gateway. The child
 * measures its own event loop (`monitorEventLoopDelay`, the longest stall) and
 * its peak RSS (`process.resourceUsage().maxRSS`).
 *
 * 1. Tenant B alone: one client loads the manager dashboard over and over
 *    (the dashboard's four queries: Managers, then ManagerDashboard,
 *    CostPerSkill and ArchetypeProgression together), for `--seconds`,
 *    paced to stay within its cost budget: it spends at most
 *    `--b-budget-share` (default 0.8) of the default 50,000 units a second,
 *    counted from each answer's `extensions.cost`, waiting between loads
 *    when ahead. Unpaced, a quiet machine runs B faster than its budget
 *    allows and thousands of its requests got 429 alone: B alone was then a
 *    baseline of throttled requests, not of a tenant within its rights. The
 *    waits are not in the latencies; B's units per second are printed.
 * 2. The same while tenant A sends the worst requests of issue 11 at full
 *    speed (`--attackers` concurrent loops, for the same time): a fragment
 *    bomb, page sizes from variable defaults, many `_entities`, many aliases
 *    of `node` with fresh text, `bodyBase64` of big artifacts under many
 *    aliases, a big NDJSON ingest, a 15 MB query text (a comment), 200,000
 *    representations in one body, the largest artifact body (10 MiB) read
 *    back whole (allowed: cost 13,655), random operation names. A runs in a process
 *    of its own, so building and sending its bodies does not delay B's client.
 *
 * Prints B's p50/p95/p99 under attack beside B alone, the longest event-loop
 * stall and the peak RSS of the gateway, what A's requests got (status
 * counts), and the load average. Sizes are bounded by default; bigger with
 * --entities, --aliases, --artifact-mib, --ingest-lines; `--only <text>` keeps
 * the attacks whose name contains it.
 *
 *   node bin/run-ts.cjs bench/abuse.bench.ts [--seconds 15] [--attackers 16]
 *
 * Files: the gateway child, the probe and the run here; tenant B in
 * abuse-dashboard.ts, tenant A in abuse-attacks.ts, the HTTP client in
 * abuse-http.ts, the command line in abuse-options.ts.
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mintToken } from '../src/platform/auth';
import { Hub } from '../src/hub/hub';
import { parseTenantId } from '../src/hub/tenant';
import { createGateway } from '../src/http/server';
import { DEFAULT_TENANT_LIMITS } from '../src/platform/tenant-limits';
import { silentLogger } from '../src/platform/log';
import { generateDataset } from '../src/seed/generator';
import { windowStart, writeDataset } from '../src/seed/write-dataset';
import { openStore } from '../src/stores';
import { createTestDatabase } from '../test/support/pg-harness';
import { attackerProcess, chosenAttacks } from './abuse-attacks';
import { B_UNITS_PER_SECOND, type Phase, dashboardDocuments, dashboardLoop } from './abuse-dashboard';
import { send } from './abuse-http';
import { arg, args, log } from './abuse-options';
import { type LoopTurnReport, LoopTurns } from './loop-turns';
import { type Figure, percentile, report } from './report';

const A = parseTenantId('bench-attacker');
const B = parseTenantId('bench-dashboard');

// ---- child: the gateway, measuring its own event loop and memory -----------
async function child(uri: string, secret: string, probe: boolean): Promise<void> {
  // tsx turns source maps on; a gateway in production runs dist/ without them. With them, every
  // error stack formatted (a refused request's GraphQLError reads its cause's stack) parses a
  // source map for each frame: milliseconds per error, on the loop, that production never spends.
  process.setSourceMapsEnabled(false);
  const store = await openStore(uri);
  // Probing runs every attack to its end: no budget stops it.
  const unbounded = { costPerSecond: 1e9, burst: 1e9, maxInFlight: 1000 };
  const gateway = await createGateway({
    store,
    auth: { jwtSecret: secret },
    log: silentLogger,
    ...(probe ? { tenantLimits: unbounded } : {}),
  });
  const url = await gateway.listen(0);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const turns = new LoopTurns();
  turns.start();
  process.send?.({ url });
  process.on('message', (m: unknown) => {
    if (m === 'reset') {
      loop.reset();
      turns.reset();
      process.send?.({ reset: true });
    } else if (m === 'report') {
      process.send?.({
        turns: turns.report(),
        stallMs: loop.max / 1e6,
        loopP99Ms: loop.percentile(99) / 1e6,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        rssBytes: process.memoryUsage().rss,
      });
    } else if (m === 'stop') {
      turns.stop();
      void gateway
        .close(2000)
        .then(() => store.close())
        .then(() => process.exit(0));
    }
  });
}

// ---- probe: each attack alone --------------------------------------------------

/**
 * `--probe`: each attack alone, sent `--probe-n` times one after the other
 * (no budget in the way), with the longest loop turn in CPU time it caused:
 * a figure that does not depend on the machine's load.
 */
async function probe(
  server: ReturnType<typeof fork>,
  url: string,
  token: string,
  ids: readonly string[],
  bigId: string,
) {
  const n = arg('probe-n', 3);
  const list = chosenAttacks(ids, bigId);
  console.log(`\nEach attack alone, ${n} times in a row: longest loop turn (CPU of the main thread)\n`);
  for (const attack of list) {
    await ask(server, 'reset');
    let last = { status: 0, ms: 0, text: '' };
    for (let i = 0; i < n; i++)
      last = await send(url, attack.path, token, attack.body(i), attack.contentType);
    const r = await ask<ChildReport>(server, 'report');
    console.log(
      `  ${attack.name.padEnd(42)} ${r.turns.maxCpuMs.toFixed(1).padStart(7)} ms  (${last.status}, ${last.ms.toFixed(0)} ms) ${last.text.slice(0, 160).replace(/\s+/g, ' ')}`,
    );
  }
}
// ---- main -------------------------------------------------------------------
interface ChildReport {
  readonly stallMs: number;
  readonly loopP99Ms: number;
  readonly peakRssBytes: number;
  readonly turns: LoopTurnReport;
}

function ask<T>(server: ReturnType<typeof fork>, message: string): Promise<T> {
  return new Promise((resolve) => {
    server.once('message', (m) => resolve(m as T));
    server.send(message);
  });
}

async function main(): Promise<void> {
  const SECONDS = arg('seconds', 15);
  const ATTACKERS = arg('attackers', 16);
  const load0 = loadavg();
  const db = await createTestDatabase();
  const secret = randomUUID() + randomUUID();
  try {
    const days = 90;
    const start = windowStart(days);
    log('seeding both tenants (90 days of the demo generator each)...');
    const seedStore = await openStore(`${db.appUri}?max=4`);
    const seedHub = new Hub(seedStore, { cursorSecret: secret });
    await writeDataset(seedHub, B, generateDataset({ days, start }));
    const dataA = generateDataset({ days, start, seed: 99 });
    await writeDataset(seedHub, A, dataA);
    const ids = dataA.outputs.map((o) => o.record_id as string);
    // One artifact of the largest body allowed (10 MiB), which A reads back whole.
    const bigBody = randomBytes(10 * 1024 * 1024);
    const output = dataA.outputs[0] as Record<string, unknown>;
    const [big] = await seedHub.record(A, 'artifacts', [
      {
        record_id: randomUUID(),
        created_at: output.created_at,
        name: 'big.bin',
        media_type: 'application/octet-stream',
        size_bytes: bigBody.byteLength,
        content_sha256: createHash('sha256').update(bigBody).digest('hex'),
        skill_id: output.skill_id,
        output_id: output.record_id,
        employee_id: output.employee_id,
        body: bigBody,
      },
    ]);
    if (big?.status !== 'created') throw new Error(`the 10 MiB artifact was not written: ${big?.status}`);
    const bigId = big.record_id;
    await seedStore.close();

    const probing = args.includes('--probe');
    const server = fork(__filename, ['--child', `${db.appUri}`, secret, probing ? 'probe' : 'serve'], {
      // --cpu-prof <dir>: the gateway writes a V8 CPU profile there when it stops.
      execArgv: [
        '--max-semi-space-size=32',
        '--require',
        'tsx/cjs',
        ...(args.includes('--cpu-prof')
          ? [
              '--cpu-prof',
              '--cpu-prof-interval',
              '500',
              '--cpu-prof-dir',
              args[args.indexOf('--cpu-prof') + 1] as string,
            ]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      server.once('message', (m) => resolve((m as { url: string }).url));
      server.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    });
    const tokenA = await mintToken({ secret, tenant: A, scopes: ['hub:read', 'hub:write'] });
    const tokenB = await mintToken({ secret, tenant: B, scopes: ['hub:read'] });
    const docs = await dashboardDocuments();
    const to = new Date(Date.parse(start) + days * 86_400_000).toISOString();
    const range = { from: start, to };

    log('warm-up (B, 3 s)...');
    await dashboardLoop(url, tokenB, docs, range, Date.now() + 3000);
    if (probing) {
      await probe(server, url, tokenA, ids, bigId);
      server.send('stop');
      await new Promise((r) => server.once('exit', r));
      return;
    }
    await ask(server, 'reset');
    log(`B alone, ${SECONDS} s...`);
    const alone = await dashboardLoop(url, tokenB, docs, range, Date.now() + SECONDS * 1000);
    const aloneStats = await ask<ChildReport>(server, 'report');

    await ask(server, 'reset');
    log(`B under attack by A (${ATTACKERS} loops at full speed), ${SECONDS} s...`);
    // The attacker runs in a process of its own: building and sending its bodies must not
    // hold up B's client, whose latencies are measured on this process's event loop.
    const attacker = fork(__filename, ['--attacker', ...args], {
      execArgv: ['--require', 'tsx/cjs'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const next = (): Promise<unknown> => new Promise((r) => attacker.once('message', r));
    await next(); // it listens
    attacker.send({ url, token: tokenA, ids, bigId, workers: ATTACKERS });
    await next(); // its bodies are built
    await ask(server, 'reset');
    const until = Date.now() + SECONDS * 1000;
    const attackerDone = next() as Promise<[string, [number, number][]][]>;
    attacker.send({ until });
    const [attacked, outcomeList] = await Promise.all([
      dashboardLoop(url, tokenB, docs, range, until),
      attackerDone,
    ]);
    attacker.kill();
    const outcomes = new Map(outcomeList.map(([name, counts]) => [name, new Map(counts)]));
    const attackStats = await ask<ChildReport>(server, 'report');
    if (args.includes('--cpu-prof')) {
      // Where the longest turns were, to read in the profile (bench/profile-turns.ts).
      const dir = args[args.indexOf('--cpu-prof') + 1] as string;
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'long-turns.json');
      writeFileSync(file, JSON.stringify(attackStats.turns.longest, null, 1));
      log(`the longest turns under attack: ${file}`);
    }
    const load1 = loadavg();
    server.send('stop');
    await new Promise((r) => server.once('exit', r));

    console.log('\nWhat tenant A got (HTTP status: count; 0 = no answer within 60 s):\n');
    for (const [name, counts] of outcomes) {
      const text = [...counts].map(([s, c]) => `${s}: ${c}`).join(', ');
      console.log(`  ${name.padEnd(42)} ${text}`);
    }
    const fail = (p: Phase) => [...p.failures].map(([s, c]) => `${s}: ${c}`).join(', ') || 'none';
    const rate = (p: Phase) => Math.round((p.units / p.ms) * 1000);
    console.log(
      `\nB requests: alone ${alone.latencies.length} (failed ${fail(alone)}), under attack ${attacked.latencies.length} (failed ${fail(attacked)})`,
    );
    console.log(
      `B's cost: alone ${rate(alone)} units/s, under attack ${rate(attacked)} units/s (paced to at most ${B_UNITS_PER_SECOND}; its budget is ${DEFAULT_TENANT_LIMITS.costPerSecond})`,
    );
    console.log(
      `load average (1/5/15 min): before ${load0.map((x) => x.toFixed(1)).join(' ')}, after ${load1.map((x) => x.toFixed(1)).join(' ')} (2 cores shared with other work)`,
    );
    const gap = attackStats.turns.longestGap;
    if (attackStats.turns.available) {
      console.log(
        `longest gap between loop ticks under attack: ${gap.wallMs.toFixed(1)} ms wall, of which ${gap.cpuMs.toFixed(1)} ms on CPU and ${gap.waitMs.toFixed(1)} ms waiting for a core; turns over 50 ms of CPU: ${attackStats.turns.over50ms}`,
      );
    }
    const p = (xs: number[], q: number): number => Math.round(percentile([...xs], q) * 100) / 100;
    const figures: Figure[] = [
      {
        name: 'abuse_b_p50_under_attack',
        value: p(attacked.latencies, 50),
        unit: 'ms',
        baseline: p(alone.latencies, 50),
      },
      {
        name: 'abuse_b_p95_under_attack',
        value: p(attacked.latencies, 95),
        unit: 'ms',
        baseline: p(alone.latencies, 95),
      },
      {
        name: 'abuse_b_p99_under_attack',
        value: p(attacked.latencies, 99),
        unit: 'ms',
        baseline: p(alone.latencies, 99),
      },
      {
        name: 'abuse_event_loop_max_stall',
        value: Math.round(attackStats.stallMs * 10) / 10,
        unit: 'ms',
        baseline: Math.round(aloneStats.stallMs * 10) / 10,
      },
      ...(attackStats.turns.available
        ? [
            {
              name: 'abuse_event_loop_max_cpu_turn',
              value: Math.round(attackStats.turns.maxCpuMs * 10) / 10,
              unit: 'ms',
              baseline: Math.round(aloneStats.turns.maxCpuMs * 10) / 10,
            },
          ]
        : []),
      { name: 'abuse_gateway_peak_rss', value: Math.round(attackStats.peakRssBytes / 1048576), unit: 'MiB' },
      { name: 'abuse_load_average_1m', value: Math.round((load1[0] as number) * 10) / 10, unit: 'load' },
    ];
    report(
      `bench:abuse, ${SECONDS} s per phase, ${ATTACKERS} attack loops (PostgreSQL, default limits; baseline = B alone / loop alone)`,
      figures,
    );
  } finally {
    await db.drop();
  }
}

if (process.argv[2] === '--child') {
  void child(process.argv[3] as string, process.argv[4] as string, process.argv[5] === 'probe');
} else if (process.argv[2] === '--attacker') {
  attackerProcess();
} else {
  main().catch((err: unknown) => {
    console.error(`bench:abuse failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
}

/**
 * `npm run bench:peer`: our gateway against PostGraphile v5 on the same
 * PostgreSQL database, the same data and the same RLS, each server in its own
 * Node process, connecting as the same non-owner application role with pools
 * of the same size, verifying the same HS256 token and setting app.tenant_id
 * from the same claim. For each query and connection count: a warm-up of each
 * server, then timed runs alternating ours / theirs (A B A B), then the raw
 * `pg` floor running the same SQL. Prints a table, one RATIO line per query and
 * connection count, and BENCH lines. Settings: bench/peer/config.ts; how to
 * read the output: bench/peer/README.md.
 */
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';
import { mintToken } from '../../src/platform/auth';
import { skillIds } from '../../src/seed/generator';
import { driverFor } from '../../src/stores';
import {
  type PgTestDatabase,
  createTestDatabase,
  testServerUrl,
  withDatabase,
} from '../../test/support/pg-harness';
import { type Figure, percentile, report } from '../report';
import { type PeerConfig, readPeerConfig } from './config';
import { type PreparedRequest, type RunResult, runFloor, runHttp } from './drive';
import { DAYS, START, loadData, tenantIds } from './load';
import { PEER_SETUP_SQL } from './peer-sql';
import { type PeerQuery, QUERIES, type Variant, addDays, normalise } from './queries';
import { type RunningServer, startOurs, startTheirs } from './servers';

const SECRET = 'peer-bench-hs256-secret-0123456789abcdef';
const log = (line: string): void =>
  console.error(`[bench:peer ${new Date().toISOString().slice(11, 19)}] ${line}`);

type Db = Pick<PgTestDatabase, 'database' | 'appUri' | 'adminUri' | 'drop'> & { readonly ownerUri: string };

/** Creates and loads a database, or reopens one kept by an earlier run. */
async function openDatabase(cfg: PeerConfig): Promise<Db> {
  if (cfg.reuseDb) {
    const server = testServerUrl();
    const d = cfg.reuseDb;
    log(`reusing database ${d}`);
    // A kept database gets the migrations added since it was loaded (as the owner).
    const owner = `${withDatabase(server, d, `${d}_owner`)}?app_role=${d}_app`;
    for (const line of (await driverFor(owner).migrate?.(owner, { log: () => undefined })) ?? []) log(line);
    return {
      database: d,
      appUri: withDatabase(server, d, `${d}_app`),
      ownerUri: withDatabase(server, d, `${d}_owner`),
      adminUri: withDatabase(server, d),
      drop: async () => undefined,
    };
  }
  const db = await createTestDatabase();
  const ownerUri = db.ownerUri.split('?')[0] as string;
  try {
    log(
      `database ${db.database}: loading ${cfg.outputs} outputs over ${cfg.tenants} tenants via ${cfg.load}`,
    );
    const loaded = await loadData({
      outputs: cfg.outputs,
      tenants: cfg.tenants,
      mode: cfg.load,
      adminUri: db.adminUri,
      appUri: db.appUri,
      log,
    });
    const total = Object.values(loaded.records).reduce((a, b) => a + b, 0);
    log(
      `loaded ${total} records (${JSON.stringify(loaded.records)}) in ${(loaded.ms / 1000).toFixed(1)} s ` +
        `(${Math.round(total / (loaded.ms / 1000))} records/s via ${cfg.load}; generating and sealing took ` +
        `${(loaded.generateMs / 1000).toFixed(1)} s more)`,
    );
    const admin = new Client({ connectionString: db.adminUri });
    await admin.connect();
    await admin.query('VACUUM ANALYZE');
    await admin.end();
    const owner = new Client({ connectionString: ownerUri });
    await owner.connect();
    await owner.query(PEER_SETUP_SQL);
    await owner.end();
  } catch (err) {
    await db.drop();
    throw err;
  }
  return { ...db, ownerUri };
}

/** Request variants cycled through by every run: tenants, ids, skills and ranges rotate. */
async function makeVariants(db: Db, tenants: number): Promise<Variant[]> {
  const admin = new Client({ connectionString: db.adminUri });
  await admin.connect();
  const ids = new Map<string, string[]>();
  for (const t of tenantIds(tenants)) {
    const r = await admin.query(
      'SELECT record_id::text AS id FROM hub.outputs WHERE tenant_id = $1 ORDER BY md5(record_id::text) LIMIT 16',
      [t],
    );
    ids.set(
      t,
      r.rows.map((x: { id: string }) => x.id),
    );
  }
  await admin.end();
  const skills = skillIds(12);
  const out: Variant[] = [];
  for (let i = 0; i < 240; i++) {
    const tenant = tenantIds(tenants)[i % tenants] as Variant['tenant'];
    const tIds = ids.get(tenant) ?? [];
    // Windows inside the data's year: a week for telemetry; the rollup takes 30 days from `from`.
    const from = addDays(START, 7 + ((i * 37) % (DAYS - 45)));
    out.push({
      tenant,
      id: tIds[Math.floor(i / tenants) % tIds.length] as string,
      skill: skills[(i * 7) % skills.length] as string,
      from,
      to: addDays(from, 7),
    });
  }
  return out;
}

async function post(url: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (!res.ok || json.errors || !json.data)
    throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json).slice(0, 500)}`);
  return json.data;
}

/** Compares both servers' normalised answers on a sample of variants; returns a problem or undefined. */
async function checkSame(
  q: PeerQuery,
  ours: RunningServer,
  theirs: RunningServer | undefined,
  variants: readonly Variant[],
  tokens: ReadonlyMap<string, string>,
): Promise<string | undefined> {
  let nonEmpty = 0;
  for (const v of variants.slice(0, 30)) {
    const token = tokens.get(v.tenant) as string;
    const a = normalise(q.pickOurs(await post(ours.url, token, q.ours(v))));
    if (a !== null && (!Array.isArray(a) || a.length > 0)) nonEmpty++;
    if (!theirs) continue;
    const b = normalise(q.pickTheirs(await post(theirs.url, token, q.theirs(v))));
    if (!isDeepStrictEqual(a, b)) {
      return `answers differ for ${JSON.stringify(v)}:\n ours:   ${JSON.stringify(a).slice(0, 600)}\n theirs: ${JSON.stringify(b).slice(0, 600)}`;
    }
  }
  return nonEmpty === 0 ? 'every sampled answer was empty' : undefined;
}

function prepare(
  q: PeerQuery,
  which: 'ours' | 'theirs',
  variants: readonly Variant[],
  tokens: ReadonlyMap<string, string>,
): PreparedRequest[] {
  return variants.map((v) => ({
    body: JSON.stringify(q[which](v)),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(v.tenant)}` },
  }));
}

interface Summary {
  readonly rps: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly failures: number;
}

function summarise(runs: readonly RunResult[]): Summary {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const lat = runs.flatMap((r) => r.latencies);
  return {
    rps: requests / seconds,
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    p99: percentile(lat, 99),
    failures: runs.reduce((a, r) => a + r.failures, 0),
  };
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : 1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

async function main(): Promise<void> {
  const cfg = readPeerConfig();
  const t0 = performance.now();
  const db = await openDatabase(cfg);
  const servers: RunningServer[] = [];
  let exitCode = 0;
  try {
    const variants = await makeVariants(db, cfg.tenants);
    const tokens = new Map<string, string>();
    for (const t of tenantIds(cfg.tenants)) {
      tokens.set(
        t,
        await mintToken({ secret: SECRET, tenant: t, scopes: ['hub:read'], ttlSeconds: 6 * 3600 }),
      );
    }
    const oursOptions = {
      pgUrl: `${db.appUri}?max=${cfg.pool}`,
      secret: SECRET,
      nodeFlags: [...cfg.nodeFlags, ...cfg.oursNodeFlags],
      log,
    };
    const ours = await startOurs({ ...oursOptions, rollupCache: cfg.rollupCache !== 'off' });
    servers.push(ours);
    // The same gateway with the rollup result cache off, timed beside it (PEER_ROLLUP_CACHE=both).
    const oursOff =
      cfg.rollupCache === 'both' ? await startOurs({ ...oursOptions, rollupCache: false }) : undefined;
    if (oursOff) servers.push(oursOff);
    log(`ours: rollup result cache ${cfg.rollupCache}`);
    log(`node flags of both servers: ${cfg.nodeFlags.join(' ') || '(none)'}`);
    const theirs = cfg.skipTheirs
      ? undefined
      : await startTheirs({
          connectionString: db.appUri,
          pool: cfg.pool,
          secret: SECRET,
          nodeFlags: cfg.nodeFlags,
          log,
        });
    if (theirs) servers.push(theirs);

    const queries = QUERIES.filter((q) => !cfg.queries || cfg.queries.includes(q.name));
    const rows: string[][] = [];
    const ratios: string[] = [];
    const figures: Figure[] = [];
    for (const q of queries) {
      const problem = await checkSame(q, ours, theirs, variants, tokens);
      if (problem) {
        log(`MISMATCH ${q.name}: ${problem}`);
        exitCode = 1;
        continue;
      }
      const offProblem = oursOff ? await checkSame(q, oursOff, theirs, variants, tokens) : undefined;
      if (offProblem) {
        log(`MISMATCH ${q.name} (ours, cache off): ${offProblem}`);
        exitCode = 1;
        continue;
      }
      log(`${q.name}: the servers return the same data (30 variants)`);
      const reqOurs = prepare(q, 'ours', variants, tokens);
      const reqTheirs = prepare(q, 'theirs', variants, tokens);
      const floorStatements = variants.map((v) => ({ tenant: v.tenant, statement: q.floor(v) }));
      for (const c of cfg.connections) {
        if (cfg.warmupS > 0) {
          await runHttp(ours.url, reqOurs, c, cfg.warmupS);
          if (theirs) await runHttp(theirs.url, reqTheirs, c, cfg.warmupS);
          if (oursOff) await runHttp(oursOff.url, reqOurs, c, cfg.warmupS);
        }
        const a: RunResult[] = [];
        const b: RunResult[] = [];
        const off: RunResult[] = [];
        for (let round = 0; round < cfg.rounds; round++) {
          a.push(await runHttp(ours.url, reqOurs, c, cfg.durationS));
          if (theirs) b.push(await runHttp(theirs.url, reqTheirs, c, cfg.durationS));
          if (oursOff) off.push(await runHttp(oursOff.url, reqOurs, c, cfg.durationS));
        }
        const floor = summarise([await runFloor(db.appUri, floorStatements, c, cfg.durationS)]);
        const so = summarise(a);
        const st = theirs ? summarise(b) : undefined;
        const sc = oursOff ? summarise(off) : undefined;
        const failures = so.failures + (st?.failures ?? 0) + (sc?.failures ?? 0) + floor.failures;
        if (failures > 0) {
          log(
            `${q.name} c=${c}: failures ours=${so.failures} theirs=${st?.failures} ours-nocache=${sc?.failures} floor=${floor.failures}`,
          );
          exitCode = 1;
        }
        const ratio = st ? so.rps / st.rps : NaN;
        const ratioOff = st && sc ? sc.rps / st.rps : NaN;
        log(
          `${q.name} c=${c}: ours ${f1(so.rps)} req/s p95 ${f2(so.p95)} ms; theirs ${st ? f1(st.rps) : '-'} req/s p95 ${st ? f2(st.p95) : '-'} ms; ours without the cache ${sc ? f1(sc.rps) : '-'} req/s; floor ${f1(floor.rps)} req/s`,
        );
        rows.push([
          q.name,
          String(c),
          f1(so.rps),
          `${f2(so.p50)}/${f2(so.p95)}/${f2(so.p99)}`,
          st ? f1(st.rps) : '-',
          st ? `${f2(st.p50)}/${f2(st.p95)}/${f2(st.p99)}` : '-',
          f2(ratio),
          sc ? f1(sc.rps) : '-',
          sc ? `${f2(sc.p50)}/${f2(sc.p95)}/${f2(sc.p99)}` : '-',
          f2(ratioOff),
          f1(floor.rps),
          `${f2(floor.p50)}/${f2(floor.p95)}/${f2(floor.p99)}`,
        ]);
        if (st) {
          ratios.push(
            `RATIO query=${q.name} c=${c} rps_ratio=${ratio.toFixed(3)} p95_ours_ms=${so.p95.toFixed(2)} p95_theirs_ms=${st.p95.toFixed(2)}` +
              (sc
                ? ` rps_ratio_nocache=${ratioOff.toFixed(3)} p95_ours_nocache_ms=${sc.p95.toFixed(2)}`
                : ''),
          );
          if (sc)
            figures.push({
              name: `peer_${q.name}_c${c}_nocache_rps`,
              value: round2(sc.rps),
              unit: 'req/s',
              baseline: round2(st.rps),
            });
          figures.push({
            name: `peer_${q.name}_c${c}_rps`,
            value: round2(so.rps),
            unit: 'req/s',
            baseline: round2(st.rps),
          });
          figures.push({
            name: `peer_${q.name}_c${c}_p95`,
            value: round2(so.p95),
            unit: 'ms',
            baseline: round2(st.p95),
          });
        }
        figures.push({ name: `peer_${q.name}_c${c}_floor_rps`, value: round2(floor.rps), unit: 'req/s' });
      }
    }
    printTable(cfg, rows);
    report('Peer benchmark figures (baseline = PostGraphile v5)', figures);
    for (const line of ratios) console.log(line);
    log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    for (const s of servers) await s.stop();
    if (cfg.keepDb) log(`kept database ${db.database} (PEER_REUSE_DB=${db.database} to reuse it)`);
    else await db.drop();
  }
  process.exitCode = exitCode;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function printTable(cfg: PeerConfig, rows: readonly string[][]): void {
  const head = [
    'query',
    'c',
    'ours req/s',
    'ours p50/p95/p99 ms',
    'pg5 req/s',
    'pg5 p50/p95/p99 ms',
    'ours/pg5',
    'no-cache req/s',
    'no-cache p50/p95/p99 ms',
    'no-cache/pg5',
    'floor req/s',
    'floor p50/p95/p99 ms',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(
    `\nOurs vs PostGraphile v5 (pg5), ${cfg.outputs} outputs / ${cfg.tenants} tenants, ` +
      `${cfg.rounds} x ${cfg.durationS} s per server (alternating) after ${cfg.warmupS} s warm-up, pools of ${cfg.pool}; ` +
      `ours with the rollup result cache ${cfg.rollupCache === 'off' ? 'off' : 'on'}, no-cache: ours with it off\n`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

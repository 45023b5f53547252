/**
 * PostgreSQL store benchmark, side by side with raw `pg` in the same run:
 *
 * 1. Ingest: N outputs (default 1,000,000) for one tenant, after 9 other
 *    tenants' data, through the store's bulk path (putBatch: unnest arrays,
 *    ON CONFLICT DO NOTHING, per-record outcomes, RLS) versus raw COPY of the
 *    same rows into an identical database (as a superuser: COPY FROM is not
 *    allowed under RLS). Records are generated and sealed before timing:
 *    sealing is the Hub's work, not the store's.
 * 2. Reads on the loaded store database, interleaved store / raw: get one
 *    record by id, and a filtered page of 50 (tenant, skill, created_at desc).
 *    Raw `pg` runs the same SQL in the same kind of tenant-scoped transaction
 *    (BEGIN, set_config, query, COMMIT), one statement per round trip, as a
 *    plain pg client would.
 * 3. One rollup (cost per skill by week) over the big tenant, for information.
 * 4. Tenant tickets, side by side in this process on the same data: the
 *    store's get by id and list of 50 as before tickets (the policy then,
 *    lookups planned as then: the baseline), with the policy then through
 *    the store as it is, and as installed; and the verifiers' cost per call
 *    inside PostgreSQL (see postgres-tickets.ts).
 *
 *   npm run bench:postgres -- [--outputs 1000000] [--batch 20000] [--concurrency 2] [--round 10] [--samples 2000] [--prepare 1]
 *     [--policy-rounds 10] [--policy-samples 200] [--tickets-only]
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { HubRecord, OutputRecord } from '../src/hub/model';
import { parseTenantId, type TenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import { generateOutputs, skillIds } from '../src/seed/generator';
import { openStore } from '../src/stores';
import { columnsOf } from '../src/stores/postgres/postgres-columns';
import { getByIdsStatement, listStatement } from '../src/stores/postgres/postgres-sql';
import { createTestDatabase, tenantScope } from '../test/support/pg-harness';
import { copyField } from './copy-text';
import { ticketFigures } from './postgres-tickets';
import { type Figure, percentile, report } from './report';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const OUTPUTS = arg('outputs', 1_000_000);
const OTHER_TENANTS = 9;
const OTHER_OUTPUTS = arg('other-outputs', 20_000);
const BATCH = arg('batch', 20_000);
const CONCURRENCY = arg('concurrency', 2);
const SAMPLES = arg('samples', 2_000);
const ROUND = arg('round', 10);
const PREPARE = arg('prepare', 1) !== 0;
const POLICY_ROUNDS = arg('policy-rounds', 10);
const POLICY_SAMPLES = arg('policy-samples', 200);
const SKILLS = 12;
/** Load the store and measure the tenant tickets only (no raw COPY, no raw reads, no rollup). */
const TICKETS_ONLY = args.includes('--tickets-only');

const big = parseTenantId('bench-big');
const log = (line: string): void => console.error(`[bench] ${line}`);
const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

function seal(tenant: TenantId, count: number, seed: number): OutputRecord[][] {
  const batches: OutputRecord[][] = [];
  for (const inputs of generateOutputs(count, { seed, batchSize: BATCH, skills: SKILLS, days: 365 })) {
    batches.push(sealBatch(tenant, 'outputs', inputs) as OutputRecord[]);
  }
  return batches;
}

const COLS = columnsOf('outputs');

async function rawCopy(client: Client, batches: readonly HubRecord[][]): Promise<void> {
  if (TICKETS_ONLY) return;
  const names = ['tenant_id', ...COLS.map((c) => c.name)].join(', ');
  const stream = client.query(copyFrom(`COPY hub.outputs (${names}) FROM STDIN`));
  async function* lines(): AsyncGenerator<string> {
    for (const batch of batches) {
      const out: string[] = [];
      for (const r of batch) {
        const x = r as unknown as Record<string, unknown>;
        out.push(`${r.tenant_id}\t${COLS.map((c) => copyField(x[c.name], c.kind)).join('\t')}\n`);
      }
      yield out.join('');
    }
  }
  await pipeline(Readable.from(lines()), stream);
}

async function main(): Promise<void> {
  log(`generating and sealing ${OUTPUTS} + ${OTHER_TENANTS} x ${OTHER_OUTPUTS} outputs`);
  const mainBatches = seal(big, OUTPUTS, 1);
  const others = Array.from({ length: OTHER_TENANTS }, (_, i) => {
    const t = parseTenantId(`bench-other-${i}`);
    return { tenant: t, batches: seal(t, OTHER_OUTPUTS, 100 + i) };
  });
  const storeDb = await createTestDatabase();
  const rawDb = await createTestDatabase();
  const figures: Figure[] = [];
  try {
    // --- ingest, interleaved in rounds so both paths share the machine's
    // load alike: each round writes ROUND batches through the store
    // (CONCURRENCY in flight), then the same batches by raw COPY into the
    // other database (one stream per round).
    const store = await openStore(`${storeDb.appUri}?max=${Math.max(2, CONCURRENCY)}&prepare=${PREPARE}`);
    const raw = new Client({ connectionString: rawDb.adminUri });
    await raw.connect();
    for (const o of others) {
      for (const b of o.batches) await store.putBatch(o.tenant, b);
      await rawCopy(raw, o.batches);
    }
    log('ingest (store and raw COPY, interleaved)...');
    let storeIngestMs = 0;
    let rawIngestMs = 0;
    for (let r = 0; r < mainBatches.length; r += ROUND) {
      const round = mainBatches.slice(r, r + ROUND);
      let next = 0;
      const t0 = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < round.length) {
            const b = round[next++] as OutputRecord[];
            const outcomes = await store.putBatch(big, b);
            if (outcomes.some((o) => o.status !== 'created')) throw new Error('unexpected outcome');
          }
        }),
      );
      storeIngestMs += ms(t0);
      const t1 = process.hrtime.bigint();
      await rawCopy(raw, round);
      rawIngestMs += ms(t1);
    }
    await raw.end();
    figures.push({
      name: 'pg_ingest_records_per_s',
      value: Math.round(OUTPUTS / (storeIngestMs / 1000)),
      unit: 'records/s',
      baseline: Math.round(OUTPUTS / (rawIngestMs / 1000)),
    });

    // --- reads, interleaved store / raw pg on the store's database
    const admin = new Client({ connectionString: storeDb.adminUri });
    await admin.connect();
    await admin.query('VACUUM ANALYZE hub.outputs');
    await admin.end();
    const appClient = new Client({ connectionString: storeDb.appUri });
    await appClient.connect();
    const rawScoped = async (stmt: { sql: string; params: readonly unknown[] }): Promise<unknown[]> => {
      await appClient.query('BEGIN');
      await appClient.query(tenantScope(big).sql, tenantScope(big).params);
      const { rows } = await appClient.query(stmt.sql, [...stmt.params]);
      await appClient.query('COMMIT');
      return rows;
    };
    const all = mainBatches.flat();
    const pick = (i: number): OutputRecord => all[(i * 7919) % all.length] as OutputRecord;
    const skills = skillIds(SKILLS);
    const samples = {
      getStore: [] as number[],
      getRaw: [] as number[],
      listStore: [] as number[],
      listRaw: [] as number[],
    };
    log('reads...');
    for (let i = 0; i < (TICKETS_ONLY ? 0 : SAMPLES + 200); i++) {
      const warm = i < 200; // warm-up rounds are not recorded
      const id = pick(i).record_id;
      let t = process.hrtime.bigint();
      const got = await store.getByIds(big, 'outputs', [id]);
      if (!warm) samples.getStore.push(ms(t));
      t = process.hrtime.bigint();
      const rows = await rawScoped(getByIdsStatement(big, 'outputs', [id]));
      if (!warm) samples.getRaw.push(ms(t));
      if (!got[0] || rows.length !== 1) throw new Error('record not found');
      const filter = { skillIds: [skills[i % SKILLS] as string] };
      t = process.hrtime.bigint();
      const page = await store.list(big, { type: 'outputs', filter, limit: 50 });
      if (!warm) samples.listStore.push(ms(t));
      t = process.hrtime.bigint();
      const rawPage = await rawScoped(listStatement(big, { type: 'outputs', filter, limit: 50 }));
      if (!warm) samples.listRaw.push(ms(t));
      if (page.length !== 50 || rawPage.length !== 50) throw new Error('short page');
    }
    // A rollup over the whole big tenant (informational: cost per skill by
    // week over a year of 1M outputs; median of 3 runs after one warm-up).
    log('rollup...');
    const range = {
      from: '2026-01-01T00:00:00.000Z',
      to: '2027-01-10T00:00:00.000Z',
      bucket: 'WEEK' as const,
    };
    const rollupRuns: number[] = [];
    for (let i = 0; i < (TICKETS_ONLY ? 0 : 4); i++) {
      const t = process.hrtime.bigint();
      const rows = await store.costPerSkill(big, range);
      if (i > 0) rollupRuns.push(ms(t));
      if (rows.length === 0) throw new Error('empty rollup');
    }
    await appClient.end();

    const before = await openStore(
      `${storeDb.appUri}?max=${Math.max(2, CONCURRENCY)}&prepare=${PREPARE}&generic_lookups=false`,
    );
    const ticketCosts = await ticketFigures({
      store,
      before,
      db: storeDb,
      tenant: big,
      id: (k) => pick(k).record_id,
      skills,
      rounds: POLICY_ROUNDS,
      samples: POLICY_SAMPLES,
      log,
    });
    await before.close();
    await store.close();
    if (TICKETS_ONLY) figures.length = 0;
    else {
      for (const p of [50, 95]) {
        figures.push({
          name: `pg_get_by_id_p${p}`,
          value: percentile(samples.getStore, p),
          unit: 'ms',
          baseline: percentile(samples.getRaw, p),
        });
      }
      for (const p of [50, 95]) {
        figures.push({
          name: `pg_list50_skill_p${p}`,
          value: percentile(samples.listStore, p),
          unit: 'ms',
          baseline: percentile(samples.listRaw, p),
        });
      }
      figures.push({ name: 'pg_rollup_cost_per_skill_week', value: percentile(rollupRuns, 50), unit: 'ms' });
    }
    figures.push(...ticketCosts);
    report(
      `PostgreSQL store vs raw pg: ${OUTPUTS.toLocaleString('en')} outputs in one tenant among ${OTHER_TENANTS + 1} ` +
        `(ingest: batches of ${BATCH}, ${CONCURRENCY} in flight, vs raw COPY, interleaved in rounds of ${ROUND} batches; reads: ${SAMPLES} samples each; ` +
        `machine load at the end: ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')})`,
      figures,
    );
  } finally {
    await storeDb.drop();
    await rawDb.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

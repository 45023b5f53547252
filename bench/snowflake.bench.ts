/**
 * Snowflake store benchmark (`npm run bench:snowflake`), on the local wire
 * emulator: the real snowflake-sdk over HTTP, the emulator's translation, and
 * DuckDB underneath. Each figure is set beside DuckDB running the same
 * translated SQL directly (no driver, no HTTP, no JSON rowsets), so the ratio
 * is the store's own overhead on top of the engine.
 *
 * 1. Write throughput: 100,000 sealed outputs through the micro-batch writer
 *    (20 concurrent putBatch calls of 5,000; flushes of 10,000 as array binds)
 *    vs the same four statements per 10,000-row batch run on DuckDB directly.
 * 2. Rollup latency on 1,000,000 outputs (+ 3,000 profile versions). Loading a
 *    million records through the store takes minutes on a 2-core machine, so
 *    they are generated straight into the tenant's DuckDB tables through the
 *    emulator's own DuckDB handle (with synthetic hashes: rollups do not read
 *    them). Median of 3 runs each.
 */
import { performance } from 'node:perf_hooks';
import { parseTenantId } from '../src/hub/tenant';
import type { HubRecord } from '../src/hub/model';
import { sealBatch } from '../src/hub/validate';
import { snowflakeDriver } from '../src/stores/snowflake/snowflake-driver';
import {
  archetypeProgressionStatement,
  costPerSkillStatement,
  managerDashboardStatements,
} from '../src/stores/snowflake/snowflake-rollups';
import { toStageRow } from '../src/stores/snowflake/snowflake-rows';
import { type Statement, tenantNames, writeStatements } from '../src/stores/snowflake/snowflake-sql';
import type { SnowflakeStore } from '../src/stores/snowflake/snowflake-store';
import type { Bindings, EngineConnection } from '../test/support/snowflake-emulator/engine';
import { emulatorStoreUri, startSnowflakeEmulator } from '../test/support/snowflake-emulator';

const WRITE_RECORDS = 100_000;
const ROLLUP_OUTPUTS = 1_000_000;

function outputsFor(tenant: string, n: number): HubRecord[] {
  const t = parseTenantId(tenant);
  const inputs = Array.from({ length: n }, (_, i) => ({
    skill_id: `skill.${String(i % 50).padStart(2, '0')}`,
    employee_id: `emp-${i % 1000}`,
    status: i % 20 === 0 ? 'FAILED' : 'SUCCEEDED',
    input_tokens: i % 4000,
    output_tokens: i % 1500,
    cost_usd: `0.${String((i * 37) % 1_000_000).padStart(6, '0')}`,
    latency_ms: i % 10 === 0 ? undefined : (i * 13) % 30_000,
    created_at: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % (90 * 86_400_000))).toISOString(),
    attributes: { run: 'bench', i },
  }));
  return sealBatch(t, 'outputs', inputs);
}

/** Runs one store statement on DuckDB directly, with params shaped as the driver sends them. */
async function direct(
  conn: EngineConnection,
  q: Statement | { sql: string; params: unknown[] },
): Promise<number> {
  const isArray = q.params.length > 0 && Array.isArray(q.params[0]);
  const bindings: Bindings = {};
  if (isArray) {
    const rows = q.params as (string | null)[][];
    (rows[0] ?? []).forEach((_v, c) => {
      bindings[String(c + 1)] = { type: 'TEXT', value: rows.map((r) => r[c] ?? null) };
    });
  } else {
    q.params.forEach((v, i) => {
      bindings[String(i + 1)] = { type: typeof v === 'number' ? 'FIXED' : 'TEXT', value: String(v) };
    });
  }
  return (await conn.execute(q.sql, bindings)).rowset.length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timeIt(fn: () => Promise<unknown>, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  const emulator = await startSnowflakeEmulator();
  const store = (await snowflakeDriver.open(
    emulatorStoreUri(emulator, { flushMs: 2000, batchRows: 10_000, timeoutMs: 600_000 }),
  )) as SnowflakeStore;
  const duck = await emulator.engine.connect();
  const rows: [string, string, string, string][] = [];
  try {
    // 1. Writes.
    console.log(`sealing ${WRITE_RECORDS} outputs twice (not timed)...`);
    const viaStore = outputsFor('bench-write', WRITE_RECORDS);
    const viaDuck = outputsFor('bench-direct', WRITE_RECORDS);
    await store.provision(parseTenantId('bench-write'));
    await store.provision(parseTenantId('bench-direct'));
    const flushesBefore = store.writer.flushes;
    const t0 = performance.now();
    const calls: Promise<unknown>[] = [];
    for (let at = 0; at < viaStore.length; at += 5000)
      calls.push(store.putBatch(parseTenantId('bench-write'), viaStore.slice(at, at + 5000)));
    await Promise.all(calls);
    const storeMs = performance.now() - t0;
    const flushes = store.writer.flushes - flushesBefore;
    const sql = writeStatements(tenantNames(store.config, parseTenantId('bench-direct')), 'outputs');
    const t1 = performance.now();
    for (let at = 0; at < viaDuck.length; at += 10_000) {
      const batchId = `b${at}`;
      await direct(duck, {
        sql: sql.stage,
        params: viaDuck.slice(at, at + 10_000).map((r) => [batchId, ...toStageRow(r)]),
      });
      await direct(duck, { sql: sql.existing, params: [batchId] });
      await direct(duck, { sql: sql.insert, params: [batchId] });
      await direct(duck, { sql: sql.cleanup, params: [batchId] });
    }
    const duckMs = performance.now() - t1;
    const storeRate = (WRITE_RECORDS / storeMs) * 1000;
    const duckRate = (WRITE_RECORDS / duckMs) * 1000;
    rows.push([
      'write (records/s)',
      storeRate.toFixed(0),
      duckRate.toFixed(0),
      (storeRate / duckRate).toFixed(3),
    ]);
    console.log(`store wrote ${WRITE_RECORDS} records in ${flushes} flushes`);

    // 2. Rollups on 1M outputs, generated inside DuckDB.
    const tenant = parseTenantId('bench-rollups');
    await store.provision(tenant);
    const names = tenantNames(store.config, tenant);
    console.log(`generating ${ROLLUP_OUTPUTS} outputs directly in DuckDB...`);
    const tg = performance.now();
    await duck.duck.run(
      `INSERT INTO ${names.table('outputs')} ("RECORD_ID", "TENANT_ID", "RECORD_TYPE", "CREATED_AT", "PROVENANCE_HASH", "SKILL_ID", "EMPLOYEE_ID", "STATUS", "INPUT_TOKENS", "OUTPUT_TOKENS", "COST_USD", "LATENCY_MS") ` +
        `SELECT uuid()::VARCHAR, 'bench-rollups', 'outputs', TIMESTAMP '2026-01-01' + to_milliseconds((i * 7919) % 7776000000), ` +
        `md5(i::VARCHAR) || md5((i + 1)::VARCHAR), 'skill.' || lpad((i % 50)::VARCHAR, 2, '0'), 'emp-' || (i % 1000), ` +
        `CASE WHEN i % 20 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END, i % 4000, i % 1500, ` +
        `CAST(CAST((i * 37) % 1000000 AS DECIMAL(20,0)) * 0.000001 AS DECIMAL(20,6)), ` +
        `CASE WHEN i % 10 = 0 THEN NULL ELSE (i * 13) % 30000 END FROM range(${ROLLUP_OUTPUTS}) t(i)`,
    );
    await duck.duck.run(
      `INSERT INTO ${names.table('employee_profiles')} ("RECORD_ID", "TENANT_ID", "RECORD_TYPE", "CREATED_AT", "PROVENANCE_HASH", "EMPLOYEE_ID", "DISPLAY_NAME", "ARCHETYPE", "LEVEL", "MANAGER_ID", "EFFECTIVE_AT") ` +
        `SELECT uuid()::VARCHAR, 'bench-rollups', 'employee_profiles', TIMESTAMP '2025-06-01' + to_days(v * 60 + e % 30), md5(e::VARCHAR || v::VARCHAR) || md5(v::VARCHAR), ` +
        `'emp-' || e, 'Employee ' || e, (['analyst','engineer','designer','support'])[e % 4 + 1], 'L' || (v + 1 + (e % 2)), ` +
        `'mgr-' || lpad((e % 20)::VARCHAR, 3, '0'), TIMESTAMP '2025-06-01' + to_days(v * 60 + e % 30) FROM range(1000) a(e), range(3) b(v)`,
    );
    console.log(`generated in ${((performance.now() - tg) / 1000).toFixed(1)} s`);
    const range = { from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };
    const cps = { ...range, bucket: 'DAY' as const };
    const prog = { from: '2025-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' };
    const dash = { managerId: 'mgr-003', ...range };
    const check = await store.costPerSkill(tenant, cps);
    console.log(
      `costPerSkill DAY: ${check.length} rows; invocations ${check.reduce((s, r) => s + r.invocations, 0)}`,
    );
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      [
        'costPerSkill DAY (ms)',
        () => store.costPerSkill(tenant, cps),
        () => direct(duck, costPerSkillStatement(names, cps)),
      ],
      [
        'costPerSkill MONTH (ms)',
        () => store.costPerSkill(tenant, { ...cps, bucket: 'MONTH' }),
        () => direct(duck, costPerSkillStatement(names, { ...cps, bucket: 'MONTH' })),
      ],
      [
        'archetypeProgression (ms)',
        () => store.archetypeProgression(tenant, prog),
        () => direct(duck, archetypeProgressionStatement(names, prog)),
      ],
      [
        'managerDashboard (ms)',
        () => store.managerDashboard(tenant, dash),
        async () => {
          // The store sends its four statements concurrently; the session runs them one after another.
          for (const q of Object.values(managerDashboardStatements(names, dash))) await direct(duck, q);
        },
      ],
    ];
    for (const [name, viaStoreFn, directFn] of cases) {
      await viaStoreFn(); // warm-up
      const s = await timeIt(viaStoreFn);
      const d = await timeIt(directFn);
      rows.push([name, s.toFixed(1), d.toFixed(1), (s / d).toFixed(3)]);
    }
  } finally {
    duck.close();
    await store.close();
    await emulator.close();
  }
  console.log('');
  console.log(`| figure | store (sdk+HTTP+emulator) | DuckDB direct | ratio |`);
  console.log(`|---|---:|---:|---:|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  const slug = (s: string): string =>
    s
      .replace(/\(.*\)/, '')
      .trim()
      .replace(/\W+/g, '_')
      .toLowerCase();
  for (const [name, value, baseline, ratio] of rows) {
    const unit = name.includes('records/s') ? 'records/s' : 'ms';
    console.log(
      `BENCH snowflake_${slug(name)} value=${value} unit=${unit} baseline=${baseline} ratio=${ratio}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

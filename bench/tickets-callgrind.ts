/**
 * The tenant ticket's verification counted in instructions, independent of
 * the machine's load: against a PostgreSQL server you start under callgrind,
 * each backend writes its instruction count when it exits.
 *
 *   # as the server's OS user, a throwaway cluster (initdb ... ; port 5499):
 *   valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=/tmp/cg/cg.%p \
 *     postgres -D /tmp/pgdata -p 5499
 *   node bin/run-ts.cjs bench/tickets-callgrind.ts --server postgres://postgres@127.0.0.1:5499/postgres \
 *     --out /tmp/cg [--transactions 100]
 *
 * For each verifier and plan mode (plan_cache_mode generic / custom), two
 * connections run N and 2N transactions as the store sends them (BEGIN, the
 * set_config statement, `SELECT $1, <verifier>` prepared, COMMIT); the
 * difference of their backends' counts over N is one transaction's cost,
 * free of connection start and exit. Verifiers: none (the same transaction
 * reading the ticket's tenant unverified), migration 0002's (recreated under
 * another name) and the installed hub.scoped_tenant() (migration 9).
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { type PgTestDatabase, createTestDatabase, tenantScope } from '../test/support/pg-harness';
import { type Figure, report } from './report';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const OUT = opt('out');
const N = Number(opt('transactions') ?? 100);
const TENANT = 'bench-cg';
const VERIFIERS = {
  none: "split_part(current_setting('app.tenant_ticket', true), '.', 5)",
  m2: 'hub.bench_verified_tenant_m2()',
  installed: 'hub.scoped_tenant()',
} as const;
type Verifier = keyof typeof VERIFIERS;
const log = (line: string): void => console.error(`[bench] ${line}`);

/** The instruction count callgrind wrote for backend `pid` when it exited. */
async function instructions(pid: number): Promise<number> {
  for (let i = 0; i < 600; i++) {
    try {
      const m = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(`${OUT}/cg.${pid}`, 'utf8'));
      if (m) return Number(m[1]);
    } catch {
      // not written yet: the backend is still exiting
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`callgrind wrote no count for backend ${pid} in ${OUT} (is the server under callgrind?)`);
}

/** Instructions of one backend that ran `n` (+ 20 warm-up) scoped transactions selecting `expr`. */
async function backend(db: PgTestDatabase, expr: string, n: number, mode: string): Promise<number> {
  const c = new Client({
    connectionString: db.appUri,
    connectionTimeoutMillis: 120_000,
    options: `-c plan_cache_mode=${mode}`,
  });
  await c.connect();
  const pid = Number((await c.query('SELECT pg_backend_pid() AS p')).rows[0].p);
  const s = tenantScope(TENANT);
  const scope = { name: 's', text: s.sql, values: s.params };
  const q = { name: 'v', text: `SELECT $1::text AS x, ${expr} AS v`, values: ['x'] };
  for (let i = 0; i < 20 + n; i++) {
    await c.query('BEGIN');
    await c.query(scope);
    const { rows } = await c.query(q);
    if (rows[0]?.v !== TENANT) throw new Error(`${expr} answered ${String(rows[0]?.v)}`);
    await c.query('COMMIT');
  }
  await c.end();
  return instructions(pid);
}

async function main(): Promise<void> {
  const server = opt('server');
  if (!server || !OUT)
    throw new Error('usage: --server <admin URL of a server under callgrind> --out <callgrind dir>');
  process.env.HUB_TEST_PG_URL = server;
  const db = await createTestDatabase();
  try {
    const admin = new Client({ connectionString: db.adminUri });
    await admin.connect();
    await admin.query(
      `CREATE FUNCTION hub.bench_verified_tenant_m2() RETURNS text
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
         SELECT hub_private.verify_ticket(current_setting('app.tenant_ticket', true), 't')
       $$`,
    );
    await admin.query(`ALTER FUNCTION hub.bench_verified_tenant_m2() OWNER TO ${db.ownerRole}`);
    await admin.query(`GRANT EXECUTE ON FUNCTION hub.bench_verified_tenant_m2() TO ${db.appRole}`);
    await admin.end();
    const figures: Figure[] = [];
    for (const mode of ['force_generic_plan', 'force_custom_plan']) {
      const perTransaction = {} as Record<Verifier, number>;
      for (const [name, expr] of Object.entries(VERIFIERS) as [Verifier, string][]) {
        const once = await backend(db, expr, N, mode);
        const twice = await backend(db, expr, 2 * N, mode);
        perTransaction[name] = Math.round((twice - once) / N);
        log(`${mode} ${name}: ${perTransaction[name]} instructions per transaction`);
      }
      const plan = mode === 'force_generic_plan' ? 'generic' : 'custom';
      figures.push({
        name: `pg_ticket_verify_instructions_${plan}_plan_vs_m2`,
        value: perTransaction.installed - perTransaction.none,
        unit: 'instructions',
        baseline: perTransaction.m2 - perTransaction.none,
      });
      figures.push({
        name: `pg_scoped_transaction_instructions_${plan}_plan_ticket_vs_none`,
        value: perTransaction.installed,
        unit: 'instructions',
        baseline: perTransaction.none,
      });
    }
    report(
      `Tenant ticket verification per transaction, callgrind instructions of the backend (${N} vs ${2 * N} transactions per backend)`,
      figures,
    );
  } finally {
    await db.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

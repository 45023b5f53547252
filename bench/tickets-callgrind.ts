/**
 * The tenant ticket's verification counted in instructions, independent of
 * the machine's load: against a PostgreSQL server you start under callgrind,
 * each backend writes its instruction count when it exits.
 *
 *   # as the server's OS user, a throwaway cluster (initdb ... ; port 5499):
 *   valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=/tmp/cg/cg.%p \
 *     postgres -D /tmp/pgdata -p 5499
 *   node bin/run-ts.cjs bench/tickets-callgrind.ts --server postgres://postgres@127.0.0.1:5499/postgres \
 *     --out /tmp/cg [--transactions 100] [--requests [--outputs 20000]]
 *
 * For each verifier and plan mode (plan_cache_mode generic / custom), two
 * connections run N and 2N transactions as the store sends them (BEGIN, the
 * set_config statement, `SELECT $1, <verifier>` prepared, COMMIT); the
 * difference of their backends' counts over N is one transaction's cost,
 * free of connection start and exit. Verifiers: none (the same transaction
 * reading the ticket's tenant unverified), migration 0002's (recreated under
 * another name) and the installed hub.scoped_tenant().
 *
 * With `--requests`: the store's own transactions instead, get by id and a
 * list of 50 of one skill, on `--outputs` (default 20,000) outputs of one
 * tenant in 12 skills (loaded by COPY as the server's admin), each as the
 * store sends it (BEGIN, the scope statement, the prepared statement, COMMIT)
 * on three sides: `before` (the policy before tickets, scope and plans as the
 * store had them: custom plans, re-planned per call), `old` (that policy,
 * the store's scope and plans today: lookups and list pages generic) and
 * `ticket` (the policy as installed, the store as it is).
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { OutputRecord } from '../src/hub/model';
import { parseTenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import { generateOutputs, skillIds } from '../src/seed/generator';
import { columnsOf } from '../src/stores/postgres/postgres-columns';
import { getByIdsStatement, listStatement } from '../src/stores/postgres/postgres-sql';
import { scopeStatement } from '../src/stores/postgres/queryable';
import { TicketSigner, configuredTicketKey } from '../src/stores/postgres/tenant-tickets';
import { type PgTestDatabase, createTestDatabase, tenantScope } from '../test/support/pg-harness';
import { copyField } from './copy-text';
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
  if (args.includes('--requests')) {
    try {
      report(
        `The store's transactions, callgrind instructions of the backend per request (${N} vs ${2 * N} per backend)`,
        await requestFigures(db),
      );
    } finally {
      await db.drop();
    }
    return;
  }
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

const OUTPUT_COLUMNS = columnsOf('outputs');
const REQUEST_SIDES = ['before', 'old', 'ticket'] as const;
type RequestSide = (typeof REQUEST_SIDES)[number];

/** Loads `count` outputs of one tenant by COPY as the admin (fast under callgrind too); returns some ids. */
async function loadOutputs(db: PgTestDatabase, tenant: string, count: number): Promise<string[]> {
  const admin = new Client({ connectionString: db.adminUri, connectionTimeoutMillis: 120_000 });
  await admin.connect();
  const ids: string[] = [];
  const names = ['tenant_id', ...OUTPUT_COLUMNS.map((c) => c.name)].join(', ');
  const batches = generateOutputs(count, { seed: 1, batchSize: 5_000, skills: 12, days: 365 });
  async function* lines(): AsyncGenerator<string> {
    for (const inputs of batches) {
      const out: string[] = [];
      for (const r of sealBatch(parseTenantId(tenant), 'outputs', inputs) as OutputRecord[]) {
        const x = r as unknown as Record<string, unknown>;
        if (ids.length < 500) ids.push(r.record_id);
        out.push(`${tenant}\t${OUTPUT_COLUMNS.map((c) => copyField(x[c.name], c.kind)).join('\t')}\n`);
      }
      yield out.join('');
    }
  }
  await pipeline(Readable.from(lines()), admin.query(copyFrom(`COPY hub.outputs (${names}) FROM STDIN`)));
  await admin.query('VACUUM ANALYZE hub.outputs');
  await admin.end();
  return ids;
}

/** Instructions of one backend that ran `n` (+ 20 warm-up) store transactions of `side`. */
async function requestBackend(
  db: PgTestDatabase,
  side: RequestSide,
  request: 'get' | 'list',
  ids: readonly string[],
  n: number,
): Promise<number> {
  const c = new Client({
    connectionString: db.appUri,
    connectionTimeoutMillis: 120_000,
    options: '-c TimeZone=UTC -c jit=off', // as the store's connections
  });
  await c.connect();
  const pid = Number((await c.query('SELECT pg_backend_pid() AS p')).rows[0].p);
  const signer = new TicketSigner(configuredTicketKey());
  const skills = skillIds(12);
  const tenant = parseTenantId(TENANT);
  for (let i = 0; i < 20 + n; i++) {
    // The store writes list pages for generic plans and asks for generic
    // plans for lookups and those pages; before tickets it did neither.
    const generic = side !== 'before';
    const stmt =
      request === 'get'
        ? getByIdsStatement(tenant, 'outputs', [ids[i % ids.length] as string])
        : listStatement(
            tenant,
            { type: 'outputs', filter: { skillIds: [skills[i % 12] as string] }, limit: 50 },
            undefined,
            generic,
          );
    const scope = scopeStatement({ tenant }, { signer, relayRole: '' }, generic);
    await c.query('BEGIN');
    await c.query({ name: `scope${scope.sql.length}`, text: scope.sql, values: [...scope.params] });
    const { rows } = await c.query({ name: request, text: stmt.sql, values: [...stmt.params] });
    await c.query('COMMIT');
    if (rows.length !== (request === 'get' ? 1 : 50))
      throw new Error(`${side} ${request}: ${rows.length} rows`);
  }
  await c.end();
  return instructions(pid);
}

/** Per request, instructions of the store's get by id and list of 50 on each side. */
async function requestFigures(db: PgTestDatabase): Promise<Figure[]> {
  const ids = await loadOutputs(db, TENANT, Number(opt('outputs') ?? 20_000));
  const admin = new Client({ connectionString: db.adminUri });
  await admin.connect();
  const installed = await admin.query(
    "SELECT qual FROM pg_policies WHERE schemaname = 'hub' AND tablename = 'outputs' AND policyname = 'tenant_isolation'",
  );
  const old = "tenant_id = (SELECT current_setting('app.tenant_id', true))";
  const policy = { before: old, old, ticket: String(installed.rows[0]?.qual) };
  const figures: Figure[] = [];
  try {
    for (const request of ['get', 'list'] as const) {
      const per = {} as Record<RequestSide, number>;
      for (const side of REQUEST_SIDES) {
        await admin.query(
          `ALTER POLICY tenant_isolation ON hub.outputs USING (${policy[side]}) WITH CHECK (${policy[side]})`,
        );
        const once = await requestBackend(db, side, request, ids, N);
        const twice = await requestBackend(db, side, request, ids, 2 * N);
        per[side] = Math.round((twice - once) / N);
        log(`${request} ${side}: ${per[side]} instructions per request`);
      }
      const what = request === 'get' ? 'get_by_id' : 'list50_skill';
      figures.push({
        name: `pg_${what}_instructions_ticket_vs_before_tickets`,
        value: per.ticket,
        unit: 'instructions',
        baseline: per.before,
      });
      figures.push({
        name: `pg_${what}_instructions_ticket_vs_old_policy`,
        value: per.ticket,
        unit: 'instructions',
        baseline: per.old,
      });
    }
  } finally {
    await admin.query(
      `ALTER POLICY tenant_isolation ON hub.outputs USING (${policy.ticket}) WITH CHECK (${policy.ticket})`,
    );
    await admin.end();
  }
  return figures;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

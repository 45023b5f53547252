/**
 * The cost of tenant tickets, part of bench:postgres: the store's get by id
 * and list of 50 on the same data in one process under three tenant policies
 * on hub.outputs, switched with ALTER POLICY between interleaved rounds:
 *
 * - `old`: as before tickets, `tenant_id = app.tenant_id` only (the baseline);
 * - `m2`: migration 0002's verifier, a SQL function wrapping
 *   hub_private.verify_ticket (recreated here under another name);
 * - `ticket`: the policy as installed (read from pg_policies), calling
 *   hub.verified_tenant() as the migrations leave it.
 *
 * All three send the ticket in the set_config statement: the difference is
 * the verification. Then, inside PostgreSQL (no network, no Node): the time
 * per call of each verifier as the application role, in a PL/pgSQL loop,
 * less the same loop calling current_setting only.
 */
import { Client } from 'pg';
import type { HubStore } from '../src/hub/store';
import type { TenantId } from '../src/hub/tenant';
import type { PgTestDatabase } from '../test/support/pg-harness';
import { tenantScope } from '../test/support/pg-harness';
import { type Figure, percentile } from './report';

export interface TicketBenchOptions {
  readonly store: HubStore;
  readonly db: PgTestDatabase;
  readonly tenant: TenantId;
  /** The i-th record id to look up (spread over the tenant). */
  readonly id: (i: number) => string;
  readonly skills: readonly string[];
  readonly rounds: number;
  readonly samples: number;
  readonly log: (line: string) => void;
}

const SCOPE = "(SELECT current_setting('app.tenant_id', true))";
const SIDES = ['old', 'm2', 'ticket'] as const;
type Side = (typeof SIDES)[number];
const LOOP_CALLS = 2_000;

const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

/** Measures the three policies; returns the BENCH figures. Leaves the installed policy in place. */
export async function ticketFigures(o: TicketBenchOptions): Promise<Figure[]> {
  const admin = new Client({ connectionString: o.db.adminUri });
  await admin.connect();
  try {
    await admin.query(
      `CREATE FUNCTION hub.bench_verified_tenant_m2() RETURNS text
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
         SELECT hub_private.verify_ticket(current_setting('app.tenant_ticket', true), 't')
       $$`,
    );
    await admin.query(`ALTER FUNCTION hub.bench_verified_tenant_m2() OWNER TO ${o.db.ownerRole}`);
    await admin.query(`GRANT EXECUTE ON FUNCTION hub.bench_verified_tenant_m2() TO ${o.db.appRole}`);
    const installed = await admin.query(
      "SELECT qual FROM pg_policies WHERE schemaname = 'hub' AND tablename = 'outputs' AND policyname = 'tenant_isolation'",
    );
    const policies: Record<Side, string> = {
      old: `tenant_id = ${SCOPE}`,
      m2: `tenant_id = ${SCOPE} AND ${SCOPE} = (SELECT hub.bench_verified_tenant_m2())`,
      ticket: String(installed.rows[0]?.qual),
    };
    const setPolicy = (side: Side) =>
      admin.query(
        `ALTER POLICY tenant_isolation ON hub.outputs USING (${policies[side]}) WITH CHECK (${policies[side]})`,
      );
    const bySide = Object.fromEntries(SIDES.map((s) => [s, { get: [] as number[], list: [] as number[] }]));
    o.log(`tenant tickets: ${SIDES.join(', ')} policies, interleaved in ${o.rounds} rounds...`);
    for (let round = 0; round < o.rounds; round++) {
      // Each side goes first, second and third equally often.
      const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length] as Side);
      for (const side of order) {
        await setPolicy(side);
        const into = bySide[side] as { get: number[]; list: number[] };
        for (let i = 0; i < o.samples + 20; i++) {
          const warm = i < 20; // after the ALTER, statements are planned again
          const k = round * o.samples + i;
          let t = process.hrtime.bigint();
          const got = await o.store.getByIds(o.tenant, 'outputs', [o.id(k)]);
          if (!warm) into.get.push(ms(t));
          const filter = { skillIds: [o.skills[k % o.skills.length] as string] };
          t = process.hrtime.bigint();
          const page = await o.store.list(o.tenant, { type: 'outputs', filter, limit: 50 });
          if (!warm) into.list.push(ms(t));
          if (!got[0] || page.length !== 50) throw new Error(`policy ${side}: missing rows`);
        }
      }
    }
    await setPolicy('ticket');
    const perCall = await verifierCost(o);
    const figures: Figure[] = [];
    for (const [what, key] of [
      ['get_by_id', 'get'],
      ['list50_skill', 'list'],
    ] as const) {
      for (const p of [50, 95]) {
        for (const side of ['ticket', 'm2'] as const) {
          figures.push({
            name: `pg_${what}_p${p}_${side === 'ticket' ? 'ticket' : 'ticket_m2'}_vs_old_policy`,
            value: percentile((bySide[side] as { get: number[]; list: number[] })[key], p),
            unit: 'ms',
            baseline: percentile((bySide.old as { get: number[]; list: number[] })[key], p),
          });
        }
      }
    }
    figures.push({
      name: 'pg_verified_tenant_us_per_call_vs_m2',
      value: perCall.ticket,
      unit: 'us',
      baseline: perCall.m2,
    });
    return figures;
  } finally {
    await admin.end();
  }
}

/** Microseconds per call of each verifier inside PostgreSQL (median of interleaved rounds, loop overhead removed). */
async function verifierCost(o: TicketBenchOptions): Promise<{ ticket: number; m2: number }> {
  const app = new Client({ connectionString: o.db.appUri });
  await app.connect();
  const loop = (call: string) =>
    `DO $$ BEGIN FOR i IN 1..${LOOP_CALLS} LOOP PERFORM ${call}; END LOOP; END $$`;
  const calls = {
    none: loop("current_setting('app.tenant_ticket', true)"),
    ticket: loop('hub.verified_tenant()'),
    m2: loop('hub.bench_verified_tenant_m2()'),
  };
  const times = { none: [] as number[], ticket: [] as number[], m2: [] as number[] };
  try {
    await app.query('BEGIN');
    const scope = tenantScope(o.tenant);
    await app.query(scope.sql, scope.params);
    const check = await app.query('SELECT hub.verified_tenant() AS a, hub.bench_verified_tenant_m2() AS b');
    if (check.rows[0]?.a !== o.tenant || check.rows[0]?.b !== o.tenant) throw new Error('verifiers disagree');
    for (let round = 0; round < 11; round++) {
      for (const k of ['none', 'ticket', 'm2'] as const) {
        const t = process.hrtime.bigint();
        await app.query(calls[k]);
        if (round > 0) times[k].push(ms(t));
      }
    }
    await app.query('COMMIT');
  } finally {
    await app.end();
  }
  const none = percentile(times.none, 50);
  const us = (k: 'ticket' | 'm2') => ((percentile(times[k], 50) - none) * 1000) / LOOP_CALLS;
  return { ticket: us('ticket'), m2: us('m2') };
}

/**
 * The cost of tenant tickets, part of bench:postgres: the store's get by id
 * and list of 50 on the same data in one process, three sides switched with
 * ALTER POLICY on hub.outputs between interleaved rounds:
 *
 * - `before`: the store as before tickets: the policy `tenant_id =
 *   app.tenant_id` only, and lookups and list pages planned as the server
 *   chooses (a store opened with generic_lookups=false: custom plans,
 *   re-planned per call);
 * - `old`: the same policy through the store as it is (lookups and list
 *   pages with generic plans): what the ticket alone costs;
 * - `ticket`: the store as it is, the policy as installed (read from
 *   pg_policies), calling hub.scoped_tenant() (one InitPlan).
 *
 * All three send the ticket in the set_config statement. Figures: the
 * installed side against `before` (the issue's "within 5% of today") and
 * against `old`; latency p50/p95, and CPU per request (this process plus the
 * store's backends), which a loaded machine inflates far less than latency.
 * Then, inside PostgreSQL (no network, no Node): the time per call of the
 * installed verifier and of migration 0002's (a SQL function wrapping
 * hub_private.verify_ticket, recreated here under another name) as the
 * application role, in a PL/pgSQL loop, less the same loop calling
 * current_setting only.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import type { HubStore } from '../src/hub/store';
import type { TenantId } from '../src/hub/tenant';
import type { PgTestDatabase } from '../test/support/pg-harness';
import { tenantScope } from '../test/support/pg-harness';
import { type Figure, percentile } from './report';

export interface TicketBenchOptions {
  readonly store: HubStore;
  /** The same database through a store opened with generic_lookups=false (lookups and lists planned as before tickets). */
  readonly before: HubStore;
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
const SIDES = ['before', 'old', 'ticket'] as const;
type Side = (typeof SIDES)[number];
const LOOP_CALLS = 2_000;

const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

interface SideSamples {
  get: number[];
  list: number[];
  /** CPU milliseconds (this process and the store's backends) spent on the recorded gets. */
  getCpu: number;
  listCpu: number;
}

/**
 * CPU time of a request, wherever it is spent: a client process (by default
 * this one: the store, pg's protocol work, its side of the socket) plus the
 * database's backends of the application role (read from /proc: the server
 * runs on this machine). Unlike latency it hardly moves with the machine's
 * load, which only adds waiting.
 */
export class CpuMeter {
  constructor(
    private readonly admin: Pick<Client, 'query'>,
    private readonly db: PgTestDatabase,
    /** The client process's CPU so far, in ms. */
    private readonly clientCpuMs: () => Promise<number> = async () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
  ) {}

  /** The current reading: the client's CPU and each backend's, in ms. */
  async read(): Promise<{ self: number; backends: Map<number, number> }> {
    const self = await this.clientCpuMs();
    const { rows } = await this.admin.query(
      'SELECT pid FROM pg_stat_activity WHERE usename = $1 AND datname = $2',
      [this.db.appRole, this.db.database],
    );
    const backends = new Map<number, number>();
    for (const r of rows) backends.set(Number(r.pid), backendCpuMs(Number(r.pid)));
    return { self, backends };
  }

  /** CPU ms spent since `start` (backends that came and went in between are not counted). */
  async since(start: { self: number; backends: Map<number, number> }): Promise<number> {
    return this.between(start, await this.read());
  }

  /** CPU ms spent from reading `start` to reading `end` (backends in both only). */
  between(
    start: { self: number; backends: Map<number, number> },
    end: { self: number; backends: Map<number, number> },
  ): number {
    let total = end.self - start.self;
    for (const [pid, t] of end.backends) total += t - (start.backends.get(pid) ?? t);
    return total;
  }
}

/** utime + stime of a local process in ms (/proc/<pid>/stat, in clock ticks of 10 ms). */
function backendCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

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
      before: `tenant_id = ${SCOPE}`,
      old: `tenant_id = ${SCOPE}`,
      ticket: String(installed.rows[0]?.qual),
    };
    const setPolicy = (side: Side) =>
      admin.query(
        `ALTER POLICY tenant_isolation ON hub.outputs USING (${policies[side]}) WITH CHECK (${policies[side]})`,
      );
    const bySide = Object.fromEntries(
      SIDES.map((s) => [s, { get: [] as number[], list: [] as number[], getCpu: 0, listCpu: 0 }]),
    ) as Record<Side, SideSamples>;
    const cpu = new CpuMeter(admin, o.db);
    o.log(`tenant tickets: ${SIDES.join(', ')} policies, interleaved in ${o.rounds} rounds...`);
    for (let round = 0; round < o.rounds; round++) {
      // Each side goes first, second and third equally often.
      const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length] as Side);
      for (const side of order) {
        await setPolicy(side);
        const into = bySide[side];
        const store = side === 'before' ? o.before : o.store;
        const get = async (k: number, samples?: number[]): Promise<void> => {
          const t = process.hrtime.bigint();
          const got = await store.getByIds(o.tenant, 'outputs', [o.id(k)]);
          samples?.push(ms(t));
          if (!got[0]) throw new Error(`policy ${side}: record not found`);
        };
        const list = async (k: number, samples?: number[]): Promise<void> => {
          const filter = { skillIds: [o.skills[k % o.skills.length] as string] };
          const t = process.hrtime.bigint();
          const page = await store.list(o.tenant, { type: 'outputs', filter, limit: 50 });
          samples?.push(ms(t));
          if (page.length !== 50) throw new Error(`policy ${side}: short page (${page.length} records)`);
        };
        // After the ALTER, statements are planned again: warm up unrecorded.
        for (let i = 0; i < 20; i++) {
          await get(i);
          await list(i);
        }
        const base = round * o.samples;
        let start = await cpu.read();
        for (let i = 0; i < o.samples; i++) await get(base + i, into.get);
        into.getCpu += await cpu.since(start);
        start = await cpu.read();
        for (let i = 0; i < o.samples; i++) await list(base + i, into.list);
        into.listCpu += await cpu.since(start);
      }
      o.log(
        `tenant tickets: round ${round + 1} of ${o.rounds} (load ${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')})`,
      );
    }
    await setPolicy('ticket');
    const perCall = await verifierCost(o);
    const figures: Figure[] = [];
    const requests = o.rounds * o.samples;
    for (const [what, key] of [
      ['get_by_id', 'get'],
      ['list50_skill', 'list'],
    ] as const) {
      for (const base of ['before', 'old'] as const) {
        const name = `pg_${what}_%_ticket_vs_${base === 'before' ? 'before_tickets' : 'old_policy'}`;
        for (const p of [50, 95]) {
          figures.push({
            name: name.replace('%', `p${p}`),
            value: percentile(bySide.ticket[key], p),
            unit: 'ms',
            baseline: percentile(bySide[base][key], p),
          });
        }
        figures.push({
          name: name.replace('%', 'cpu'),
          value: (bySide.ticket[`${key}Cpu`] * 1000) / requests,
          unit: 'us',
          baseline: (bySide[base][`${key}Cpu`] * 1000) / requests,
        });
      }
    }
    figures.push({
      name: 'pg_scoped_tenant_us_per_call_vs_m2',
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
    ticket: loop('hub.scoped_tenant()'),
    m2: loop('hub.bench_verified_tenant_m2()'),
  };
  const times = { none: [] as number[], ticket: [] as number[], m2: [] as number[] };
  try {
    await app.query('BEGIN');
    const scope = tenantScope(o.tenant);
    await app.query(scope.sql, scope.params);
    const check = await app.query('SELECT hub.scoped_tenant() AS a, hub.bench_verified_tenant_m2() AS b');
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

/**
 * The dataset of bench:rollups: one PostgreSQL database per size on the test
 * server (`hub_bench_rollups_<outputs>`), built once and reused while its
 * recorded description matches (a rebuild is printed, never silent).
 *
 * Building is the fastest honest path: the seed generator's records
 * (generateActivity: profiles, outputs with their decisions and governance
 * events, over a year), sealed by the Hub (sealBatch), written by COPY as the
 * server's admin with the feed triggers off (session_replication_role =
 * replica), then every tenant marked as predating the feed and backfilled by
 * the store's own migrate (the resumable `hub db migrate` backfill, a week per
 * transaction). Progress goes to stderr; run it under `nice`.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { HubRecord, RecordType } from '../src/hub/model';
import { parseTenantId, type TenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import type { RecordInput } from '../src/hub/validate';
import { generateActivity } from '../src/seed/generator';
import { postgresDriver } from '../src/stores/postgres/postgres-driver';
import { columnsOf } from '../src/stores/postgres/postgres-columns';
import { connectAdmin, testServerUrl, withDatabase } from '../test/support/pg-harness';
import { copyField } from './copy-text';

/** Bumped whenever what is generated changes: older databases are rebuilt. */
const DATA_VERSION = 1;
export const START = '2026-01-05T00:00:00.000Z';
export const DAYS = 365;
export const MANAGERS = 25;
export const TEAM_SIZE = 20;
export const SKILLS = 12;
/** Other tenants, each with this fraction of the big tenant's outputs. */
const OTHERS = 3;
const OTHER_FRACTION = 0.05;

const OWNER = 'hub_bench_rollups_owner';
const APP = 'hub_bench_rollups_app';
const RELAY = `${APP}_relay`;

export const BIG = parseTenantId('bench-rollups');

export interface BenchDatabase {
  readonly database: string;
  /** The application role (RLS applies): what the store and the raw reads use. */
  readonly appUri: string;
  readonly ownerUri: string;
  readonly adminUri: string;
}

const log = (line: string): void => console.error(`[rollups] ${line}`);

function describe(outputs: number): string {
  return JSON.stringify({
    v: DATA_VERSION,
    outputs,
    START,
    DAYS,
    MANAGERS,
    TEAM_SIZE,
    SKILLS,
    OTHERS,
    OTHER_FRACTION,
  });
}

/** The database for `outputs`, built now unless a complete one matching this description exists. */
export async function benchDatabase(
  outputs: number,
  options: { rebuild: boolean; backfill: boolean },
): Promise<BenchDatabase> {
  const { rebuild, backfill } = options;
  const database = `hub_bench_rollups_${outputs}`;
  const server = testServerUrl();
  const db: BenchDatabase = {
    database,
    appUri: withDatabase(server, database, APP),
    // No statement timeout: a backfill step of a week can outlast the default 30 s on a loaded machine.
    ownerUri: `${withDatabase(server, database, OWNER)}?app_role=${APP}&statement_timeout=0`,
    adminUri: withDatabase(server, database),
  };
  const admin = await connectAdmin();
  try {
    for (const [role, opts] of [
      [OWNER, 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'],
      [APP, 'LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'],
      [RELAY, 'NOLOGIN NOSUPERUSER NOBYPASSRLS'],
    ] as const) {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount === 0) await admin.query(`CREATE ROLE ${role} ${opts}`);
    }
    await admin.query(`GRANT ${RELAY} TO ${APP}`);
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    const state = found.rowCount === 1 && !rebuild ? await recorded(db) : null;
    if (state?.description === describe(outputs)) {
      log(`reusing ${database} (${outputs.toLocaleString('en')} outputs)`);
      await finish(db, backfill, state.complete);
      return db;
    }
    if (found.rowCount === 1) {
      log(`dropping ${database} (${rebuild ? '--rebuild' : 'built for another description'})`);
      await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE ${database} OWNER ${OWNER}`);
  } finally {
    await admin.end();
  }
  await postgresDriver.migrate?.(db.ownerUri, { log });
  await copyAll(db, outputs);
  await finish(db, backfill, false);
  return db;
}

async function adminClient(db: BenchDatabase): Promise<Client> {
  const { Client: PgClient } = await import('pg');
  const c = new PgClient({ connectionString: db.adminUri });
  await c.connect();
  return c;
}

/** The recorded description (written once the records are copied) and whether the cells are complete. */
async function recorded(db: BenchDatabase): Promise<{ description: string; complete: boolean } | null> {
  const c = await adminClient(db);
  try {
    const r = await c.query('SELECT key, value FROM public.bench_dataset');
    const get = (key: string): string | undefined =>
      r.rows.find((x: { key: string }) => x.key === key)?.value as string | undefined;
    const description = get('description');
    return description === undefined ? null : { description, complete: get('complete') !== undefined };
  } catch {
    return null;
  } finally {
    await c.end();
  }
}

function copyLines(type: RecordType, records: readonly HubRecord[]): string {
  const cols = columnsOf(type);
  let out = '';
  for (const r of records) {
    const x = r as unknown as Record<string, unknown>;
    out += `${r.tenant_id}\t${cols.map((c) => copyField(x[c.name], c.kind)).join('\t')}\n`;
  }
  return out;
}

const TYPES = ['outputs', 'decisions', 'governance_events'] as const;

/** Streams one tenant's generated activity into COPY streams, one per type, on `clients`. */
async function copyTenant(
  clients: readonly Client[],
  tenant: TenantId,
  outputs: number,
  seed: number,
): Promise<number> {
  const { profiles, batches } = generateActivity(outputs, {
    seed,
    start: START,
    days: DAYS,
    managers: MANAGERS,
    teamSize: TEAM_SIZE,
    skills: SKILLS,
    batchSize: 20_000,
  });
  const profileCopy = (clients[0] as Client).query(
    copyFrom(
      `COPY hub.employee_profiles (tenant_id, ${columnsOf('employee_profiles')
        .map((c) => c.name)
        .join(', ')}) FROM STDIN`,
    ),
  );
  await pipeline(
    Readable.from([copyLines('employee_profiles', sealBatch(tenant, 'employee_profiles', profiles))]),
    profileCopy,
  );
  // One generator feeds three COPY streams: each stream pulls its type's
  // lines from a queue the shared generator fills on demand.
  const queues: Record<(typeof TYPES)[number], string[]> = {
    outputs: [],
    decisions: [],
    governance_events: [],
  };
  let done = false;
  let written = 0;
  const started = Date.now();
  let reported = 0;
  const pull = (): boolean => {
    const next = batches.next();
    if (next.done) {
      done = true;
      return false;
    }
    for (const type of TYPES) {
      queues[type].push(copyLines(type, sealBatch(tenant, type, next.value[type] as RecordInput[])));
    }
    written += next.value.outputs.length;
    if (written - reported >= outputs / 20 || written === outputs) {
      reported = written;
      const s = (Date.now() - started) / 1000;
      log(
        `${tenant}: ${written.toLocaleString('en')} of ${outputs.toLocaleString('en')} outputs (${Math.round(written / s)} outputs/s with their decisions and events)`,
      );
    }
    return true;
  };
  async function* lines(type: (typeof TYPES)[number]): AsyncGenerator<string> {
    for (;;) {
      const q = queues[type];
      if (q.length > 0) {
        yield q.shift() as string;
        continue;
      }
      if (done) return;
      // Pull only while no stream is far behind (bounded memory); else let
      // the slower streams drain what earlier pulls queued for them.
      if (TYPES.every((t) => queues[t].length < 4)) pull();
      else await new Promise<void>((r) => setTimeout(r, 2));
    }
  }
  await Promise.all(
    TYPES.map((type, i) =>
      pipeline(
        Readable.from(lines(type)),
        (clients[i] as Client).query(
          copyFrom(
            `COPY hub.${type} (tenant_id, ${columnsOf(type)
              .map((c) => c.name)
              .join(', ')}) FROM STDIN`,
          ),
        ),
      ),
    ),
  );
  return written;
}

/** Copies every tenant's records (feed triggers off) and marks the tenants as waiting for a backfill. */
async function copyAll(db: BenchDatabase, outputs: number): Promise<void> {
  const clients = await Promise.all(TYPES.map(() => adminClient(db)));
  const t0 = Date.now();
  try {
    // Triggers off (the feed): these records predate it, as in a tenant
    // created before migration 3, and are backfilled by finish().
    for (const c of clients) await c.query("SET session_replication_role = 'replica'");
    const tenants: TenantId[] = [];
    for (let i = 0; i < OTHERS; i++) {
      const t = parseTenantId(`bench-other-${i}`);
      tenants.push(t);
      await copyTenant(clients, t, Math.round(outputs * OTHER_FRACTION), 100 + i);
    }
    await copyTenant(clients, BIG, outputs, 1);
    tenants.push(BIG);
    log(`copied in ${((Date.now() - t0) / 1000).toFixed(0)} s; analysing`);
    const c = clients[0] as Client;
    await c.query('ANALYZE hub.outputs, hub.decisions, hub.governance_events, hub.employee_profiles');
    await c.query(
      'INSERT INTO hub.rollup_pending (tenant_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING',
      [tenants],
    );
    await c.query('CREATE TABLE public.bench_dataset (key text PRIMARY KEY, value text NOT NULL)');
    await c.query("INSERT INTO public.bench_dataset VALUES ('description', $1)", [describe(outputs)]);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/**
 * Applies migrations landed since (they may rebuild cells) and backfills
 * pending tenants (`hub db migrate`), then vacuums once and records the
 * cells complete. Without `backfill`, only when nothing is pending.
 */
async function finish(db: BenchDatabase, backfill: boolean, complete: boolean): Promise<void> {
  const t0 = Date.now();
  await postgresDriver.migrate?.(db.ownerUri, { log, backfill });
  const c = await adminClient(db);
  try {
    const pending = Number((await c.query('SELECT count(*) AS n FROM hub.rollup_pending')).rows[0].n);
    if (pending > 0) {
      if (backfill) throw new Error(`${db.database}: ${pending} tenant(s) still pending after the backfill`);
      log(
        `${db.database}: records copied, ${pending} tenant(s) wait for the backfill (run again without --no-backfill)`,
      );
      return;
    }
    if (!complete || Date.now() - t0 > 10_000) {
      log(`backfilled in ${((Date.now() - t0) / 1000).toFixed(0)} s; vacuum analyse`);
      await c.query('VACUUM ANALYZE');
      await c.query(
        "INSERT INTO public.bench_dataset VALUES ('complete', now()::text) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      );
    }
  } finally {
    await c.end();
  }
}

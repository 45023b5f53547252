/**
 * What the row-level security tests share (postgres-rls-*.test.ts,
 * pglite-rls.test.ts, postgres-rollup-version-tickets.test.ts): two tenants
 * with one record of every type, on the server or on PGlite, raw
 * connections as a role, tickets signed with the installed key or another,
 * transactions scoped to a tenant, and what such a transaction can see.
 */
import { Client } from 'pg';
import { RECORD_TYPES, type RecordType } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { PREAGG_TABLES } from '../../src/stores/postgres/migrations';
import { PgliteDatabase, type PgliteOpenOptions } from '../../src/stores/postgres/pglite-database';
import { createPostgresStore } from '../../src/stores/postgres/postgres-store';
import {
  TICKET_TTL_SECONDS,
  configuredTicketKey,
  signTicket,
} from '../../src/stores/postgres/tenant-tickets';
import { fullRecords } from '../conformance/fixtures';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

export const A = parseTenantId('rls-a');
export const B = parseTenantId('rls-b');
/** Every table of the hub schema but schema_migrations: each must have RLS on and forced. */
export const TABLES = [
  ...RECORD_TYPES,
  'outbox',
  // Per-tenant usage minutes (src/stores/postgres/postgres-usage.ts).
  'usage_minutes',
  // Pre-aggregation (preagg.sql): readable per tenant, written only by definer functions.
  ...PREAGG_TABLES,
  // The feed's former table, kept empty for its row type (preagg-feed-batches.sql): no grant at all.
  'rollup_feed_row',
];

/** Writes one record of every type for the tenant; returns the record ids by type. */
export async function seed(store: HubStore, tenant: typeof A): Promise<Record<RecordType, string>> {
  const ids = {} as Record<RecordType, string>;
  const inputs = fullRecords();
  for (const type of RECORD_TYPES) {
    const records = sealBatch(tenant, type, [inputs[type]]);
    expect(await store.putBatch(tenant, records)).toEqual([{ status: 'created' }]);
    ids[type] = (records[0] as { record_id: string }).record_id;
  }
  return ids;
}

/** A throwaway database (the caller drops it), a store on it as the application role with the outbox on. */
export interface SeededDatabase {
  readonly pg: PgTestDatabase;
  readonly store: HubStore;
  /** A's record ids by type (B holds the same records under other ids). */
  readonly idsA: Record<RecordType, string>;
}

/**
 * Creates a throwaway database, opens a store on it as the application role
 * (outbox on) and seeds one record of every type for A and for B. The caller
 * closes the store and drops the database (afterAll); if seeding fails, the
 * database is dropped here and the error rethrown.
 */
export async function openSeededDatabase(): Promise<SeededDatabase> {
  const pg = await createTestDatabase();
  let store: HubStore | undefined;
  try {
    store = await openStore(pg.appUri, { outbox: true });
    const idsA = await seed(store, A);
    await seed(store, B);
    return { pg, store, idsA };
  } catch (err) {
    await store?.close();
    await pg.drop();
    throw err;
  }
}

/**
 * An in-memory PGlite database whose session is the application role
 * (`options`: e.g. its ticket key), a store on it, and one record of every
 * type for A and for B. The caller closes the store (afterAll).
 */
export async function openSeededPglite(
  options?: PgliteOpenOptions,
): Promise<{ readonly db: PgliteDatabase; readonly store: HubStore }> {
  const db = await PgliteDatabase.open(undefined, 'hub_app', options);
  const store = createPostgresStore(db, {});
  try {
    await seed(store, A);
    await seed(store, B);
    return { db, store };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Runs `fn` on one raw connection as `uri`'s role. */
export async function asRole<T>(uri: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: uri });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The key `hub db migrate` installed in the test database (HUB_PG_TICKET_KEY, else the development key). */
export const KEY = configuredTicketKey();
export const OTHER_KEY = Buffer.alloc(32, 7);
/** An expiry a full ticket lifetime from now (seconds since the epoch). */
export const inFuture = (): number => Math.floor(Date.now() / 1000) + TICKET_TTL_SECONDS;
/** A ticket of `purpose` for `tenant`, signed with `key` (default: the installed one), valid until `exp`. */
export const ticket = (tenant: string, purpose: 't' | 'p' | 'r' = 't', key = KEY, exp = inFuture()): string =>
  signTicket(key, purpose, tenant, exp);

/** Opens a transaction as `c` with app.tenant_id = `tenant` and app.tenant_ticket = `t` (if any). */
export async function scoped(c: Client, tenant: string, t?: string): Promise<void> {
  await c.query('BEGIN');
  await c.query("SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ticket', $2, true)", [
    tenant,
    t ?? '',
  ]);
}

/** Rows of every record table visible in the current transaction. */
export async function visible(c: Client): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of RECORD_TYPES) {
    out[t] = (await c.query(`SELECT count(*)::int AS n FROM hub.${t}`)).rows[0].n as number;
  }
  return out;
}
/** What `visible` returns when no row is visible. */
export const NONE = Object.fromEntries(RECORD_TYPES.map((t) => [t, 0]));
/** What `visible` returns for one seeded tenant. */
export const ONE_EACH = Object.fromEntries(RECORD_TYPES.map((t) => [t, 1]));

/** The SQLSTATE `p` fails with, or undefined if it succeeds. */
export const sqlstate = async (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: { code?: string }) => e.code,
  );

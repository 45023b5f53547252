/**
 * PostgreSQL test harness: throwaway databases and roles on the server named
 * by HUB_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test), so
 * parallel Jest workers and test files never share state.
 *
 * Typical use:
 *   let pg: PgTestDatabase;
 *   beforeAll(async () => { pg = await createTestDatabase(); });
 *   afterAll(() => pg.drop());
 *   // open stores with pg.appUri (RLS applies) or pg.ownerUri (DDL, fixtures)
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { readConfig } from '../../src/config';
import { postgresDriver } from '../../src/stores/postgres/postgres-driver';
import { TicketSigner, configuredTicketKey } from '../../src/stores/postgres/tenant-tickets';

/** A throwaway database with its owner and application roles. */
export interface PgTestDatabase {
  /** The database name (random). */
  readonly database: string;
  /** Role owning the database and the hub schema (runs migrations; not a superuser). */
  readonly ownerRole: string;
  /** Application role: LOGIN, not owner, not superuser, not BYPASSRLS. */
  readonly appRole: string;
  /** The outbox relay's role (`<appRole>_relay`, NOLOGIN; the application role is a member, to SET ROLE). */
  readonly relayRole: string;
  /** Connects as the owner (`?app_role=` names the app role for migrations). */
  readonly ownerUri: string;
  /** Connects as the application role: what a gateway store uses. */
  readonly appUri: string;
  /** Connects as the server's admin user to this database (for fault injection, catalog checks). */
  readonly adminUri: string;
  /** Terminates remaining sessions, drops the database and both roles. Idempotent. */
  drop(): Promise<void>;
}

/** The server URL the tests use (HUB_TEST_PG_URL via readConfig). */
export function testServerUrl(): string {
  return readConfig().testPgUrl;
}

/** `url` with its database path replaced by `database` (credentials and query kept). */
export function withDatabase(url: string, database: string, user?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (user !== undefined) {
    u.username = user;
    u.password = '';
  }
  return u.toString();
}

/**
 * Connects to the server as its admin user (to the `postgres` database) or
 * throws an Error explaining how to start PostgreSQL.
 */
export async function connectAdmin(): Promise<Client> {
  const url = withDatabase(testServerUrl(), 'postgres');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    const u = new URL(url);
    throw new Error(
      `PostgreSQL is not reachable at ${u.host} (HUB_TEST_PG_URL=${u.protocol}//${u.host}/...): ` +
        `${err instanceof Error ? err.message : String(err)}. ` +
        'Start it with: pg_ctlcluster 15 main start (or set HUB_TEST_PG_URL to a running server).',
    );
  }
}

/**
 * Creates a database with random name and two random roles (owner, app), and
 * (unless `migrate: false`) applies the Hub migrations as the owner.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<PgTestDatabase> {
  const admin = await connectAdmin();
  const id = `${process.pid.toString(36)}_${randomBytes(4).toString('hex')}`;
  const database = `hub_test_${id}`;
  const ownerRole = `hub_test_${id}_owner`;
  const appRole = `hub_test_${id}_app`;
  const relayRole = `${appRole}_relay`;
  try {
    await admin.query(`CREATE ROLE ${ownerRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS`);
    await admin.query(
      `CREATE ROLE ${appRole} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS`,
    );
    // The owner has no CREATEROLE here, so the harness creates the relay role and its membership.
    await admin.query(`CREATE ROLE ${relayRole} NOLOGIN NOSUPERUSER NOBYPASSRLS`);
    await admin.query(`GRANT ${relayRole} TO ${appRole}`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${ownerRole}`);
  } finally {
    await admin.end();
  }
  const server = testServerUrl();
  const ownerUri = `${withDatabase(server, database, ownerRole)}?app_role=${appRole}`;
  const db: PgTestDatabase = {
    database,
    ownerRole,
    appRole,
    relayRole,
    ownerUri,
    appUri: withDatabase(server, database, appRole),
    adminUri: withDatabase(server, database),
    drop: once(() => dropTestDatabase(database, [relayRole, appRole, ownerRole])),
  };
  if (options.migrate !== false) {
    try {
      await postgresDriver.migrate?.(ownerUri);
    } catch (err) {
      await db.drop();
      throw err;
    }
  }
  return db;
}

async function dropTestDatabase(database: string, roles: readonly string[]): Promise<void> {
  const admin = await connectAdmin();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await admin.end();
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** Runs `sql` on a new connection to `uri` and returns the rows; the connection is closed after. */
export async function sqlAt<R = Record<string, unknown>>(
  uri: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new Client({ connectionString: uri });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

const signer = new TicketSigner(configuredTicketKey());

/**
 * The statement that scopes a raw connection's transaction to `tenant` as the
 * store does: `app.tenant_id` and a ticket signed with the key migrations
 * installed (HUB_PG_TICKET_KEY, else the development key).
 */
export function tenantScope(tenant: string): { sql: string; params: string[] } {
  return {
    sql: "SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ticket', $2, true)",
    params: [tenant, signer.ticket('t', tenant)],
  };
}

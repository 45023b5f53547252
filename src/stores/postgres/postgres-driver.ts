/**
 * The driver for `postgres://`, `postgresql://` and `pglite:` store URIs.
 *
 * - `open(postgres://...)`: a pooled store on a server whose schema was
 *   migrated beforehand (`hub db migrate`). Queries run as an application
 *   role that row-level security binds: the URI's `app_role` if given; else the
 *   login role when it is an ordinary role; else (a superuser, a BYPASSRLS
 *   role, or the tables' owner logged in) `hub_app`. Opening refuses to run
 *   as a role that RLS would not bind.
 * - `open(pglite:...)`: an in-process database, migrated at open, queried as
 *   the application role too.
 * - `migrate(uri)`: applies migrations as the URI's (owner) role and grants the
 *   application role (`app_role`, default `hub_app`) what it needs.
 */
import { HubError } from '../../hub/errors';
import type { HubStore } from '../../hub/store';
import { type OpenStoreOptions, type StoreDriver, type TicketKeysReport, schemeOf } from '../driver';
import { DEFAULT_APP_ROLE, applyMigrations, relayRoleFor } from './migrations';
import { PgDatabase, connectClient } from './pg-database';
import { PgliteDatabase } from './pglite-database';
import { createPostgresUsageSink } from './postgres-usage';
import type { UsageSink } from '../../platform/usage';
import { toPostgresHubError } from './postgres-errors';
import { backfillAll } from './postgres-preagg-consumer';
import { createPostgresStore } from './postgres-store';
import { parsePgliteUri, parsePostgresUri } from './postgres-uri';
import {
  TicketSigner,
  configuredTicketKey,
  environmentTicketKey,
  generateTicketKey,
  ticketKeyId,
} from './tenant-tickets';

/** What the session's role may do that RLS would not stop, and whether the schema exists. */
const ROLE_CHECK = `SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
  EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'hub' AND pg_has_role(current_user, c.relowner, 'MEMBER')) AS owner,
  to_regclass('hub.outputs') IS NOT NULL AS migrated,
  to_regprocedure('hub.ticket_key_accepted(text)') IS NOT NULL AS tickets
FROM pg_roles r WHERE r.rolname = current_user`;

interface RoleCheck {
  role: string;
  privileged: boolean;
  migrated: boolean;
  /** The schema has tenant tickets (migration 0002). */
  tickets: boolean;
}

async function checkRole(db: {
  queryUnscoped(sql: string): Promise<Record<string, unknown>[]>;
}): Promise<RoleCheck> {
  const row = (await db.queryUnscoped(ROLE_CHECK))[0] ?? {};
  return {
    role: String(row.role),
    privileged: row.superuser === true || row.bypassrls === true || row.owner === true,
    migrated: row.migrated === true,
    tickets: row.tickets === true,
  };
}

async function openServer(uri: string, options: OpenStoreOptions): Promise<HubStore> {
  const parsed = parsePostgresUri(uri);
  const signer = new TicketSigner(configuredTicketKey(options.ticketKey));
  // The role sessions switch to at startup: named when the server refuses it.
  let role = parsed.appRole;
  let db = new PgDatabase(parsed, role, options.log);
  try {
    let check = await checkRole(db);
    if (check.privileged && parsed.appRole === undefined) {
      await db.close();
      role = DEFAULT_APP_ROLE;
      db = new PgDatabase(parsed, role, options.log);
      check = await checkRole(db);
    }
    db.credentials = { signer, relayRole: relayRoleFor(check.role, parsed.relayRole) };
    await requireServable(db, check, signer);
    if (signer.development) {
      options.log?.('postgres.development_ticket_key', {
        message:
          'HUB_PG_TICKET_KEY is not set: tenant tickets are signed with the PUBLIC development key, ' +
          "so the database does not hold tenants apart from a leaked application-role credential; run 'hub db ticket-key'",
      });
    }
    return createPostgresStore(db, {
      outbox: options.outbox,
      log: options.log,
      rollupConsumer: parsed.rollupConsumer ? {} : false,
      genericPlans: parsed.genericLookups,
      stageRows: parsed.stageRows,
    });
  } catch (err) {
    await db.close().catch(() => undefined);
    throw toPostgresHubError(err, 'open', {
      connectionString: parsed.connectionString,
      ...(role !== undefined ? { role } : {}),
    });
  }
}

/**
 * Refuses a database the store must not serve: a session role that row-level
 * security would not hold (superuser, BYPASSRLS, owner), a schema missing or
 * older than tenant tickets, or one that does not accept this gateway's ticket key.
 */
async function requireServable(
  db: PgDatabase,
  check: Awaited<ReturnType<typeof checkRole>>,
  signer: TicketSigner,
): Promise<void> {
  if (check.privileged) {
    throw new HubError(
      'FORBIDDEN',
      `postgres store: role ${check.role} is a superuser, BYPASSRLS or owns the hub tables, so row-level ` +
        'security would not isolate tenants; connect as (or set app_role= to) the application role',
    );
  }
  if (!check.migrated) {
    throw new HubError(
      'UNAVAILABLE',
      "postgres store: the hub schema is missing; run 'hub db migrate' first",
    );
  }
  if (!check.tickets) {
    throw new HubError(
      'UNAVAILABLE',
      "postgres store: the hub schema predates tenant tickets (migration 0002); run 'hub db migrate'",
    );
  }
  const [accepted] = await db.queryUnscoped(`SELECT hub.ticket_key_accepted('${signer.kid}') AS ok`);
  if (accepted?.ok !== true) {
    throw new HubError(
      'UNAVAILABLE',
      `postgres store: the database does not accept this gateway's ticket key (id ${signer.kid}); ` +
        "install it as the schema owner with 'hub db ticket-key --store <owner URI>' " +
        '(or hub db migrate with the same HUB_PG_TICKET_KEY)',
    );
  }
}

async function openPglite(uri: string, options: OpenStoreOptions): Promise<HubStore> {
  const parsed = parsePgliteUri(uri);
  try {
    const db = await PgliteDatabase.open(parsed.dataDir, parsed.appRole ?? DEFAULT_APP_ROLE, {
      ...(options.ticketKey !== undefined ? { ticketKey: options.ticketKey } : {}),
      ...(parsed.relayRole !== undefined ? { relayRole: parsed.relayRole } : {}),
      ...(options.create !== undefined ? { create: options.create } : {}),
    });
    const check = await checkRole(db).catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
    if (check.privileged) {
      await db.close();
      throw new HubError('INTERNAL', 'pglite store: session role is not the application role');
    }
    return createPostgresStore(db, {
      outbox: options.outbox,
      log: options.log,
      rollupConsumer: {},
      stageRows: parsed.stageRows,
    });
  } catch (err) {
    throw toPostgresHubError(err, 'open');
  }
}

async function migrate(
  uri: string,
  options: { log?: (line: string) => void; create?: boolean; backfill?: boolean } = {},
): Promise<string[]> {
  if (schemeOf(uri) === 'pglite') {
    // PGlite migrates itself at open; opening and closing is the migration.
    const parsed = parsePgliteUri(uri);
    const db = await PgliteDatabase.open(parsed.dataDir, parsed.appRole ?? DEFAULT_APP_ROLE, {
      ...(parsed.relayRole !== undefined ? { relayRole: parsed.relayRole } : {}),
      ...(options.create !== undefined ? { create: options.create } : {}),
    }).catch((err: unknown) => {
      throw toPostgresHubError(err, 'migrate');
    });
    try {
      const lines = [...db.migrated];
      for (const line of lines) options.log?.(line);
      if (options.backfill !== false) {
        await backfillAll(async (sql, params) => {
          const [rows = []] = await db.run({ relay: true }, [{ sql, params }]);
          return rows;
        }, options.log);
      }
      return lines;
    } finally {
      await db.close();
    }
  }
  const parsed = parsePostgresUri(uri);
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await connectClient(parsed);
    const key = environmentTicketKey();
    const applied = await applyMigrations(client, parsed.appRole ?? DEFAULT_APP_ROLE, {
      ...(options.log ? { log: options.log } : {}),
      ...(parsed.relayRole !== undefined ? { relayRole: parsed.relayRole } : {}),
      // Without HUB_PG_TICKET_KEY: the development key, only into a database that has no key.
      ...(key !== undefined ? { ticketKey: key } : {}),
    });
    if (options.backfill !== false) {
      const session = client;
      // As the owner: each step is its own transaction (autocommit).
      await backfillAll(async (sql, params) => (await session.query(sql, params)).rows, options.log);
    }
    return applied;
  } catch (err) {
    throw toPostgresHubError(err, 'migrate', { connectionString: parsed.connectionString });
  } finally {
    await client?.end().catch(() => undefined);
  }
}

async function ticketKeys(
  uri: string,
  request: { readonly install?: 'generate' | 'configured'; readonly retirePrevious?: boolean },
): Promise<TicketKeysReport> {
  if (schemeOf(uri) === 'pglite') {
    throw new HubError(
      'VALIDATION',
      'pglite store: each open installs a fresh ticket key (one process per folder); there is no key to manage',
    );
  }
  const parsed = parsePostgresUri(uri);
  let key: Buffer | undefined;
  if (request.install === 'generate') key = generateTicketKey();
  if (request.install === 'configured') {
    key = environmentTicketKey();
    if (key === undefined) throw new HubError('VALIDATION', 'HUB_PG_TICKET_KEY is not set');
  }
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await connectClient(parsed);
    const [schema] = (await client.query("SELECT to_regclass('hub_private.ticket_keys') IS NOT NULL AS ok"))
      .rows;
    if (schema?.ok !== true) {
      throw new HubError(
        'UNAVAILABLE',
        "postgres ticket keys: hub_private.ticket_keys is missing; run 'hub db migrate' first (as the schema owner)",
      );
    }
    await client.query('BEGIN');
    if (key) {
      await client.query("SELECT hub_private.install_ticket_key(decode($1, 'hex'), false, false)", [
        key.toString('hex'),
      ]);
    }
    if (request.retirePrevious) await client.query('SELECT hub_private.retire_previous_ticket_key()');
    const { rows } = await client.query(
      'SELECT kid, state, development FROM hub_private.ticket_keys ORDER BY state, installed_at',
    );
    await client.query('COMMIT');
    const keys = rows.map((r) => ({
      kid: String(r.kid),
      state: String(r.state),
      development: r.development === true,
    }));
    if (!key) return { keys };
    const installed = {
      kid: ticketKeyId(key),
      ...(request.install === 'generate' ? { key: key.toString('hex') } : {}),
    };
    return { installed, keys };
  } catch (err) {
    await client?.query('ROLLBACK').catch(() => undefined);
    throw toPostgresHubError(err, 'ticket keys', { connectionString: parsed.connectionString });
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/**
 * The usage table of the database: PGlite shares the directory's one
 * database with the store; a server is reached as the application role (the
 * URI's user, or `app_role=`), its schema migrated beforehand.
 */
async function openUsage(uri: string): Promise<UsageSink> {
  if (schemeOf(uri) === 'pglite') {
    const parsed = parsePgliteUri(uri);
    try {
      return createPostgresUsageSink(
        await PgliteDatabase.open(parsed.dataDir, parsed.appRole ?? DEFAULT_APP_ROLE),
      );
    } catch (err) {
      throw toPostgresHubError(err, 'open');
    }
  }
  const parsed = parsePostgresUri(uri);
  const db = new PgDatabase(parsed, parsed.appRole, undefined);
  try {
    const check = await checkRole(db);
    if (!check.migrated)
      throw new HubError(
        'UNAVAILABLE',
        "postgres usage: the hub schema is missing; run 'hub db migrate' first",
      );
    return createPostgresUsageSink(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw toPostgresHubError(err, 'open', {
      connectionString: parsed.connectionString,
      ...(parsed.appRole !== undefined ? { role: parsed.appRole } : {}),
    });
  }
}

/** `postgres://`, `postgresql://` and `pglite:` stores. */
export const postgresDriver: StoreDriver = {
  schemes: ['postgres', 'postgresql', 'pglite'],
  open(uri, options = {}) {
    return schemeOf(uri) === 'pglite' ? openPglite(uri, options) : openServer(uri, options);
  },
  migrate,
  ticketKeys,
  openUsage,
};

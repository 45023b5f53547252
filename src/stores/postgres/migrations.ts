/**
 * Versioned schema migrations (`hub db migrate`). Each migration runs once per
 * database and is recorded in `hub.schema_migrations`; the whole run is one
 * transaction holding a transaction-scoped advisory lock, so two processes
 * migrating at once serialise and the second finds nothing left to do.
 * Every run also (re)applies the application role's grants, which is
 * idempotent and keeps them complete after new tables appear.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../../hub/errors';
import { RECORD_TYPES } from '../../hub/model';
import type { SqlQueryable } from './queryable';
import { DEV_TICKET_KEY, ticketKeyId } from './tenant-tickets';
import { USAGE_MIGRATION_SQL } from './postgres-usage';

/** A connection that can also run a multi-statement script (`pg` simple query, PGlite `exec`). */
export interface SqlSession extends SqlQueryable {
  exec(script: string): Promise<void>;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The SQL script (may contain several statements). */
  readonly sql: () => string;
}

/** Every migration, in version order. Append only: never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: six record tables, outbox, row-level security',
    sql: () => readFileSync(join(__dirname, 'schema.sql'), 'utf8'),
  },
  {
    version: 2,
    name: 'tenant tickets: policies need a verified tenant, no DELETE for the application role, relay policy',
    sql: () => readFileSync(join(__dirname, 'tenant-tickets.sql'), 'utf8'),
  },
  {
    version: 3,
    name: 'pre-aggregation: change feed, cells, consumer (tenants with records wait for a backfill)',
    sql: () => readFileSync(join(__dirname, 'preagg.sql'), 'utf8'),
  },
  {
    version: 4,
    name: 'per-tenant usage minutes (hub.usage_minutes), row-level security',
    sql: () => USAGE_MIGRATION_SQL,
  },
  {
    version: 5,
    name: 'pre-aggregation maintainer policies bound to the owner role (list pages read from their index again)',
    sql: () => readFileSync(join(__dirname, 'preagg-policies.sql'), 'utf8'),
  },
  {
    version: 6,
    name: 'tenant ticket verified in one PL/pgSQL call per statement (was a SQL wrapper planned per statement)',
    sql: () => readFileSync(join(__dirname, 'tenant-tickets-cost.sql'), 'utf8'),
  },
  {
    version: 7,
    name: 'pre-aggregation: p95 statistics per cell, latency counts only where they compress (cells rebuilt by the backfill)',
    sql: () => readFileSync(join(__dirname, 'preagg-stats.sql'), 'utf8'),
  },
  {
    version: 8,
    name: 'pre-aggregation folds planned for their batch size (hashed groupings instead of sorts)',
    sql: () => readFileSync(join(__dirname, 'preagg-fold-estimates.sql'), 'utf8'),
  },
  {
    version: 9,
    name: 'tenant policies tenant_id = (SELECT hub.scoped_tenant()): the row estimates and plans of before tickets, one InitPlan',
    sql: () => readFileSync(join(__dirname, 'tenant-tickets-scope.sql'), 'utf8'),
  },
  {
    version: 10,
    name: 'pre-aggregation: backfill steps bounded by records, fold statements planned at every call',
    sql: () => readFileSync(join(__dirname, 'preagg-backfill-steps.sql'), 'utf8'),
  },
  {
    version: 11,
    name: 'hub.scoped_tenant() with fewer expressions, same checks (set up again in every transaction)',
    sql: () => readFileSync(join(__dirname, 'tenant-tickets-lean.sql'), 'utf8'),
  },
  {
    version: 12,
    name: 'pre-aggregation: hour cells carry latency counts per bin too (derived from their millisecond counts)',
    sql: () => readFileSync(join(__dirname, 'preagg-hour-bins.sql'), 'utf8'),
  },
  {
    version: 13,
    name: 'pre-aggregation: feed with one index (no identity), policies checked once per statement, set-based fold statistics',
    sql: () => readFileSync(join(__dirname, 'preagg-ingest.sql'), 'utf8'),
  },
  {
    version: 14,
    name: "pre-aggregation: the consumer's claim walks the feed's index (was a sort of the whole feed per claim)",
    sql: () => readFileSync(join(__dirname, 'preagg-fold-claim.sql'), 'utf8'),
  },
  {
    version: 15,
    name: 'pre-aggregation: per-employee week cells (summed from the day cells), kept by the fold',
    sql: () => readFileSync(join(__dirname, 'preagg-employee-weeks.sql'), 'utf8'),
  },
  {
    version: 16,
    name: "record tables' secondary indexes without deduplication (keys end in record_id: never equal)",
    sql: () => readFileSync(join(__dirname, 'record-index-dedup.sql'), 'utf8'),
  },
  {
    version: 17,
    name: 'rollup data versions: an epoch per tenant bumped by every fold, backfill step and purge (exact result caching)',
    sql: () => readFileSync(join(__dirname, 'preagg-versions.sql'), 'utf8'),
  },
  {
    version: 18,
    name: 'pre-aggregation: the feed as one row per statement (hub.rollup_feed_batches; hub.rollup_feed a view of it), claimed whole',
    sql: () => readFileSync(join(__dirname, 'preagg-feed-batches.sql'), 'utf8'),
  },
  {
    version: 19,
    name: "pre-aggregation: the feed's view expands its rows in the select list, and each row's span of created_at lets reads skip it",
    sql: () => readFileSync(join(__dirname, 'preagg-feed-bounds.sql'), 'utf8'),
  },
  {
    version: 20,
    name: 'rollup data version read by one statement (hub.rollup_version(tenant, ticket)), the ticket checked once',
    sql: () => readFileSync(join(__dirname, 'preagg-version-read.sql'), 'utf8'),
  },
];

/** Pre-aggregation tables (preagg.sql, preagg-stats.sql, preagg-feed-batches.sql): the application role may only read them. */
export const PREAGG_TABLES = [
  'rollup_feed_batches',
  'rollup_cells',
  'rollup_bin_counts',
  'rollup_decision_cells',
  'rollup_governance_cells',
  'rollup_orphan_decisions',
  'rollup_pending',
  'rollup_versions',
] as const;

/**
 * Pre-aggregation views, read like the tables (security_invoker: the tables'
 * row-level security applies): the feed, a row per record (preagg-feed-batches.sql).
 */
export const PREAGG_VIEWS = ['rollup_feed'] as const;

/** Arbitrary constant identifying the Hub's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_262_584_913;

/** Default name of the application role the gateway's queries run as. */
export const DEFAULT_APP_ROLE = 'hub_app';

const ROLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a role name is a plain lowercase identifier (it is interpolated, quoted, into DDL). */
export function checkRoleName(role: string, option = 'app_role'): string {
  if (!ROLE_RE.test(role)) throw new HubError('VALIDATION', `${option} must match ^[a-z_][a-z0-9_]{0,62}$`);
  return role;
}

/** The outbox relay's role for an application role: `<app role>_relay` unless named (URI option `relay_role`). */
export function relayRoleFor(appRole: string, relayRole?: string): string {
  return checkRoleName(relayRole ?? `${appRole}_relay`, 'relay_role');
}

export interface MigrationOptions {
  /** Receives one line per step applied. */
  readonly log?: (line: string) => void;
  /** The relay's role (default `<app role>_relay`). */
  readonly relayRole?: string;
  /**
   * The gateway's ticket key (HUB_PG_TICKET_KEY): installed as the current key
   * when the database does not accept it yet. Without one, a database with no
   * key at all gets the public development key (logged).
   */
  readonly ticketKey?: Buffer;
  /** Replace every installed key by `ticketKey` (PGlite at open: one process, one key). */
  readonly replaceTicketKeys?: boolean;
}

/**
 * Applies the missing migrations and the grants for `appRole`, creating that
 * role (NOLOGIN) if it does not exist. Runs as the schema owner.
 * @returns one line per migration applied (empty when already current).
 */
export async function applyMigrations(
  session: SqlSession,
  appRole: string,
  options: MigrationOptions = {},
): Promise<string[]> {
  const log = options.log ?? (() => {});
  const role = `"${checkRoleName(appRole)}"`;
  const relayName = relayRoleFor(appRole, options.relayRole);
  const relay = `"${relayName}"`;
  const applied: string[] = [];
  await session.exec('BEGIN');
  try {
    await session.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await session.exec(
      `CREATE SCHEMA IF NOT EXISTS hub;
       CREATE TABLE IF NOT EXISTS hub.schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       );`,
    );
    const { rows } = await session.query('SELECT version FROM hub.schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await session.exec(m.sql());
      await session.query('INSERT INTO hub.schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      const line = `applied ${String(m.version).padStart(4, '0')} ${m.name}`;
      applied.push(line);
      log(line);
    }
    await session.exec(grantsScript(appRole, role, relayName, relay));
    await installKey(session, options, log);
    await session.exec('COMMIT');
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}

/** Creates the roles if missing and sets exactly their grants (every run; idempotent). */
function grantsScript(appRole: string, role: string, relayName: string, relay: string): string {
  const records = RECORD_TYPES.map((t) => `hub.${t}`).join(', ');
  // Another database on the same cluster may create a role concurrently
  // (advisory locks are per database): tolerate duplicate_object. Membership
  // of the relay role lets the gateway's relay SET ROLE to it, without
  // inheriting its privileges: on PostgreSQL 16+ per grant (INHERIT FALSE),
  // before that by making the application role NOINHERIT.
  return `DO $$ BEGIN
     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${appRole}') THEN
       CREATE ROLE ${role} NOLOGIN NOINHERIT;
     END IF;
   EXCEPTION WHEN duplicate_object THEN NULL;
   END $$;
   DO $$ BEGIN
     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${relayName}') THEN
       CREATE ROLE ${relay} NOLOGIN;
     END IF;
   EXCEPTION WHEN duplicate_object THEN NULL;
   END $$;
   DO $$ BEGIN
     IF NOT pg_has_role('${appRole}', '${relayName}', 'MEMBER') THEN
       IF current_setting('server_version_num')::int >= 160000 THEN
         EXECUTE 'GRANT ${relay} TO ${role} WITH INHERIT FALSE';
       ELSE
         EXECUTE 'GRANT ${relay} TO ${role}';
       END IF;
     END IF;
     IF current_setting('server_version_num')::int < 160000
        AND (SELECT rolinherit FROM pg_roles WHERE rolname = '${appRole}') THEN
       BEGIN
         EXECUTE 'ALTER ROLE ${role} NOINHERIT';
       EXCEPTION WHEN insufficient_privilege THEN
         RAISE WARNING 'role ${appRole} inherits the outbox privileges of ${relayName}: make it NOINHERIT (ALTER ROLE ${appRole} NOINHERIT)';
       END;
     END IF;
   END $$;
   GRANT USAGE ON SCHEMA hub TO ${role}, ${relay};
   REVOKE ALL ON ${records}, hub.outbox FROM ${role}, ${relay};
   GRANT SELECT, INSERT ON ${records} TO ${role};
   GRANT INSERT ON hub.outbox TO ${role};
   GRANT USAGE ON SEQUENCE hub.outbox_id_seq TO ${role};
   GRANT SELECT, DELETE, UPDATE (claimed_until) ON hub.outbox TO ${relay};
   GRANT EXECUTE ON FUNCTION hub.scoped_tenant(), hub.verified_tenant(), hub.relay_verified(),
     hub.ticket_key_accepted(text), hub.purge_tenant(text) TO ${role};
   GRANT EXECUTE ON FUNCTION hub.scoped_tenant(), hub.verified_tenant(), hub.relay_verified() TO ${relay};
   GRANT SELECT ON ${[...PREAGG_TABLES, ...PREAGG_VIEWS].map((t) => `hub.${t}`).join(', ')} TO ${role};
   GRANT EXECUTE ON FUNCTION hub.rollup_forget(), hub.rollup_version(text, text) TO ${role};
   GRANT SELECT ON hub.schema_migrations TO ${role};
   GRANT EXECUTE ON FUNCTION hub.rollup_fold(integer), hub.rollup_backfill(integer, integer) TO ${relay};
   GRANT SELECT, INSERT, DELETE ON hub.usage_minutes TO ${role};`;
}

/** Installs the gateway's ticket key, or the development key into a database that has none. */
async function installKey(
  session: SqlSession,
  options: MigrationOptions,
  log: (line: string) => void,
): Promise<string[]> {
  const key = options.ticketKey;
  if (key !== undefined && !options.replaceTicketKeys) {
    const { rows } = await session.query('SELECT hub.ticket_key_accepted($1) AS ok', [ticketKeyId(key)]);
    if (rows[0]?.ok === true) return [];
  }
  if (key === undefined) {
    const { rows } = await session.query('SELECT count(*)::int AS n FROM hub_private.ticket_keys');
    if (Number(rows[0]?.n) > 0) return [];
  }
  const chosen = key ?? DEV_TICKET_KEY;
  const development = chosen.equals(DEV_TICKET_KEY);
  await session.query("SELECT hub_private.install_ticket_key(decode($1, 'hex'), $2, $3)", [
    chosen.toString('hex'),
    development,
    options.replaceTicketKeys === true,
  ]);
  if (options.replaceTicketKeys) return [];
  const line = development
    ? `installed the PUBLIC development ticket key ${ticketKeyId(chosen)}: run 'hub db ticket-key' and set HUB_PG_TICKET_KEY before production`
    : `installed ticket key ${ticketKeyId(chosen)} (HUB_PG_TICKET_KEY) as the current key`;
  log(line);
  return [line];
}

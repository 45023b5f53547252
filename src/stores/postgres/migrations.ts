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
];

/** Arbitrary constant identifying the Hub's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 7_262_584_913;

/** Default name of the application role the gateway's queries run as. */
export const DEFAULT_APP_ROLE = 'hub_app';

const ROLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a role name is a plain lowercase identifier (it is interpolated, quoted, into DDL). */
export function checkRoleName(role: string): string {
  if (!ROLE_RE.test(role)) throw new HubError('VALIDATION', 'app_role must match ^[a-z_][a-z0-9_]{0,62}$');
  return role;
}

/**
 * Applies the missing migrations and the grants for `appRole`, creating that
 * role (NOLOGIN) if it does not exist. Runs as the schema owner.
 * @returns one line per migration applied (empty when already current).
 */
export async function applyMigrations(
  session: SqlSession,
  appRole: string,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const role = `"${checkRoleName(appRole)}"`;
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
    // Another database on the same cluster may create the role concurrently
    // (advisory locks are per database): tolerate duplicate_object.
    await session.exec(
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${appRole}') THEN
           CREATE ROLE ${role} NOLOGIN;
         END IF;
       EXCEPTION WHEN duplicate_object THEN NULL;
       END $$;
       GRANT USAGE ON SCHEMA hub TO ${role};
       GRANT SELECT, INSERT, DELETE ON ${RECORD_TYPES.map((t) => `hub.${t}`).join(', ')} TO ${role};
       GRANT SELECT, INSERT, UPDATE, DELETE ON hub.outbox TO ${role};
       GRANT USAGE ON SEQUENCE hub.outbox_id_seq TO ${role};`,
    );
    await session.exec('COMMIT');
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}

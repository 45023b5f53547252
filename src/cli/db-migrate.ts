import type { Command } from './command';
import { CREATE_HELP, CREATE_OPTION, defaultStoreUri } from './open';

/** `hub db migrate`: creates or upgrades a store's schema (idempotent, safe to run concurrently). */
export const command: Command = {
  path: ['db', 'migrate'],
  summary: "create or upgrade a store's schema (idempotent)",
  help: `Usage: hub db migrate [--store <uri>] [--create] [--no-backfill]

Applies the schema migrations the store still lacks and records them in the
store (PostgreSQL: table hub.schema_migrations). Running it again does nothing;
two processes running it at once are serialised by an advisory lock.

For PostgreSQL, connect as the role that owns (or will own) the hub schema. The
application role the gateway runs as is named by the URI option app_role
(default hub_app); it is created NOLOGIN if missing (the owner then needs
CREATEROLE) and granted exactly what the gateway needs: see
src/stores/postgres/README.md. PGlite stores migrate themselves when opened.

Then it backfills the rollup pre-aggregates of tenants whose records were
written before pre-aggregation existed, one step per transaction (a week, or
fewer days: at most about 20,000 records of each type; a step cancelled by the
statement timeout is retried smaller), printing progress; stopped, it resumes
where it was. Until a tenant is backfilled its rollups are computed from raw
records (exact, slower); the gateway's background consumer also backfills, a
day (at most one fold batch of records) per tick.

Options:
  --store <uri>    store URI (default: HUB_PG_URL, else pglite:<HUB_DATA_DIR>)
${CREATE_HELP}
  --no-backfill    apply the migrations only (leave the backfill to the gateway)

Examples:
  hub db migrate --store 'postgres://hub_owner@db.internal:5432/hub?app_role=hub_app'
  hub db migrate --store pglite:./.hub-data`,
  options: { store: { type: 'string' }, ...CREATE_OPTION, 'no-backfill': { type: 'boolean' } },
  async run({ values }, io) {
    const uri = typeof values.store === 'string' && values.store !== '' ? values.store : defaultStoreUri();
    const { driverFor } = require('../stores') as typeof import('../stores');
    const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
    const driver = driverFor(uri);
    if (!driver.migrate) {
      io.out(`${redactUri(uri)}: this store has no schema to migrate`);
      return 0;
    }
    const applied = await driver.migrate(uri, {
      log: (line) => io.out(line),
      create: values.create === true,
      backfill: values['no-backfill'] !== true,
    });
    io.out(
      applied.length === 0
        ? `${redactUri(uri)}: schema is up to date`
        : `${redactUri(uri)}: ${applied.length} migration(s) applied`,
    );
    return 0;
  },
};

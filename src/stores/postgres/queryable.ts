/**
 * The small slice of a PostgreSQL driver the store needs (after Kysely: the
 * store declares the subset it uses, each driver adapts to it). Two drivers
 * implement {@link TenantDatabase}: `pg` (a pool on a server, pipelined) and
 * PGlite (in-process, one connection). All SQL is built once, in
 * postgres-sql.ts and postgres-rollups.ts, and runs unchanged on both.
 */

import { createHash } from 'node:crypto';
import { RELAY_SUBJECT, type ScopeCredentials } from './tenant-tickets';

/** A row as returned by the driver, after the type parsers in {@link TYPE_PARSERS}. */
export type Row = Record<string, unknown>;

/**
 * Makes a statement's result row from the row's column values as PostgreSQL
 * prints them (its text output format, no type parser applied), in
 * select-list order, null for NULL. See {@link Statement.decode}.
 */
export type RowDecoder = (texts: readonly (string | null)[]) => Row;

/** Anything that runs one parameterised statement: a `pg` client or a PGlite instance. */
export interface SqlQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

/** One parameterised statement. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
  /**
   * Marks a statement worth keeping prepared on each connection (its text
   * comes from a small fixed set): drivers that can, parse and plan it once
   * per connection instead of on every call.
   */
  readonly prepare?: boolean;
  /**
   * Its generic plan is as good as a custom one whatever the parameters (an
   * index range read in order, every bound the planner needs in the text):
   * see {@link RunOptions.genericPlans}.
   */
  readonly generic?: boolean;
  /**
   * The statement is `COPY <table> (<columns>) FROM STDIN` and this is its
   * data, in COPY's text format: each driver sends it its own way (`pg` as
   * CopyData messages in the same pipelined round trip, PGlite as a blob).
   * Only the store's staging statements use it (see postgres-stage-sql.ts).
   */
  readonly copyIn?: string;
  /**
   * The statement's rows are what this makes of each row's column texts,
   * instead of objects keyed by column name after the type parsers in
   * {@link TYPE_PARSERS}: one pass over each row as it arrives, with
   * decoders chosen once for the statement's columns (scans read every
   * record of a tenant this way). A decoder that throws fails the statement.
   */
  readonly decode?: RowDecoder;
}

const statementNames = new Map<string, string>();

/** A stable name for a prepared statement: a hash of its text. */
export function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `hub_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Whose rows a transaction may touch: one tenant (sets `app.tenant_id` and a
 * ticket for it), or the outbox relay (runs as the relay role with a relay
 * ticket, which opens only the outbox table across tenants; records stay
 * behind the tenant policy).
 */
export type Scope = { readonly tenant: string } | { readonly relay: true };

export interface RunOptions {
  /**
   * Read-only, REPEATABLE READ: every statement sees the same snapshot (for
   * results assembled from several statements, like the manager dashboard).
   */
  readonly snapshot?: boolean;
  /**
   * A short point read (lookup by id, a list page): may share a connection,
   * and one write, with other short reads asked for at the same time. Left
   * unset, a transaction gets a connection to itself (a rollup or a bulk
   * write must not hold up the lookups queued behind it).
   */
  readonly light?: boolean;
  /**
   * Every statement is planned as well generic as custom: a lookup by unique
   * key (get by id), which finds its rows through a unique index whatever its
   * parameters, or statements marked {@link Statement.generic} (list pages).
   * The `pg` driver then runs the transaction with `plan_cache_mode =
   * force_generic_plan` (see {@link scopeStatement}): a prepared statement is
   * planned once per connection instead of on every call.
   */
  readonly genericPlans?: boolean;
  /**
   * One statement, run alone: in a transaction of its own with no scope (no
   * `app.tenant_id`, no ticket setting, so row-level security shows it no
   * row), given the tenant's ticket as one more parameter after its own. For a
   * SECURITY DEFINER function that verifies the ticket itself and answers only
   * for the tenant it was signed for (hub.rollup_version): one statement on
   * the wire instead of four, one ticket check instead of one per table read.
   * Tenant scopes only (see {@link ticketedStatement}).
   */
  readonly ticketed?: boolean;
}

/** The BEGIN that opens a transaction with these options. */
export function beginStatement(options: RunOptions = {}): string {
  return options.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY' : 'BEGIN';
}

/** The database as the store sees it. */
export interface TenantDatabase {
  /**
   * Runs the statements in order in ONE transaction whose first act is
   * {@link scopeStatement} (`app.tenant_id` and its ticket); resolves to each statement's
   * rows. If one fails the transaction rolls back and the first error is
   * thrown (as the driver raised it). On `pg` the whole transaction is one
   * network round trip (pipelined BEGIN, set_config, statements, COMMIT).
   */
  run(scope: Scope, statements: readonly Statement[], options?: RunOptions): Promise<Row[][]>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** A ticket authorising `hub.purge_tenant` for `tenant`, for one call. */
  purgeTicket(tenant: string): string;
  /** Releases every connection; waits for statements in flight. Idempotent. */
  close(): Promise<void>;
}

const TENANT_SCOPE_SQL =
  "SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ticket', $2, true)";
// In the scope statement rather than a statement of its own: no extra message,
// and the setting is in place before the next statement is bound (planned).
const GENERIC_TENANT_SCOPE_SQL = `${TENANT_SCOPE_SQL}, set_config('plan_cache_mode', 'force_generic_plan', true)`;

/**
 * The statement that opens a scope, in the same transaction as the work (so
 * in the same round trip): a tenant scope sets `app.tenant_id` and a ticket
 * signed for that tenant (`app.tenant_ticket`), which the row-level security
 * policies verify; a relay scope switches to the relay role for the
 * transaction and presents a relay ticket. With `genericPlans` the
 * transaction also sets `plan_cache_mode = force_generic_plan` (local to it:
 * the next transaction on the connection plans as the server decides), for
 * {@link RunOptions.genericPlans} transactions.
 */
export function scopeStatement(scope: Scope, credentials: ScopeCredentials, genericPlans = false): Statement {
  return 'tenant' in scope
    ? {
        sql: genericPlans ? GENERIC_TENANT_SCOPE_SQL : TENANT_SCOPE_SQL,
        params: [scope.tenant, credentials.signer.ticket('t', scope.tenant)],
        prepare: true,
      }
    : {
        sql: "SELECT set_config('role', $1, true), set_config('app.tenant_id', '', true), set_config('app.tenant_ticket', $2, true)",
        params: [credentials.relayRole, credentials.signer.ticket('r', RELAY_SUBJECT)],
      };
}

/**
 * The statement of a {@link RunOptions.ticketed} run: `statements`' only one,
 * with a ticket signed for the scope's tenant appended to its parameters.
 * @throws Error for a relay scope or anything but exactly one statement.
 */
export function ticketedStatement(
  scope: Scope,
  statements: readonly Statement[],
  credentials: ScopeCredentials,
): Statement {
  const [s] = statements;
  if (!('tenant' in scope) || s === undefined || statements.length !== 1) {
    throw new Error('a ticketed run is one statement in a tenant scope');
  }
  return { ...s, params: [...s.params, credentials.signer.ticket('t', scope.tenant)] };
}

/**
 * Converts a timestamptz as PostgreSQL prints it in a UTC session
 * (`2026-03-01 12:00:00.123+00`) into the Hub's canonical form
 * (`2026-03-01T12:00:00.123Z`) without going through Date on the fast path.
 */
export function parseTimestamptz(text: string): string {
  // Fast path by position: `YYYY-MM-DD HH:MM:SS[.f{1,6}]+00` (a list page converts hundreds).
  const n = text.length;
  if (n >= 22 && n <= 29 && text.charCodeAt(10) === 32 && text.endsWith('+00') && text.charCodeAt(4) === 45) {
    const date = text.slice(0, 10);
    const time = text.slice(11, 19);
    if (n === 22) return `${date}T${time}.000Z`;
    if (text.charCodeAt(19) === 46 /* . */ && n >= 24) {
      const frac = text.slice(20, n - 3);
      return `${date}T${time}.${frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0')}Z`;
    }
  }
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/.exec(text);
  if (m) return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  // Another session time zone (or an unexpected shape): normalise through Date.
  const iso = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError('unexpected timestamptz text from the database');
  return new Date(ms).toISOString();
}

/**
 * Type parsers both drivers install, by type OID: timestamps as canonical
 * strings, bigint as JS numbers (model integers are safe integers), numeric
 * as exact strings. jsonb and bytea keep the drivers' defaults.
 */
export const TYPE_PARSERS: Readonly<Record<number, (text: string) => unknown>> = {
  1184: parseTimestamptz, // timestamptz
  20: (text) => Number(text), // int8
  1700: (text) => text, // numeric
};

/**
 * Streams and tasks: for each of a tenant's six tables, an append-only stream
 * and a task that copies the stream's new rows into the same table in a
 * downstream schema (e.g. for the customer's own analytics), every minute when
 * the stream has data. Generated per tenant; applied only when the store URI
 * says `streams=true` on a real account (the emulator refuses CREATE STREAM /
 * CREATE TASK loudly, since DuckDB has neither).
 */
import { HubError } from '../../hub/errors';
import { RECORD_TYPES } from '../../hub/model';
import type { TenantId } from '../../hub/tenant';
import { type SnowflakeConfig, quoteIdent } from './snowflake-config';
import { columnsOf, tenantNames } from './snowflake-sql';

/** Options of {@link streamTaskStatements} beyond the config. */
export interface StreamTaskOptions {
  /** Task schedule (Snowflake syntax), default `1 MINUTE`. */
  readonly schedule?: string;
}

/**
 * The DDL, in order, that sets up streams and tasks for one tenant. Idempotent
 * (IF NOT EXISTS), except the final RESUMEs which are harmless to repeat.
 */
export function streamTaskStatements(
  config: SnowflakeConfig,
  tenant: TenantId,
  options: StreamTaskOptions = {},
): string[] {
  const names = tenantNames(config, tenant);
  const schedule = options.schedule ?? '1 MINUTE';
  if (!/^\d{1,4} MINUTES?$|^USING CRON [0-9*/, -]+ [A-Za-z_/]+$/.test(schedule))
    throw new HubError('VALIDATION', `invalid task schedule ${JSON.stringify(schedule)}`);
  const downstream = `${names.database}.${quoteIdent(config.downstreamSchema)}`;
  const warehouse = config.taskWarehouse
    ? `WAREHOUSE = ${quoteIdent(config.taskWarehouse.toUpperCase())}`
    : `USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'`;
  const out = [`CREATE SCHEMA IF NOT EXISTS ${downstream}`];
  const resumes: string[] = [];
  for (const type of RECORD_TYPES) {
    const upper = type.toUpperCase();
    const source = names.table(type);
    const target = `${downstream}.${quoteIdent(upper)}`;
    const stream = `${names.schema}.${quoteIdent(`${upper}_STREAM`)}`;
    const task = `${names.schema}.${quoteIdent(`${upper}_PROPAGATE`)}`;
    const cols = columnsOf(type)
      .map((c) => c.ident)
      .join(', ');
    out.push(`CREATE TABLE IF NOT EXISTS ${target} LIKE ${source}`);
    out.push(`CREATE STREAM IF NOT EXISTS ${stream} ON TABLE ${source} APPEND_ONLY = TRUE`);
    out.push(
      `CREATE TASK IF NOT EXISTS ${task} ${warehouse} SCHEDULE = '${schedule}' ` +
        `WHEN SYSTEM$STREAM_HAS_DATA('${stream.replace(/'/g, "''")}') ` +
        `AS INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${stream} WHERE METADATA$ACTION = 'INSERT'`,
    );
    resumes.push(`ALTER TASK ${task} RESUME`);
  }
  return [...out, ...resumes];
}

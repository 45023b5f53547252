/**
 * The modules bench:move's copies run: the copy engine, the stores (source
 * and targets), and the Snowflake store's row encoding that DuckDB's own insert uses too. By
 * default from dist/, the build `hub move` runs, so a copy's figure is the
 * production build's (see dist-modules.ts); `BENCH_MOVE_FROM=src` loads the
 * TypeScript sources through tsx instead (what the bench did before). The
 * switch-fence part drives gateway replicas from the test support and stays
 * on the sources.
 *
 * dist/ must be current: bench:move builds it first ({@link buildMoveIfStale}).
 */
import type * as Copy from '../src/migrate/copy';
import type * as ScanStream from '../src/migrate/scan-stream';
import type * as Stores from '../src/stores';
import type * as SnowflakeConfig from '../src/stores/snowflake/snowflake-config';
import type * as SnowflakeRows from '../src/stores/snowflake/snowflake-rows';
import type * as SnowflakeSql from '../src/stores/snowflake/snowflake-sql';
import { type ModulesFrom, moduleSet } from './dist-modules';

/** The modules of a copy, typed by their sources. */
export interface MoveModules {
  readonly copy: typeof Copy;
  readonly scanStream: typeof ScanStream;
  readonly stores: typeof Stores;
  readonly snowflakeConfig: typeof SnowflakeConfig;
  readonly snowflakeRows: typeof SnowflakeRows;
  readonly snowflakeSql: typeof SnowflakeSql;
}

const move = moduleSet<MoveModules>('BENCH_MOVE_FROM', {
  copy: 'migrate/copy',
  scanStream: 'migrate/scan-stream',
  stores: 'stores',
  snowflakeConfig: 'stores/snowflake/snowflake-config',
  snowflakeRows: 'stores/snowflake/snowflake-rows',
  snowflakeSql: 'stores/snowflake/snowflake-sql',
});

/** Where the copies' modules come from: `dist` unless BENCH_MOVE_FROM=src. */
export const moveFrom: () => ModulesFrom = move.from;

/**
 * The copies' modules from {@link moveFrom}, loaded once per process.
 * @throws Error when dist/ is missing.
 */
export const moveModules: () => MoveModules = move.load;

/**
 * Builds dist/ when a source is newer than its build, before anything is
 * loaded from it. Does nothing when the copies run from src/.
 * @throws Error when the build fails.
 */
export const buildMoveIfStale: () => void = move.buildIfStale;

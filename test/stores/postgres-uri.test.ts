/**
 * Store URI options for postgres:// and pglite: (pure parsing, no server).
 */
import { isHubError } from '../../src/hub/errors';
import { parsePgliteUri, parsePostgresUri } from '../../src/stores/postgres/postgres-uri';

describe('postgres store URIs', () => {
  test('defaults, and options removed before the URI reaches pg', () => {
    expect(parsePostgresUri('postgres://u:p@h:5432/db')).toEqual({
      connectionString: 'postgres://u:p@h:5432/db',
      max: 10,
      idleTimeoutMs: 10_000,
      statementTimeoutMs: 30_000,
      connectTimeoutMs: 5_000,
      appRole: undefined,
      prepare: true,
      genericLookups: true,
      rollupConsumer: true,
      stageRows: 500,
    });
    const parsed = parsePostgresUri(
      'postgresql://u@h/db?max=3&statement_timeout=5000&idle_timeout=0&connect_timeout=100&app_role=hub_app&prepare=false&generic_lookups=false&rollup_consumer=false&stage_rows=0&sslmode=disable',
    );
    expect(parsed).toMatchObject({
      max: 3,
      statementTimeoutMs: 5000,
      idleTimeoutMs: 0,
      connectTimeoutMs: 100,
      appRole: 'hub_app',
      prepare: false,
      genericLookups: false,
      rollupConsumer: false,
      stageRows: 0,
    });
    expect(parsed.connectionString).toBe('postgresql://u@h/db?sslmode=disable');
  });

  test.each([
    'postgres://h/db?max=0',
    'postgres://h/db?max=abc',
    'postgres://h/db?statement_timeout=-1',
    'postgres://h/db?app_role=Robert%27);DROP',
    'postgres://h/db?prepare=yes',
    'postgres://h/db?rollup_consumer=off',
    'postgres://h/db?stage_rows=-1',
    'postgres://h/db?stage_rows=many',
  ])('%s is rejected as VALIDATION', (uri) => {
    let err: unknown;
    try {
      parsePostgresUri(uri);
    } catch (e) {
      err = e;
    }
    expect(isHubError(err, 'VALIDATION')).toBe(true);
  });

  test('an invalid URI is reported without its password', () => {
    let err: unknown;
    try {
      parsePostgresUri('postgres://user:s3cret@[bad/db');
    } catch (e) {
      err = e;
    }
    expect(isHubError(err, 'VALIDATION')).toBe(true);
    expect((err as Error).message).not.toMatch(/s3cret/);
  });

  test('pglite: memory and directory forms', () => {
    expect(parsePgliteUri('pglite:')).toEqual({ dataDir: undefined, appRole: undefined, stageRows: 500 });
    expect(parsePgliteUri('pglite:memory')).toEqual({
      dataDir: undefined,
      appRole: undefined,
      stageRows: 500,
    });
    expect(parsePgliteUri('pglite:./.hub-data')).toEqual({
      dataDir: './.hub-data',
      appRole: undefined,
      stageRows: 500,
    });
    expect(parsePgliteUri('pglite:/var/lib/hub?app_role=hub_app&stage_rows=1')).toEqual({
      dataDir: '/var/lib/hub',
      appRole: 'hub_app',
      stageRows: 1,
    });
  });
});
